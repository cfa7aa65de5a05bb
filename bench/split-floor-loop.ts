import pg from "pg";

/**
 * One process of the two-process floor (split-floor.ts): `concurrency` loops of a transaction
 * shaped like Sesame's writes (lock a row, update it, insert an audit-like row, commit) plus one
 * read, on its own rows, for `seconds` from the SIGUSR2 it waits for after printing "ready" (so
 * every loop process starts at the same moment, however long each took to start). Prints one
 * JSON line: what it did and the CPU it used.
 *
 *   node --import tsx bench/split-floor-loop.ts <databaseUrl> <concurrency> <firstRow> <seconds>
 */

const [databaseUrl, concurrencyText, firstRowText, secondsText] = process.argv.slice(2);
const concurrency = Number(concurrencyText);
const firstRow = Number(firstRowText);
// A connection per loop: one process and two hold as many connections, and nothing queues for one.
const pool = new pg.Pool({ connectionString: databaseUrl, max: concurrency });
// An unheard `error` from an idle client would kill the process: the next query fails instead.
pool.on("error", () => undefined);

async function transaction(row: number): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT v FROM bench_split_floor WHERE id = $1 FOR UPDATE", [row]);
    await client.query("UPDATE bench_split_floor SET v = v + 1 WHERE id = $1", [row]);
    await client.query("INSERT INTO bench_split_floor_log (row_id) VALUES ($1)", [row]);
    await client.query("COMMIT");
  } finally {
    client.release();
  }
}

async function main(): Promise<void> {
  // Connected before it says so: the window measures the loops, not the connecting.
  const clients = await Promise.all(Array.from({ length: concurrency }, () => pool.connect()));
  for (const client of clients) client.release();
  const go = new Promise((resolve) => process.once("SIGUSR2", resolve));
  console.log("ready");
  await go;
  const endAt = performance.now() + Number(secondsText) * 1000;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let operations = 0;
  const loop = async (row: number) => {
    while (performance.now() < endAt) {
      await transaction(row);
      await pool.query("SELECT v FROM bench_split_floor WHERE id = $1", [row]);
      operations += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, i) => loop(firstRow + i)));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  console.log(JSON.stringify({ operations, seconds, cpuMs: (cpu.user + cpu.system) / 1000 }));
  await pool.end();
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
