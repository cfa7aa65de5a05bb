import { AppError } from "../../domain/errors.js";
import type { GrantContext, GrantReceipt, RevokeContext } from "../connector.js";
import type { Kadmin } from "./kadmin-runner.js";
import type { KerberosTarget } from "./kerberos-config.js";
import { disablePrincipal, enablePrincipal, readPrincipal } from "./principal-state.js";

/**
 * Grant = enable a disabled, existing principal until the grant expires; revoke = disable it
 * again. Issued tickets cannot be taken back, so the ticket life is what bounds them: it is capped
 * by the grant and by the target's maxTicketLifeSeconds, and the receipt says when the last
 * ticket ends at the latest.
 */

export async function grantPrincipal(
  kadmin: Kadmin,
  principal: string,
  target: KerberosTarget,
  context: GrantContext,
  now: Date,
): Promise<GrantReceipt> {
  const state = await readPrincipal(kadmin, principal);
  if (state === null) {
    throw new AppError(
      "connector_failed",
      `The principal ${principal} does not exist on the KDC. Sesame only enables existing principals: create it disabled (kadmin addprinc -allow_tix ${principal}) or fix the identity mapping.`,
    );
  }
  // Enabled by hand, not by Sesame: leave it as it is, and leave it enabled at revoke.
  if (state.enabled && state.markedBy === undefined) return { data: { principal, preexisting: true } };

  // Another active Sesame grant of this principal may end later: never cut it short.
  const later =
    state.enabled && state.expiresAt !== null && state.expiresAt > context.expiresAt
      ? state.expiresAt
      : context.expiresAt;
  const expiresAt = new Date(Math.floor(later.getTime() / 1000) * 1000);
  const secondsLeft = Math.floor((expiresAt.getTime() - now.getTime()) / 1000);
  if (secondsLeft < 1) {
    throw new AppError(
      "connector_failed",
      `The grant expired (${context.expiresAt.toISOString()}) before ${principal} could be enabled; request access again.`,
    );
  }
  const maxLifeSeconds = Math.min(target.maxTicketLifeSeconds, secondsLeft);
  await enablePrincipal(kadmin, principal, { grantId: context.grantId, expiresAt, maxLifeSeconds });
  return {
    data: {
      principal,
      preexisting: false,
      principalExpiresAt: expiresAt.toISOString(),
      maxTicketLifeSeconds: maxLifeSeconds,
      // A ticket taken just before the principal expires lives one ticket life longer; a revoke
      // stops new tickets but tickets already issued end at most maxTicketLifeSeconds after it.
      ticketsEndBy: new Date(expiresAt.getTime() + maxLifeSeconds * 1000).toISOString(),
    },
  };
}

/** Moves the expiry of a principal Sesame enabled; one disabled, deleted or enabled by hand meanwhile is left as it is. */
export async function extendPrincipal(
  kadmin: Kadmin,
  principal: string,
  target: KerberosTarget,
  context: RevokeContext,
  now: Date,
): Promise<GrantReceipt | void> {
  if (context.receipt?.preexisting === true) return;
  const state = await readPrincipal(kadmin, principal);
  if (state === null || !state.enabled || state.markedBy === undefined) return;
  return grantPrincipal(kadmin, principal, target, context, now);
}

export async function revokePrincipal(
  kadmin: Kadmin,
  principal: string,
  receipt: Record<string, unknown> | null,
): Promise<void> {
  if (receipt?.preexisting === true) return;
  const state = await readPrincipal(kadmin, principal);
  // Deleted out of band, or never enabled by Sesame (a lost receipt and no marker): nothing of ours is left.
  if (state === null || (state.markedBy === undefined && (receipt === null || !state.enabled))) return;
  await disablePrincipal(kadmin, principal);
}

/** True when whatever Sesame enabled is disabled again (or the principal is gone). */
export async function principalRevoked(
  kadmin: Kadmin,
  principal: string,
  receipt: Record<string, unknown> | null,
): Promise<boolean> {
  if (receipt?.preexisting === true) return true;
  const state = await readPrincipal(kadmin, principal);
  if (state === null || !state.enabled) return true;
  return receipt === null && state.markedBy === undefined;
}
