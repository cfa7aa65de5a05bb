/**
 * The ACL rules a policy file may give a temporary user. An allow-list, not a deny-list: anything
 * that touches passwords (`>`, `<`, `#`, `!`, `nopass`, `resetpass`), switches the user (`on`,
 * `off`, `reset`) or adds selectors (`(...)`) is Sesame's business and would let a policy author
 * hand out a login that outlives the grant or that Sesame cannot recognise as its own.
 */

const KEYWORDS = new Set(["resetkeys", "resetchannels", "allkeys", "allchannels", "allcommands", "nocommands"]);

const CATEGORY = /^[+-]@[a-z][a-z0-9_-]*$/;
/** A command, optionally with a subcommand (`+config|get`); module commands contain dots (`+json.get`). */
const COMMAND = /^[+-][A-Za-z][A-Za-z0-9_.-]*(\|[A-Za-z0-9][A-Za-z0-9_.-]*)?$/;
const KEY_PATTERN = /^(?:~|%(?:R|W|RW)~)(.*)$/;
const CHANNEL_PATTERN = /^&(.*)$/;
/**
 * Glob characters and the usual key separators. No spaces, quotes, backslashes or parentheses:
 * ACL SAVE writes rules to a file that Redis splits on spaces and quotes when it loads it again.
 */
const PATTERN = /^[A-Za-z0-9_.:*?[\]{}^!@#$%&=+,<>|/-]{1,256}$/;

const GRAMMAR =
  "allowed: +@category, -@category, +command, -command, +command|subcommand, ~pattern, %R~pattern, %W~pattern, %RW~pattern, &channel, resetkeys, resetchannels, allkeys, allchannels, allcommands, nocommands";

/** Why `rule` is not allowed, or undefined when it is. */
export function ruleProblem(rule: string): string | undefined {
  if (KEYWORDS.has(rule) || CATEGORY.test(rule) || COMMAND.test(rule)) return undefined;
  const pattern = KEY_PATTERN.exec(rule)?.[1] ?? CHANNEL_PATTERN.exec(rule)?.[1];
  if (pattern !== undefined) {
    return PATTERN.test(pattern)
      ? undefined
      : `pattern in "${rule}" may only use letters, digits and _ . : * ? [ ] { } ^ ! @ # $ % & = + , < > | / - (at most 256)`;
  }
  // A password rule is not echoed: the value after `>` or `#` may be a real password or its hash.
  if (/^[><#!]/.test(rule))
    return `password rules (>, <, #, !) are not allowed: Sesame generates the password (${GRAMMAR})`;
  return `"${rule}" is not an allowed ACL rule (${GRAMMAR})`;
}
