import type { RedisAclTarget } from "./redis-acl-config.js";
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
const SETUSER: Privilege = { rule: "+acl|setuser", example: ["acl", "setuser", "x"], purpose: "switch or create ACL users" };
const CLIENT_LIST: Privilege = { rule: "+client|list", example: ["client", "list"], purpose: "confirm that no connection survived a revoke" };
const CLIENT_KILL: Privilege = { rule: "+client|kill", example: ["client", "kill", "user", "x"], purpose: "close the connections of a switched-off user" };
const DELUSER: Privilege = { rule: "+acl|deluser", example: ["acl", "deluser", "x"], purpose: "delete temporary users" };
const SAVE: Privilege = { rule: "+acl|save", example: ["acl", "save"], purpose: "write changes to the ACL file (aclSave: true)" };

/** Everything check() can find wrong with Sesame's ACL user for these targets. */
export async function accountProblems(session: RedisSession, self: string, targets: readonly RedisAclTarget[], aclSave: boolean): Promise<string[]> {
  const problems = await privilegeProblems(session, self, requiredPrivileges(targets, aclSave));
  const fileProblem = aclSave && problems.length === 0 ? await aclFileProblem(session) : undefined;
  return fileProblem === undefined ? problems : [...problems, fileProblem];
}

/** What Sesame's user needs for these targets; without targets, what every grant needs. */
function requiredPrivileges(targets: readonly RedisAclTarget[], aclSave: boolean): Privilege[] {
  const needed = new Set<Privilege>([GETUSER, SETUSER, CLIENT_LIST]);
  for (const target of targets) needed.add(target.mode === "enable-user" ? CLIENT_KILL : DELUSER);
  if (aclSave) needed.add(SAVE);
  return [...needed];
}

async function privilegeProblems(session: RedisSession, self: string, privileges: readonly Privilege[]): Promise<string[]> {
  const problems: string[] = [];
  for (const privilege of privileges) {
    let answer: string;
    try {
      answer = String(await session.call("ACL", "DRYRUN", self, ...privilege.example));
    } catch (error) {
      if (!/^NOPERM/.test(String((error as Error).message))) throw error;
      return [`Sesame's ACL user "${self}" may not run ACL DRYRUN, which check() uses to verify its privileges: run ACL SETUSER ${self} +acl|dryrun`];
    }
    if (answer !== "OK") problems.push(`Sesame's ACL user "${self}" cannot ${privilege.purpose}: run ACL SETUSER ${self} ${privilege.rule}`);
  }
  return problems;
}

/**
 * With aclSave, every change ends with ACL SAVE; a server without an ACL file refuses it, which
 * would fail every grant and revoke. Only running it tells, and it writes nothing that the next
 * grant would not write anyway.
 */
async function aclFileProblem(session: RedisSession): Promise<string | undefined> {
  try {
    await session.call("ACL", "SAVE");
    return undefined;
  } catch (error) {
    if (!/not configured to use an ACL file/i.test(String((error as Error).message))) throw error;
    return "aclSave is true but the Redis server keeps no ACL file: set aclSave: false for this connector, or start Redis with an aclfile";
  }
}
