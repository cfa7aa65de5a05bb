import { accountLabel, ident, isMissingTable, select, type Account, type Queryable } from "./mysql-sql.js";

/**
 * Sesame's ledger on the target: one row per grant id and item (a role, a default role, a
 * privilege), written *before* the item is granted. MySQL and MariaDB record no grantor for roles
 * or database privileges, so without it a retried grant (whose first attempt succeeded but never
 * reported back) would find the access in place, call it preexisting, and never take it away.
 */

const TABLE = "sesame_grants";

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

export const ledgerTable = (database: string): string => `${ident(database)}.${ident(TABLE)}`;

const toRow = (raw: RawRow): LedgerRow => ({ item: raw.item, preexisting: raw.preexisting === 1, previous: raw.previous, revoked: raw.revoked === 1 });

/** Creates the table when missing; an operator may create it beforehand and withhold CREATE. */
export async function ensureLedger(client: Queryable, database: string): Promise<void> {
  const found = await select(client, "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", [database, TABLE]);
  if (found.length > 0) return;
  await client.query(`CREATE TABLE IF NOT EXISTS ${ledgerTable(database)} (
    grant_id VARCHAR(191) NOT NULL,
    item VARCHAR(255) NOT NULL,
    account VARCHAR(400) NOT NULL,
    preexisting BOOLEAN NOT NULL,
    previous VARCHAR(80) NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    revoked_at TIMESTAMP NULL,
    PRIMARY KEY (grant_id, item),
    KEY account_item (account, item)
  ) ENGINE=InnoDB`);
}

/** The rows of one grant; none when the table is gone (the receipt then decides). */
export async function ledgerRows(client: Queryable, database: string, grantId: string): Promise<LedgerRow[]> {
  try {
    const rows = await select<RawRow>(
      client,
      `SELECT item, preexisting, previous, revoked_at IS NOT NULL AS revoked FROM ${ledgerTable(database)} WHERE grant_id = ?`,
      [grantId],
    );
    return rows.map(toRow);
  } catch (error) {
    if (isMissingTable(error)) return [];
    throw error;
  }
}

/** Keeps the first observation: a retry must not re-judge what was there before Sesame. */
export async function recordItem(client: Queryable, database: string, grantId: string, account: Account, row: Omit<LedgerRow, "revoked">): Promise<void> {
  await client.query(`INSERT IGNORE INTO ${ledgerTable(database)} (grant_id, item, account, preexisting, previous) VALUES (?, ?, ?, ?, ?)`, [
    grantId,
    row.item,
    accountLabel(account),
    row.preexisting,
    row.previous,
  ]);
}

/** Another active Sesame grant that added the same item to the same account, if any. */
export async function otherOwner(client: Queryable, database: string, grantId: string, account: Account, item: string): Promise<LedgerRow | undefined> {
  try {
    const rows = await select<RawRow>(
      client,
      `SELECT item, preexisting, previous, 0 AS revoked FROM ${ledgerTable(database)}
       WHERE account = ? AND item = ? AND grant_id <> ? AND preexisting = 0 AND revoked_at IS NULL LIMIT 1`,
      [accountLabel(account), item, grantId],
    );
    return rows[0] === undefined ? undefined : toRow(rows[0]);
  } catch (error) {
    if (isMissingTable(error)) return undefined;
    throw error;
  }
}

export async function markRevoked(client: Queryable, database: string, grantId: string): Promise<void> {
  try {
    await client.query(`UPDATE ${ledgerTable(database)} SET revoked_at = CURRENT_TIMESTAMP WHERE grant_id = ? AND revoked_at IS NULL`, [grantId]);
  } catch (error) {
    if (!isMissingTable(error)) throw error;
  }
}
