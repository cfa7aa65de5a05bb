import { describe, expect, it } from "vitest";
import { evaluateAction } from "../../src/domain/actions/action-evaluation.js";
import { classifySql } from "../../src/domain/actions/sql-classifier.js";
import { PolicyFileSchema } from "../../src/domain/policy/policy-schema.js";

const file = PolicyFileSchema.parse({
  version: 1,
  people: [
    { id: "alice", email: "alice@example.com" },
    { id: "bob", email: "bob@example.com" },
    { id: "carol", email: "carol@example.com" },
  ],
  groups: { dbas: ["bob", "carol"] },
  connectors: { pg: { type: "postgres" } },
  resources: {
    "demo-db": {
      connector: "pg",
      target: { role: "app" },
      actions: {
        requesters: { users: ["alice", "bob"] },
        classes: {
          read: { autoApprove: { reason: "read-only SQL is safe" } },
          write: { approvers: { users: ["bob"] } },
          ddl: { steps: [{ approvers: { groups: ["dbas"] }, required: 2 }] },
        },
        rowLimit: 50,
        maxAffectedRows: 10,
        statementTimeout: "5s",
      },
    },
    plain: { connector: "pg" },
  },
  policies: [
    {
      id: "p",
      resources: ["demo-db", "plain"],
      requesters: { users: ["alice", "bob", "carol"] },
      duration: { default: "1h", max: "1h" },
      approvers: { users: ["carol"] },
    },
  ],
});

async function evaluate(sql: string, requesterId = "alice", resourceId = "demo-db") {
  return evaluateAction({
    requesterId,
    requesterGroups: Object.entries(file.groups).flatMap(([g, members]) => (members.includes(requesterId) ? [g] : [])),
    resourceId,
    resource: file.resources[resourceId]!,
    policy: file.policies[0]!,
    groups: file.groups,
    classification: await classifySql(sql),
  });
}

describe("policy for actions", () => {
  it("auto-approves the read class with the rule's reason and freezes the limits", async () => {
    const evaluation = await evaluate("SELECT * FROM t");
    expect(evaluation.autoApprovalReason).toBe("read-only SQL is safe (read-only SQL)");
    expect(evaluation.limits).toEqual({ rowLimit: 50, maxAffectedRows: 10, statementTimeoutMs: 5000 });
  });

  it("sends writes to the class's approvers, DDL through its own steps", async () => {
    const write = await evaluate("UPDATE t SET a = 1 WHERE id = 1");
    expect(write.autoApprovalReason).toBeNull();
    expect(write.steps).toEqual([{ name: "approval", approverIds: ["bob"], required: 1 }]);
    // bob asking: he cannot approve his own write, and nobody else is named.
    await expect(evaluate("UPDATE t SET a = 1 WHERE id = 1", "bob")).rejects.toThrow(/Nobody else can approve/);
    await expect(evaluate("DROP TABLE t")).resolves.toMatchObject({
      steps: [{ approverIds: ["bob", "carol"], required: 2 }],
    });
  });

  it("refuses unbounded writes by default, refused SQL always, and people who are not action requesters", async () => {
    await expect(evaluate("DELETE FROM t")).rejects.toThrow(/refuses UPDATE\/DELETE without WHERE/);
    await expect(evaluate("ALTER ROLE x PASSWORD 'p'")).rejects.toThrow(/credential/);
    await expect(evaluate("SELECT 1", "carol")).rejects.toThrow(/may not request actions/);
    await expect(evaluate("SELECT 1", "alice", "plain")).rejects.toThrow(/does not allow actions/);
  });
});
