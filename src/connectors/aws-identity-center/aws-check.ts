import { randomUUID } from "node:crypto";
import type { AwsApi } from "./aws-api.js";
import { AwsCallFailed, awsProblem, README } from "./aws-errors.js";
import type { AwsIdentityCenterTarget } from "./aws-identity-center-config.js";

/**
 * What `check()` asks AWS. Only calls without side effects: each read permission is probed with an
 * id that cannot exist (AWS answers "not found" when the call is allowed, AccessDenied when not).
 * CreateAccountAssignment and DeleteAccountAssignment cannot be probed without changing an
 * assignment; the README lists them, and the first grant names them if they are missing.
 */

/** Answers that prove the call was allowed and reached AWS. */
const ALLOWED_ANSWERS = new Set(["ResourceNotFoundException", "ValidationException"]);

type Probe = { what: string; call: () => Promise<unknown> };

export async function awsPermissionProblems(
  api: AwsApi,
  targets: readonly AwsIdentityCenterTarget[],
  secrets: readonly string[],
): Promise<string[]> {
  const unknownId = randomUUID();
  const probes: Probe[] = [
    { what: "look up Identity Center users", call: () => api.userIdOf(`sesame-check-${unknownId}`) },
    { what: "read assignment creation status", call: () => api.changeStatus("creation", unknownId) },
    { what: "read assignment deletion status", call: () => api.changeStatus("deletion", unknownId) },
    {
      what: "list a user's account assignments",
      call: () => api.assignmentExists(unknownId, { accountId: "000000000000", permissionSetArn: "" }),
    },
    ...[...new Set(targets.map((target) => target.permissionSetArn))].map((arn) => ({
      what: `read permission set ${arn}`,
      call: () => api.describePermissionSet(arn),
    })),
  ];
  const problems: string[] = [];
  for (const probe of probes) {
    try {
      await probe.call();
    } catch (error) {
      const name = error instanceof AwsCallFailed ? error.awsName : "";
      if (name === "AccessDeniedException" && error instanceof AwsCallFailed) {
        problems.push(
          `Sesame's AWS identity may not ${probe.what}: allow "${error.iamAction}" in its IAM policy (see ${README})`,
        );
        continue;
      }
      if (name === "ResourceNotFoundException" && probe.what.startsWith("read permission set")) {
        problems.push(`cannot ${probe.what}: it does not exist in the connector's instanceArn`);
        continue;
      }
      if (ALLOWED_ANSWERS.has(name)) continue;
      // Unreachable, bad credentials, garbage: every further probe would say the same.
      problems.push(awsProblem(`cannot ${probe.what}`, error, secrets));
      break;
    }
  }
  return problems;
}
