import sqlParser from "node-sql-parser";
import type { SqlActionClass, SqlClassification, SqlClassifierOptions } from "./sql-classifier.js";

/**
 * Classifies one SQL text for a `mysql` resource with node-sql-parser's MariaDB grammar
 * (PostgreSQL's parser refuses backticks and `LIMIT a, b`), never with regular expressions. Same
 * classes as the PostgreSQL classifier, with one difference: DDL commits implicitly on MariaDB and
 * MySQL, so it can never run inside Sesame's one transaction and is refused outright. A statement
 * the parser cannot read lands in `ddl`, the most dangerous class a policy can rule on (refused by
 * default, and the executor refuses it too).
 */

const parser = new sqlParser.Parser();

/** Side-effect-free functions a SELECT may call and stay in the read class (lower case). */
export const MYSQL_READ_FUNCTIONS: ReadonlySet<string> = new Set([
  ...["count", "sum", "avg", "min", "max", "group_concat", "bit_and", "bit_or", "std", "stddev", "variance"],
  ...["now", "curdate", "curtime", "current_date", "current_time", "current_timestamp", "utc_timestamp"],
  ...["date", "date_format", "date_add", "date_sub", "datediff", "timestampdiff", "year", "month", "day"],
  ...["hour", "minute", "second", "unix_timestamp", "from_unixtime", "str_to_date", "extract", "week"],
  ...["coalesce", "ifnull", "nullif", "if", "greatest", "least", "lower", "upper", "lcase", "ucase"],
  ...["length", "char_length", "character_length", "substring", "substr", "trim", "ltrim", "rtrim"],
  ...["replace", "concat", "concat_ws", "left", "right", "locate", "instr", "lpad", "rpad", "format"],
  ...["abs", "round", "floor", "ceil", "ceiling", "truncate", "mod", "power", "pow", "sqrt", "rand"],
  ...["md5", "sha1", "sha2", "hex", "unhex", "json_extract", "json_unquote", "json_length", "json_object"],
  ...["json_array", "json_arrayagg", "json_objectagg", "row_number", "rank", "dense_rank", "lag", "lead"],
  ...["first_value", "last_value", "ntile", "cast", "convert", "uuid", "database", "current_user", "current_role"],
]);

/** Functions refused in any statement: they read server files, stall the server or reach other hosts. */
const REFUSED_FUNCTIONS: ReadonlySet<string> = new Set(["load_file", "benchmark", "get_lock", "release_lock"]);

/** Statement types that would leave the one transaction, the executor's role or session rules. */
const REFUSED_TYPES: ReadonlyMap<string, string> = new Map([
  ["transaction", "transaction control (BEGIN, COMMIT, ROLLBACK…) would escape the one transaction Sesame runs"],
  ["set", "SET would change the session Sesame runs in (role, timeouts)"],
  ["use", "USE would change the session Sesame runs in"],
  ["lock", "LOCK TABLES commits the transaction implicitly"],
  ["unlock", "UNLOCK TABLES commits the transaction implicitly"],
  ["load_data", "LOAD DATA reads files"],
]);

const RANK: Record<SqlActionClass, number> = { read: 0, write: 1, unbounded_write: 2, ddl: 3, refused: 4 };
const WRITE_TYPES = new Set(["insert", "replace", "update", "delete"]);

type Verdict = { class: SqlActionClass; why: string };

export function classifyMysqlSql(text: string, options: SqlClassifierOptions = {}): SqlClassification {
  if (text.trim() === "") return { class: "refused", why: "there is no statement to run", statementCount: 0 };
  // The server and the parser disagree on comments: MariaDB runs executable block comments
  // (slash-star-bang) and reads `--1` as minus minus one, where the parser sees comments. What the approver is shown and
  // what the class is based on must be what runs, so any comment outside a string is refused.
  if (hasComment(text))
    return {
      class: "refused",
      why: "comments are not accepted in MariaDB/MySQL actions (the server runs /*! … */ and reads --x as arithmetic): remove them",
      statementCount: 0,
    };
  let ast: unknown;
  try {
    ast = parser.astify(text, { database: "mariadb" });
  } catch {
    // The parser's message quotes the text; the text itself is shown where it belongs, not here.
    return {
      class: "ddl",
      why: "not understood by the MariaDB SQL parser: treated as DDL",
      statementCount: 0,
    };
  }
  const stmts = (Array.isArray(ast) ? ast : [ast]) as Record<string, unknown>[];
  if (stmts.length === 0) return { class: "refused", why: "there is no statement to run", statementCount: 0 };
  if (stmts.length > 1 && !options.allowMultipleStatements)
    return {
      class: "refused",
      why: `${stmts.length} statements in one action; the policy allows one (make one request per statement)`,
      statementCount: stmts.length,
    };
  const allowed = new Set([...MYSQL_READ_FUNCTIONS, ...(options.readFunctions ?? []).map((f) => f.toLowerCase())]);
  let worst: Verdict | null = null;
  for (const stmt of stmts) {
    const verdict = classifyStatement(stmt, allowed);
    if (!worst || RANK[verdict.class] > RANK[worst.class]) worst = verdict;
  }
  return { ...worst!, statementCount: stmts.length };
}

function classifyStatement(stmt: Record<string, unknown>, allowed: ReadonlySet<string>): Verdict {
  const type = String(stmt.type ?? "unknown").toLowerCase();
  const facts = collect(stmt);
  const dangerous = [...facts.functions].filter((name) => REFUSED_FUNCTIONS.has(name));
  if (dangerous.length > 0)
    return {
      class: "refused",
      why: `calls ${dangerous.sort().join(", ")}, which could read server files, stall the server or hold locks`,
    };
  if (facts.intoFile) return { class: "refused", why: "SELECT … INTO OUTFILE / DUMPFILE writes a file on the server" };
  const refusal = REFUSED_TYPES.get(type);
  if (refusal) return { class: "refused", why: refusal };
  if (type === "update" || type === "delete") {
    const verb = type.toUpperCase();
    if (!stmt.where)
      return { class: "unbounded_write", why: `${verb} without a WHERE clause changes every row of the table` };
    return { class: "write", why: `${verb} changes data` };
  }
  if (type === "call")
    return {
      class: "refused",
      why: "CALL runs a stored procedure, which can commit, run DDL or change any number of rows outside Sesame's one transaction",
    };
  if (type === "insert" || type === "replace") return { class: "write", why: `${type.toUpperCase()} changes data` };
  if (type !== "select" && type !== "show")
    return {
      class: "refused",
      why: `${type.toUpperCase()} is DDL or a server command, which commits implicitly on MariaDB/MySQL: Sesame cannot run it in one transaction`,
    };
  const modifying = [...facts.types].find((t) => WRITE_TYPES.has(t));
  if (modifying) return { class: "write", why: `a SELECT containing a data-modifying ${modifying.toUpperCase()}` };
  if (facts.into) return { class: "write", why: "SELECT … INTO writes a variable or a file" };
  if (facts.locking)
    return { class: "write", why: "a locking clause (FOR UPDATE / LOCK IN SHARE MODE) takes row locks" };
  const outside = [...facts.functions].filter((name) => !allowed.has(name));
  if (outside.length > 0)
    return { class: "write", why: `calls ${outside.sort().join(", ")}, outside the read-only function allow-list` };
  return { class: "read", why: "a read-only query (runs in a READ ONLY transaction)" };
}

interface Facts {
  types: Set<string>;
  functions: Set<string>;
  into: boolean;
  /** SELECT … INTO OUTFILE / DUMPFILE: a file written on the server. */
  intoFile: boolean;
  locking: boolean;
}

/** Walks every node: nested statement types, functions called, INTO targets, locking reads. */
function collect(root: Record<string, unknown>): Facts {
  const facts: Facts = { types: new Set(), functions: new Set(), into: false, intoFile: false, locking: false };
  const noteInto = (into: { expr?: unknown; keyword?: unknown } | null | undefined) => {
    if (!into || typeof into !== "object" || !(into.expr || into.keyword)) return;
    facts.into = true;
    if (["outfile", "dumpfile"].includes(String(into.keyword ?? "").toLowerCase())) facts.intoFile = true;
  };
  const stack: unknown[] = [];
  for (const [key, value] of Object.entries(root)) if (key !== "type") stack.push(value);
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      stack.push(...node);
      continue;
    }
    if (!node || typeof node !== "object") continue;
    const record = node as Record<string, unknown>;
    if (typeof record.type === "string") {
      facts.types.add(record.type.toLowerCase());
      if (record.type === "function" || record.type === "aggr_func") facts.functions.add(functionName(record.name));
    }
    noteInto(record.into as { expr?: unknown; keyword?: unknown } | null | undefined);
    if (record.locking_read) facts.locking = true;
    stack.push(...Object.values(record));
  }
  noteInto(root.into as { expr?: unknown; keyword?: unknown } | null | undefined);
  if (root.locking_read) facts.locking = true;
  return facts;
}

function functionName(name: unknown): string {
  if (typeof name === "string") return name.toLowerCase();
  const parts = ((name as { name?: { value?: unknown }[] } | null)?.name ?? []).map((part) =>
    String(part.value ?? "?").toLowerCase(),
  );
  return parts.join(".");
}

/**
 * Whether `text` holds a comment (`#`, `--`, or a slash-star block, executable ones included)
 * outside a quoted string or identifier. Quotes are skipped with their backslash and doubled-quote escapes; an
 * unterminated quote counts as a comment, so such a text is refused too.
 */
export function hasComment(text: string): boolean {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (quote) {
      if (c === "\\" && quote !== "`") i += 1;
      else if (c === quote) {
        if (text[i + 1] === quote) i += 1;
        else quote = undefined;
      }
      continue;
    }
    if (c === "'" || c === '"' || c === "`") quote = c;
    else if (c === "#") return true;
    else if (c === "-" && text[i + 1] === "-") return true;
    else if (c === "/" && text[i + 1] === "*") return true;
  }
  return quote !== undefined;
}
