import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts, kdcConf, krb5Conf, stop, waitForPort } from "./kerberos-daemons.js";

/**
 * A private MIT Kerberos realm for one test file: its own krb5.conf, kdc.conf, database and stash
 * in a temp dir, krb5kdc and kadmind on spare loopback ports. Principals:
 *   admin/admin  Sesame, least privilege: "im" (inquire + modify) on principals with instance admin only; keytab
 *   weak/admin   "i" only, to prove check() names the missing right; keytab
 *   none/admin   no kadm5.acl entry at all; keytab
 *   <user>/admin requesters made by addUser(): random password, created disabled (-allow_tix)
 */
export interface KerberosFixture {
  realm: string;
  krb5Config: string;
  kdcProfile: string;
  adminServer: string;
  keytab(name: "admin" | "weak" | "none"): string;
  /** Passwords and keytab contents; none may ever appear in an error or a receipt. */
  secrets: string[];
  /** Runs kadmin.local on the realm's database (the administrator's side). */
  local(args: string[]): Promise<string>;
  /** Creates `<label><n>/admin`, disabled, with a random password; returns "name/admin". */
  addUser(label?: string): Promise<string>;
  /** kinit with the user's password into a private ccache; the ticket's times on success. */
  kinit(principal: string): Promise<KinitResult>;
  canLogIn(principal: string): Promise<boolean>;
  cleanup(): Promise<void>;
}

export type KinitResult =
  | { ok: true; startsAt: Date; endsAt: Date; renewUntil: Date | undefined }
  | { ok: false; reason: string };

// What the KDC says to a disabled, expired or missing principal; any other failure is a test error.
const REFUSED = /credentials have been revoked|entry in database has expired|not found in Kerberos database/;

const run = (command: string, args: string[], env: NodeJS.ProcessEnv, input?: string) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    const child = execFile(command, args, { env, timeout: 20_000 }, (error, stdout, stderr) => {
      const code = (error as { code?: unknown } | null)?.code;
      if (typeof code === "string") return reject(error);
      resolve({ code: typeof code === "number" ? code : 0, stdout, stderr });
    });
    // kinit exits before reading the password when the KDC refuses the principal outright.
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(input);
  });

export async function createKerberosFixture(label: string): Promise<KerberosFixture> {
  const dir = await mkdtemp(join(tmpdir(), `sesame-krb-${label}-`));
  const realm = `SESAME-${label.toUpperCase()}-${randomBytes(3).toString("hex").toUpperCase()}.TEST`;
  const [kdcPort, kadmindPort, kpasswdPort] = await freePorts(3);
  const file = (name: string) => join(dir, name);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KRB5_CONFIG: file("krb5.conf"),
    KRB5_KDC_PROFILE: file("kdc.conf"),
    TZ: "UTC",
    LC_ALL: "C",
  };
  await writeFile(file("krb5.conf"), krb5Conf(realm, kdcPort!, kadmindPort!));
  await writeFile(file("kdc.conf"), kdcConf(realm, dir, kdcPort!, kadmindPort!, kpasswdPort!));
  await writeFile(
    file("kadm5.acl"),
    `admin/admin@${realm} im */admin@${realm}\nweak/admin@${realm} i */admin@${realm}\n`,
  );

  const masterPassword = randomBytes(12).toString("base64url");
  const secrets: string[] = [masterPassword];
  const passwords = new Map<string, string>();
  const checked = async (command: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}, input?: string) => {
    const result = await run(command, args, { ...env, ...extraEnv }, input);
    if (result.code !== 0 || /^\S+: .* while /m.test(result.stderr))
      throw new Error(`${command} ${args[0]} failed: ${result.stderr.trim()}`);
    return result.stdout;
  };
  const local = (args: string[]) => checked("/usr/sbin/kadmin.local", ["-r", realm, ...args]);

  const daemons: ChildProcess[] = [];
  const cleanup = async () => {
    await Promise.all(daemons.map(stop));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await checked("/usr/sbin/kdb5_util", ["create", "-s", "-P", masterPassword, "-r", realm]);
    for (const name of ["admin", "weak", "none"]) {
      await local(["addprinc", "-randkey", `${name}/admin`]);
      await local(["ktadd", "-k", file(`${name}.keytab`), `${name}/admin`]);
      const content = await readFile(file(`${name}.keytab`));
      secrets.push(content.toString("base64"), content.toString("hex"));
    }
    daemons.push(spawn("/usr/sbin/krb5kdc", ["-n", "-r", realm], { env, stdio: "ignore" }));
    daemons.push(spawn("/usr/sbin/kadmind", ["-nofork", "-r", realm], { env, stdio: "ignore" }));
    await waitForPort(kdcPort!);
    await waitForPort(kadmindPort!);
    // Proves both daemons are this realm's (a port taken by someone else in between fails here).
    const adminLogin = [
      "-r",
      realm,
      "-p",
      "admin/admin",
      "-k",
      "-t",
      file("admin.keytab"),
      "-s",
      `127.0.0.1:${kadmindPort}`,
    ];
    await checked("/usr/bin/kadmin", [...adminLogin, "getprinc", "-terse", "admin/admin"]);
  } catch (error) {
    await cleanup();
    throw error;
  }

  let users = 0;
  const kinit = async (principal: string): Promise<KinitResult> => {
    const cache = { KRB5CCNAME: `FILE:${file(`cc-${randomBytes(4).toString("hex")}`)}` };
    const result = await run(
      "/usr/bin/kinit",
      [`${principal}@${realm}`],
      { ...env, ...cache },
      `${passwords.get(principal) ?? "unknown"}\n`,
    );
    if (result.code !== 0) {
      if (REFUSED.test(result.stderr)) return { ok: false, reason: result.stderr.trim() };
      throw new Error(`kinit ${principal} failed unexpectedly: ${result.stderr.trim()}`);
    }
    const listing = await checked("/usr/bin/klist", [], cache);
    await run("/usr/bin/kdestroy", [], { ...env, ...cache });
    return { ok: true, ...ticketTimes(listing) };
  };

  return {
    realm,
    krb5Config: file("krb5.conf"),
    kdcProfile: file("kdc.conf"),
    adminServer: `127.0.0.1:${kadmindPort}`,
    keytab: (name) => file(`${name}.keytab`),
    secrets,
    local,
    async addUser(prefix = "user") {
      const principal = `${prefix}${++users}/admin`;
      const password = `pw-${randomBytes(9).toString("base64url")}`;
      passwords.set(principal, password);
      secrets.push(password);
      await local(["addprinc", "-pw", password, "-allow_tix", principal]);
      return principal;
    },
    kinit,
    canLogIn: async (principal) => (await kinit(principal)).ok,
    cleanup,
  };
}

/** klist's krbtgt line, e.g. "11/22/26 01:49:03  11/22/26 06:49:03  krbtgt/…" (C locale, UTC). */
function ticketTimes(listing: string): { startsAt: Date; endsAt: Date; renewUntil: Date | undefined } {
  const stamp = "(\\d\\d)/(\\d\\d)/(\\d\\d) (\\d\\d:\\d\\d:\\d\\d)";
  const line = new RegExp(`^${stamp}\\s+${stamp}\\s+krbtgt/.*(?:\\n\\s+renew until ${stamp})?`, "m").exec(listing);
  if (line === null) throw new Error(`no TGT in klist output: ${listing}`);
  const date = (offset: number) =>
    new Date(`20${line[offset + 2]}-${line[offset]}-${line[offset + 1]}T${line[offset + 3]}Z`);
  return { startsAt: date(1), endsAt: date(5), renewUntil: line[9] === undefined ? undefined : date(9) };
}
