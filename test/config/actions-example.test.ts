import { describe, expect, it } from "vitest";
import { loadPolicyFile } from "../../src/config/policy-loader.js";
import { evaluateAction } from "../../src/domain/actions/action-evaluation.js";
import { classifySql } from "../../src/domain/actions/sql-classifier.js";

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
