import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  type AwsIdentityCenterConnector,
  awsIdentityCenterConnectorDefinition,
} from "../../src/connectors/aws-identity-center/aws-identity-center-connector.js";
import { awsIdentityCenterConnectorSpec } from "../../src/connectors/aws-identity-center/aws-identity-center-spec.js";
import {
  awsConnector,
  awsContext,
  countAssignments,
  hasAssignment,
  recordingSleep,
  secretAccessKey,
} from "./aws-identity-center-fixture.js";
import {
  ACCOUNT_ID,
  AwsIdentityCenterStandIn,
  awsError,
  IDENTITY_STORE_ID,
  INSTANCE_ARN,
  OTHER_PERMISSION_SET_ARN,
  PERMISSION_SET_ARN,
} from "./aws-identity-center-stand-in.js";
import { errorTexts, expectNoSecret, runConnectorConformance } from "./conformance.js";
import { closedPort, failure } from "./webhook-fixture.js";

/**
 * The aws-identity-center connector against a LOCAL STAND-IN for AWS IAM Identity Center
 * (aws-identity-center-stand-in.ts), not AWS: no AWS endpoint is reachable from the test machine.
 * The real @aws-sdk/client-sso-admin and client-identitystore talk to it over the AWS JSON 1.1
 * protocol; assignment changes are asynchronous there as at AWS.
 */

const standIn = new AwsIdentityCenterStandIn();
let endpoint: string;
let connector: AwsIdentityCenterConnector;
beforeAll(async () => {
  endpoint = await standIn.start();
  connector = awsConnector(standIn, endpoint);
});
afterAll(async () => {
  await connector?.close();
  await standIn.stop();
});

runConnectorConformance(
  "aws-identity-center",
  async () => ({
    connector: awsConnector(standIn, endpoint),
    makeContext: () => awsContext(standIn),
    hasAccess: async (context) => hasAssignment(standIn, context),
    countAccess: async (context) => countAssignments(standIn, context),
    removeOutOfBand: async (context) => {
      const userId = [...standIn.users.values()].find((user) => user.email === context.principal)?.userId;
      const index = standIn.assignments.findIndex((item) => item.principalId === userId);
      if (index >= 0) standIn.assignments.splice(index, 1);
    },
    secrets: [secretAccessKey],
    breakConnector: async () =>
      awsConnector(standIn, `http://127.0.0.1:${await closedPort()}`, { retries: 1 }, { name: "aws-unreachable" }),
    makeFailingContext: () => ({ ...awsContext(standIn), principal: "nobody@example.com" }),
  }),
  { brokenConnector: true, failingContext: true },
);

describe("aws-identity-center connector", () => {
  it("waits for the assignment to settle: IN_PROGRESS is polled until SUCCEEDED, and only then is the grant done", async () => {
    const { waits, sleep } = recordingSleep();
    const polling = awsConnector(standIn, endpoint, { statusPollSeconds: 3 }, { sleep });
    standIn.pollsUntilSettled = 3;
    try {
      const context = awsContext(standIn);
      const before = standIn.calls.length;
      const receipt = await polling.grant(context);
      const operations = standIn.calls.slice(before).map((call) => call.operation);
      expect(operations).toEqual([
        "GetUserId",
        "CreateAccountAssignment",
        "DescribeAccountAssignmentCreationStatus",
        "DescribeAccountAssignmentCreationStatus",
        "DescribeAccountAssignmentCreationStatus",
      ]);
      expect(waits).toEqual([3000, 3000, 3000]);
      expect(hasAssignment(standIn, context)).toBe(true);
      const userId = standIn.userIdOf(context.principal.split("@")[0]!);
      expect(receipt.data).toEqual({
        accountId: ACCOUNT_ID,
        permissionSetArn: PERMISSION_SET_ARN,
        userId,
        awsRequestId: expect.any(String),
      });
      const create = standIn.calls[before + 1]!.body;
      expect(create).toMatchObject({ TargetType: "AWS_ACCOUNT", PrincipalType: "USER", PrincipalId: userId });
      await polling.revoke({ ...context, receipt: receipt.data });
      expect(hasAssignment(standIn, context)).toBe(false);
      expect(standIn.calls.at(-1)?.operation).toBe("DescribeAccountAssignmentDeletionStatus");
    } finally {
      standIn.pollsUntilSettled = 2;
      await polling.close();
    }
  });

  it("fails the grant when AWS reports the assignment FAILED after accepting it (AWS TEAM #522)", async () => {
    const context = awsContext(standIn);
    standIn.failNextChange("Received a 404 status error: Not supported policy arn:aws:iam::aws:policy/Missing.");
    const error = await failure(connector.grant(context));
    expect(error).toMatchObject({ code: "connector_failed" });
    expect(error.userMessage).toMatch(
      /could not grant access: AWS failed creating the account assignment \(request [0-9a-f-]+\): Received a 404 status error: Not supported policy/,
    );
    expect(hasAssignment(standIn, context)).toBe(false);
    // The retry succeeds once the cause is gone.
    await connector.grant(context);
    expect(hasAssignment(standIn, context)).toBe(true);
    await connector.revoke({ ...context, receipt: null });
  });

  it("fails a revoke whose deletion AWS reports FAILED, and keeps the assignment for the retry", async () => {
    const context = awsContext(standIn);
    const receipt = await connector.grant(context);
    standIn.failNextChange("Internal failure");
    const error = await failure(connector.revoke({ ...context, receipt: receipt.data }));
    expect(error.userMessage).toMatch(
      /could not revoke access: AWS failed deleting the account assignment .*Internal failure/,
    );
    expect(await connector.verifyRevoked({ ...context, receipt: receipt.data })).toBe(false);
    await connector.revoke({ ...context, receipt: receipt.data });
    expect(await connector.verifyRevoked({ ...context, receipt: receipt.data })).toBe(true);
  });

  it("stops waiting after statusTimeoutSeconds and fails the call as retryable", async () => {
    const bounded = awsConnector(standIn, endpoint, { statusPollSeconds: 2, statusTimeoutSeconds: 5 });
    standIn.pollsUntilSettled = 100;
    try {
      const context = awsContext(standIn);
      const error = await failure(bounded.grant(context));
      expect(error.userMessage).toMatch(
        /AWS was still creating the account assignment \(request [0-9a-f-]+\) after 5 s; it will be retried/,
      );
      // ceil(5 / 2) status reads after the create, then it gave up.
      expect(standIn.calls.slice(-3).map((call) => call.operation)).toEqual(
        Array(3).fill("DescribeAccountAssignmentCreationStatus"),
      );
    } finally {
      standIn.pollsUntilSettled = 2;
      await bounded.close();
    }
  });

  it("retries throttling (ThrottlingException, HTTP 429) with backoff, and waits out a conflicting change", async () => {
    const { waits, sleep } = recordingSleep();
    const throttled = awsConnector(standIn, endpoint, {}, { sleep });
    try {
      const context = awsContext(standIn);
      standIn.script(
        { ...awsError("ThrottlingException", "Rate exceeded"), operation: "GetUserId" },
        { ...awsError("TooManyRequestsException", "Too many requests", 429), operation: "CreateAccountAssignment" },
        {
          ...awsError("ConflictException", "An account assignment operation is already in progress."),
          operation: "CreateAccountAssignment",
        },
      );
      await throttled.grant(context);
      expect(hasAssignment(standIn, context)).toBe(true);
      // Two quick retries after a backoff (under 5 s), one wait of a status poll (1 s) for the conflict to clear.
      expect(waits).toHaveLength(3 + 2);
      expect(waits.filter((ms) => ms !== 1000)).toHaveLength(2);
      expect(waits.every((ms) => ms > 0 && ms <= 5000)).toBe(true);
      await throttled.revoke({ ...context, receipt: null });
    } finally {
      await throttled.close();
    }
  });

  it("gives up after its retries when AWS keeps throttling, and says so", async () => {
    const impatient = awsConnector(standIn, endpoint, { retries: 2 });
    try {
      standIn.script(...Array.from({ length: 3 }, () => awsError("ThrottlingException", "Rate exceeded")));
      const error = await failure(impatient.grant(awsContext(standIn)));
      expect(error.userMessage).toMatch(/ThrottlingException \(HTTP 400\): Rate exceeded\. AWS kept throttling Sesame/);
    } finally {
      await impatient.close();
    }
  });

  it("fails in words when the endpoint answers garbage, without retrying it", async () => {
    const context = awsContext(standIn);
    standIn.script({ status: 200, body: "<html><body>Welcome to nginx</body></html>" });
    const before = standIn.calls.length;
    const error = await failure(connector.grant(context));
    expect(standIn.calls.length - before).toBe(1);
    expect(error.userMessage).toMatch(/not the AWS API.*Check the connector's endpoint/);
    expectNoSecret(errorTexts(error), [secretAccessKey]);
  });

  it("fails a call the endpoint accepts but never answers after requestTimeoutSeconds", async () => {
    const hanging = awsConnector(standIn, endpoint, { requestTimeoutSeconds: 0.2, retries: 0 });
    try {
      const held = standIn.holdNext("GetUserId");
      const error = await failure(hanging.grant(awsContext(standIn)));
      await held;
      expect(error).toMatchObject({ code: "connector_failed" });
      expect(error.userMessage).toMatch(/could not grant access: .*Check the connector's region and endpoint/);
    } finally {
      standIn.cutHeld();
      await hanging.close();
    }
  });

  it("takes its credentials from the environment when built as the registry builds it", async () => {
    vi.stubEnv("AWS_ACCESS_KEY_ID", standIn.accessKeyId);
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", secretAccessKey);
    const config = awsIdentityCenterConnectorDefinition.configSchema.parse({
      region: "eu-west-1",
      instanceArn: INSTANCE_ARN,
      identityStoreId: IDENTITY_STORE_ID,
      endpoint,
      statusPollSeconds: 0.01,
    });
    const fromEnvironment = awsIdentityCenterConnectorDefinition.create(config, { name: "aws-env", secrets: [] });
    try {
      const context = awsContext(standIn);
      await fromEnvironment.grant(context);
      expect(hasAssignment(standIn, context)).toBe(true);
      await fromEnvironment.revoke({ ...context, receipt: null });
      expect(hasAssignment(standIn, context)).toBe(false);
    } finally {
      vi.unstubAllEnvs();
      await fromEnvironment.close?.();
    }
  });

  it("looks users up by user name when principalAttribute is userName", async () => {
    const byName = awsConnector(standIn, endpoint, { principalAttribute: "userName" });
    try {
      const context = awsContext(standIn);
      const userName = context.principal.split("@")[0]!;
      const named = { ...context, principal: userName };
      await byName.grant(named);
      expect(hasAssignment(standIn, context)).toBe(true);
      expect(
        standIn.calls.find((call) => call.operation === "GetUserId" && JSON.stringify(call.body).includes(userName))
          ?.body,
      ).toMatchObject({
        AlternateIdentifier: { UniqueAttribute: { AttributePath: "userName", AttributeValue: userName } },
      });
      await byName.revoke({ ...named, receipt: null });
      expect(hasAssignment(standIn, context)).toBe(false);
    } finally {
      await byName.close();
    }
  });

  it("leaves the user's other permission sets and group assignments alone on revoke", async () => {
    const context = awsContext(standIn);
    const userName = context.principal.split("@")[0]!;
    const userId = standIn.userIdOf(userName)!;
    standIn.users.get(userName)!.groupIds.push("group-ops");
    const other = {
      principalType: "USER" as const,
      principalId: userId,
      accountId: ACCOUNT_ID,
      permissionSetArn: OTHER_PERMISSION_SET_ARN,
    };
    const viaGroup = {
      principalType: "GROUP" as const,
      principalId: "group-ops",
      accountId: ACCOUNT_ID,
      permissionSetArn: PERMISSION_SET_ARN,
    };
    standIn.assignments.push(other, viaGroup);
    const receipt = await connector.grant(context);
    await connector.revoke({ ...context, receipt: receipt.data });
    expect(hasAssignment(standIn, context)).toBe(false);
    expect(standIn.assignments).toContainEqual(other);
    expect(standIn.assignments).toContainEqual(viaGroup);
    // The group's assignment of the same permission set is not Sesame's: verifyRevoked says gone.
    expect(await connector.verifyRevoked({ ...context, receipt: receipt.data })).toBe(true);
  });

  it("declares one entitlement per person, account and permission set, whatever else the target says", () => {
    const target = awsIdentityCenterConnectorSpec.targetSchema.parse({
      accountId: ACCOUNT_ID,
      permissionSetArn: PERMISSION_SET_ARN,
    });
    expect(awsIdentityCenterConnectorSpec.entitlementOf?.(target)).toEqual({
      accountId: ACCOUNT_ID,
      permissionSetArn: PERMISSION_SET_ARN,
    });
    expect(awsIdentityCenterConnectorSpec.keepsGrantsApart).toBeUndefined();
  });

  it("check() probes each read permission and names the missing one", async () => {
    expect(
      await connector.check({ targets: [{ accountId: ACCOUNT_ID, permissionSetArn: PERMISSION_SET_ARN }] }),
    ).toEqual({
      ok: true,
      problems: [],
    });
    standIn.denied.add("GetUserId");
    standIn.denied.add("DescribeAccountAssignmentDeletionStatus");
    try {
      const missingSet = PERMISSION_SET_ARN.replace("aaaabbbb", "99999999");
      const result = await connector.check({
        targets: [
          { accountId: "12", permissionSetArn: PERMISSION_SET_ARN },
          { accountId: ACCOUNT_ID, permissionSetArn: missingSet },
        ],
      });
      expect(result).toEqual({
        ok: false,
        problems: [
          expect.stringMatching(/^target 1\.accountId: must be a 12-digit AWS account id/),
          expect.stringMatching(
            /^Sesame's AWS identity may not look up Identity Center users: allow "identitystore:GetUserId"/,
          ),
          expect.stringMatching(
            /may not read assignment deletion status: allow "sso:DescribeAccountAssignmentDeletionStatus"/,
          ),
          `cannot read permission set ${missingSet}: it does not exist in the connector's instanceArn`,
        ],
      });
    } finally {
      standIn.denied.clear();
    }
  });

  it("names the IAM action a grant was denied, and rejected credentials, in words", async () => {
    standIn.denied.add("CreateAccountAssignment");
    try {
      const error = await failure(connector.grant(awsContext(standIn)));
      expect(error.userMessage).toMatch(
        /AccessDeniedException \(HTTP 400\): .*Sesame's AWS identity may not call sso:CreateAccountAssignment: allow "sso:CreateAccountAssignment" in its IAM policy/,
      );
    } finally {
      standIn.denied.clear();
    }
    const stranger = awsConnector(standIn, endpoint, {}, { name: "aws-stranger", accessKeyId: "AKIAUNKNOWN000000000" });
    try {
      const result = await stranger.check();
      expect(result.ok).toBe(false);
      expect(result.problems).toEqual([
        expect.stringMatching(
          /^cannot look up Identity Center users: UnrecognizedClientException \(HTTP 400\): .*AWS did not accept Sesame's credentials/,
        ),
      ]);
      expectNoSecret(result.problems, [secretAccessKey]);
    } finally {
      await stranger.close();
    }
  });
});
