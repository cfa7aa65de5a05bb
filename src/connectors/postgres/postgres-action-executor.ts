import pg from "pg";
import {
  type ActionOutcome,
  type ActionResult,
  type ActionSpec,
  resultWithoutRows,
} from "../../domain/actions/action-run.js";
import { describeError } from "../redact.js";

/**
 * Runs one approved SQL action on PostgreSQL, once: a fresh connection as the executor login,
 * `SET ROLE` to the resource's role, one transaction (READ ONLY for the read class) with
 * `statement_timeout`, the rows returned capped, and a write that changes more than
 * `maxAffectedRows` rolled back. The outcome is `unknown` only when the COMMIT itself was cut:
 * then nobody can say whether the change landed.
 */

export interface PostgresActionInput {
  url: string;
  role: string;
  spec: ActionSpec;
  connectTimeoutMs?: number;
}

const emptyResult = (error: string): ActionResult => resultWithoutRows({ error });

export async function runPostgresAction(input: PostgresActionInput): Promise<ActionOutcome> {
  const { spec } = input;
  const client = new pg.Client({
    connectionString: input.url,
    connectionTimeoutMillis: input.connectTimeoutMs ?? 10_000,
    application_name: "sesame-action",
    // A connection that goes silent (no reset) must not hold the run forever: the server's own
    // statement_timeout ends the statement first; this ends the wait on our side. Without a
    // COMMIT sent nothing was committed, so such a run is failed, not unknown.
    query_timeout: spec.limits.statementTimeoutMs + 30_000,
  });
  // A socket that dies mid-query is reported through the query; this keeps the process alive.
  client.on("error", () => undefined);
  const secrets = [input.url];
  try {
    await client.connect();
  } catch (error) {
    return { outcome: "failed", result: emptyResult(`could not connect: ${describeError(error, secrets)}`) };
  }
  let committing = false;
  try {
    const readOnly = spec.class === "read";
    await client.query(`BEGIN ISOLATION LEVEL READ COMMITTED${readOnly ? " READ ONLY" : ""}`);
    await client.query(`SET LOCAL ROLE ${client.escapeIdentifier(input.role)}`);
    await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(spec.limits.statementTimeoutMs))}`);
    const raw = (await client.query({ text: spec.text, rowMode: "array" })) as
      | pg.QueryArrayResult
      | pg.QueryArrayResult[];
    const last = Array.isArray(raw) ? raw[raw.length - 1]! : raw;
    const affected = Array.isArray(raw)
      ? raw.reduce((sum, r) => sum + (r.command === "SELECT" ? 0 : (r.rowCount ?? 0)), 0)
      : last.command === "SELECT"
        ? 0
        : (last.rowCount ?? 0);
    const max = spec.limits.maxAffectedRows;
    if (max !== null && affected > max) {
      await client.query("ROLLBACK");
      return {
        outcome: "failed",
        result: emptyResult(`changed ${affected} rows, more than maxAffectedRows ${max}: rolled back, nothing changed`),
      };
    }
    committing = true;
    await client.query("COMMIT");
    const rows = last.rows ?? [];
    return {
      outcome: "succeeded",
      result: {
        rowCount: last.rowCount ?? rows.length,
        columns: (last.fields ?? []).map((field) => field.name),
        rows: rows.slice(0, spec.limits.rowLimit).map((row) => row.map(jsonSafe)),
        truncated: rows.length > spec.limits.rowLimit,
      },
    };
  } catch (error) {
    const message = describeError(error, secrets);
    if (committing) return { outcome: "unknown", result: emptyResult(`the COMMIT did not answer: ${message}`) };
    await client.query("ROLLBACK").catch(() => undefined);
    return { outcome: "failed", result: emptyResult(message) };
  } finally {
    await client.end().catch(() => undefined);
  }
}

function jsonSafe(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return `\\x${value.toString("hex")}`;
  return value;
}
