import { AppError } from "../../domain/errors.js";

/**
 * A revoke that finds nothing to take away is only a success on the server the grant was made
 * on. The grant receipt keeps that server's run_id (and where the grant was written); when the
 * revoke reaches another run_id, "nothing here" can mean two things:
 *
 * - the same server restarted. If the grant was written to its aclfile or redis.conf, the user
 *   would have come back with the restart and the revoke would have found it; if the server keeps
 *   ACL users in memory only, the restart took the access away. Both are fine.
 * - another node: the url follows the primary through a VIP or DNS name and a failover moved it,
 *   or the url was changed. The node the grant was made on may still hold the user.
 *
 * So a revoke that found nothing on another run_id fails when the grant was written to a file,
 * unless the operator listed that run_id in `clearedRunIds` after checking the other nodes. When
 * the grant was not written anywhere, a restart explains it and the revoke succeeds (README:
 * "When the server changed").
 */

/** What a grant receipt says about the server the grant was made on; undefined for receipts without it. */
function grantServer(receipt: Record<string, unknown> | null): { runId: string; persisted: unknown } | undefined {
  const runId = receipt?.runId;
  return typeof runId === "string" ? { runId, persisted: receipt?.persisted } : undefined;
}

/** Throws when a revoke that found nothing to take away talks to another server than the grant did. */
export function assertSameServer(
  receipt: Record<string, unknown> | null,
  currentRunId: string,
  details: { principal: string; clearedRunIds: readonly string[] },
): void {
  const granted = grantServer(receipt);
  if (granted === undefined || granted.runId === currentRunId) return;
  if (granted.persisted !== "acl-file" && granted.persisted !== "config-rewrite") return;
  if (details.clearedRunIds.includes(granted.runId)) return;
  const file = granted.persisted === "acl-file" ? "its aclfile" : "its redis.conf";
  throw new AppError(
    "connector_failed",
    `the Redis server is not the one the grant was made on (run_id ${granted.runId} then, ${currentRunId} now) and "${details.principal}" has no access here. ` +
      `The grant was written to ${file}, so a restart of that server would have brought the user back: the url probably leads to another node now (failover behind a VIP or DNS name), ` +
      `and the node the grant was made on may still let "${details.principal}" in. Check every node (ACL GETUSER ${details.principal}), remove the access there ` +
      `(ACL DELUSER, or ACL SETUSER ${details.principal} off and CLIENT KILL USER ${details.principal}; then ACL SAVE or CONFIG REWRITE), ` +
      `then add "${granted.runId}" to this connector's clearedRunIds so the revoke can finish.`,
  );
}
