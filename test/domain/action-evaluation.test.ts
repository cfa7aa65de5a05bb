import { describe, expect, it } from "vitest";
import { evaluateAction } from "../../src/domain/actions/action-evaluation.js";
import { classifyCommand } from "../../src/domain/actions/command-classifier.js";
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

  it("sends a runner command to the policy's people: Sesame cannot read it", () => {
    expect(classifyCommand("deploy web --canary")).toEqual({
      class: "command",
      why: "Sesame cannot read a runner's command; people decide",
    });
    expect(classifyCommand("  ").class).toBe("refused");
  });
});

describe("policy consistency of actions", () => {
  it("names unknown approvers and requesters in an actions block, and SQL on a connector that cannot run it", async () => {
    const { checkPolicyConsistency } = await import("../../src/domain/policy/policy-consistency.js");
    const broken = PolicyFileSchema.parse({
      version: 1,
      people: [{ id: "alice", email: "alice@example.com" }],
      connectors: {
        pg: { type: "postgres" },
        redis: { type: "redis-acl" },
        k8s: { type: "kubernetes" },
        hook: { type: "webhook" },
      },
      resources: {
        pods: { connector: "k8s", actions: {} },
        runner: { connector: "hook", actions: { kinds: ["command"] } },
        misnamed: { connector: "k8s", actions: { kinds: ["sql"], classes: { restart: { refuse: true }, ddl: {} } } },
        db: {
          connector: "pg",
          actions: { requesters: { users: ["alcie"] }, classes: { write: { approvers: { groups: ["dbas"] } } } },
        },
        cache: { connector: "redis", actions: {} },
        logins: { connector: "pg", target: { mode: "login-role" }, actions: {} },
      },
      policies: [
        {
          id: "p",
          resources: ["db", "cache", "pods", "runner", "misnamed", "logins"],
          requesters: { users: ["alice"] },
          duration: { default: "1h", max: "1h" },
          selfApproval: true,
          approvers: { users: ["alice"] },
        },
      ],
    });
    const problems = checkPolicyConsistency(broken).map((p) => `${p.path.join(".")}: ${p.message}`);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^resources\.db\.actions\.requesters\.users\.0: .*alcie/),
        expect.stringMatching(/^resources\.db\.actions\.classes\.write\.approvers\.groups\.0: .*dbas/),
        expect.stringMatching(
          /^resources\.cache\.actions\.kinds: connector "redis" is redis-acl, which runs no actions/,
        ),
        'resources.misnamed.actions.kinds.0: connector "k8s" is kubernetes, which runs kubernetes actions, not sql: name kubernetes or leave kinds out',
        'resources.misnamed.actions.classes.ddl: class ddl is for sql actions; connector "k8s" runs kubernetes actions, so this rule never applies: remove it',
        "resources.logins.actions.kinds: SQL actions on postgres connectors need a membership target (a role to SET ROLE to), not mode: login-role",
      ]),
    );
    // The connector implies the kind: kubernetes and webhook take their own without naming it.
    expect(problems.filter((p) => /^resources\.(pods|runner)\./.test(p))).toEqual([]);
  });
});

describe("policy explain of Kubernetes actions", () => {
  it("lists the Kubernetes classes, with the policy's approvers by default", async () => {
    const { PolicyBook } = await import("../../src/domain/policy/policy-book.js");
    const book = new PolicyBook(
      PolicyFileSchema.parse({
        version: 1,
        people: [
          { id: "alice", email: "alice@example.com" },
          { id: "bob", email: "bob@example.com" },
        ],
        connectors: { k8s: { type: "kubernetes" } },
        resources: {
          pods: {
            connector: "k8s",
            target: { namespace: "team-a", clusterRole: "view" },
            actions: { classes: { restart: { autoApprove: { reason: "restarts are routine" } } } },
          },
        },
        policies: [
          {
            id: "p",
            resources: ["pods"],
            requesters: { users: ["alice"] },
            duration: { default: "1h", max: "1h" },
            approvers: { users: ["bob"] },
          },
        ],
      }),
    );
    const explanation = book.explain("alice", "pods", new Date("2026-12-07T10:00:00Z"));
    expect(explanation.actions?.kind).toBe("kubernetes");
    expect(explanation.lines.filter((line) => /Actions|^ {2}/.test(line))).toEqual([
      "Actions (one Kubernetes operation, run once): alice may request them.",
      "  - a Kubernetes rollout restart: runs without approval (restarts are routine).",
      "  - a Kubernetes scale: needs approval (approval: 1 of bob).",
      "  - a Kubernetes pod deletion: needs approval (approval: 1 of bob).",
      "  Limits: each Kubernetes operation has 30s to answer.",
    ]);
  });
});
