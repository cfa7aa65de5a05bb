import type { Sql, TransactionSql } from "./sql.js";

/**
 * INSERT and versioned UPDATE built from a record's fields, as Prisma's create and
 * updateManyAndReturn did: a field left undefined is not written, null writes NULL. Names are the
 * code's own column names, never user input; JSON columns come already stringified.
 */

type Fields = Record<string, unknown>;

const defined = (fields: Fields): [string, unknown][] =>
  Object.entries(fields).filter(([, value]) => value !== undefined);

function insertStatement(table: string, fields: Fields): { text: string; values: unknown[] } {
  const entries = defined(fields);
  const columns = entries.map(([name]) => `"${name}"`).join(", ");
  const params = entries.map((_, index) => `$${index + 1}`).join(", ");
  return { text: `INSERT INTO "${table}" (${columns}) VALUES (${params})`, values: entries.map(([, value]) => value) };
}

export async function insertRow<R>(sql: Sql, table: string, fields: Fields): Promise<R> {
  const { text, values } = insertStatement(table, fields);
  const [row] = await sql.rows<R>(`${text} RETURNING *`, values);
  return row as R;
}

/** insertRow whose row nobody reads back: it goes with the transaction's next round trip. */
export function insertRowLater(sql: TransactionSql, table: string, fields: Fields): void {
  const { text, values } = insertStatement(table, fields);
  sql.later(text, values);
}

function updateStatement(
  table: string,
  key: { id: string; version: number },
  fields: Fields,
  updatedAt: Date,
): { text: string; values: unknown[] } {
  const entries = defined(fields);
  const sets = entries.map(([name], index) => `"${name}" = $${index + 1}`);
  const next = entries.length + 1;
  return {
    text: `UPDATE "${table}" SET ${[...sets, `"version" = "version" + 1`, `"updatedAt" = $${next}`].join(", ")}
     WHERE "id" = $${next + 1} AND "version" = $${next + 2}`,
    values: [...entries.map(([, value]) => value), updatedAt, key.id, key.version],
  };
}

/**
 * Writes `fields` if the row is still at `version`, moving it to the next version and stamping
 * `updatedAt` (Prisma's @updatedAt, set by the writer like Prisma sets it); the saved row, or
 * undefined when someone else changed it first.
 */
export async function updateVersionedRow<R>(
  sql: Sql,
  table: string,
  key: { id: string; version: number },
  fields: Fields,
): Promise<R | undefined> {
  const { text, values } = updateStatement(table, key, fields, new Date());
  const [row] = await sql.rows<R>(`${text} RETURNING *`, values);
  return row;
}

/**
 * updateVersionedRow for a row this transaction holds locked at `key.version`: nobody else can
 * move it meanwhile, so the write goes with the transaction's next round trip. The stamp it writes.
 */
export function updateHeldRowLater(
  sql: TransactionSql,
  table: string,
  key: { id: string; version: number },
  fields: Fields,
): Date {
  const updatedAt = new Date();
  const { text, values } = updateStatement(table, key, fields, updatedAt);
  sql.later(expectingRows(text, 1), values);
  return updatedAt;
}

/**
 * `update` (an UPDATE without RETURNING) made to fail its transaction unless it changed exactly
 * `rows` rows: a write sent later has nobody to read its count, and a held row that moved anyway
 * would be a bug to stop at, not a silent lost update. The failing branch depends on the count,
 * so the planner cannot evaluate it early.
 */
export function expectingRows(update: string, rows: number): string {
  return `WITH changed AS (${update} RETURNING 1)
    SELECT CASE WHEN count(*) = ${rows} THEN 1
      ELSE ('a row this transaction holds had moved: ' || count(*) || ' of ${rows} rows changed')::int END
    FROM changed`;
}

/** `fields` without those left undefined (not written, so the row keeps its value). */
export const writtenFields = <T extends Fields>(fields: T): Partial<T> =>
  Object.fromEntries(defined(fields)) as Partial<T>;

/** A JSON column's value as the statement takes it. */
export const jsonText = (value: unknown): string => JSON.stringify(value);
