import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { chown, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./free-port.js";

const run = promisify(execFile);

/** Where Debian puts the newest installed PostgreSQL's server binaries (override with BENCH_POSTGRES_BIN). */
export const POSTGRES_BIN = process.env.BENCH_POSTGRES_BIN ?? debianPostgresBin();

function debianPostgresBin(): string {
  let versions: string[] = [];
  try {
    versions = readdirSync("/usr/lib/postgresql").filter((name) => /^\d+$/.test(name));
  } catch {
    // No Debian PostgreSQL server: the path below names what is missing when it is used.
  }
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0] ?? "15";
  return `/usr/lib/postgresql/${newest}/bin`;
}
/** The server refuses to run as root: it runs as this user, which owns its data directory. */
const SERVER_USER = "postgres";

/**
 * A throwaway PostgreSQL cluster of the bench's own (initdb + pg_ctl on a spare loopback port,
 * in a temporary directory): the fault bench restarts it mid-run, which it must never do to a
 * server anyone else uses. `stop` removes everything it made.
 */
export interface PrivatePostgres {
  /** postgresql:// URL of its `postgres` database, as superuser postgres (with the password under scram-sha-256). */
  url: string;
  /** Stops it at once (no checkpoint, like a crash: clients see their connections die) and starts it again. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Runs a PostgreSQL binary as the server's user (directly when the bench already is that user). */
async function asServerUser(binary: string, args: string[]): Promise<void> {
  const command = join(POSTGRES_BIN, binary);
  if (userInfo().username === SERVER_USER) await run(command, args);
  else if (process.getuid?.() === 0) await run("runuser", ["-u", SERVER_USER, "--", command, ...args]);
  else
    throw new Error(`a private PostgreSQL needs to run as ${SERVER_USER}: run the bench as root or as ${SERVER_USER}`);
}

export interface PrivatePostgresOptions {
  /**
   * How clients authenticate: trust (the bench's default), or scram-sha-256 with a password for
   * superuser postgres, as a stock Debian or Ubuntu PostgreSQL asks over TCP.
   */
  auth?: { method: "trust" } | { method: "scram-sha-256"; password: string };
}

export async function startPrivatePostgres(options: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
  const auth = options.auth ?? { method: "trust" };
  const dir = await mkdtemp(join(tmpdir(), "sesame-bench-pg-"));
  const data = join(dir, "data");
  const log = join(dir, "server.log");
  const port = await freePort();
  const { uid, gid } = await serverIds();
  await chown(dir, uid, gid);
  try {
    const initdb = ["-D", data, "-U", "postgres", "-A", auth.method, "--no-sync", "-E", "UTF8"];
    if (auth.method === "scram-sha-256") {
      const passwordFile = join(dir, "password");
      await writeFile(passwordFile, auth.password, { mode: 0o600 });
      await chown(passwordFile, uid, gid);
      initdb.push(`--pwfile=${passwordFile}`);
    }
    await asServerUser("initdb", initdb);
    const serverOptions = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${dir} -c max_connections=200`;
    await asServerUser("pg_ctl", ["-D", data, "-o", serverOptions, "-l", log, "-w", "-t", "60", "start"]);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url:
      auth.method === "trust"
        ? `postgresql://postgres@127.0.0.1:${port}/postgres`
        : `postgresql://postgres:${encodeURIComponent(auth.password)}@127.0.0.1:${port}/postgres`,
    // pg_ctl restart keeps the server's options (postmaster.opts) but not its log file: without
    // -l the new server would hold pg_ctl's output open, and pg_ctl would never seem to end.
    restart: () => asServerUser("pg_ctl", ["-D", data, "-m", "immediate", "-l", log, "-w", "-t", "60", "restart"]),
    async stop() {
      await asServerUser("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function serverIds(): Promise<{ uid: number; gid: number }> {
  const { stdout } = await run("id", [SERVER_USER]);
  const uid = /uid=(\d+)/.exec(stdout)?.[1];
  const gid = /gid=(\d+)/.exec(stdout)?.[1];
  if (!uid || !gid) throw new Error(`there is no ${SERVER_USER} user to run a private PostgreSQL as`);
  return { uid: Number(uid), gid: Number(gid) };
}
