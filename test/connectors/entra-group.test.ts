import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EntraGroupConnector } from "../../src/connectors/entra-group/entra-group-connector.js";
import { entraGroupConnectorSpec } from "../../src/connectors/entra-group/entra-group-spec.js";
import { resolveConnectorConfig } from "../../src/connectors/registry.js";
import { errorTexts, expectNoSecret, runConnectorConformance } from "./conformance.js";
import { entraConnector, entraContext } from "./entra-group-fixture.js";
import { EntraStandIn, graphError } from "./entra-group-stand-in.js";
import { watchProcessErrors } from "./process-errors.js";
import { closedPort, failure, recordingSleep } from "./webhook-fixture.js";

/**
 * The entra-group connector against a LOCAL STAND-IN for Microsoft Graph v1.0 and the identity
 * platform's token endpoint (entra-group-stand-in.ts), not Microsoft: no tenant is reachable from
 * the test machine.
 */

const standIn = new EntraStandIn();
let connector: EntraGroupConnector;
let groupId: string;
beforeAll(async () => {
  await standIn.start();
  groupId = standIn.addGroup("Prod Admins").id;
  connector = entraConnector(standIn);
});
afterAll(async () => {
  await standIn.stop();
});

type Context = ReturnType<typeof entraContext>;
const userIdOf = (context: object) => (context as Context).userId;

runConnectorConformance(
  "entra-group",
  async () => ({
    connector: entraConnector(standIn),
    makeContext: () => entraContext(standIn, groupId),
    hasAccess: async (context) => standIn.isMember(groupId, userIdOf(context)),
    removeOutOfBand: async (context) => standIn.setMember(groupId, userIdOf(context), false),
    secrets: [standIn.clientSecret],
    breakConnector: async () =>
      entraConnector(
        standIn,
        { retries: 1, graphUrl: `http://127.0.0.1:${await closedPort()}/v1.0` },
        { name: "entra-unreachable", clientSecret: `${standIn.clientSecret}-old` },
      ),
    makeFailingContext: () => ({ ...entraContext(standIn, groupId), principal: "nobody@contoso.example" }),
  }),
  { brokenConnector: true, failingContext: true },
);

describe("entra-group connector", () => {
  it("adds the member with POST members/$ref, says so in the receipt, and revoke DELETEs the reference", async () => {
    const context = entraContext(standIn, groupId);
    const receipt = await connector.grant(context);
    expect(receipt.data).toEqual({ groupId, groupName: "Prod Admins", userId: context.userId, addedBySesame: true });
    const [post] = standIn.callsTo(`POST /v1.0/groups/${groupId}/members/$ref`).slice(-1);
    expect(JSON.parse(post!.body)).toEqual({ "@odata.id": `${standIn.graphUrl}/directoryObjects/${context.userId}` });
    await connector.revoke({ ...context, receipt: receipt.data });
    expect(standIn.isMember(groupId, context.userId)).toBe(false);
    expect(standIn.callsTo(`DELETE /v1.0/groups/${groupId}/members/${context.userId}/$ref`)).toHaveLength(1);
    expect(await connector.verifyRevoked({ ...context, receipt: receipt.data })).toBe(true);
  });

  it("leaves a membership that existed before the grant alone, and says so in the receipt", async () => {
    const context = entraContext(standIn, groupId);
    standIn.setMember(groupId, context.userId, true);
    const receipt = await connector.grant(context);
    expect(receipt.data).toMatchObject({ addedBySesame: false, note: expect.stringMatching(/a member already/) });
    await connector.revoke({ ...context, receipt: receipt.data });
    await connector.revoke({ ...context, receipt: null });
    expect(standIn.isMember(groupId, context.userId)).toBe(true);
    expect(await connector.verifyRevoked({ ...context, receipt: receipt.data })).toBe(true);
    expect(standIn.callsTo(`DELETE /v1.0/groups/${groupId}/members/${context.userId}`)).toEqual([]);
  });

  it("a retried or second grant of a membership this process added stays Sesame's", async () => {
    const first = entraContext(standIn, groupId);
    await connector.grant(first);
    const second = { ...entraContext(standIn, groupId), principal: first.principal, userId: first.userId };
    expect((await connector.grant(second)).data.addedBySesame).toBe(true);
    await connector.revoke({ ...second, receipt: null });
    expect(standIn.isMember(groupId, first.userId)).toBe(false);
  });

  it("grants to a guest, whose userPrincipalName holds #EXT#", async () => {
    const guest = standIn.addUser(`partner_fabrikam.example#EXT#@contoso${Date.now()}.example`);
    const context = { ...entraContext(standIn, groupId), principal: guest.userPrincipalName };
    const receipt = await connector.grant(context);
    expect(receipt.data.userId).toBe(guest.id);
    await connector.revoke({ ...context, receipt: receipt.data });
    expect(standIn.isMember(groupId, guest.id)).toBe(false);
  });

  it("looks the person up by mail when principalAttribute is mail", async () => {
    const byMail = entraConnector(standIn, { principalAttribute: "mail" });
    const user = standIn.addUser(`upn-${Date.now()}@contoso.example`, `first.last-${Date.now()}@contoso.example`);
    const context = { ...entraContext(standIn, groupId), principal: user.mail };
    const receipt = await byMail.grant(context);
    expect(receipt.data.userId).toBe(user.id);
    await byMail.revoke({ ...context, receipt: receipt.data });
    expect(standIn.isMember(groupId, user.id)).toBe(false);
  });

  it("waits for Retry-After on 429 and 503, then succeeds; a long Retry-After is left to the job", async () => {
    const { waits, sleep } = recordingSleep();
    const patient = entraConnector(standIn, {}, { sleep });
    const context = entraContext(standIn, groupId);
    standIn.script(
      {
        match: "POST /v1.0/groups",
        ...graphError(429, "TooManyRequests", "Too many requests", { "retry-after": "3" }),
      },
      { match: "POST /v1.0/groups", ...graphError(503, "serviceNotAvailable", "Busy", { "retry-after": "1" }) },
    );
    const receipt = await patient.grant(context);
    expect(receipt.data.addedBySesame).toBe(true);
    expect(waits).toEqual([3000, 1000]);
    standIn.script({
      match: "DELETE /v1.0/groups",
      ...graphError(429, "TooManyRequests", "Too many requests", { "retry-after": "120" }),
    });
    const error = await failure(patient.revoke({ ...context, receipt: receipt.data }));
    expect(error.userMessage).toMatch(
      /HTTP 429 TooManyRequests.*asked Sesame to wait 120 s \(Retry-After\); the job retries later/,
    );
    expect(waits).toEqual([3000, 1000]);
    await patient.revoke({ ...context, receipt: receipt.data });
    expect(standIn.isMember(groupId, context.userId)).toBe(false);
  });

  it("fails without changing anything when Graph or the token endpoint answers garbage", async () => {
    for (const garbage of [
      { match: "GET /v1.0/users/", status: 200, body: "<html>proxy login</html>" },
      { match: "GET /v1.0/users/", status: 200, body: JSON.stringify({ value: "nope" }) },
      { match: "GET /v1.0/groups/", status: 200, body: JSON.stringify({ id: "someone-else" }) },
    ]) {
      const context = entraContext(standIn, groupId);
      standIn.script(garbage);
      const error = await failure(connector.grant(context));
      expect(error.userMessage).toMatch(/not Graph's JSON; nothing was changed/);
      expect(standIn.isMember(groupId, context.userId)).toBe(false);
    }
    const fresh = entraConnector(standIn, {}, { name: "entra-fresh" });
    standIn.script({ match: "POST /", status: 200, body: "<html>captive portal</html>" });
    const error = await failure(fresh.grant(entraContext(standIn, groupId)));
    expect(error.userMessage).toMatch(/answered the token request with something that is not Graph's JSON/);
    expectNoSecret(errorTexts(error), [standIn.clientSecret]);
  });

  it("ends a request Graph accepts but never answers after requestTimeoutSeconds, and the process survives", async () => {
    const watch = watchProcessErrors();
    const hanging = entraConnector(standIn, { requestTimeoutSeconds: 0.2, retries: 0 });
    const context = entraContext(standIn, groupId);
    standIn.hang(`GET /v1.0/users/${context.principal}`);
    try {
      const error = await failure(hanging.grant(context));
      expect(error.userMessage).toMatch(/could not grant access: Microsoft Graph did not answer in time/);
      watch.expectNone();
    } finally {
      watch.stop();
      standIn.cutHeld();
    }
  });

  it("refuses dynamic and on-premises groups, whose members Graph cannot change", async () => {
    const dynamic = standIn.addGroup("All engineers", { groupTypes: ["DynamicMembership"] });
    const synced = standIn.addGroup("AD admins", { onPremisesSyncEnabled: true });
    expect((await failure(connector.grant(entraContext(standIn, dynamic.id)))).userMessage).toMatch(
      /has dynamic membership/,
    );
    expect((await failure(connector.grant(entraContext(standIn, synced.id)))).userMessage).toMatch(
      /synchronised from on-premises Active Directory/,
    );
  });

  it("check() names the missing Graph permission and a refused secret in words, without the secret", async () => {
    expect(await connector.check({ targets: [{ groupId }] })).toEqual({ ok: true, problems: [] });
    const forbidden = standIn.addGroup("Finance");
    standIn.forbiddenGroups.add(forbidden.id);
    const result = await connector.check({ targets: [{ groupId: forbidden.id }] });
    expect(result.problems).toEqual([
      expect.stringMatching(
        /needs the application permission GroupMember\.ReadWrite\.All, admin-consented\): HTTP 403 Authorization_RequestDenied/,
      ),
    ]);
    const wrongSecret = `${standIn.clientSecret}-expired`;
    const stranger = entraConnector(standIn, {}, { name: "entra-stranger", clientSecret: wrongSecret });
    const rejected = await stranger.check();
    expect(rejected.problems).toEqual([
      expect.stringMatching(
        /^Sesame's app cannot get a token from Entra: HTTP 401 invalid_client: AADSTS7000215.*Entra did not accept Sesame's app credentials/,
      ),
    ]);
    expectNoSecret(rejected.problems, [wrongSecret, standIn.clientSecret]);
  });

  it("takes the client secret from the environment only", () => {
    expect(entraGroupConnectorSpec.secretFields).toEqual(["clientSecret"]);
    const raw = { tenantId: standIn.tenantId, clientId: standIn.clientId, clientSecret: "abc" };
    expect(() => resolveConnectorConfig("entra", entraGroupConnectorSpec, raw, {})).toThrow(/clientSecret is a secret/);
    expect(entraGroupConnectorSpec.entitlementOf?.({ groupId: groupId.toUpperCase() })).toEqual({ groupId });
  });
});
