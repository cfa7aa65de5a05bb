import { parse } from "libpg-query";
import type { ActionClassification } from "./action-kind.js";

/**
 * Classifies one SQL text for JIT action approval with PostgreSQL's own parser (libpg-query, the
 * server's grammar compiled to WebAssembly), never with regular expressions. The classes, from the
 * least to the most dangerous: `read`, `write`, `unbounded_write` (UPDATE or DELETE without a
 * WHERE), `ddl`; `refused` is never run whatever the policy says. A parser cannot prove a SELECT
 * harmless (operators and casts call functions too): the read class also runs in a READ ONLY
 * transaction, so this is a first line, not the only one.
 */

/** The classes of SQL, from the least to the most dangerous. */
export type SqlActionClass = "read" | "write" | "unbounded_write" | "ddl" | "refused";

export interface SqlClassification extends ActionClassification {
  class: SqlActionClass;
  statementCount: number;
}

export interface SqlClassifierOptions {
  /** Several statements in one text (each classified, the most dangerous wins); refused otherwise. */
  allowMultipleStatements?: boolean;
  /** Functions a read may call on top of the built-in allow-list (lower case, unqualified). */
  readFunctions?: readonly string[];
}

/** Pure, side-effect-free functions a SELECT may call and stay in the read class. */
export const READ_FUNCTIONS: ReadonlySet<string> = new Set([
  ...["count", "sum", "avg", "min", "max", "bool_and", "bool_or", "every", "array_agg", "string_agg"],
  ...["json_agg", "jsonb_agg", "json_object_agg", "jsonb_object_agg", "stddev", "variance"],
  ...["now", "current_date", "current_timestamp", "localtimestamp", "statement_timestamp", "clock_timestamp"],
  ...["date_trunc", "date_part", "extract", "age", "make_interval", "to_char", "to_date", "to_timestamp"],
  ...["coalesce", "nullif", "greatest", "least", "lower", "upper", "length", "char_length", "substring"],
  ...["substr", "trim", "btrim", "ltrim", "rtrim", "replace", "concat", "concat_ws", "left", "right"],
  ...["position", "strpos", "split_part", "format", "md5", "abs", "round", "floor", "ceil", "ceiling"],
  ...["trunc", "mod", "power", "sqrt", "random", "row_number", "rank", "dense_rank", "lag", "lead"],
  ...["first_value", "last_value", "ntile", "jsonb_build_object", "json_build_object", "to_json"],
  ...["to_jsonb", "jsonb_array_length", "jsonb_extract_path_text", "array_length", "unnest", "cardinality"],
  ...["generate_series", "gen_random_uuid", "pg_typeof", "exists"],
]);

/** Statement types that would leave the executor's transaction, role or session rules, or touch files. */
const REFUSED_STATEMENTS: ReadonlyMap<string, string> = new Map([
  ["TransactionStmt", "transaction control (BEGIN, COMMIT, ROLLBACK…) would escape the one transaction Sesame runs"],
  ["VariableSetStmt", "SET / RESET would change the session Sesame runs in (role, timeouts)"],
  ["CopyStmt", "COPY reads or writes files and programs on the server"],
  ["ListenStmt", "LISTEN belongs to long-lived sessions"],
  ["LoadStmt", "LOAD loads server code"],
  ["CheckPointStmt", "CHECKPOINT is an operator command"],
  ["VacuumStmt", "VACUUM cannot run inside a transaction"],
  ["DiscardStmt", "DISCARD would reset the session"],
  ["CreateUserMappingStmt", "user mappings carry credentials"],
  ["AlterUserMappingStmt", "user mappings carry credentials"],
  ["CreateSubscriptionStmt", "subscriptions carry connection credentials"],
  ["AlterSubscriptionStmt", "subscriptions carry connection credentials"],
]);

/**
 * Functions that would leave the executor's role or session rules, reach other servers or the
 * server's files, or end other sessions: refused in any statement, whatever the policy says.
 */
const REFUSED_FUNCTIONS: ReadonlySet<string> = new Set([
  ...["set_config", "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "lo_import", "lo_export"],
  ...["dblink", "dblink_exec", "dblink_connect", "dblink_connect_u", "dblink_open", "dblink_send_query"],
  ...["pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile", "pg_promote"],
]);

const WRITE_NODES = new Set(["InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"]);
const READ_STATEMENTS = new Set(["SelectStmt", "VariableShowStmt"]);
const CREDENTIAL_OPTIONS = new Set(["password", "encrypted_password", "unencrypted_password"]);

const RANK: Record<SqlActionClass, number> = { read: 0, write: 1, unbounded_write: 2, ddl: 3, refused: 4 };

export function moreDangerous(a: SqlActionClass, b: SqlActionClass): SqlActionClass {
  return RANK[a] >= RANK[b] ? a : b;
}

export async function classifySql(text: string, options: SqlClassifierOptions = {}): Promise<SqlClassification> {
  if (text.trim() === "") return { class: "refused", why: "there is no statement to run", statementCount: 0 };
  let tree: unknown;
  try {
    tree = await parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : "unknown parser error";
    return {
      class: "ddl",
      why: `not understood by the PostgreSQL parser (${message}): treated as DDL`,
      statementCount: 0,
    };
  }
  return classifyTree(tree, options);
}

/** The class of a parse tree as libpg-query returns it (`{ stmts: [{ stmt: { SelectStmt: … } }] }`). */
export function classifyTree(tree: unknown, options: SqlClassifierOptions = {}): SqlClassification {
  const stmts = (tree as { stmts?: { stmt?: Record<string, unknown> }[] }).stmts ?? [];
  if (stmts.length === 0) return { class: "refused", why: "there is no statement to run", statementCount: 0 };
  if (stmts.length > 1 && !options.allowMultipleStatements)
    return {
      class: "refused",
      why: `${stmts.length} statements in one action; the policy allows one (make one request per statement)`,
      statementCount: stmts.length,
    };
  const allowed = new Set([...READ_FUNCTIONS, ...(options.readFunctions ?? []).map((f) => f.toLowerCase())]);
  let worst: { class: SqlActionClass; why: string } | null = null;
  for (const { stmt } of stmts) {
    const verdict = classifyStatement(stmt ?? {}, allowed);
    if (!worst || RANK[verdict.class] > RANK[worst.class]) worst = verdict;
  }
  return { ...worst!, statementCount: stmts.length };
}

function classifyStatement(
  stmt: Record<string, unknown>,
  allowed: ReadonlySet<string>,
): { class: SqlActionClass; why: string } {
  const [type, body] = Object.entries(stmt)[0] ?? ["unknown", {}];
  const facts = collect(body);
  facts.types.add(type);
  if (facts.credentials)
    return { class: "refused", why: "the statement carries a credential (PASSWORD…); set secrets outside Sesame" };
  const dangerous = [...facts.functions].filter((name) => REFUSED_FUNCTIONS.has(name.replace(/^pg_catalog\./, "")));
  if (dangerous.length > 0)
    return {
      class: "refused",
      why: `calls ${dangerous.sort().join(", ")}, which could leave the executor's role or reach files, servers or sessions`,
    };
  const refusal = REFUSED_STATEMENTS.get(type);
  if (refusal) return { class: "refused", why: refusal };
  if (type === "ExplainStmt") {
    const inner = (body as { query?: Record<string, unknown> }).query ?? {};
    const verdict = classifyStatement(inner, allowed);
    return { class: verdict.class, why: `EXPLAIN of: ${verdict.why}` };
  }
  if (type === "UpdateStmt" || type === "DeleteStmt") {
    const verb = type === "UpdateStmt" ? "UPDATE" : "DELETE";
    if (!(body as { whereClause?: unknown }).whereClause)
      return { class: "unbounded_write", why: `${verb} without a WHERE clause changes every row of the table` };
    return { class: "write", why: `${verb} changes data` };
  }
  if (type === "InsertStmt" || type === "MergeStmt" || type === "CallStmt")
    return { class: "write", why: `${type.replace(/Stmt$/, "").toUpperCase()} changes data` };
  if (!READ_STATEMENTS.has(type))
    return { class: "ddl", why: `${type.replace(/Stmt$/, "")} changes the schema or the server` };
  const modifying = [...facts.types].find((t) => WRITE_NODES.has(t));
  if (modifying)
    return {
      class: "write",
      why: `a SELECT containing a data-modifying ${modifying.replace(/Stmt$/, "").toUpperCase()}`,
    };
  if (facts.into) return { class: "write", why: "SELECT … INTO creates a table" };
  if (facts.locking) return { class: "write", why: "a locking clause (FOR UPDATE / FOR SHARE) takes row locks" };
  const outside = [...facts.functions].filter((name) => !allowed.has(name));
  if (outside.length > 0)
    return { class: "write", why: `calls ${outside.sort().join(", ")}, outside the read-only function allow-list` };
  return { class: "read", why: "a read-only query (runs in a READ ONLY transaction)" };
}

interface TreeFacts {
  types: Set<string>;
  functions: Set<string>;
  into: boolean;
  locking: boolean;
  credentials: boolean;
}

/** Walks every node below a statement: node types, functions called, INTO, locking clauses, credential options. */
function collect(root: unknown): TreeFacts {
  const facts: TreeFacts = { types: new Set(), functions: new Set(), into: false, locking: false, credentials: false };
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      stack.push(...node);
      continue;
    }
    if (!node || typeof node !== "object") continue;
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      if (/^[A-Z]/.test(key)) facts.types.add(key);
      if (key === "FuncCall") facts.functions.add(functionName(value));
      if (key === "intoClause" && value) facts.into = true;
      if (key === "lockingClause" && Array.isArray(value) && value.length > 0) facts.locking = true;
      if (key === "DefElem" && CREDENTIAL_OPTIONS.has(String((value as { defname?: unknown }).defname).toLowerCase()))
        facts.credentials = true;
      stack.push(value);
    }
  }
  return facts;
}

/** `pg_catalog.lower` is `lower`; any other schema keeps its name qualified, so it is never on the allow-list. */
function functionName(call: unknown): string {
  const parts = ((call as { funcname?: { String?: { sval?: string } }[] }).funcname ?? []).map((p) =>
    (p.String?.sval ?? "?").toLowerCase(),
  );
  if (parts.length === 2 && parts[0] === "pg_catalog") return parts[1]!;
  return parts.join(".");
}
