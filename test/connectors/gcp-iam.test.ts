import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type GcpIamConnector, gcpIamConnectorDefinition } from "../../src/connectors/gcp-iam/gcp-iam-connector.js";
import { gcpIamConnectorSpec } from "../../src/connectors/gcp-iam/gcp-iam-spec.js";
import { errorTexts, expectNoSecret, runConnectorConformance } from "./conformance.js";
import { gcpConnector, gcpContext, memberOf, PROJECT, ROLE, recordingSleep } from "./gcp-iam-fixture.js";
import { GcpIamStandIn, googleError } from "./gcp-iam-stand-in.js";
import { closedPort, failure } from "./webhook-fixture.js";

/**
 * The gcp-iam connector against a LOCAL STAND-IN for the Google Cloud Resource Manager API v3
 * (gcp-iam-stand-in.ts), not Google: no Google endpoint is reachable from the test machine. The
 * real @googleapis/cloudresourcemanager client talks to it over REST JSON with a fake token source.
 */

const standIn = new GcpIamStandIn();
let endpoint: string;
let connector: GcpIamConnector;
const resource = `projects/${PROJECT}`;
beforeAll(async () => {
  endpoint = await standIn.start();
  connector = gcpConnector(standIn, endpoint);
});
afterAll(async () => {
  await standIn.stop();
});

const grantBindings = (context: { grantId: string; principal: string }) =>
  standIn
    .bindings(resource)
    .filter(
      (binding) =>
        binding.members.includes(`user:${context.principal}`) && binding.condition?.title?.includes(context.grantId),
    );

runConnectorConformance(
  "gcp-iam",
  async () => ({
    connector: gcpConnector(standIn, endpoint),
    makeContext: () => gcpContext(),
    hasAccess: async (context) => standIn.hasRole(resource, ROLE, memberOf(context)),
    countAccess: async (context) => grantBindings(context).length,
    removeOutOfBand: async (context) =>
      standIn.edit(resource, (bindings) => {
        for (const binding of bindings)
          binding.members = binding.members.filter((member) => member !== memberOf(context));
      }),
    secrets: [standIn.token],
    breakConnector: async () =>
      gcpConnector(standIn, `http://127.0.0.1:${await closedPort()}/`, { retries: 1 }, { name: "gcp-unreachable" }),
    makeFailingContext: () => ({ ...gcpContext(), principal: "not-an-email" }),
  }),
  { brokenConnector: true, failingContext: true },
);

describe("gcp-iam connector", () => {
  it("grants the role under an IAM condition that ends it at expiresAt, in a version 3 policy", async () => {
    const context = gcpContext();
    const receipt = await connector.grant(context);
    const iso = context.expiresAt.toISOString();
    expect(grantBindings(context)).toEqual([
      {
        role: ROLE,
        members: [memberOf(context)],
        condition: {
          title: `sesame-grant-${context.grantId}`,
          description: `Granted by Sesame (grant ${context.grantId}) until ${iso}`,
          expression: `request.time < timestamp("${iso}")`,
        },
      },
    ]);
    expect(receipt.data).toEqual({
      resource,
      role: ROLE,
      member: memberOf(context),
      conditionTitle: `sesame-grant-${context.grantId}`,
      conditionExpression: `request.time < timestamp("${iso}")`,
    });
    // Google itself ends the access at expiry, even if Sesame never revokes.
    expect(standIn.hasRole(resource, ROLE, memberOf(context), new Date(context.expiresAt.getTime() - 1000))).toBe(true);
    expect(standIn.hasRole(resource, ROLE, memberOf(context), new Date(context.expiresAt.getTime() + 1000))).toBe(
      false,
    );
    const set = standIn.calls.findLast((call) => call.method === "setIamPolicy")!;
    expect(set.body).toMatchObject({ policy: { version: 3, etag: expect.any(String) } });
    expect(standIn.calls.findLast((call) => call.method === "getIamPolicy")?.body).toEqual({
      options: { requestedPolicyVersion: 3 },
    });
    await connector.revoke({ ...context, receipt: receipt.data });
  });

  it("re-reads and writes again on an etag conflict, keeping the other writer's change", async () => {
    const { waits, sleep } = recordingSleep();
    const patient = gcpConnector(standIn, endpoint, {}, { sleep });
    const context = gcpContext();
    standIn.changeBeforeNextSet((bindings) =>
      bindings.push({ role: "roles/logging.viewer", members: ["group:sre@example.com"] }),
    );
    await patient.grant(context);
    expect(standIn.hasRole(resource, ROLE, memberOf(context))).toBe(true);
    expect(standIn.hasRole(resource, "roles/logging.viewer", "group:sre@example.com")).toBe(true);
    expect(standIn.hasRole(resource, "roles/owner", "user:owner@example.com")).toBe(true);
    expect(waits).toHaveLength(1);
    const methods = standIn.calls.slice(-4).map((call) => call.method);
    expect(methods).toEqual(["getIamPolicy", "setIamPolicy", "getIamPolicy", "setIamPolicy"]);
    await patient.revoke({ ...context, receipt: null });
    expect(standIn.hasRole(resource, "roles/logging.viewer", "group:sre@example.com")).toBe(true);
  });

  it("gives up after conflictRetries when the policy keeps changing, and says so", async () => {
    const busy = gcpConnector(standIn, endpoint, { conflictRetries: 1 });
    standIn.script(
      { ...googleError(409, "ABORTED", "There were concurrent policy changes."), method: "setIamPolicy" },
      { ...googleError(409, "ABORTED", "There were concurrent policy changes."), method: "setIamPolicy" },
    );
    const error = await failure(busy.grant(gcpContext()));
    expect(error.userMessage).toMatch(/changed under Sesame 2 times in a row \(etag conflict\); the job retries later/);
  });

  it("retries throttling (429 RESOURCE_EXHAUSTED) and 503 with backoff", async () => {
    const { waits, sleep } = recordingSleep();
    const throttled = gcpConnector(standIn, endpoint, {}, { sleep });
    const context = gcpContext();
    standIn.script(
      {
        ...googleError(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Read requests'"),
        method: "getIamPolicy",
      },
      { ...googleError(503, "UNAVAILABLE", "The service is currently unavailable."), method: "setIamPolicy" },
    );
    await throttled.grant(context);
    expect(standIn.hasRole(resource, ROLE, memberOf(context))).toBe(true);
    expect(waits).toHaveLength(2);
    expect(waits.every((ms) => ms > 0 && ms <= 5000)).toBe(true);
    await throttled.revoke({ ...context, receipt: null });
  });

  it("never writes a policy it could not read: garbage or an answer without etag fails the call", async () => {
    const context = gcpContext();
    standIn.script({ status: 200, body: "<html>Service Unavailable</html>", method: "getIamPolicy" });
    const before = standIn.calls.length;
    const garbage = await failure(connector.grant(context));
    expect(garbage.userMessage).toMatch(
      /not an IAM policy with an etag\. Check the connector's apiEndpoint; nothing was changed/,
    );
    standIn.script({ status: 200, body: JSON.stringify({ bindings: [] }), method: "getIamPolicy" });
    await failure(connector.grant(context));
    expect(standIn.calls.slice(before).map((call) => call.method)).toEqual(["getIamPolicy", "getIamPolicy"]);
    expect(standIn.hasRole(resource, "roles/owner", "user:owner@example.com")).toBe(true);
    expectNoSecret(errorTexts(garbage), [standIn.token]);
  });

  it("fails a call the API accepts but never answers after requestTimeoutSeconds", async () => {
    const hanging = gcpConnector(standIn, endpoint, { requestTimeoutSeconds: 0.2, retries: 0 });
    try {
      const held = standIn.holdNext("getIamPolicy");
      const error = await failure(hanging.grant(gcpContext()));
      await held;
      expect(error).toMatchObject({ code: "connector_failed" });
      expect(error.userMessage).toMatch(
        /could not grant access: the API did not answer in time\. Check the connector's apiEndpoint/,
      );
    } finally {
      standIn.cutHeld();
    }
  });

  it("uses Application Default Credentials when built as the registry builds it, and says when they are missing", async () => {
    vi.stubEnv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/sesame-adc.json");
    const config = gcpIamConnectorDefinition.configSchema.parse({ apiEndpoint: endpoint, retries: 0 });
    const fromEnvironment = gcpIamConnectorDefinition.create(config, { name: "gcp-adc", secrets: [] });
    try {
      const result = await fromEnvironment.check({ targets: [{ project: PROJECT, role: ROLE }] });
      expect(result.ok).toBe(false);
      expect(result.problems).toEqual([
        expect.stringMatching(/sesame-adc\.json.*Google did not accept Sesame's credentials, or found none/),
      ]);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it("revoke removes exactly its own member and condition: the same role held otherwise stays", async () => {
    const context = gcpContext();
    const member = memberOf(context);
    const other = gcpContext();
    await connector.grant({ ...other, principal: context.principal });
    standIn.edit(resource, (bindings) => bindings.push({ role: ROLE, members: [member, "user:someone@example.com"] }));
    const receipt = await connector.grant(context);
    await connector.revoke({ ...context, receipt: receipt.data });
    expect(grantBindings(context)).toEqual([]);
    // The unconditional binding an administrator made, and the other grant's conditional one.
    expect(standIn.bindings(resource)).toContainEqual({ role: ROLE, members: [member, "user:someone@example.com"] });
    expect(
      standIn.bindings(resource).filter((binding) => binding.condition?.title === `sesame-grant-${other.grantId}`),
    ).toEqual([expect.objectContaining({ members: [member] })]);
    await connector.revoke({ ...other, principal: context.principal, receipt: null });
    standIn.edit(resource, (bindings) => {
      const index = bindings.findIndex((binding) => binding.condition === undefined && binding.role === ROLE);
      bindings.splice(index, 1);
    });
  });

  it("extend moves the condition's expiry, and does not put back a binding removed meanwhile", async () => {
    const context = gcpContext();
    const receipt = await connector.grant(context);
    const later = new Date(context.expiresAt.getTime() + 7_200_000);
    const extended = await connector.extend({ ...context, expiresAt: later, receipt: receipt.data });
    expect(extended?.data.conditionExpression).toBe(`request.time < timestamp("${later.toISOString()}")`);
    expect(grantBindings(context)).toHaveLength(1);
    expect(standIn.hasRole(resource, ROLE, memberOf(context), new Date(later.getTime() - 1000))).toBe(true);
    await connector.revoke({ ...context, receipt: receipt.data });
    expect(await connector.extend({ ...context, expiresAt: later, receipt: receipt.data })).toBeUndefined();
    expect(grantBindings(context)).toEqual([]);
  });

  it("grants on folders and organizations, and keeps every grant apart", async () => {
    const folder = gcpContext({ folder: "123456789012", role: ROLE, memberType: "group" });
    await connector.grant(folder);
    expect(standIn.hasRole("folders/123456789012", ROLE, `group:${folder.principal}`)).toBe(true);
    await connector.revoke({ ...folder, receipt: null });
    const organization = gcpContext({ organization: "987654321098", role: "roles/iam.securityReviewer" });
    await connector.grant(organization);
    expect(standIn.hasRole("organizations/987654321098", "roles/iam.securityReviewer", memberOf(organization))).toBe(
      true,
    );
    await connector.revoke({ ...organization, receipt: null });
    expect(standIn.hasRole("organizations/987654321098", "roles/iam.securityReviewer", memberOf(organization))).toBe(
      false,
    );
    expect(gcpIamConnectorSpec.keepsGrantsApart).toBe(true);
  });

  it("refuses targets Google could not end on its own or that name no single scope", () => {
    const parse = (target: unknown) => gcpIamConnectorSpec.targetSchema.safeParse(target);
    expect(parse({ project: PROJECT, role: "roles/owner" }).error?.issues[0]?.message).toMatch(
      /basic roles .*cannot carry an IAM condition/,
    );
    expect(parse({ project: PROJECT, folder: "1", role: ROLE }).error?.issues[0]?.message).toBe(
      "give exactly one of project, folder or organization",
    );
    expect(parse({ project: "projects/x", role: ROLE }).success).toBe(false);
  });

  it("check() asks testIamPermissions and names the missing permission; a rejected token in words", async () => {
    expect(await connector.check({ targets: [{ project: PROJECT, role: ROLE }] })).toEqual({ ok: true, problems: [] });
    standIn.refused.set("folders/42", new Set(["resourcemanager.folders.setIamPolicy"]));
    const result = await connector.check({
      targets: [
        { folder: "42", role: ROLE },
        { project: PROJECT, role: "roles/editor" },
      ],
    });
    expect(result).toEqual({
      ok: false,
      problems: [
        expect.stringMatching(/^target 2\.role: basic roles/),
        expect.stringMatching(
          /^Sesame's Google identity lacks resourcemanager\.folders\.setIamPolicy on folders\/42: grant it a role with resourcemanager\.folders\.getIamPolicy and resourcemanager\.folders\.setIamPolicy there/,
        ),
      ],
    });
    const stranger = gcpConnector(standIn, endpoint, {}, { name: "gcp-stranger", token: "ya29.unknown-token" });
    const rejected = await stranger.check({ targets: [{ project: PROJECT, role: ROLE }] });
    expect(rejected.problems).toEqual([
      expect.stringMatching(
        /^cannot ask Google what Sesame may do on projects\/sesame-test-project: HTTP 401 UNAUTHENTICATED: .*Google did not accept Sesame's credentials/,
      ),
    ]);
    expect((await stranger.check()).ok).toBe(false);
  });
});
