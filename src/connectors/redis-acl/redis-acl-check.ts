import { persistProblem } from "./persistence.js";
import type { PersistSetting, RedisAclTarget } from "./redis-acl-config.js";
import type { RedisSession } from "./redis-session.js";

/**
 * Privilege checks behind `check()`: may Sesame's ACL user run what the given targets need?
 * ACL DRYRUN lets the server answer, so Sesame need not re-implement Redis's rule evaluation.
 */

interface Privilege {
  /** The ACL rule that grants it. */
  rule: string;
  /** A harmless example of the command, for ACL DRYRUN. */
  example: readonly string[];
  purpose: string;
}

const GETUSER: Privilege = { rule: "+acl|getuser", example: ["acl", "getuser", "x"], purpose: "read ACL users" };
const SETUSER: Privilege = {
  rule: "+acl|setuser",
  example: ["acl", "setuser", "x"],
  purpose: "switch or create ACL users",
};
const CLIENT_LIST: Privilege = {
  rule: "+client|list",
  example: ["client", "list"],
  purpose: "confirm that no connection survived a revoke",
};
const CLIENT_KILL: Privilege = {
  rule: "+client|kill",
  example: ["client", "kill", "user", "x"],
  purpose: "close the connections of a switched-off user",
};
const DELUSER: Privilege = {
  rule: "+acl|deluser",
  example: ["acl", "deluser", "x"],
  purpose: "delete temporary users",
};
const INFO: Privilege = {
  rule: "+info",
  example: ["info", "server"],
  purpose:
    "read the server's run_id (INFO server), which tells a revoke whether it reached the server the grant was made on",
};
const SAVE: Privilege = {
  rule: "+acl|save",
  example: ["acl", "save"],
  purpose:
    "write the ACL users to the server's aclfile after every grant and revoke (persist: auto or acl-file; auto also uses it to find out whether the server has an aclfile)",
};
const REWRITE: Privilege = {
  rule: "+config|rewrite",
  example: ["config", "rewrite"],
  purpose: "write the ACL users to redis.conf after every grant and revoke (persist: config-rewrite)",
};

/**
 * Everything check() can find wrong with Sesame's ACL user for these targets. When the privileges
 * are there, it also writes the ACL users once the way every grant and revoke will (ACL SAVE or
 * CONFIG REWRITE): only doing it tells whether the server has an aclfile or a config file and can
 * write it, and it writes nothing that the next grant or revoke would not write anyway.
 */
export async function accountProblems(
  session: RedisSession,
  self: string,
  targets: readonly RedisAclTarget[],
  persist: PersistSetting,
): Promise<string[]> {
  const problems = await privilegeProblems(session, self, requiredPrivileges(targets, persist));
  const fileProblem =
    persist !== "none" && problems.length === 0 ? await persistProblem(session, self, persist) : undefined;
  return fileProblem === undefined ? problems : [...problems, fileProblem];
}

/** What Sesame's user needs for these targets; without targets, what every grant needs. */
function requiredPrivileges(targets: readonly RedisAclTarget[], persist: PersistSetting): Privilege[] {
  const needed = new Set<Privilege>([GETUSER, SETUSER, CLIENT_LIST, INFO]);
  for (const target of targets) needed.add(target.mode === "enable-user" ? CLIENT_KILL : DELUSER);
  // auto needs +config|rewrite only on servers without an aclfile: persistProblem() finds out.
  if (persist === "auto" || persist === "acl-file") needed.add(SAVE);
  if (persist === "config-rewrite") needed.add(REWRITE);
  return [...needed];
}

async function privilegeProblems(
  session: RedisSession,
  self: string,
  privileges: readonly Privilege[],
): Promise<string[]> {
  const problems: string[] = [];
  for (const privilege of privileges) {
    let answer: string;
    try {
      answer = String(await session.call("ACL", "DRYRUN", self, ...privilege.example));
    } catch (error) {
      if (!/^NOPERM/.test(String((error as Error).message))) throw error;
      return [
        `Sesame's ACL user "${self}" may not run ACL DRYRUN, which check() uses to verify its privileges: run ACL SETUSER ${self} +acl|dryrun`,
      ];
    }
    if (answer !== "OK")
      problems.push(
        `Sesame's ACL user "${self}" cannot ${privilege.purpose}: run ACL SETUSER ${self} ${privilege.rule}`,
      );
  }
  return problems;
}
