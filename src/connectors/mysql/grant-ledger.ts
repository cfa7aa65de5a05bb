import { type Account, accountLabel, ident, isMissingTable, type Queryable, select } from "./mysql-sql.js";

/**
 * Sesame's ledger on the target: one row per grant id and item (a role, a default role, a
 * privilege), written *before* the item is granted. MySQL and MariaDB record no grantor for roles
 * or database privileges, so without it a retried grant (whose first attempt succeeded but never
 * reported back) would find the access in place, call it preexisting, and never take it away.
 *
 * A row makes its grant a *holder* that keeps the item in place for other grants only once the
 * whole grant succeeded (`applied`), until its expiry (`expires_at`, moved by extend) and until it
 * is revoked: a failed grant's half-written rows, a grant whose revoke never ran and a stale row
 * never keep access alive past another grant's revoke.
 *
 * The table is `sesame_grants_v2`. The previous version's `sesame_grants` (no applied flag, no
 * expiry) is only read for grants it recorded itself, never to find holders: see README.md.
 */

const TABLE = "sesame_grants_v2";
const LEGACY_TABLE = "sesame_grants";
export const LEDGER_TABLES = [TABLE, LEGACY_TABLE] as const;

export interface LedgerRow {
  item: string;
  preexisting: boolean;
  /** The default role this grant displaced (MariaDB), to restore on revoke. */
  previous: string | null;
  revoked: boolean;
}

interface RawRow {
  item: string;
  preexisting: number;
  previous: string | null;
  revoked: number;
}

export const ledgerTable = (database: string, table: string = TABLE): string => `${ident(database)}.${ident(table)}`;

/** DATETIME(3) in UTC, compared as written: no session time zone in between. */
export const utcDatetime = (date: Date): string => date.toISOString().slice(0, 23).replace("T", " ");

const toRow = (raw: RawRow): LedgerRow => ({
  item: raw.item,
  preexisting: raw.preexisting === 1,
  previous: raw.previous,
  revoked: raw.revoked === 1,
});

async function ignoringMissingTable<T>(work: () => Promise<T>, fallback: T): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isMissingTable(error)) return fallback;
    throw error;
  }
}

/** Creates the table when missing; an operator may create it beforehand and withhold CREATE. */
export async function ensureLedger(client: Queryable, database: string): Promise<void> {
  const found = await select(
    client,
    "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
    [database, TABLE],
  );
  if (found.length > 0) return;
  await client.query(`CREATE TABLE IF NOT EXISTS ${ledgerTable(database)} (
    grant_id VARCHAR(191) NOT NULL,
    item VARCHAR(255) NOT NULL,
    account VARCHAR(400) NOT NULL,
    preexisting BOOLEAN NOT NULL,
    previous VARCHAR(80) NULL,
    applied BOOLEAN NOT NULL DEFAULT FALSE,
    expires_at DATETIME(3) NOT NULL COMMENT 'UTC',
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    revoked_at TIMESTAMP NULL,
    PRIMARY KEY (grant_id, item),
    KEY account_item (account, item)
  ) ENGINE=InnoDB`);
}

const rowsOf = (client: Queryable, database: string, table: string, grantId: string) =>
  ignoringMissingTable(async () => {
    const rows = await select<RawRow>(
      client,
      `SELECT item, preexisting, previous, revoked_at IS NOT NULL AS revoked FROM ${ledgerTable(database, table)} WHERE grant_id = ?`,
      [grantId],
    );
    return rows.map(toRow);
  }, [] as LedgerRow[]);

/**
 * The rows of one grant: from the current table, else (a grant recorded before the upgrade) from
 * the previous version's table; none when both are gone (the receipt then decides).
 */
export async function ledgerRows(
  client: Queryable,
  database: string,
  grantId: string,
): Promise<{ rows: LedgerRow[]; legacy: boolean }> {
  const rows = await rowsOf(client, database, TABLE, grantId);
  if (rows.length > 0) return { rows, legacy: false };
  const legacy = await rowsOf(client, database, LEGACY_TABLE, grantId);
  return { rows: legacy, legacy: legacy.length > 0 };
}

/** Keeps the first observation: a retry must not re-judge what was there before Sesame. Not applied yet. */
export async function recordItem(
  client: Queryable,
  database: string,
  grantId: string,
  account: Account,
  row: Omit<LedgerRow, "revoked">,
  expiresAt: Date,
): Promise<void> {
  await client.query(
    `INSERT IGNORE INTO ${ledgerTable(database)} (grant_id, item, account, preexisting, previous, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
    [grantId, row.item, accountLabel(account), row.preexisting, row.previous, utcDatetime(expiresAt)],
  );
}

/** The whole grant succeeded: from now on its rows keep the items in place for other grants. */
export async function markApplied(
  client: Queryable,
  database: string,
  grantId: string,
  expiresAt: Date,
): Promise<void> {
  await client.query(
    `UPDATE ${ledgerTable(database)} SET applied = TRUE, expires_at = ? WHERE grant_id = ? AND revoked_at IS NULL`,
    [utcDatetime(expiresAt), grantId],
  );
}

/** The grant failed: its rows hold nothing for anyone (its own revoke still reads them). */
export async function markNotApplied(client: Queryable, database: string, grantId: string): Promise<void> {
  await client.query(`UPDATE ${ledgerTable(database)} SET applied = FALSE WHERE grant_id = ?`, [grantId]);
}

/** The grant was extended: it holds its items until the new expiry. */
export async function extendRows(client: Queryable, database: string, grantId: string, expiresAt: Date): Promise<void> {
  await ignoringMissingTable(
    async () =>
      void (await client.query(
        `UPDATE ${ledgerTable(database)} SET expires_at = ? WHERE grant_id = ? AND revoked_at IS NULL`,
        [utcDatetime(expiresAt), grantId],
      )),
    undefined,
  );
}

/**
 * At grant time, for an item already present: did another Sesame grant add it (a row of it that
 * is neither preexisting nor revoked, applied or not, in either table)? Then it is Sesame's and
 * not preexisting, so some revoke takes it away. Only errs towards removing access.
 */
export async function sesameAdded(
  client: Queryable,
  database: string,
  grantId: string,
  account: Account,
  item: string,
): Promise<LedgerRow | undefined> {
  for (const table of LEDGER_TABLES) {
    const rows = await ignoringMissingTable(
      () =>
        select<RawRow>(
          client,
          `SELECT item, preexisting, previous, 0 AS revoked FROM ${ledgerTable(database, table)}
           WHERE account = ? AND item = ? AND grant_id <> ? AND preexisting = 0 AND revoked_at IS NULL LIMIT 1`,
          [accountLabel(account), item, grantId],
        ),
      [] as RawRow[],
    );
    if (rows[0] !== undefined) return toRow(rows[0]);
  }
  return undefined;
}

/**
 * At revoke time: another Sesame grant that still holds the same item on the same account, so
 * this revoke must leave it. Only a grant that succeeded (applied), is not revoked and has not
 * expired (by Sesame's clock, `now`) counts.
 */
export async function otherHolder(
  client: Queryable,
  database: string,
  grantId: string,
  account: Account,
  item: string,
  now: Date,
): Promise<boolean> {
  const rows = await ignoringMissingTable(
    () =>
      select(
        client,
        `SELECT 1 FROM ${ledgerTable(database)}
         WHERE account = ? AND item = ? AND grant_id <> ? AND preexisting = 0 AND applied = 1 AND revoked_at IS NULL AND expires_at > ? LIMIT 1`,
        [accountLabel(account), item, grantId, utcDatetime(now)],
      ),
    [] as unknown[],
  );
  return rows.length > 0;
}

export async function markRevoked(client: Queryable, database: string, grantId: string): Promise<void> {
  for (const table of LEDGER_TABLES) {
    await ignoringMissingTable(
      async () =>
        void (await client.query(
          `UPDATE ${ledgerTable(database, table)} SET revoked_at = CURRENT_TIMESTAMP WHERE grant_id = ? AND revoked_at IS NULL`,
          [grantId],
        )),
      undefined,
    );
  }
}
