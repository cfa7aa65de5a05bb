import { afterAll, beforeAll } from "vitest";
import { runConnectionCutCases } from "./connection-cut.js";
import { gcpConnector, gcpContext, memberOf, PROJECT, ROLE } from "./gcp-iam-fixture.js";
import { GcpIamStandIn } from "./gcp-iam-stand-in.js";

/**
 * The gcp-iam connector against the LOCAL STAND-IN for the Cloud Resource Manager API (not
 * Google), which applies a setIamPolicy and then drops the connection before answering: the retry
 * reads the policy, finds its binding already there (or already gone) and writes nothing more.
 */

const standIn = new GcpIamStandIn();
let endpoint: string;
beforeAll(async () => {
  endpoint = await standIn.start();
});
afterAll(async () => {
  await standIn.stop();
});

const resource = `projects/${PROJECT}`;

runConnectionCutCases("gcp-iam, connection dropped", async () => ({
  // No quick retries: the cut must reach the caller, as it does once the quick retries are used up.
  connector: gcpConnector(standIn, endpoint, { retries: 0 }, { name: "gcp-cut" }),
  makeContext: () => gcpContext(),
  hasAccess: async (context) => standIn.hasRole(resource, ROLE, memberOf(context)),
  countAccess: async (context) =>
    standIn.bindings(resource).filter((binding) => binding.role === ROLE && binding.members.includes(memberOf(context)))
      .length,
  holdNext: () => standIn.holdNext("setIamPolicy"),
  cut: async () => standIn.cutHeld(),
  secrets: [standIn.token],
}));
