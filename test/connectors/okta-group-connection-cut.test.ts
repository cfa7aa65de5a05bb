import { afterAll, beforeAll } from "vitest";
import { runConnectionCutCases } from "./connection-cut.js";
import { oktaConnector, oktaContext } from "./okta-group-fixture.js";
import { OktaStandIn } from "./okta-group-stand-in.js";

/**
 * The okta-group connector against the LOCAL STAND-IN for the Okta management API (not Okta),
 * which applies a membership change and then drops the connection before answering: the retry
 * finds the membership there (or gone) and changes nothing twice.
 */

const standIn = new OktaStandIn();
let orgUrl: string;
let groupId: string;
beforeAll(async () => {
  orgUrl = await standIn.start();
  groupId = standIn.addGroup("cut-group").id;
});
afterAll(async () => {
  await standIn.stop();
});

const userIdOf = (context: object) => (context as { userId: string }).userId;

runConnectionCutCases("okta-group, connection dropped", async () => ({
  // No quick retries: the cut must reach the caller, as it does once the quick retries are used up.
  connector: oktaConnector(standIn, orgUrl, { retries: 0 }, { name: "okta-cut" }),
  makeContext: () => oktaContext(standIn, groupId),
  hasAccess: async (context) => standIn.isMember(groupId, userIdOf(context)),
  holdNext: (action) => standIn.holdNext(`${action === "grant" ? "PUT" : "DELETE"} /api/v1/groups/${groupId}/users/`),
  cut: async () => standIn.cutHeld(),
  secrets: [standIn.token],
}));
