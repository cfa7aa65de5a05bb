import mysql from "mysql2/promise";
import {
  type ActionOutcome,
  type ActionResult,
  type ActionSpec,
  resultWithoutRows,
} from "../../domain/actions/action-run.js";
import { describeError } from "../redact.js";
import type { MysqlConfig } from "./mysql-config.js";
import { poolOptions } from "./mysql-connector.js";
import { ident } from "./mysql-sql.js";

/**
 * Runs one approved SQL action on MariaDB or MySQL 8, once: a fresh connection as the executor
 * login, `SET ROLE` to the resource's role, a statement time limit (MariaDB `max_statement_time`
 * in seconds; MySQL `max_execution_time`, which bounds SELECTs only), one transaction (READ ONLY
 * for the read class), the rows returned capped, and a write that changes more than
 * `maxAffectedRows` rolled back. DDL commits implicitly on these servers, so it is never run,
 * whatever the policy says. The outcome is `unknown` only when the COMMIT itself was cut.
 */

export interface MysqlActionInput {
  config: MysqlConfig;
  role: string;
  spec: ActionSpec;
}

const emptyResult = (error: string): ActionResult => resultWithoutRows({ error });

export async function runMysqlAction(input: MysqlActionInput): Promise<ActionOutcome> {
  const { spec, config } = input;
  if (spec.class === "ddl" || spec.class === "refused")
    return {
      outcome: "failed",
      result: emptyResult("DDL commits implicitly on MariaDB/MySQL, so Sesame never runs it as an action"),
    };
  const secrets = [config.url];
  // The url's database is chosen only after SET ROLE: the login itself may have no rights on it.
  const { connectionLimit: _limit, database, ...options } = poolOptions(config);
  let connection: mysql.Connection;
  try {
    connection = await mysql.createConnection({ ...options, multipleStatements: false, rowsAsArray: true });
  } catch (error) {
    return { outcome: "failed", result: emptyResult(`could not connect: ${describeError(error, secrets)}`) };
  }
  // A socket that dies mid-query is reported through the query; this keeps the process alive.
  connection.on("error", () => undefined);
  let committing = false;
  try {
    const [versionRows] = await connection.query("SELECT VERSION()");
    const version = String((versionRows as unknown[][])[0]?.[0] ?? "");
    await connection.query(`SET ROLE ${ident(input.role)}`);
    if (database !== undefined) await connection.query(`USE ${ident(database)}`);
    const timeoutMs = Math.max(1, Math.floor(spec.limits.statementTimeoutMs));
    if (/mariadb/i.test(version))
      await connection.query(`SET SESSION max_statement_time = ${(timeoutMs / 1000).toFixed(3)}`);
    else await connection.query(`SET SESSION max_execution_time = ${timeoutMs}`);
    await connection.query(`START TRANSACTION ${spec.class === "read" ? "READ ONLY" : "READ WRITE"}`);
    const [raw, fields] = await connection.query({ sql: spec.text, rowsAsArray: true });
    const isRows = Array.isArray(raw);
    const affected = isRows ? 0 : Number((raw as mysql.ResultSetHeader).affectedRows ?? 0);
    const max = spec.limits.maxAffectedRows;
    if (max !== null && affected > max) {
      await connection.query("ROLLBACK");
      return {
        outcome: "failed",
        result: emptyResult(`changed ${affected} rows, more than maxAffectedRows ${max}: rolled back, nothing changed`),
      };
    }
    committing = true;
    await connection.query("COMMIT");
    const rows = isRows ? (raw as unknown[][]) : [];
    return {
      outcome: "succeeded",
      result: {
        rowCount: isRows ? rows.length : affected,
        columns: isRows ? ((fields ?? []) as mysql.FieldPacket[]).map((field) => field.name) : [],
        rows: rows.slice(0, spec.limits.rowLimit).map((row) => row.map(jsonSafe)),
        truncated: rows.length > spec.limits.rowLimit,
      },
    };
  } catch (error) {
    const message = describeError(error, secrets);
    if (committing) return { outcome: "unknown", result: emptyResult(`the COMMIT did not answer: ${message}`) };
    await connection.query("ROLLBACK").catch(() => undefined);
    return { outcome: "failed", result: emptyResult(message) };
  } finally {
    await connection.end().catch(() => connection.destroy());
  }
}

function jsonSafe(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return `0x${value.toString("hex")}`;
  return value;
}
