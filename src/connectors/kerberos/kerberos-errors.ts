import type { AppError } from "../../domain/errors.js";
import { describeError, toConnectorError } from "../redact.js";
import { KadminFailure } from "./kadmin-runner.js";

/** Turns kadmin failures into operator advice. Texts name settings and rights, never key material. */

/** The kadm5.acl letter for each privilege kadmind names in "Operation requires ``…'' privilege". */
export const ACL_LETTERS: Readonly<Record<string, string>> = { get: "i (inquire)", modify: "m (modify)" };

export function kerberosHint(error: unknown): string {
  if (!(error instanceof KadminFailure))
    return "Check the KDC and Sesame's principal there (see src/connectors/kerberos/README.md), then retry.";
  switch (error.kind) {
    case "unreachable":
      return "Check adminServer (kadmind's host:port), that krb5.conf (krb5Config) lists a KDC for the realm, and that both accept connections from Sesame, then retry.";
    case "credentials":
      return "Check adminPrincipal and the keytab: it must hold a current key of that principal (kadmin ktadd -k <file> <principal>) and be readable by Sesame.";
    case "privilege":
      return `Sesame's principal lacks the kadm5.acl right ${ACL_LETTERS[error.privilege ?? ""] ?? `for "${error.privilege}"`}; it needs "im" on the principals it manages, e.g. "sesame/kadmin@REALM im */admin@REALM" (restart kadmind after editing kadm5.acl).`;
    case "database":
      return "kadmin.local cannot open the KDC database: run Sesame on the KDC host as a user that can read it, and check kdcProfile (KRB5_KDC_PROFILE).";
    case "program":
      return "Install kadmin (Debian: krb5-user; kadmin.local: krb5-admin-server) or set the connector's command to its path.";
    case "interrupted":
      return "Something ended kadmin mid-call (a shutdown, the OOM killer, an operator); retry: the retry completes whatever the lost call started. If it keeps happening, check the memory and logs of the host Sesame runs on.";
    case "missing":
      return "The principal does not exist on the KDC; Sesame only enables existing principals.";
    case "other":
      return "Check the KDC and Sesame's principal there (see src/connectors/kerberos/README.md), then retry.";
  }
}

export function toKerberosError(
  error: unknown,
  connector: string,
  action: string,
  secrets: readonly string[],
): AppError {
  return toConnectorError(error, { connector, action, secrets, hint: kerberosHint(error) });
}

/** The short reason plus advice, for `check()` problems. */
export function kerberosProblem(prefix: string, error: unknown, secrets: readonly string[]): string {
  return `${prefix}: ${describeError(error, secrets)}. ${kerberosHint(error)}`;
}
