import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OktaGroupConnector } from "../../src/connectors/okta-group/okta-group-connector.js";
import { oktaGroupConnectorSpec } from "../../src/connectors/okta-group/okta-group-spec.js";
import { resolveConnectorConfig } from "../../src/connectors/registry.js";
import { errorTexts, expectNoSecret, runConnectorConformance } from "./conformance.js";
import { oktaConnector, oktaContext } from "./okta-group-fixture.js";
import { OktaStandIn, oktaError, rateLimited } from "./okta-group-stand-in.js";
import { watchProcessErrors } from "./process-errors.js";
import { closedPort, failure, recordingSleep } from "./webhook-fixture.js";

/**
 * The okta-group connector against a LOCAL STAND-IN for the Okta management API
 * (okta-group-stand-in.ts), not Okta: no Okta org is reachable from the test machine. The real
 * @okta/okta-sdk-nodejs client talks to it over HTTP with an SSWS token.
 */

const standIn = new OktaStandIn();
let orgUrl: string;
let connector: OktaGroupConnector;
let groupId: string;
beforeAll(async () => {
  orgUrl = await standIn.start();
  groupId = standIn.addGroup("prod-admins").id;
  connector = oktaConnector(standIn, orgUrl);
});
afterAll(async () => {
  await standIn.stop();
});

const revokeOf = (context: ReturnType<typeof oktaContext>, receipt: { data: Record<string, unknown> } | null) => ({
  ...context,
  receipt: receipt?.data ?? null,
});

runConnectorConformance(
  "okta-group",
  async () => ({
    connector: oktaConnector(standIn, orgUrl),
    makeContext: () => oktaContext(standIn, groupId),
    hasAccess: async (context) => standIn.isMember(groupId, (context as ReturnType<typeof oktaContext>).userId),
    removeOutOfBand: async (context) =>
      standIn.setMember(groupId, (context as ReturnType<typeof oktaContext>).userId, false),
    secrets: [standIn.token],
    breakConnector: async () =>
      oktaConnector(standIn, `http://127.0.0.1:${await closedPort()}`, { retries: 1 }, { name: "okta-unreachable" }),
    makeFailingContext: () => ({ ...oktaContext(standIn, groupId), principal: "nobody@example.com" }),
  }),
  { brokenConnector: true, failingContext: true },
);

describe("okta-group connector", () => {
  it("adds the person to the group, says so in the receipt, and revoke removes the membership", async () => {
    const context = oktaContext(standIn, groupId);
    const receipt = await connector.grant(context);
    expect(receipt.data).toEqual({ groupId, groupName: "prod-admins", userId: context.userId, addedBySesame: true });
    expect(standIn.isMember(groupId, context.userId)).toBe(true);
    expect(standIn.callsTo(`PUT /api/v1/groups/${groupId}/users/${context.userId}`)).toHaveLength(1);
    await connector.revoke(revokeOf(context, receipt));
    expect(standIn.isMember(groupId, context.userId)).toBe(false);
    expect(await connector.verifyRevoked(revokeOf(context, receipt))).toBe(true);
  });

  it("leaves a membership that existed before the grant alone, and says so in the receipt", async () => {
    const context = oktaContext(standIn, groupId);
    standIn.setMember(groupId, context.userId, true);
    const receipt = await connector.grant(context);
    expect(receipt.data).toMatchObject({ addedBySesame: false, note: expect.stringMatching(/a member already/) });
    await connector.revoke(revokeOf(context, receipt));
    expect(standIn.isMember(groupId, context.userId)).toBe(true);
    expect(await connector.verifyRevoked(revokeOf(context, receipt))).toBe(true);
    expect(standIn.callsTo(`PUT /api/v1/groups/${groupId}/users/${context.userId}`)).toEqual([]);
    expect(standIn.callsTo(`DELETE /api/v1/groups/${groupId}/users/${context.userId}`)).toEqual([]);
  });

  it("a second grant of a group Sesame added counts the membership as Sesame's; after a restart it cannot tell", async () => {
    const first = oktaContext(standIn, groupId);
    const second = { ...oktaContext(standIn, groupId), principal: first.principal, userId: first.userId };
    await connector.grant(first);
    expect((await connector.grant(second)).data.addedBySesame).toBe(true);
    // A new process knows nothing of what the old one added: it leaves the membership alone.
    const restarted = oktaConnector(standIn, orgUrl, {}, { name: "okta-restarted" });
    expect((await restarted.grant(second)).data.addedBySesame).toBe(false);
    // Unless the core says an earlier call for this grant died unrecorded: then it may be Sesame's doing.
    const afterCrash = oktaConnector(standIn, orgUrl, {}, { name: "okta-after-crash" });
    expect((await afterCrash.grant({ ...second, unfinishedCallBefore: true })).data.addedBySesame).toBe(true);
    await restarted.revoke({ ...first, receipt: null });
    expect(standIn.isMember(groupId, first.userId)).toBe(true);
    // The grant's own process, with the receipt it returned, removes it.
    await connector.revoke({ ...second, receipt: { addedBySesame: true, userId: first.userId } });
    expect(standIn.isMember(groupId, first.userId)).toBe(false);
  });

  it("looks the person up by email when principalAttribute is email, and refuses an ambiguous email", async () => {
    const byEmail = oktaConnector(standIn, orgUrl, { principalAttribute: "email" });
    // One stamp for both: two reads of the clock may fall in different milliseconds.
    const stamp = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const user = standIn.addUser(`login-${stamp}`, `mail-${stamp}@example.com`);
    const context = { ...oktaContext(standIn, groupId), principal: `mail-${stamp}@example.com` };
    const receipt = await byEmail.grant(context);
    expect(receipt.data.userId).toBe(user.id);
    await byEmail.revoke({ ...context, receipt: receipt.data });
    expect(standIn.isMember(groupId, user.id)).toBe(false);
    standIn.addUser(`twin-${Date.now()}`, context.principal);
    const error = await failure(byEmail.grant(context));
    expect(error.userMessage).toMatch(/more than one Okta user has the email/);
  });

  it("waits for X-Rate-Limit-Reset on a 429 and retries; a reset too far away is left to the job", async () => {
    const { waits, sleep } = recordingSleep();
    const patient = oktaConnector(standIn, orgUrl, {}, { sleep });
    const context = oktaContext(standIn, groupId);
    standIn.script({ match: "PUT /api/v1/groups", ...rateLimited(2) });
    const receipt = await patient.grant(context);
    expect(receipt.data.addedBySesame).toBe(true);
    // Reset 2 s after Okta's own Date header, plus Okta's recommended second.
    expect(waits).toEqual([3000]);
    expect(standIn.callsTo(`PUT /api/v1/groups/${groupId}/users/${context.userId}`)).toHaveLength(2);

    standIn.script({ match: "DELETE /api/v1/groups", ...rateLimited(60) });
    const error = await failure(patient.revoke({ ...context, receipt: receipt.data }));
    expect(error.userMessage).toMatch(/HTTP 429 E0000047: .*rate limit resets in about 61 s; the job retries later/);
    expect(waits).toEqual([3000]);
    await patient.revoke({ ...context, receipt: receipt.data });
    expect(standIn.isMember(groupId, context.userId)).toBe(false);
  });

  it("retries a 5xx, and fails without changing anything when Okta answers garbage", async () => {
    const context = oktaContext(standIn, groupId);
    standIn.script({ match: "GET /api/v1/groups", status: 503, body: "<html>upstream</html>" });
    const receipt = await connector.grant(context);
    await connector.revoke({ ...context, receipt: receipt.data });

    for (const garbage of [
      { status: 200, body: "<html>login page</html>", headers: { "content-type": "text/html" } },
      { status: 200, body: JSON.stringify({ hello: "world" }), headers: { "content-type": "application/json" } },
      { status: 200, body: "{not json", headers: { "content-type": "application/json" } },
    ]) {
      const fresh = oktaContext(standIn, groupId);
      standIn.script({ match: "GET /api/v1/users/", ...garbage });
      const error = await failure(connector.grant(fresh));
      expect(error).toMatchObject({ code: "connector_failed" });
      expect(error.userMessage).toMatch(/Check the connector's orgUrl/);
      expect(standIn.isMember(groupId, fresh.userId)).toBe(false);
      expect(standIn.callsTo(`PUT /api/v1/groups/${groupId}/users/${fresh.userId}`)).toEqual([]);
      expectNoSecret(errorTexts(error), [standIn.token]);
    }
  });

  it("ends a request Okta accepts but never answers after requestTimeoutSeconds, and the process survives", async () => {
    const watch = watchProcessErrors();
    const hanging = oktaConnector(standIn, orgUrl, { requestTimeoutSeconds: 0.2, retries: 0 });
    const context = oktaContext(standIn, groupId);
    standIn.hang(`GET /api/v1/users/${encodeURIComponent(context.principal)}`);
    standIn.hang(`GET /api/v1/users/${context.principal}`);
    try {
      const error = await failure(hanging.grant(context));
      expect(error.userMessage).toMatch(
        /could not grant access: Okta did not answer in time\. Check the connector's orgUrl/,
      );
      watch.expectNone();
    } finally {
      watch.stop();
      standIn.cutHeld();
    }
  });

  it("refuses a group whose members Okta lets no API change (APP_GROUP), and an unknown group", async () => {
    const appGroup = standIn.addGroup("ad-admins", "APP_GROUP");
    const context = { ...oktaContext(standIn, appGroup.id) };
    expect((await failure(connector.grant(context))).userMessage).toMatch(/is of type APP_GROUP/);
    const missing = oktaContext(standIn, "00gmissing0000000000");
    expect((await failure(connector.grant(missing))).userMessage).toMatch(
      /Okta group 00gmissing0000000000 does not exist/,
    );
  });

  it("check() names what the token may not do, in words", async () => {
    expect(await connector.check({ targets: [{ groupId }] })).toEqual({ ok: true, problems: [] });
    const forbidden = standIn.addGroup("finance-admins");
    standIn.forbiddenGroups.add(forbidden.id);
    const appGroup = standIn.addGroup("from-ad", "APP_GROUP");
    const result = await connector.check({
      targets: [{ groupId: forbidden.id }, { groupId: appGroup.id }, { group: 1 }],
    });
    expect(result.problems).toEqual([
      expect.stringMatching(/^target 3/),
      expect.stringMatching(/^target 3/),
      expect.stringMatching(
        new RegExp(
          `^Sesame's Okta token cannot read group ${forbidden.id} \\(it needs a Group Membership Administrator role over it\\): HTTP 403 E0000006`,
        ),
      ),
      expect.stringMatching(/is of type APP_GROUP/),
    ]);
    const stranger = oktaConnector(standIn, orgUrl, {}, { name: "okta-stranger", token: "00wrong-token" });
    const rejected = await stranger.check();
    expect(rejected.ok).toBe(false);
    expect(rejected.problems).toEqual([
      expect.stringMatching(
        /cannot list users .*HTTP 401 E0000011: Invalid token provided\. Okta did not accept Sesame's API token/,
      ),
    ]);
    expectNoSecret(rejected.problems, ["00wrong-token"]);
  });

  it("takes the token from the environment only", () => {
    expect(oktaGroupConnectorSpec.secretFields).toEqual(["token"]);
    expect(() =>
      resolveConnectorConfig(
        "okta",
        oktaGroupConnectorSpec,
        { orgUrl: "https://example.okta.com", token: "00abc" },
        {},
      ),
    ).toThrow(/config.token is a secret/);
    const { config } = resolveConnectorConfig(
      "okta",
      oktaGroupConnectorSpec,
      { orgUrl: "https://example.okta.com", token: { env: "OKTA_SESAME_TOKEN" } },
      { OKTA_SESAME_TOKEN: "00from-env" },
    );
    expect(oktaGroupConnectorSpec.configSchema.parse(config)).toMatchObject({
      token: "00from-env",
      principalAttribute: "login",
    });
    expect(oktaGroupConnectorSpec.entitlementOf?.({ groupId })).toEqual({ groupId });
    expect(() => oktaGroupConnectorSpec.configSchema.parse({ orgUrl: "http://example.okta.com", token: "x" })).toThrow(
      /https/,
    );
    void oktaError;
  });
});
