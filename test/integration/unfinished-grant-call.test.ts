import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Connector, GrantContext } from "../../src/connectors/connector.js";
import { activateGrant } from "../../src/services/activate-grant.js";
import type { ServiceDeps } from "../../src/services/deps.js";
import { startSesame, type TestSesame } from "../helpers/sesame.js";

/**
 * A grant call whose process died before it recorded the outcome leaves its lease behind; the
 * retry's connector is told so (`unfinishedCallBefore`), so a connector that cannot tell its own
 * changes from ones made by hand (group memberships) takes what is in place as its own and the
 * revoke removes it.
 */

const policy = `
version: 1
people:
  - { id: alice, email: alice@example.com }
  - { id: bob, email: bob@example.com }
connectors:
  target: { type: noop }
resources:
  app-db: { connector: target }
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
  // Web role only: no worker activates the grants, the test does.
  sesame = await startSesame("unfinished_call", { policy, identities: ["alice", "bob"], role: "web" });
});
afterAll(() => sesame?.stop());

function recording(): { deps: ServiceDeps; contexts: GrantContext[] } {
  const contexts: GrantContext[] = [];
  const connector = {
    grant: async (context: GrantContext) => {
      contexts.push(context);
      return { data: {} };
    },
  } as unknown as Connector;
  const base = sesame.runtime.deps;
  return { deps: { ...base, connectors: { ...base.connectors, get: () => connector } }, contexts };
}

async function scheduledGrant(): Promise<{ id: string; entitlementKey: string }> {
  const request = (await sesame.api("alice", "POST", "/api/v1/requests", { resource: "app-db" })).body.id as string;
  const grantId = (await sesame.api("bob", "POST", `/api/v1/requests/${request}/approve`, {})).body.grant as string;
  const grant = await sesame.runtime.deps.store.getGrant(grantId);
  expect(grant?.status).toBe("scheduled");
  return { id: grantId, entitlementKey: grant!.entitlementKey };
}

describe("a grant call retried after its process died", () => {
  it("tells the connector when an earlier call never recorded its outcome, and only then", async () => {
    const fresh = await scheduledGrant();
    const first = recording();
    expect((await activateGrant(first.deps, fresh.id, { finalAttempt: false })).kind).toBe("activated");
    expect(first.contexts[0]!.unfinishedCallBefore).toBeUndefined();

    const crashed = await scheduledGrant();
    // What a process that died mid-call leaves: its lease on the entitlement, run out.
    await sesame.runtime.db.$executeRaw`
      INSERT INTO "EntitlementLease" ("key", "grantId", "operation", "owner", "expiresAt")
      VALUES (${crashed.entitlementKey}, ${crashed.id}, 'grant', 'a-dead-process', now() - interval '1 second')
      ON CONFLICT ("key") DO UPDATE SET "grantId" = EXCLUDED."grantId", "operation" = 'grant',
        "owner" = 'a-dead-process', "expiresAt" = EXCLUDED."expiresAt"`;
    const retry = recording();
    expect((await activateGrant(retry.deps, crashed.id, { finalAttempt: false })).kind).toBe("activated");
    expect(retry.contexts[0]!.unfinishedCallBefore).toBe(true);
  });
});
