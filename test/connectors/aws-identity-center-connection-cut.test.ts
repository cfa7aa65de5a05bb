import { afterAll, beforeAll } from "vitest";
import {
  awsConnector,
  awsContext,
  countAssignments,
  hasAssignment,
  secretAccessKey,
} from "./aws-identity-center-fixture.js";
import { AwsIdentityCenterStandIn } from "./aws-identity-center-stand-in.js";
import { runConnectionCutCases } from "./connection-cut.js";

/**
 * The aws-identity-center connector against the LOCAL STAND-IN for AWS IAM Identity Center (not
 * AWS), which accepts a request and then drops its connection: the grant's CreateAccountAssignment
 * after AWS accepted it (the retry creates the same assignment again, which AWS keeps as one), the
 * revoke's DeleteAccountAssignment likewise.
 */

const standIn = new AwsIdentityCenterStandIn();
let endpoint: string;
beforeAll(async () => {
  endpoint = await standIn.start();
});
afterAll(async () => {
  await standIn.stop();
});

runConnectionCutCases("aws-identity-center, connection dropped", async () => ({
  // No quick retries: the cut must reach the caller, as it does once the quick retries are used up.
  connector: awsConnector(standIn, endpoint, { retries: 0 }, { name: "aws-cut" }),
  makeContext: () => awsContext(standIn),
  hasAccess: async (context) => hasAssignment(standIn, context),
  countAccess: async (context) => countAssignments(standIn, context),
  holdNext: (action) => standIn.holdNext(action === "grant" ? "CreateAccountAssignment" : "DeleteAccountAssignment"),
  cut: async () => standIn.cutHeld(),
  secrets: [secretAccessKey],
}));
