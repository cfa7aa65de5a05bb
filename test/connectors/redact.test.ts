import { describe, expect, it } from "vitest";
import { REDACTED, redactSecrets, toConnectorError } from "../../src/connectors/redact.js";
import { AppError } from "../../src/domain/errors.js";
import { expectNoSecret } from "./conformance.js";

const url = "postgresql://sesame:p%40ss%2Fw0rd@db.internal:5432/app";

describe("redactSecrets", () => {
  it("removes a secret in every spelling: whole URL, encoded and decoded password", () => {
    const text = `connect to ${url} failed; password p%40ss%2Fw0rd aka p@ss/w0rd; json "p@ss/w0rd"`;
    const redacted = redactSecrets(text, [url]);
    expectNoSecret([redacted], [url]);
    expect(redacted).toBe(`connect to ${REDACTED} failed; password ${REDACTED} aka ${REDACTED}; json "${REDACTED}"`);
  });

  it("removes passwords embedded in URLs it was never told about", () => {
    expect(redactSecrets("dial redis://default:hunter2@cache:6379 and postgres://u:pw@h/db", [])).toBe(
      `dial redis://default:${REDACTED}@cache:6379 and postgres://u:${REDACTED}@h/db`,
    );
  });

  it("leaves text without secrets alone", () => {
    expect(redactSecrets("connect ECONNREFUSED 127.0.0.1:5432", ["unrelated-secret"])).toBe(
      "connect ECONNREFUSED 127.0.0.1:5432",
    );
  });
});

describe("toConnectorError", () => {
  const options = { connector: "prod-db", action: "grant access", secrets: [url], hint: "Check the url." };

  it("wraps a driver error into a connector_failed AppError without the secret or the original error", () => {
    const driverError = Object.assign(new Error(`could not connect with ${url}`), { code: "ECONNREFUSED", input: url });
    const error = toConnectorError(driverError, options);
    expect(error).toMatchObject({
      code: "connector_failed",
      details: { connector: "prod-db", action: "grant access", driverCode: "ECONNREFUSED" },
    });
    expect(error.userMessage).toBe(
      `Connector "prod-db" could not grant access: could not connect with ${REDACTED}. Check the url.`,
    );
    expect(error.cause).toBeUndefined();
    expectNoSecret([error.message, error.userMessage, error.stack ?? "", JSON.stringify(error)], [url]);
  });

  it("describes Node's empty-message AggregateError by its parts", () => {
    const aggregate = new AggregateError(
      [Object.assign(new Error("connect ECONNREFUSED ::1:5432"), { code: "ECONNREFUSED" })],
      "",
    );
    expect(toConnectorError(aggregate, options).userMessage).toContain("connect ECONNREFUSED ::1:5432");
  });

  it("keeps the code of an AppError raised by the connector itself, and still redacts it", () => {
    const inner = new AppError("config_invalid", `bad target near ${url}`, { details: { seen: url } });
    const error = toConnectorError(inner, options);
    expect(error.code).toBe("config_invalid");
    expect(error.userMessage).toBe(`Connector "prod-db" could not grant access: bad target near ${REDACTED}`);
    expectNoSecret([error.message, error.userMessage, JSON.stringify(error.details)], [url]);
  });
});
