import type { NewGrant } from "../src/domain/grant.js";
import { transitionGrant } from "../src/domain/grant-machine.js";
import type { ServiceDeps } from "../src/services/deps.js";
import { saveGrant, saveNewRequest } from "../src/services/effects.js";
import { newRequest } from "../src/services/store-new-request.js";
import { draftSubmission } from "../src/services/submit-request.js";

/** A grant made live, and its revoke's due time. */
export interface LiveGrant {
  id: string;
  expiresAt: Date;
}

/**
 * Makes `requesterIds.length` live grants in one transaction with Sesame's own code (used by
 * the revocation bench and by tests that need thousands of grants): each request is drafted by
 * the submit service and born approved by the request machine (the policy must auto-approve the
 * resource), its grant is created by the machine's effect, granted by the connector (before the
 * transaction, as activations do) and activated by the grant machine, all saved through the
 * store. After commit, the activations' schedule_revoke effects go to the job scheduler in one
 * batch unless `scheduleRevokes` is false (a test of what the sweeper restores). Skipped on
 * purpose: the activation queue and entitlement claim (no one else touches these grants yet) and
 * notifications.
 */
export async function makeLiveGrants(
  deps: ServiceDeps,
  options: { requesterIds: readonly string[]; resourceId: string; durationSeconds: number; scheduleRevokes: boolean },
): Promise<LiveGrant[]> {
  const births = await Promise.all(
    options.requesterIds.map(async (requesterId) => {
      const submitted = await draftSubmission(deps, {
        requesterId,
        resourceId: options.resourceId,
        duration: options.durationSeconds,
      });
      if (!submitted.autoApprovalReason) throw new Error(`the policy does not auto-approve ${options.resourceId}`);
      return newRequest(deps, submitted.draft, submitted.autoApprovalReason);
    }),
  );
  const activatedAt = deps.now();
  const receipts = await Promise.all(
    births.map(async ({ effects }) => {
      const created = effects.find((effect) => effect.kind === "create_grant");
      if (created?.kind !== "create_grant") throw new Error("an approved request created no grant");
      const grant: NewGrant & { id: string } = created.grant;
      const receipt = await deps.connectors.get(grant.connectorName).grant({
        grantId: grant.id,
        principal: grant.principal,
        target: grant.target,
        expiresAt: new Date(activatedAt.getTime() + grant.durationSeconds * 1000),
      });
      return receipt.data;
    }),
  );
  const revokes = await deps.store.transaction(
    async (uow) => {
      const scheduled: { grantId: string; at: Date }[] = [];
      for (const [index, { row, effects }] of births.entries()) {
        const born = await saveNewRequest(deps, uow, row, effects);
        const grant = born.saved.grant!;
        const activation = transitionGrant(
          grant,
          { type: "activated", activatedAt, receipt: receipts[index]!, sealedSecret: null },
          activatedAt,
        );
        const active = await saveGrant(deps, uow, grant, activation);
        for (const effect of active.after)
          if (effect.kind === "schedule_revoke") scheduled.push({ grantId: effect.grantId, at: effect.at });
      }
      return scheduled;
    },
    { timeoutMs: 120_000 },
  );
  if (options.scheduleRevokes) await deps.jobs.ensureRevokeJobs(revokes);
  return revokes.map(({ grantId, at }) => ({ id: grantId, expiresAt: at }));
}
