import { describe, expect, it } from "vitest";
import { loadPolicyFile } from "../../src/config/policy-loader.js";
import { evaluateAction } from "../../src/domain/actions/action-evaluation.js";
import { classifySql } from "../../src/domain/actions/sql-classifier.js";
import { PolicyBook } from "../../src/domain/policy/policy-book.js";

/** examples/actions.yaml is usable as is: it loads, reads run at once, writes wait for bob, DDL is refused. */
describe("examples/actions.yaml", () => {
  it("loads and says what the README says", async () => {
    const file = await loadPolicyFile(new URL("../../examples/actions.yaml", import.meta.url).pathname);
    const resource = file.resources["demo-db"]!;
    const evaluate = async (sql: string) =>
      evaluateAction({
        requesterId: "alice",
        requesterGroups: [],
        resourceId: "demo-db",
        resource,
        policy: file.policies[0]!,
        groups: file.groups,
        classification: await classifySql(sql),
      });
    expect((await evaluate("SELECT 1")).autoApprovalReason).toMatch(/READ ONLY/);
    expect((await evaluate("UPDATE t SET a = 1 WHERE id = 1")).steps).toEqual([
      { name: "approval", approverIds: ["bob"], required: 1 },
    ]);
    await expect(evaluate("DROP TABLE t")).rejects.toThrow(/refuses DDL/);
  });
});

describe("sesame policy explain on a resource with an actions block", () => {
  const load = () => loadPolicyFile(new URL("../../examples/actions.yaml", import.meta.url).pathname);
  const now = new Date("2026-12-08T10:00:00Z");

  it("says which classes auto-approve, which need whom, and which are refused", async () => {
    const explanation = new PolicyBook(await load()).explain("alice", "demo-db", now);
    expect(explanation.actions).toEqual({
      kind: "sql",
      mayRequest: true,
      classes: [
        { class: "read", outcome: "auto_approve", why: expect.stringMatching(/READ ONLY/), steps: [] },
        {
          class: "write",
          outcome: "needs_approval",
          why: null,
          steps: [{ name: "approval", approverIds: ["bob"], required: 1 }],
        },
        { class: "unbounded_write", outcome: "refused", why: "the policy refuses it", steps: [] },
        { class: "ddl", outcome: "refused", why: "the policy refuses it", steps: [] },
      ],
      rowLimit: 100,
      maxAffectedRows: 10,
      statementTimeout: "10s",
    });
    expect(explanation.lines).toEqual(
      expect.arrayContaining([
        "Actions (one SQL statement, run once): alice may request them.",
        "  - read-only SQL: runs without approval (read-only SQL runs in a READ ONLY transaction).",
        "  - SQL that changes data: needs approval (approval: 1 of bob).",
        "  - DDL (schema changes): refused (the policy refuses it).",
        "  Limits: at most 100 rows returned; a write changing more than 10 rows is rolled back; statement timeout 10s.",
      ]),
    );
  });

  it("says when the requester may not ask for actions, and that MariaDB/MySQL never run DDL", async () => {
    const file = await load();
    file.policies[0]!.requesters.users.push("bob");
    expect(new PolicyBook(file).explain("bob", "demo-db", now).lines).toContain(
      "Actions (one SQL statement, run once): bob may not request them (not an action requester).",
    );
    file.resources["demo-db"]!.actions!.classes.ddl = {
      refuse: false,
      approvers: { users: ["bob"], groups: [], oncall: [] },
    };
    expect(new PolicyBook(file).explain("alice", "demo-db", now).actions?.classes[3]).toMatchObject({
      class: "ddl",
      outcome: "needs_approval",
    });
    file.connectors["demo-pg"] = {
      type: "mysql",
      config: { url: "mysql://x@127.0.0.1:3306" },
    } as (typeof file.connectors)[string];
    file.resources["demo-db"]!.target = { mode: "role", role: "app" };
    expect(new PolicyBook(file).explain("alice", "demo-db", now).actions?.classes[3]).toMatchObject({
      class: "ddl",
      outcome: "refused",
      why: expect.stringMatching(/commits implicitly/),
    });
  });

  it("an explanation of a resource without actions has none", async () => {
    const file = await load();
    delete file.resources["demo-db"]!.actions;
    expect(new PolicyBook(file).explain("alice", "demo-db", now).actions).toBeNull();
  });
});
