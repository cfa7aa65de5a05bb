import { describe, expect, it } from "vitest";
import { classifySql, moreDangerous, type SqlActionClass } from "../../src/domain/actions/sql-classifier.js";

async function classOf(text: string, options = {}): Promise<SqlActionClass> {
  return (await classifySql(text, options)).class;
}

describe("SQL classification with PostgreSQL's parser", () => {
  it.each([
    "SELECT 1",
    "select id, lower(email) from users where id = 3",
    "SELECT count(*), max(created_at) FROM orders GROUP BY status",
    "WITH recent AS (SELECT * FROM orders WHERE created_at > now() - interval '1 day') SELECT * FROM recent",
    "SELECT pg_catalog.lower('A')",
    "SHOW statement_timeout",
    "EXPLAIN SELECT * FROM users",
  ])("read: %s", async (text) => {
    expect(await classOf(text)).toBe("read");
  });

  it.each([
    ["INSERT INTO t (a) VALUES (1)", /INSERT/],
    ["UPDATE accounts SET balance = 0 WHERE id = 7", /UPDATE changes data/],
    ["DELETE FROM sessions WHERE expires_at < now()", /DELETE/],
    ["WITH gone AS (DELETE FROM t WHERE a = 1 RETURNING *) SELECT * FROM gone", /data-modifying DELETE/],
    ["SELECT * INTO backup FROM t", /INTO/],
    ["SELECT * FROM t WHERE id = 1 FOR UPDATE", /locking clause/],
    ["SELECT * FROM t FOR SHARE SKIP LOCKED", /locking clause/],
    ["SELECT pg_sleep(10)", /pg_sleep/],
    ["SELECT nextval('s')", /nextval/],
    ["SELECT public.lower('x')", /public\.lower/],
    ["SELECT * FROM t WHERE id IN (SELECT txid_current())", /txid_current/],
    ["EXPLAIN ANALYZE UPDATE t SET a = 1 WHERE id = 2", /EXPLAIN of: UPDATE/],
  ])("write: %s", async (text, why) => {
    const verdict = await classifySql(text);
    expect(verdict.class).toBe("write");
    expect(verdict.why).toMatch(why);
  });

  it("a function the policy allows keeps a SELECT a read", async () => {
    expect(await classOf("SELECT my_report(3)")).toBe("write");
    expect(await classOf("SELECT my_report(3)", { readFunctions: ["MY_REPORT"] })).toBe("read");
  });

  it.each(["UPDATE accounts SET balance = 0", "DELETE FROM sessions"])(
    "UPDATE/DELETE without WHERE is its own stricter class: %s",
    async (text) => {
      const verdict = await classifySql(text);
      expect(verdict.class).toBe("unbounded_write");
      expect(verdict.why).toMatch(/without a WHERE/);
    },
  );

  it.each([
    "DROP TABLE users",
    "CREATE TABLE t (a int)",
    "ALTER TABLE t ADD COLUMN b int",
    "TRUNCATE t",
    "DO $$ BEGIN END $$",
    "GRANT SELECT ON t TO bob",
    "CREATE ROLE r",
  ])("ddl: %s", async (text) => {
    expect(await classOf(text)).toBe("ddl");
  });

  it("text the parser cannot read is treated as DDL, the most dangerous runnable class", async () => {
    const verdict = await classifySql("SELEC * FORM users");
    expect(verdict.class).toBe("ddl");
    expect(verdict.why).toMatch(/not understood by the PostgreSQL parser/);
  });

  it.each([
    ["CREATE ROLE r LOGIN PASSWORD 'hunter2'", /credential/],
    ["ALTER ROLE bob PASSWORD 'x'", /credential/],
    ["ALTER USER bob WITH ENCRYPTED PASSWORD 'x'", /credential/],
    ["CREATE USER MAPPING FOR bob SERVER s OPTIONS (user 'u', password 'p')", /credential/],
    ["BEGIN", /transaction control/],
    ["COMMIT", /transaction control/],
    ["SET ROLE postgres", /SET/],
    ["RESET ROLE", /SET/],
    ["COPY t TO PROGRAM 'sh'", /COPY/],
    ["SELECT set_config('role', 'postgres', false)", /set_config, which could leave the executor's role/],
    ["UPDATE t SET a = pg_read_file('/etc/passwd') WHERE id = 1", /pg_read_file/],
    ["SELECT * FROM dblink('host=x', 'select 1') AS t(a int)", /dblink/],
    ["", /no statement/],
    ["-- only a comment", /no statement/],
  ])("refused: %s", async (text, why) => {
    const verdict = await classifySql(text);
    expect(verdict.class).toBe("refused");
    expect(verdict.why).toMatch(why);
  });

  it("several statements are refused unless the policy allows them; then the most dangerous wins", async () => {
    const text = "SELECT 1; UPDATE t SET a = 1 WHERE id = 1; DELETE FROM t";
    const refused = await classifySql(text);
    expect(refused).toMatchObject({ class: "refused", statementCount: 3 });
    expect(refused.why).toMatch(/3 statements/);
    const allowed = await classifySql(text, { allowMultipleStatements: true });
    expect(allowed).toMatchObject({ class: "unbounded_write", statementCount: 3 });
    expect(await classOf("SELECT 1; SET ROLE postgres", { allowMultipleStatements: true })).toBe("refused");
  });

  it("a semicolon inside a string literal is not a second statement", async () => {
    expect(await classifySql("SELECT 'a; DROP TABLE users'")).toMatchObject({ class: "read", statementCount: 1 });
  });

  it("orders the classes from the least to the most dangerous", () => {
    expect(moreDangerous("read", "write")).toBe("write");
    expect(moreDangerous("ddl", "unbounded_write")).toBe("ddl");
    expect(moreDangerous("refused", "ddl")).toBe("refused");
  });
});
