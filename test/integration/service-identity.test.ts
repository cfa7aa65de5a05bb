import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSesame, type TestSesame } from "../helpers/sesame.js";
import { waitFor } from "../helpers/wait.js";

/** A CI pipeline's whole round trip through the REST API, as README's example runs it. */

const policy = `
version: 1
people:
  - { id: ci-deploy, email: ci-deploy@example.com, service: { resources: [staging-db] } }
  - { id: bob, email: bob@example.com }
connectors:
  ok: { type: noop }
resources:
  staging-db: { connector: ok, target: { role: deploy } }
  prod-db: { connector: ok, target: { role: prod } }
policies:
  - id: staging-deploys
    resources: [staging-db]
    requesters: { users: [ci-deploy] }
    duration: { default: 15m, max: 1h }
    approvers: { users: [bob] }
    autoApprove:
      - reason: CI deploy job with a run id
        requester: ci-deploy
        resources: [staging-db]
        maxDuration: 15m
        ticketPattern: "^[0-9]+$"
  - id: everything
    resources: [prod-db]
    requesters: { everyone: true }
    duration: { default: 15m, max: 1h }
    approvers: { users: [bob] }
`;

let sesame: TestSesame;
beforeAll(async () => {
  sesame = await startSesame("service-identity", { policy, identities: ["ci-deploy", "bob"] });
});
afterAll(() => sesame?.stop());

describe("a service identity through the REST API", () => {
  it("asks with a run id, is approved by its rule, works, and relinquishes", async () => {
    const asked = await sesame.api("ci-deploy", "POST", "/api/v1/requests", {
      resource: "staging-db",
      duration: "15m",
      reason: "deploy abc123",
      ticket: "4711",
    });
    expect(asked.status).toBe(201);
    expect(asked.body.status).toBe("approved");
    const grantId = asked.body.grant as string;
    await waitFor(
      async () => (await sesame.api("ci-deploy", "GET", `/api/v1/grants/${grantId}`)).body.status === "active",
      "the grant to be active",
    );
    const given = await sesame.api("ci-deploy", "POST", `/api/v1/grants/${grantId}/relinquish`);
    expect(given.status).toBe(200);
    await waitFor(
      async () => (await sesame.api("ci-deploy", "GET", `/api/v1/grants/${grantId}`)).body.status === "revoked",
      "the grant to be revoked",
    );
  });

  it("without a run id is refused outright, and no approver is ever asked", async () => {
    const asked = await sesame.api("ci-deploy", "POST", "/api/v1/requests", { resource: "staging-db", reason: "x" });
    expect(asked.status).toBe(422);
    expect(asked.body.error.message).toContain("never approved by a person");
    const waiting = await sesame.api("bob", "GET", "/api/v1/requests?awaitingMe=true");
    expect(waiting.body.requests).toEqual([]);
  });

  it("may not ask for a resource outside its list, though a policy lets everyone ask", async () => {
    const asked = await sesame.api("ci-deploy", "POST", "/api/v1/requests", { resource: "prod-db", reason: "x" });
    expect(asked.status).toBe(403);
    expect(asked.body.error.message).toContain("may only ask for staging-db");
  });
});
