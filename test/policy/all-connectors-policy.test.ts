import { describe, expect, it } from "vitest";
import { loadPolicyFile } from "../../src/config/policy-loader.js";
import { connectorValidators, createConnectorSet } from "../../src/connectors/connector-set.js";
import { listTypes } from "../../src/connectors/registry.js";

/** Every shipped connector type is usable from the policy file alone, with no code change. */

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

describe("examples/all-connectors.yaml", () => {
  it("uses every connector type Sesame ships", async () => {
    const policy = await loadPolicyFile(EXAMPLE, connectorValidators(env));
    expect(new Set(Object.values(policy.connectors).map((c) => c.type))).toEqual(new Set(listTypes()));
  });

  it("validates each connector's config and each resource's target, and builds every connector", async () => {
    const policy = await loadPolicyFile(EXAMPLE, connectorValidators(env));
    const connectors = await createConnectorSet(policy, env);
    try {
      expect(connectors.names().sort()).toEqual(Object.keys(policy.connectors).sort());
    } finally {
      await connectors.close();
    }
  });

  it("names the missing environment variable of each secret", async () => {
    const error = await loadPolicyFile(EXAMPLE, connectorValidators({})).catch((caught: unknown) => caught);
    const text = String((error as Error).message);
    for (const name of Object.keys(env)) expect(text).toContain(name);
  });

  it("refuses a target the connector would refuse, with its line", async () => {
    const { readFile, writeFile, mkdtemp } = await import("node:fs/promises");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const broken = (await readFile(EXAMPLE, "utf8")).replace(
      "namespace: payments, clusterRole: view",
      "namespace: Payments!, clusterRole: view",
    );
    const path = join(await mkdtemp(join(tmpdir(), "sesame-")), "policy.yaml");
    await writeFile(path, broken);
    await expect(loadPolicyFile(path, connectorValidators(env))).rejects.toThrow(
      /policy\.yaml:\d+:\d+ resources\.payments-view/,
    );
  });
});
