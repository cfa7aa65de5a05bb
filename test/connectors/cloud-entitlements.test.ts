import { describe, expect, it } from "vitest";
import { loadPolicyFile } from "../../src/config/policy-loader.js";
import { connectorValidators, createConnectorSet } from "../../src/connectors/connector-set.js";

/**
 * What the core counts as "the same access" for the cloud connectors, through the ConnectorSet the
 * grant and revoke services use (no target is contacted: building connectors makes no request).
 */

const EXAMPLE = new URL("../../examples/all-connectors.yaml", import.meta.url).pathname;
const env = {
  PG_SESAME_URL: "postgresql://sesame:pw@db.example.com:5432/app",
  MYSQL_SESAME_URL: "mysql://sesame:pw@mysql.example.com:3306/",
  REDIS_SESAME_URL: "redis://sesame:pw@cache.example.com:6379",
  K8S_SESAME_TOKEN: "k8s-token-k8s-token-k8s-token",
  WEBHOOK_SESAME_SECRET: "a-webhook-secret-of-at-least-32-characters",
  OKTA_SESAME_TOKEN: "00okta-token-okta-token",
  ENTRA_SESAME_CLIENT_SECRET: "entra-client-secret-value",
  GITHUB_SESAME_TOKEN: "ghp_github-token-value",
};
const PERMISSION_SET = "arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1234567890abcdef";

describe("entitlements of the cloud connectors", () => {
  it("aws-identity-center: one entitlement per person, account and permission set, so overlapping grants are counted", async () => {
    const connectors = await createConnectorSet(await loadPolicyFile(EXAMPLE, connectorValidators(env)), env);
    try {
      const key = (principal: string, target: Record<string, unknown>) =>
        connectors.entitlementKeyFor("aws", target, principal);
      const target = { accountId: "111122223333", permissionSetArn: PERMISSION_SET };
      expect(key("alice@example.com", target)).toBe(key("alice@example.com", { ...target }));
      expect(key("alice@example.com", target)).not.toBe(key("bob@example.com", target));
      expect(key("alice@example.com", target)).not.toBe(
        key("alice@example.com", { ...target, accountId: "444455556666" }),
      );
      expect(key("alice@example.com", target)).not.toBe(
        key("alice@example.com", { ...target, permissionSetArn: PERMISSION_SET.replace("ps-1234", "ps-9999") }),
      );
    } finally {
      await connectors.close();
    }
  });

  it("gcp-iam: every grant is its own conditional binding, so no two grants share an entitlement", async () => {
    const connectors = await createConnectorSet(await loadPolicyFile(EXAMPLE, connectorValidators(env)), env);
    try {
      const target = { project: "my-prod-project", role: "roles/logging.viewer" };
      expect(connectors.entitlementKeyFor("gcp", target, "alice@example.com")).not.toBe(
        connectors.entitlementKeyFor("gcp", target, "alice@example.com"),
      );
    } finally {
      await connectors.close();
    }
  });

  it("okta-group: one entitlement per person and group, so overlapping grants are counted", async () => {
    const connectors = await createConnectorSet(await loadPolicyFile(EXAMPLE, connectorValidators(env)), env);
    try {
      const key = (principal: string, groupId: string) => connectors.entitlementKeyFor("okta", { groupId }, principal);
      expect(key("alice@example.com", "00g1abcd2EFGH3ijk4x7")).toBe(key("alice@example.com", "00g1abcd2EFGH3ijk4x7"));
      expect(key("alice@example.com", "00g1abcd2EFGH3ijk4x7")).not.toBe(key("bob@example.com", "00g1abcd2EFGH3ijk4x7"));
      expect(key("alice@example.com", "00g1abcd2EFGH3ijk4x7")).not.toBe(
        key("alice@example.com", "00g9abcd2EFGH3ijk4x7"),
      );
    } finally {
      await connectors.close();
    }
  });

  it("entra-group: one entitlement per person and group (object ids in any case), so overlapping grants are counted", async () => {
    const connectors = await createConnectorSet(await loadPolicyFile(EXAMPLE, connectorValidators(env)), env);
    try {
      const group = "22222222-2222-2222-2222-22222222abcd";
      const key = (principal: string, groupId: string) => connectors.entitlementKeyFor("entra", { groupId }, principal);
      expect(key("alice@example.com", group)).toBe(key("alice@example.com", group.toUpperCase()));
      expect(key("alice@example.com", group)).not.toBe(key("bob@example.com", group));
    } finally {
      await connectors.close();
    }
  });

  it("github-team: one entitlement per person and team whatever the role, so overlapping grants are counted", async () => {
    const connectors = await createConnectorSet(await loadPolicyFile(EXAMPLE, connectorValidators(env)), env);
    try {
      const key = (principal: string, role: string) =>
        connectors.entitlementKeyFor("github", { org: "my-org", team: "platform-admins", role }, principal);
      expect(key("alice", "member")).toBe(key("alice", "maintainer"));
      expect(key("alice", "member")).not.toBe(key("bob", "member"));
    } finally {
      await connectors.close();
    }
  });
});
