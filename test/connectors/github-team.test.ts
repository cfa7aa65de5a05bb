import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GithubTeamConnector } from "../../src/connectors/github-team/github-team-connector.js";
import { githubTeamConnectorSpec } from "../../src/connectors/github-team/github-team-spec.js";
import { resolveConnectorConfig } from "../../src/connectors/registry.js";
import { errorTexts, expectNoSecret, runConnectorConformance } from "./conformance.js";
import { githubConnector, githubContext } from "./github-team-fixture.js";
import { GithubStandIn, githubError, secondaryRateLimit } from "./github-team-stand-in.js";
import { watchProcessErrors } from "./process-errors.js";
import { closedPort, failure, recordingSleep } from "./webhook-fixture.js";

/**
 * The github-team connector against a LOCAL STAND-IN for the GitHub REST API
 * (github-team-stand-in.ts), not GitHub: github.com is not reachable from the test machine. The
 * real @octokit/rest client talks to it over HTTP.
 */

const standIn = new GithubStandIn();
let apiUrl: string;
let connector: GithubTeamConnector;
const TEAM = "platform-admins";
beforeAll(async () => {
  apiUrl = await standIn.start();
  standIn.addTeam(TEAM, "Platform admins");
  connector = githubConnector(standIn, apiUrl);
});
afterAll(async () => {
  await standIn.stop();
});

const membershipPath = (username: string) => `/orgs/${standIn.org}/teams/${TEAM}/memberships/${username}`;

runConnectorConformance(
  "github-team",
  async () => ({
    connector: githubConnector(standIn, apiUrl),
    makeContext: () => githubContext(standIn, TEAM),
    hasAccess: async (context) => standIn.membership(TEAM, context.principal) !== undefined,
    removeOutOfBand: async (context) => standIn.setMembership(TEAM, context.principal, undefined),
    secrets: [standIn.token],
    breakConnector: async () =>
      githubConnector(
        standIn,
        `http://127.0.0.1:${await closedPort()}`,
        { retries: 1 },
        { name: "github-unreachable" },
      ),
    makeFailingContext: () => ({ ...githubContext(standIn, TEAM), principal: "ghost-nobody" }),
  }),
  { brokenConnector: true, failingContext: true },
);

describe("github-team connector", () => {
  it("PUTs the membership with the role, says so in the receipt, and revoke DELETEs it", async () => {
    const context = githubContext(standIn, TEAM, "maintainer");
    const receipt = await connector.grant(context);
    expect(receipt.data).toEqual({
      org: standIn.org,
      team: TEAM,
      username: context.principal,
      role: "maintainer",
      state: "active",
      addedBySesame: true,
    });
    const [put] = standIn.callsTo(`PUT ${membershipPath(context.principal)}`);
    expect(JSON.parse(put!.body)).toEqual({ role: "maintainer" });
    await connector.revoke({ ...context, receipt: receipt.data });
    expect(standIn.membership(TEAM, context.principal)).toBeUndefined();
    expect(await connector.verifyRevoked({ ...context, receipt: receipt.data })).toBe(true);
  });

  it("leaves a membership that existed alone; a member made maintainer is made member again", async () => {
    const held = githubContext(standIn, TEAM, "member");
    standIn.setMembership(TEAM, held.principal, { role: "maintainer", state: "active" });
    const receipt = await connector.grant(held);
    expect(receipt.data).toMatchObject({
      addedBySesame: false,
      role: "maintainer",
      note: expect.stringMatching(/already/),
    });
    expect(standIn.callsTo(`PUT ${membershipPath(held.principal)}`)).toEqual([]);
    await connector.revoke({ ...held, receipt: receipt.data });
    expect(standIn.membership(TEAM, held.principal)).toEqual({ role: "maintainer", state: "active" });
    expect(standIn.callsTo(`DELETE ${membershipPath(held.principal)}`)).toEqual([]);

    const promoted = githubContext(standIn, TEAM, "maintainer");
    standIn.setMembership(TEAM, promoted.principal, { role: "member", state: "active" });
    const promotion = await connector.grant(promoted);
    expect(promotion.data).toMatchObject({ addedBySesame: false, promotedFrom: "member", role: "maintainer" });
    await connector.revoke({ ...promoted, receipt: promotion.data });
    expect(standIn.membership(TEAM, promoted.principal)).toEqual({ role: "member", state: "active" });
    expect(await connector.verifyRevoked({ ...promoted, receipt: promotion.data })).toBe(true);
  });

  it("reports a pending invitation for someone outside the organization", async () => {
    const context = { ...githubContext(standIn, TEAM), principal: `outsider-${Date.now()}` };
    const receipt = await connector.grant(context);
    expect(receipt.data).toMatchObject({
      state: "pending",
      addedBySesame: true,
      note: expect.stringMatching(/accept the invitation/),
    });
    await connector.revoke({ ...context, receipt: receipt.data });
    expect(standIn.membership(TEAM, context.principal)).toBeUndefined();
  });

  it("waits out a secondary rate limit (retry-after) and a 502, then succeeds; a long wait is left to the job", async () => {
    const { waits, sleep } = recordingSleep();
    const patient = githubConnector(standIn, apiUrl, {}, { sleep });
    const context = githubContext(standIn, TEAM);
    standIn.script(
      { match: "PUT /orgs", ...secondaryRateLimit(2) },
      { match: "PUT /orgs", status: 502, body: "<html>Bad gateway</html>", headers: { "content-type": "text/html" } },
    );
    const receipt = await patient.grant(context);
    expect(receipt.data.addedBySesame).toBe(true);
    expect(waits[0]).toBe(2000);
    expect(waits).toHaveLength(2);
    standIn.script({ match: "DELETE /orgs", ...secondaryRateLimit(90) });
    const error = await failure(patient.revoke({ ...context, receipt: receipt.data }));
    expect(error.userMessage).toMatch(
      /HTTP 403: You have exceeded a secondary rate limit.*rate-limiting Sesame for about 90 s more; the job retries later/,
    );
    expect(waits).toHaveLength(2);
    await patient.revoke({ ...context, receipt: receipt.data });
    expect(standIn.membership(TEAM, context.principal)).toBeUndefined();
  });

  it("fails without changing anything when GitHub answers garbage", async () => {
    for (const garbage of [
      { status: 200, body: "<html>proxy</html>", headers: { "content-type": "text/html" } },
      {
        status: 200,
        body: JSON.stringify({ role: "owner", state: "active" }),
        headers: { "content-type": "application/json" },
      },
    ]) {
      const context = githubContext(standIn, TEAM);
      standIn.setMembership(TEAM, context.principal, { role: "member", state: "active" });
      standIn.script({ match: "GET /orgs", ...garbage });
      const error = await failure(connector.grant(context));
      expect(error.userMessage).toMatch(/not GitHub's JSON; nothing more was changed/);
      expect(standIn.callsTo(`PUT ${membershipPath(context.principal)}`)).toEqual([]);
      expectNoSecret(errorTexts(error), [standIn.token]);
    }
  });

  it("ends a request GitHub accepts but never answers after requestTimeoutSeconds, and the process survives", async () => {
    const watch = watchProcessErrors();
    const hanging = githubConnector(standIn, apiUrl, { requestTimeoutSeconds: 0.2, retries: 0 });
    const context = githubContext(standIn, TEAM);
    standIn.hang(`GET ${membershipPath(context.principal)}`);
    try {
      const error = await failure(hanging.grant(context));
      expect(error.userMessage).toMatch(/could not grant access: GitHub did not answer in time/);
      watch.expectNone();
    } finally {
      watch.stop();
      standIn.cutHeld();
    }
  });

  it("check() names a missing scope, an invisible team and a refused token in words", async () => {
    expect(await connector.check({ targets: [{ org: standIn.org, team: TEAM }] })).toEqual({ ok: true, problems: [] });
    standIn.scopes = ["repo", "read:org"];
    try {
      const result = await connector.check({ targets: [{ org: standIn.org, team: "secret-team" }] });
      expect(result.problems).toEqual([
        expect.stringMatching(
          /lacks the admin:org scope, which managing team members needs \(it has: repo, read:org\)/,
        ),
        expect.stringMatching(
          /team sesame-test-org\/secret-team does not exist, or Sesame's token cannot see it .*Members: read and write/,
        ),
      ]);
    } finally {
      standIn.scopes = ["admin:org"];
    }
    const stranger = githubConnector(standIn, apiUrl, {}, { name: "github-stranger", token: "ghp_wrongwrongwrong" });
    const rejected = await stranger.check({ targets: [{ org: standIn.org, team: TEAM }] });
    expect(rejected.problems[0]).toMatch(/HTTP 401: Bad credentials\. GitHub did not accept Sesame's token/);
    expectNoSecret(rejected.problems, ["ghp_wrongwrongwrong"]);
    void githubError;
  });

  it("takes the token from the environment only, and counts grants per person and team", () => {
    expect(githubTeamConnectorSpec.secretFields).toEqual(["token"]);
    expect(() => resolveConnectorConfig("github", githubTeamConnectorSpec, { token: "ghp_literal" }, {})).toThrow(
      /config.token is a secret/,
    );
    expect(githubTeamConnectorSpec.entitlementOf?.({ org: "My-Org", team: "Admins", role: "maintainer" })).toEqual({
      org: "my-org",
      team: "admins",
    });
  });
});
