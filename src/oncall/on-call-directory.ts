import { redactSecrets } from "../connectors/redact.js";
import { OnCallUnavailableError } from "../domain/on-call-unavailable.js";
import type { PolicyFile } from "../domain/policy/policy-schema.js";
import type { OnCallDirectory, OnCallPerson } from "../services/ports.js";
import type { OnCallEnv, OnCallProvider, OnCallProviderDefinition } from "./provider.js";
import { createProviderHttp, ProviderFailure } from "./provider-http.js";
import { ON_CALL_PROVIDERS } from "./provider-registry.js";

/**
 * The policy's named on-call sources, resolved to their providers. Look-ups are cached for a
 * short while (approval cards and escalations ask often; on-call changes rarely) and failures
 * are not, so the next look-up asks again. Every failure is an `OnCallUnavailableError`.
 */

export interface OnCallDirectoryOptions {
  /** How long a look-up is reused; never past the end of a shift it reported. */
  cacheTtlMs?: number;
  /** Longest wait for one HTTP answer. */
  timeoutMs?: number;
  now?: () => Date;
  /** Waits between paging attempts; tests pass one that records instead of waiting. */
  sleep?: (ms: number) => Promise<void>;
}

interface CachedLookUp {
  people: OnCallPerson[];
  expiresAt: number;
}

export function createOnCallDirectory(
  sources: PolicyFile["oncall"],
  env: OnCallEnv,
  options: OnCallDirectoryOptions = {},
): OnCallDirectory {
  const cacheTtlMs = options.cacheTtlMs ?? 60_000;
  const now = options.now ?? (() => new Date());
  const http = createProviderHttp({
    timeoutMs: options.timeoutMs ?? 5_000,
    ...(options.sleep ? { sleep: options.sleep } : {}),
  });
  const providers = new Map<OnCallProviderDefinition, OnCallProvider>();
  const cache = new Map<string, CachedLookUp>();
  // Concurrent look-ups of one source share a request instead of each asking the provider.
  const inFlight = new Map<string, Promise<OnCallPerson[]>>();
  const secrets = [env.PAGERDUTY_API_TOKEN, env.PAGERDUTY_ROUTING_KEY, env.OPSGENIE_API_KEY].filter(
    (key): key is string => key !== undefined,
  );

  /** Runs `work` against the source's provider; whatever goes wrong comes out as OnCallUnavailableError. */
  async function withSource<T>(
    sourceName: string,
    action: OnCallUnavailableError["action"],
    work: (provider: OnCallProvider, source: PolicyFile["oncall"][string]) => Promise<T>,
  ): Promise<T> {
    const source = Object.hasOwn(sources, sourceName) ? sources[sourceName] : undefined;
    if (source === undefined)
      throw new OnCallUnavailableError(
        sourceName,
        "Sesame",
        "the policy file has no on-call source of that name",
        action,
      );
    const definition = ON_CALL_PROVIDERS[source.provider];
    const provider = providers.get(definition) ?? definition.create(env, http);
    providers.set(definition, provider);
    try {
      return await work(provider, source);
    } catch (error) {
      // ProviderFailure reasons are built to be safe; anything else is unexpected, so redact it too.
      const reason =
        error instanceof ProviderFailure
          ? error.message
          : `unexpected error: ${error instanceof Error ? error.message : String(error)}`;
      throw new OnCallUnavailableError(sourceName, definition.label, redactSecrets(reason, secrets), action);
    }
  }

  async function lookUp(sourceName: string): Promise<OnCallPerson[]> {
    const people = await withSource(sourceName, "look-up", (provider, source) => provider.whoIsOnCall(source));
    const fetchedAt = now().getTime();
    // A handover inside the TTL must not leave the previous person on call until the TTL ends.
    const shiftEnds = people.flatMap((person) => (person.until === null ? [] : [person.until.getTime()]));
    cache.set(sourceName, { people, expiresAt: Math.min(fetchedAt + cacheTtlMs, ...shiftEnds) });
    return people;
  }

  return {
    async whoIsOnCall(sourceName) {
      const cached = cache.get(sourceName);
      if (cached !== undefined && now().getTime() < cached.expiresAt) return copies(cached.people);
      let pending = inFlight.get(sourceName);
      if (pending === undefined) {
        pending = lookUp(sourceName).finally(() => inFlight.delete(sourceName));
        inFlight.set(sourceName, pending);
      }
      return copies(await pending);
    },
    page: (sourceName, page) => withSource(sourceName, "page", (provider, source) => provider.page(source, page)),
    resolvePage: (sourceName, key) =>
      withSource(sourceName, "resolve", (provider, source) => provider.resolvePage(source, key)),
  };
}

/** Callers get their own objects: one mutating its list must not change what the cache serves others. */
const copies = (people: OnCallPerson[]): OnCallPerson[] =>
  people.map((person) => ({ ...person, until: person.until && new Date(person.until) }));
