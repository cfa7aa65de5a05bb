import { canApply, transitionGrant } from "../domain/grant-machine.js";
import { AppError } from "../domain/errors.js";
import { formatDuration } from "../domain/duration.js";
import type { GrantRow, RequestRow, UnitOfWork } from "./ports.js";

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
        (left > 0 ? `, so you can extend by at most ${formatDuration(left)}.` : ", and it has been reached. Make a new request instead."),
      { details: { field: "duration", maxTotalSeconds } },
    );
  }
  return expiresAt;
}

/** Applies an approved extension request to its grant, inside the caller's transaction. */
export async function applyExtension(uow: UnitOfWork, request: RequestRow, now: Date): Promise<GrantRow | null> {
  const grant = request.extendsGrantId ? await uow.lockGrant(request.extendsGrantId) : null;
  if (!grant || !canApply(grant, { type: "extend", expiresAt: now })) {
    await uow.appendAudit({ type: "grant.extension_not_applied", requestId: request.id, grantId: grant?.id ?? null, data: { status: grant?.status ?? "missing" } });
    return null;
  }
  const expiresAt = extendedExpiry(grant, request.durationSeconds, request.snapshot.extension.maxTotalSeconds);
  const next = transitionGrant(grant, { type: "extend", expiresAt }, now);
  if (!(await uow.updateGrant(grant.id, grant.version, { expiresAt }))) {
    throw new AppError("conflict", "The grant changed while the extension was being applied; try again.");
  }
  await uow.appendAudit({
    type: "grant.extended",
    requestId: request.id,
    grantId: grant.id,
    data: { previousExpiresAt: grant.expiresAt.toISOString(), expiresAt: expiresAt.toISOString(), byRequest: request.id },
  });
  return { ...grant, expiresAt, version: next.version };
}
