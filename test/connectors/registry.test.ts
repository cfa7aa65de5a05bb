import { describe, expect, it } from "vitest";
import { NoopConnector } from "../../src/connectors/noop/noop-connector.js";
import { PostgresConnector } from "../../src/connectors/postgres/postgres-connector.js";
import {
  createConnector,
  getDefinition,
  listTypes,
  resolveConnectorConfig,
  validateTarget,
} from "../../src/connectors/registry.js";
import { expectNoSecret } from "./conformance.js";

const postgres = getDefinition("postgres");
const secretUrl = "postgresql://sesame:Very$ecret@db:5432/app";

const thrown = (work: () => unknown): unknown => {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
};

const rejection = (work: Promise<unknown>): Promise<unknown> =>
  work.then(
    () => {
      throw new Error("expected a rejection");
    },
    (error: unknown) => error,
  );

describe("connector registry", () => {
  it("knows every shipped connector, and names the known types for an unknown one", () => {
    const known = ["kerberos", "kubernetes", "mysql", "noop", "postgres", "redis-acl", "webhook"];
    expect(listTypes()).toEqual(expect.arrayContaining(known));
    expect(listTypes()).toEqual([...listTypes()].sort());
    expect(() => getDefinition("ldap")).toThrow(
      new RegExp(`Unknown connector type "ldap". Known types: .*${known.join(".*")}`),
    );
  });

  it("builds connectors from resolved config", async () => {
    expect(await createConnector({ name: "demo", type: "noop", config: {} })).toBeInstanceOf(NoopConnector);
    const connector = await createConnector({
      name: "db",
      type: "postgres",
      config: { url: secretUrl, connectTimeoutSeconds: "3" },
    });
    expect(connector).toBeInstanceOf(PostgresConnector);
    await connector.close?.();
  });

  it("names the connector and field of a bad config, without echoing a secret", async () => {
    const error = await rejection(
      createConnector({ name: "prod-db", type: "postgres", config: { url: secretUrl, ssl: "maybe" } }),
    );
    expect(error).toMatchObject({
      code: "config_invalid",
      userMessage: expect.stringMatching(/connector "prod-db" config\.ssl: /),
    });
    expect(
      await rejection(createConnector({ name: "prod-db", type: "postgres", config: { url: "https://p%zz@x" } })),
    ).toMatchObject({
      userMessage: expect.stringMatching(/config\.url: must be a postgresql:\/\/ connection string/),
    });
    expect(
      await rejection(
        createConnector({ name: "prod-db", type: "postgres", config: { url: "postgresql://u:50%ea@db/app" } }),
      ),
    ).toMatchObject({
      userMessage: expect.stringMatching(/config\.url: is not a valid URL \(percent-encode/),
    });
    expectNoSecret([JSON.stringify(error), (error as Error).message], [secretUrl]);
  });

  it("validates targets: defaults the mode, names the bad field", () => {
    expect(validateTarget("postgres", { role: "readonly" })).toEqual({
      mode: "membership",
      role: "readonly",
      terminateSessions: true,
    });
    expect(validateTarget("postgres", { mode: "login-role" })).toEqual({ mode: "login-role", memberOf: [] });
    expect(() => validateTarget("postgres", { mode: "membership" }, "prod-ro")).toThrow(
      /resource "prod-ro" target\.role: /,
    );
    expect(() => validateTarget("postgres", { role: "x".repeat(64) })).toThrow(
      /target\.role: must be at most 63 bytes/,
    );
    expect(() => validateTarget("postgres", { role: "r", rol: "typo" })).toThrow(/rol/);
  });
});

describe("resolveConnectorConfig", () => {
  it("replaces env references and returns the secret values", () => {
    const resolved = resolveConnectorConfig(
      "prod-db",
      postgres,
      { url: { env: "PROD_DB_URL" }, ssl: "require" },
      { PROD_DB_URL: secretUrl },
    );
    expect(resolved).toEqual({ config: { url: secretUrl, ssl: "require" }, secrets: [secretUrl] });
  });

  it("refuses a secret written literally, naming connector and field but not the value", () => {
    const error = thrown(() => resolveConnectorConfig("prod-db", postgres, { url: secretUrl }, {}));
    expect(error).toMatchObject({
      code: "config_invalid",
      userMessage: expect.stringMatching(/connector "prod-db" config\.url is a secret: write \{ env:/),
    });
    expectNoSecret([JSON.stringify(error), (error as Error).message], [secretUrl]);
  });

  it("names a missing or empty environment variable", () => {
    expect(() => resolveConnectorConfig("prod-db", postgres, { url: { env: "PROD_DB_URL" } }, {})).toThrow(
      /config\.url: environment variable PROD_DB_URL is not set/,
    );
    expect(() =>
      resolveConnectorConfig("prod-db", postgres, { url: { env: "PROD_DB_URL" } }, { PROD_DB_URL: "" }),
    ).toThrow(/PROD_DB_URL is not set/);
  });
});
