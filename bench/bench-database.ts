import { randomBytes } from "node:crypto";
import pg from "pg";

/** Where the bench creates its databases: the local server, as user postgres, unless overridden. */
export const BENCH_POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

/** `url` with another database name. */
export function databaseUrl(serverUrl: string, database: string): string {
  return Object.assign(new URL(serverUrl), { pathname: `/${database}` }).toString();
}

/**
 * A connected client. Per the shared notes, `pg` emits `error` on a client whose socket dies and
 * an unheard `error` kills the process: the bench records it and lets the next query fail instead.
 */
export async function connect(url: string, onError: (error: Error) => void = () => undefined): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", onError);
  await client.connect();
  return client;
}

export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connect(url);
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A database of the bench's own on the shared server; nothing else is touched, and `drop` removes it. */
export interface BenchDatabase {
  name: string;
  url: string;
  serverUrl: string;
  drop(): Promise<void>;
}

export async function createBenchDatabase(serverUrl: string, prefix: string): Promise<BenchDatabase> {
  const name = `${prefix}_${randomBytes(4).toString("hex")}`;
  await withClient(serverUrl, (client) => client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
  return {
    name,
    url: databaseUrl(serverUrl, name),
    serverUrl,
    // FORCE: a child killed mid-run may leave sessions behind; they must not keep the database alive.
    drop: () =>
      withClient(serverUrl, async (client) => {
        await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      }),
  };
}
