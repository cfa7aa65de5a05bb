import { EMPTY_ROSTER, type OnCallRoster } from "../domain/policy/approval-steps.js";
import type { ServiceDeps } from "./deps.js";

/**
 * Asks the on-call providers about the named sources and maps who is on call to Sesame identities
 * by email. A provider that cannot answer marks its source unavailable; nothing else changes, so
 * an outage can only mean fewer approvers and never an approval.
 */
export async function rosterFor(
  deps: Pick<ServiceDeps, "policy" | "oncall" | "logger">,
  sources: string[],
): Promise<OnCallRoster> {
  if (sources.length === 0) return EMPTY_ROSTER;
  const book = deps.policy();
  const onCall = new Map<string, { identityId: string; until: Date | null }[]>();
  const unavailable = new Set<string>();
  await Promise.all(
    [...new Set(sources)].map(async (source) => {
      try {
        const people = await deps.oncall.whoIsOnCall(source);
        onCall.set(
          source,
          people.flatMap((person) => {
            const identity = book.personByEmail(person.email);
            return identity ? [{ identityId: identity.id, until: person.until }] : [];
          }),
        );
      } catch (error) {
        unavailable.add(source);
        deps.logger.warn(
          { source, error: error instanceof Error ? error.message : String(error) },
          "on-call look-up failed; people decide instead",
        );
      }
    }),
  );
  return { onCall, unavailable };
}
