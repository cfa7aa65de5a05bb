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
  const entries = defined(fields);
  const sets = entries.map(([name], index) => `"${name}" = $${index + 1}`);
  const next = entries.length + 1;
  const [row] = await sql.rows<R>(
    `UPDATE "${table}" SET ${[...sets, `"version" = "version" + 1`, `"updatedAt" = $${next}`].join(", ")}
     WHERE "id" = $${next + 1} AND "version" = $${next + 2} RETURNING *`,
    [...entries.map(([, value]) => value), new Date(), key.id, key.version],
  );
  return row;
}

/** A JSON column's value as the statement takes it. */
export const jsonText = (value: unknown): string => JSON.stringify(value);
