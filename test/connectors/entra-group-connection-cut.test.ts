import { afterAll, beforeAll } from "vitest";
import { runConnectionCutCases } from "./connection-cut.js";
import { entraConnector, entraContext } from "./entra-group-fixture.js";
import { EntraStandIn } from "./entra-group-stand-in.js";

/**
 * The entra-group connector against the LOCAL STAND-IN for Microsoft Graph (not Microsoft), which
 * applies a membership change and then drops the connection before answering: the retry finds the
 * membership there (or gone) and changes nothing twice.
 */

const standIn = new EntraStandIn();
let groupId: string;
beforeAll(async () => {
  await standIn.start();
  groupId = standIn.addGroup("cut-group").id;
});
afterAll(async () => {
  await standIn.stop();
});

const userIdOf = (context: object) => (context as { userId: string }).userId;

runConnectionCutCases("entra-group, connection dropped", async () => ({
  connector: entraConnector(standIn, { retries: 0 }, { name: "entra-cut" }),
  makeContext: () => entraContext(standIn, groupId),
  hasAccess: async (context) => standIn.isMember(groupId, userIdOf(context)),
  holdNext: (action) => standIn.holdNext(`${action === "grant" ? "POST" : "DELETE"} /v1.0/groups/${groupId}/members`),
  cut: async () => standIn.cutHeld(),
  secrets: [standIn.clientSecret],
}));
