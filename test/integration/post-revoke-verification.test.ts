import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSesame, type TestSesame } from "../helpers/sesame.js";
import { activeGrant, auditEvents, expectIntactAuditChain, waitForGrantStatus } from "./support.js";

/**
 * After a revoke, a connector that can observe its target confirms the access is really gone.
 * The noop connector's `leaveAccessOnRevoke` makes revoke report success while the access stays:
 * verification must turn that into a failed revoke that retries, then alerts.
 */

const policy = `
version: 1
people:
  - { id: alice, email: alice@example.com }
  - { id: bob, email: bob@example.com }
  - { id: dave, email: dave@example.com, admin: true }
connectors:
  sticky-once: { type: noop, config: { leaveAccessOnRevoke: 1 } }
  sticky-always: { type: noop, config: { leaveAccessOnRevoke: true } }
resources:
  sticky-once-db: { connector: sticky-once, target: { role: readonly } }
  sticky-always-db: { connector: sticky-always, target: { role: readonly } }
policies:
  - id: everything
    resources: [sticky-once-db, sticky-always-db]
    requesters: { users: [alice] }
    duration: { default: 1h, max: 4h }
    reason: { required: false }
    approvers: { users: [bob] }
`;

let sesame: TestSesame;
beforeAll(async () => {
  sesame = await startSesame("verify", { policy, identities: ["alice", "bob", "dave"] });
});
afterAll(() => sesame?.stop());

describe("post-revoke verification", () => {
  it("retries a revoke whose access was still there, until it is really gone", async () => {
    const { grantId } = await activeGrant(sesame, "alice", "bob", { resource: "sticky-once-db" });
    await sesame.api("alice", "POST", `/api/v1/grants/${grantId}/relinquish`);
    const revoked = await waitForGrantStatus(sesame, "alice", grantId, "revoked");
    expect(revoked.attempts).toBeGreaterThanOrEqual(3);
    const connector = sesame.runtime.connectors.get("sticky-once") as unknown as { activeGrantIds(): string[] };
    expect(connector.activeGrantIds()).not.toContain(grantId);
  });

  it("ends in revoke_failed with an alert when the access never goes away", async () => {
    const { grantId } = await activeGrant(sesame, "alice", "bob", { resource: "sticky-always-db" });
    await sesame.api("dave", "POST", `/api/v1/grants/${grantId}/revoke`, { reason: "offboarding" });
    const failed = await waitForGrantStatus(sesame, "dave", grantId, "revoke_failed");
    expect(failed.lastError).toMatch(/revoked alice, but the access is still there/);
    const alerts = (await auditEvents(sesame, { grantId })).filter((event) => event.type === "grant.revoke_failed");
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.data).toMatchObject({ alert: true });
    await expectIntactAuditChain(sesame, 5);
  });
});
