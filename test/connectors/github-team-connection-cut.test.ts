import { afterAll, beforeAll } from "vitest";
import { runConnectionCutCases } from "./connection-cut.js";
import { githubConnector, githubContext } from "./github-team-fixture.js";
import { GithubStandIn } from "./github-team-stand-in.js";

/**
 * The github-team connector against the LOCAL STAND-IN for the GitHub REST API (not GitHub), which
 * applies a membership change and then drops the connection before answering: the retry finds the
 * membership there (or gone) and changes nothing twice.
 */

const standIn = new GithubStandIn();
let apiUrl: string;
beforeAll(async () => {
  apiUrl = await standIn.start();
  standIn.addTeam("cut-team");
});
afterAll(async () => {
  await standIn.stop();
});

runConnectionCutCases("github-team, connection dropped", async () => ({
  connector: githubConnector(standIn, apiUrl, { retries: 0 }, { name: "github-cut" }),
  makeContext: () => githubContext(standIn, "cut-team"),
  hasAccess: async (context) => standIn.membership("cut-team", context.principal) !== undefined,
  holdNext: (action) =>
    standIn.holdNext(`${action === "grant" ? "PUT" : "DELETE"} /orgs/${standIn.org}/teams/cut-team/memberships/`),
  cut: async () => standIn.cutHeld(),
  secrets: [standIn.token],
}));
