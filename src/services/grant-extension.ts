import { formatDuration } from "../domain/duration.js";
import { AppError } from "../domain/errors.js";
import { canApply, transitionGrant } from "../domain/grant-machine.js";
import type { ServiceDeps } from "./deps.js";
import type { GrantPatch, GrantRow, RequestRow, UnitOfWork } from "./ports.js";

/** The expiry an extension would give, refused when it passes the policy's maximum total. */
export function extendedExpiry(grant: GrantRow, additionalSeconds: number, maxTotalSeconds: number): Date {
  const start = grant.activatedAt ?? grant.startsAt;
  const expiresAt = new Date(grant.expiresAt.getTime() + additionalSeconds * 1000);
  const totalSeconds = (expiresAt.getTime() - start.getTime()) / 1000;
  if (totalSeconds > maxTotalSeconds) {
    const left = Math.max(0, maxTotalSeconds - (grant.expiresAt.getTime() - start.getTime()) / 1000);
    throw new AppError(
      "invalid_input",
      `That extension would make this grant last ${formatDuration(totalSeconds)}; the maximum in total is ${formatDuration(maxTotalSeconds)}` +
        (left > 0
          ? `, so you can extend by at most ${formatDuration(left)}.`
          : ", and it has been reached. Make a new request instead."),
      { details: { field: "duration", maxTotalSeconds } },
    );
  }
  return expiresAt;
}

/** Moves the expiry on the target too, for connectors that enforce one there; returns what to store. */
export type ExtendAtTarget = (grant: GrantRow, expiresAt: Date) => Promise<GrantPatch>;

export function extendAtTarget(deps: Pick<ServiceDeps, "connectors" | "secrets">): ExtendAtTarget {
  return async (grant, expiresAt) => {
    const connector = deps.connectors.get(grant.connectorName);
    if (!connector.extend) return {};
    const receipt = await connector.extend({
      grantId: grant.id,
      principal: grant.principal,
      target: grant.target,
      expiresAt,
      receipt: grant.receipt,
    });
    if (!receipt) return {};
    return { receipt: receipt.data, ...(receipt.secret ? { sealedSecret: deps.secrets.seal(receipt.secret) } : {}) };
  };
}

/** Applies an approved extension request to its grant, inside the caller's transaction. */
export async function applyExtension(
  uow: UnitOfWork,
  request: RequestRow,
  now: Date,
  extendTarget: ExtendAtTarget,
): Promise<GrantRow> {
  const grant = request.extendsGrantId ? await uow.lockGrantAndEntitlement(request.extendsGrantId) : null;
  if (!grant || !canApply(grant, { type: "extend", expiresAt: now })) {
    throw new AppError(
      "conflict",
      `The grant this extension is for is no longer active (${grant?.status ?? "missing"}), so there is nothing to extend.`,
    );
  }
  const expiresAt = extendedExpiry(grant, request.durationSeconds, request.snapshot.extension.maxTotalSeconds);
  const next = transitionGrant(grant, { type: "extend", expiresAt }, now);
  const targetPatch = await extendTarget(grant, expiresAt);
  if (!(await uow.updateGrant(grant.id, grant.version, { ...targetPatch, expiresAt }))) {
    throw new AppError("conflict", "The grant changed while the extension was being applied; try again.");
  }
  await uow.appendAudit({
    type: "grant.extended",
    requestId: request.id,
    grantId: grant.id,
    data: {
      previousExpiresAt: grant.expiresAt.toISOString(),
      expiresAt: expiresAt.toISOString(),
      byRequest: request.id,
    },
  });
  return { ...grant, expiresAt, version: next.version };
}
