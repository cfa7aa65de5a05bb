import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatModes } from "../../../src/config/chat-env.js";
import { EnvError, parseEnv } from "../../../src/config/env.js";
import { startSesame, type TestSesame } from "../../helpers/sesame.js";
import { type ConnectorStandIn, startConnectorStandIn } from "./connector-stand-in.js";
import { TeamsClient, teamsUser } from "./teams-client.js";

/** Authenticated (single-tenant) mode refuses what it cannot verify; development mode cannot run in production. */

const TENANT = "0b6f3a7e-52c1-4d8e-9f0a-6c2b1d4e8f35";
const APP_ID = "4c8e2f1a-7b3d-4e5f-8a9b-0c1d2e3f4a5b";
const alice = teamsUser("alice");
const POLICY = `
version: 1
people:
  - { id: alice, email: alice@example.com, teams: ${alice.aadObjectId} }
connectors:
  demo: { type: noop }
resources:
  demo-admin: { connector: demo }
policies:
  - id: demo
    resources: [demo-admin]
    requesters: { everyone: true }
    duration: { default: 30m, max: 2h }
    approvers: { users: [alice] }
`;

const base = {
  DATABASE_URL: "postgresql://x@127.0.0.1/x",
  REDIS_URL: "redis://127.0.0.1:6379",
  SESAME_POLICY_FILE: "examples/policy.yaml",
  SESAME_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString("base64"),
};
/** A token-shaped string no key signed, from an issuer Bot Framework does not use (checked without any network). */
const unsignedJwt = [
  { alg: "RS256", kid: "nope", typ: "JWT" },
  { iss: "https://issuer.example", aud: APP_ID, exp: Math.floor(Date.now() / 1000) + 600 },
]
  .map((part) => Buffer.from(JSON.stringify(part)).toString("base64url"))
  .concat("c2lnbmF0dXJl")
  .join(".");

describe("Teams development mode (no credentials)", () => {
  it("is refused when NODE_ENV=production: the process does not start", async () => {
    const env = parseEnv({ ...base, TEAMS_DEV_NO_AUTH: "true", NODE_ENV: "production" });
    expect(() => chatModes(env)).toThrow(EnvError);
    expect(() => chatModes(env)).toThrow(/TEAMS_DEV_NO_AUTH: .*refused when NODE_ENV=production/);
    await expect(
      startSesame("teamsprod", {
        policy: POLICY,
        identities: [],
        env: { TEAMS_DEV_NO_AUTH: "true", NODE_ENV: "production" },
      }),
    ).rejects.toThrow(EnvError);
  });

  it("must be switched on explicitly: no Teams variables means no Teams", () => {
    expect(chatModes(parseEnv({ ...base, NODE_ENV: "development" })).teams).toEqual({ kind: "off" });
    expect(chatModes(parseEnv({ ...base, NODE_ENV: "development", TEAMS_DEV_NO_AUTH: "true" })).teams).toEqual({
      kind: "development",
    });
  });
});

describe("Teams authenticated mode", () => {
  let standIn: ConnectorStandIn;
  let sesame: TestSesame;

  beforeAll(async () => {
    standIn = await startConnectorStandIn();
    sesame = await startSesame("teamsauth", {
      policy: POLICY,
      identities: [],
      env: {
        TEAMS_APP_ID: APP_ID,
        TEAMS_APP_PASSWORD: "not-a-real-secret",
        TEAMS_TENANT_ID: TENANT,
        NODE_ENV: "production",
      },
    });
  }, 60_000);
  afterAll(async () => {
    await sesame?.stop();
    await standIn?.close();
  });

  const nothingHappened = async () => {
    expect(standIn.sent).toEqual([]);
    expect(standIn.memberLookups).toEqual([]);
    expect(await sesame.runtime.chat.store.conversation("teams", alice.aadObjectId)).toBeNull();
    expect(await sesame.runtime.deps.store.listRequests({ requesterId: "alice", limit: 10 })).toEqual([]);
  };

  it.each([
    ["no Authorization header", {}],
    ["a header that is not a bearer token", { authorization: "Basic YWxpY2U6c2VjcmV0" }],
    ["a garbage bearer token", { authorization: "Bearer garbage" }],
  ])("answers 401 and does nothing for %s", async (_what, headers) => {
    const client = new TeamsClient(sesame.baseUrl, standIn.url, headers, TENANT);
    const response = await client.message(alice, "request-access demo-admin 1h hello");
    expect(response.status).toBe(401);
    await nothingHappened();
  });

  it("answers 401 for a token-shaped bearer the SDK cannot verify", async () => {
    const client = new TeamsClient(sesame.baseUrl, standIn.url, { authorization: `Bearer ${unsignedJwt}` }, TENANT);
    const response = await client.message(alice, "request-access demo-admin 1h hello");
    expect(response.status).toBe(401);
    await nothingHappened();
  });

  it("refuses an activity from another tenant with 403, before any processing", async () => {
    const client = new TeamsClient(
      sesame.baseUrl,
      standIn.url,
      { authorization: `Bearer ${unsignedJwt}` },
      "11111111-2222-4333-8444-555555555555",
    );
    const response = await client.invoke(alice, "refresh", {
      sesame: { kind: "refresh", requestId: "3f2a9c1e-8b7d-4e6f-a5c4-1d2e3f4a5b6c" },
    });
    expect(response.status).toBe(403);
    await nothingHappened();
  });
});
