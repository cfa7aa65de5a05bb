/**
 * `npm run doctor`: checks what `npm test` and Sesame need on this machine, one line each, with
 * Debian's install command for whatever is missing. Exits 1 when the core is missing (a usable
 * Node, PostgreSQL, Redis): `npm test` fails without it. The other prerequisites only warn,
 * because `npm test` skips the groups that need them.
 */
import {
  CORE_PREREQUISITES,
  type Prerequisite,
  postgresProblem,
  redisProblem,
  TEST_POSTGRES_URL,
  TEST_PREREQUISITES,
  TEST_REDIS_URL,
} from "./prerequisite-checks.js";

interface Line {
  status: "OK" | "WARN" | "MISSING";
  text: string;
  /** A MISSING line that makes the doctor exit non-zero. */
  required: boolean;
}

const NODE_20_END_OF_LIFE = "2026-04-30";

function nodeLine(): Line {
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  const version = `Node.js ${process.version}`;
  if (major === 22 || major === 24) return { status: "OK", text: version, required: true };
  // package.json's engines field: older versions lack APIs that dependencies use.
  if (major < 20 || (major === 20 && minor < 19))
    return { status: "MISSING", text: `${version} is too old: install Node 22 or 24`, required: true };
  if (major === 20)
    return {
      status: "WARN",
      text: `${version} works, but Node 20 is end-of-life since ${NODE_20_END_OF_LIFE}: use Node 22 or 24`,
      required: true,
    };
  return { status: "WARN", text: `${version} is not a supported release line: use Node 22 or 24`, required: true };
}

async function prerequisiteLine(prerequisite: Prerequisite, required: boolean): Promise<Line> {
  const problem = await prerequisite.problem();
  if (problem === undefined)
    return { status: "OK", text: `${prerequisite.title}, for ${prerequisite.neededFor}`, required };
  const consequence = required ? "needed for" : "without it npm test skips";
  return {
    status: "MISSING",
    text: `${problem} — ${consequence} ${prerequisite.neededFor}; install: ${prerequisite.install}`,
    required,
  };
}

/** Sesame itself reads DATABASE_URL and REDIS_URL; worth checking too when they point elsewhere than the tests. */
function runtimeChecks(): Prerequisite[] {
  const { DATABASE_URL, REDIS_URL } = process.env;
  const checks: Prerequisite[] = [];
  if (DATABASE_URL !== undefined && DATABASE_URL !== TEST_POSTGRES_URL)
    checks.push({
      ...CORE_PREREQUISITES.postgresql,
      neededFor: "Sesame (DATABASE_URL)",
      problem: () => postgresProblem(DATABASE_URL, "DATABASE_URL"),
    });
  if (REDIS_URL !== undefined && REDIS_URL !== TEST_REDIS_URL)
    checks.push({
      ...CORE_PREREQUISITES.redis,
      neededFor: "Sesame (REDIS_URL)",
      problem: () => redisProblem(REDIS_URL, "REDIS_URL"),
    });
  return checks;
}

const lines = [
  nodeLine(),
  ...(await Promise.all([
    ...Object.values(CORE_PREREQUISITES).map((prerequisite) => prerequisiteLine(prerequisite, true)),
    ...runtimeChecks().map((prerequisite) => prerequisiteLine(prerequisite, true)),
    ...Object.values(TEST_PREREQUISITES).map((prerequisite) => prerequisiteLine(prerequisite, false)),
  ])),
];
for (const line of lines) console.log(`${line.status.padEnd(8)}${line.text}`);
const failed = lines.some((line) => line.required && line.status === "MISSING");
if (failed)
  console.log("\nSomething npm test cannot do without is MISSING (see above): it will fail until that is installed.");
process.exitCode = failed ? 1 : 0;
