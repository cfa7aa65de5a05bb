import { describe, expect, it } from "vitest";
import { classifyMysqlSql, hasComment } from "../../src/domain/actions/mysql-sql-classifier.js";

/** What MariaDB runs must be what Sesame classifies: comments the server executes or reads differently are refused. */
describe("MariaDB/MySQL classifier: comments and procedures", () => {
  it.each([
    ["UPDATE t SET a = 1 WHERE id = 5 --1 OR 1=1", "--1 is minus minus one to the server, a comment to the parser"],
    ["SELECT 1 --1, load_file('/etc/passwd')", "the same, hiding a refused function"],
    ["SELECT * FROM t /*! INTO OUTFILE '/tmp/x' */", "an executable comment"],
    ["SELECT 1 /*M!100000, sleep(5)*/", "a MariaDB executable comment"],
    ["UPDATE t SET a=1 WHERE id=5 /*!50000 OR 1=1 */", "a versioned executable comment"],
    ["SELECT 1 # a trailing comment", "a hash comment"],
    ["SELECT 1 -- a plain comment", "even a plain one"],
    ["SELECT 'unterminated", "an unterminated string"],
  ])("refuses %s (%s)", (text) => {
    expect(classifyMysqlSql(text)).toMatchObject({ class: "refused", why: expect.stringMatching(/comments/) });
  });

  it("reads comment characters inside strings and identifiers as data", () => {
    expect(hasComment("SELECT 'a -- b', \"#x\", `a/*b` FROM t WHERE c = 'it''s' AND d = 'x\\'--'")).toBe(false);
    expect(classifyMysqlSql("SELECT id FROM `accounts` WHERE note = 'a -- b # c /* d'").class).toBe("read");
  });

  it("refuses CALL: a procedure can commit or run DDL outside the one transaction", () => {
    expect(classifyMysqlSql("CALL cleanup(5)")).toMatchObject({ class: "refused", why: expect.stringMatching(/CALL/) });
  });
});
