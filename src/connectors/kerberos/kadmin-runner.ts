import { type ExecFileException, execFile } from "node:child_process";
import type { KerberosConfig } from "./kerberos-config.js";

/**
 * Runs kadmin (or kadmin.local) once per command, without a shell: every argument is its own argv
 * entry, so no quoting is involved. The command goes on the command line rather than in `-q`,
 * whose parser understands only double quotes.
 */

export type KadminFailureKind =
  | "missing"
  | "privilege"
  | "unreachable"
  | "credentials"
  | "database"
  | "program"
  | "interrupted"
  | "other";

/** A failed kadmin command. The message is kadmin's own line: names and paths, never key material. */
export class KadminFailure extends Error {
  constructor(
    readonly kind: KadminFailureKind,
    message: string,
    /** For `privilege`: what kadmind asked for ("get", "modify", ...). */
    readonly privilege?: string,
  ) {
    super(message);
    this.name = "KadminFailure";
  }
}

export interface Kadmin {
  run(args: readonly string[]): Promise<string>;
}

// kadmin reports a failed command as `<function>: <reason> while <doing>` on stderr; `kadmin -q`
// even exits 0 then, so the output decides, not only the exit status.
const FAILURE_LINE = /^(kadmin(\.local)?|[a-z]+(_[a-z]+)+): .+$/m;

const KINDS: readonly [RegExp, KadminFailureKind][] = [
  [/Principal does not exist/i, "missing"],
  [/Operation requires ``[\w-]+'' privilege/, "privilege"],
  [
    /Communication failure|Cannot contact any KDC|Connection refused|Cannot resolve network address|Cannot find KDC|GSS-API \(or Kerberos\) error|timed out/i,
    "unreachable",
  ],
  [
    /Key table file .* not found|Keytab contains no suitable keys|Client not found in Kerberos database|Preauthentication failed|Password incorrect|Permission denied|Clock skew/i,
    "credentials",
  ],
  [/Cannot open DB2 database|master key|stash/i, "database"],
];

function classify(line: string): KadminFailure {
  const kind = KINDS.find(([pattern]) => pattern.test(line))?.[1] ?? "other";
  return new KadminFailure(kind, line, /``([\w-]+)''/.exec(line)?.[1]);
}

export function createKadmin(config: KerberosConfig): Kadmin {
  const base =
    config.mode === "kadmin"
      ? [
          "-r",
          config.realm,
          "-p",
          qualify(config.adminPrincipal, config.realm),
          "-k",
          "-t",
          config.keytab,
          ...(config.adminServer === undefined ? [] : ["-s", config.adminServer]),
        ]
      : ["-r", config.realm];
  const command = config.command ?? config.mode;
  // UTC and the C locale keep kadmin's dates and messages in the form the parsers expect.
  const env: NodeJS.ProcessEnv = { ...process.env, TZ: "UTC", LC_ALL: "C" };
  if (config.krb5Config !== undefined) env.KRB5_CONFIG = config.krb5Config;
  if (config.mode === "kadmin.local" && config.kdcProfile !== undefined) env.KRB5_KDC_PROFILE = config.kdcProfile;
  const timeout = config.timeoutSeconds * 1000;

  return {
    run: (args) =>
      new Promise((resolve, reject) => {
        // execFile hands the child's own 'error' (it could not start) to this callback.
        const child = execFile(
          command,
          [...base, ...args],
          { env, timeout, killSignal: "SIGKILL", maxBuffer: 1 << 20 },
          (error, stdout, stderr) => {
            const failure = outcome(command, config.timeoutSeconds, error, stderr);
            if (failure === undefined) resolve(stdout);
            else reject(failure);
          },
        );
        // kadmin never needs input here; a closed stdin turns any unexpected prompt into a failure, not a hang.
        // An early exit of kadmin must not surface as an unhandled EPIPE that ends Sesame.
        child.stdin?.on("error", () => undefined);
        child.stdin?.end();
        // Its output pipes have no listener of execFile's: unheard, an error there would end Sesame.
        // Without the whole output the call's result is unknown, so it fails (the job retries it).
        const outputLost = (error: Error) => {
          child.kill("SIGKILL");
          reject(new KadminFailure("interrupted", `lost the output of ${command}: ${error.message}`));
        };
        child.stdout?.on("error", outputLost);
        child.stderr?.on("error", outputLost);
      }),
  };
}

/** What a finished kadmin run says: undefined for success, else why it failed. */
function outcome(
  command: string,
  timeoutSeconds: number,
  error: ExecFileException | null,
  stderr: string,
): KadminFailure | undefined {
  const failure = FAILURE_LINE.exec(stderr)?.[0];
  if (failure !== undefined) return classify(failure);
  if (error === null) return undefined;
  if (error.code === "ENOENT") return new KadminFailure("program", `the program "${command}" was not found`);
  if (error.killed === true)
    return new KadminFailure("unreachable", `${command} did not answer within ${timeoutSeconds} s (timed out)`);
  // Killed by someone else: a shutdown, the OOM killer, an operator.
  if (error.signal != null)
    return new KadminFailure("interrupted", `${command} was ended by ${error.signal} before it answered`);
  return new KadminFailure(
    "other",
    `${command} failed (exit status ${String(error.code)}): ${lastLine(stderr) || "no message"}`,
  );
}

export const qualify = (principal: string, realm: string): string =>
  principal.includes("@") ? principal : `${principal}@${realm}`;

const lastLine = (text: string): string => text.trim().split("\n").at(-1)?.trim() ?? "";
