import { randomBytes } from "node:crypto";
import { access, constants } from "node:fs/promises";
import { type Kadmin, KadminFailure, qualify } from "./kadmin-runner.js";
import type { KerberosConfig, KerberosTarget } from "./kerberos-config.js";
import { ACL_LETTERS, kerberosProblem } from "./kerberos-errors.js";
import { MARKER } from "./principal-state.js";

/**
 * The checks behind `check()`. kadmin's `getprivs` cannot be trusted for this (MIT 1.20 reports
 * every privilege whatever kadm5.acl says), so rights are probed on a principal that does not
 * exist: kadmind checks the ACL before it looks the principal up, and nothing changes.
 */

export async function checkProblems(
  kadmin: Kadmin,
  config: KerberosConfig,
  targets: readonly KerberosTarget[],
  secrets: readonly string[],
): Promise<string[]> {
  if (config.mode === "kadmin") {
    try {
      await access(config.keytab, constants.R_OK);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      return [
        `cannot read the keytab file ${config.keytab} (${String(code)}): check the path and that Sesame's user may read it`,
      ];
    }
  }
  // Needs no right in kadm5.acl: a principal may always read itself, and kadmin.local has no ACL.
  const self = config.mode === "kadmin" ? qualify(config.adminPrincipal, config.realm) : `K/M@${config.realm}`;
  try {
    await kadmin.run(["getprinc", "-terse", self]);
  } catch (error) {
    return [
      kerberosProblem(
        config.mode === "kadmin" ? "cannot log in to kadmind" : "cannot open the KDC database",
        error,
        secrets,
      ),
    ];
  }
  if (config.mode === "kadmin.local") return [];
  const actor = qualify(config.adminPrincipal, config.realm);
  const problems = new Set<string>();
  for (const instance of new Set(targets.map((target) => target.instance))) {
    const probe = `sesame-check-${randomBytes(4).toString("hex")}${instance === undefined ? "" : `/${instance}`}@${config.realm}`;
    const denied: string[] = [];
    for (const [right, args] of [
      ["get", ["getprinc", "-terse", probe]],
      ["modify", ["delstr", probe, MARKER]],
    ] as const) {
      const problem = await probeProblem(kadmin, [...args], secrets);
      if (problem === "denied") denied.push(ACL_LETTERS[right]!);
      else if (problem !== undefined) problems.add(problem);
    }
    if (denied.length > 0) {
      const pattern = `${instance === undefined ? "*" : `*/${instance}`}@${config.realm}`;
      problems.add(
        `Sesame's principal ${actor} lacks the kadm5.acl right${denied.length > 1 ? "s" : ""} ${denied.join(" and ")} on principals like ${pattern}: add "${actor} im ${pattern}" to kadm5.acl on the KDC and restart kadmind`,
      );
    }
  }
  return [...problems];
}

async function probeProblem(
  kadmin: Kadmin,
  args: string[],
  secrets: readonly string[],
): Promise<string | "denied" | undefined> {
  try {
    await kadmin.run(args);
    return undefined;
  } catch (error) {
    if (error instanceof KadminFailure && error.kind === "missing") return undefined;
    if (error instanceof KadminFailure && error.kind === "privilege") return "denied";
    return kerberosProblem("cannot probe Sesame's rights", error, secrets);
  }
}
