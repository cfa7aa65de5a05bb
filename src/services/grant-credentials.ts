import { AppError } from "../domain/errors.js";
import type { ServiceDeps } from "./deps.js";

/**
 * Hands the holder the credentials a connector issued for their grant (for example the password
 * of a temporary database login). Only the holder, only while the grant is active; every read is
 * audited, the credentials never are.
 */
export async function readGrantCredentials(
  deps: ServiceDeps,
  input: { grantId: string; actorId: string },
): Promise<Record<string, string>> {
  const grant = await deps.store.getGrant(input.grantId);
  if (!grant || grant.subjectId !== input.actorId)
    throw new AppError("not_found", `There is no grant ${input.grantId} of yours.`);
  if (grant.status !== "active")
    throw new AppError("conflict", `This grant is ${grant.status}; credentials are only available while it is active.`);
  const sealed = await deps.store.readSealedSecret(grant.id);
  if (!sealed)
    throw new AppError("not_found", "This grant came with no credentials: use your own account on the target.");
  const credentials = deps.secrets.open(sealed);
  await deps.store.transaction((uow) =>
    uow.appendAudit({
      type: "grant.credentials_read",
      actorId: input.actorId,
      grantId: grant.id,
      requestId: grant.requestId,
      data: { fields: Object.keys(credentials).sort() },
    }),
  );
  return credentials;
}
