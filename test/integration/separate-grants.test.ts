import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NoopConnector } from "../../src/connectors/noop/noop-connector.js";
import { startSesame, type TestSesame } from "../helpers/sesame.js";
import { activeGrant, waitForGrantStatus } from "./support.js";

/**
 * Connectors that keep every grant apart (one Kubernetes binding per grant, the MySQL ledger, a
 * webhook receiver, noop) must see the revoke of each grant, even while another grant of the same
 * person and target is live: skipping it would leave that grant's object behind for ever.
 */

const policy = `
version: 1
people:
  - { id: alice, email: alice@example.com }
  - { id: bob, email: bob@example.com }
connectors:
  apart: { type: noop }
resources:
  app-db: { connector: apart, target: { role: app } }
policies:
  - id: app
    resources: [app-db]
    requesters: { users: [alice] }
    duration: { default: 1h, max: 2h }
    reason: { required: false }
    approvers: { users: [bob] }
`;

let sesame: TestSesame;
beforeAll(async () => {
  sesame = await startSesame("apart", { policy, identities: ["alice", "bob"] });
});
afterAll(() => sesame?.stop());

describe("grants a connector keeps apart", () => {
  it("revokes each overlapping grant through the connector", async () => {
    const first = await activeGrant(sesame, "alice", "bob", { resource: "app-db" });
    const second = await activeGrant(sesame, "alice", "bob", { resource: "app-db" });
    const connector = sesame.runtime.connectors.get("apart") as unknown as NoopConnector;
    expect(connector.activeGrantIds()).toEqual(expect.arrayContaining([first.grantId, second.grantId]));

    await sesame.api("alice", "POST", `/api/v1/grants/${first.grantId}/relinquish`);
    const revoked = await waitForGrantStatus(sesame, "alice", first.grantId, "revoked");
    expect(connector.activeGrantIds()).not.toContain(first.grantId);
    expect(connector.activeGrantIds()).toContain(second.grantId);
    expect(revoked.status).toBe("revoked");

    await sesame.api("alice", "POST", `/api/v1/grants/${second.grantId}/relinquish`);
    await waitForGrantStatus(sesame, "alice", second.grantId, "revoked");
    expect(connector.activeGrantIds()).not.toContain(second.grantId);
  });
});
