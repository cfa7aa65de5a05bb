import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TeamsTransport } from "../../../src/chat/teams/bot-framework-transport.js";
import { ALLOWED_ALGORITHMS, CHANNEL_ISSUER, ENTRA_ISSUERS } from "../../../src/chat/teams/bot-token-precheck.js";
import { messagesRoute } from "../../../src/chat/teams/teams-route.js";
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
const jwt = (header: unknown, claims: unknown, signature = "c2lnbmF0dXJl") =>
  [header, claims]
    .map((part) => (typeof part === "string" ? part : Buffer.from(JSON.stringify(part)).toString("base64url")))
    .concat(signature)
    .join(".");
const exp = Math.floor(Date.now() / 1000) + 600;
const RS256 = { alg: "RS256", kid: "nope", typ: "JWT" };
/** Bot Framework's shape, but no key signed it: only the SDK (with Microsoft's keys) can refuse it. */
const plausibleJwt = jwt(RS256, { iss: "https://api.botframework.com", aud: APP_ID, exp });
/** A token-shaped string from an issuer Bot Framework does not use (refused without any network). */
const unsignedJwt = jwt(RS256, { iss: "https://issuer.example", aud: APP_ID, exp });

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
      { authorization: `Bearer ${plausibleJwt}` },
      "11111111-2222-4333-8444-555555555555",
    );
    const response = await client.invoke(alice, "refresh", {
      sesame: { kind: "refresh", requestId: "3f2a9c1e-8b7d-4e6f-a5c4-1d2e3f4a5b6c" },
    });
    expect(response.status).toBe(403);
    await nothingHappened();
  });
});

describe("Teams: tokens that cannot be valid are refused before the SDK fetches any signing key", () => {
  const mode = { kind: "authenticated", appId: APP_ID, appPassword: "not-a-real-secret", tenantId: TENANT } as const;
  const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
  // The SDK is replaced by a transport that records what reaches it: reaching it means fetching Microsoft's keys.
  const reached: string[] = [];
  const transport: TeamsTransport = {
    async process(authorization) {
      reached.push(authorization);
      throw Object.assign(new Error("signature not checked in this test"), { statusCode: 401 });
    },
    async continue() {},
  };
  const app = Fastify();
  messagesRoute(app, { mode, transport, logger: silent as never, handle: async () => undefined });
  const activity = (token: string) =>
    app.inject({
      method: "POST",
      url: "/api/messages",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      payload: new TeamsClient("http://unused", "https://smba.trafficmanager.net/amer/", {}, TENANT).base(
        alice,
        "message",
        { text: "hello" },
      ),
    });
  afterAll(() => app.close());

  const botClaims = { iss: "https://api.botframework.com", aud: APP_ID, exp };
  it.each([
    ["alg none (empty signature)", jwt({ alg: "none", typ: "JWT" }, botClaims, "")],
    ["alg none (with a signature)", jwt({ alg: "none", typ: "JWT" }, botClaims)],
    ["HS256 (a key anyone could guess)", jwt({ alg: "HS256", typ: "JWT" }, botClaims)],
    ["ES256", jwt({ alg: "ES256", kid: "k" }, botClaims)],
    ["a header that is not JSON", jwt(Buffer.from("{not json").toString("base64url"), botClaims)],
    ["a header without alg", jwt({ typ: "JWT", kid: "k" }, botClaims)],
    ["claims that are not JSON", jwt(RS256, Buffer.from("[[[").toString("base64url"))],
    ["another issuer", jwt(RS256, { ...botClaims, iss: "https://issuer.example" })],
    [
      "another tenant's Entra issuer",
      jwt(RS256, { ...botClaims, iss: "https://sts.windows.net/11111111-2222-4333-8444-555555555555/" }),
    ],
    ["another bot as audience", jwt(RS256, { ...botClaims, aud: "99999999-8888-4777-8666-555555555555" })],
    ["no audience", jwt(RS256, { iss: botClaims.iss, exp })],
    // The SDK would remember this tenant's issuers in a process-wide list before checking anything.
    ["another tenant named in tid", jwt(RS256, { ...botClaims, tid: "11111111-2222-4333-8444-555555555555" })],
  ])("answers 401 at once for %s", async (_what, token) => {
    const before = reached.length;
    const response = await activity(token);
    expect(response.statusCode).toBe(401);
    expect(reached).toHaveLength(before);
  });

  it("hands a token of the right shape to the SDK, which alone can check its signature", async () => {
    const response = await activity(plausibleJwt);
    expect(response.statusCode).toBe(401);
    expect(reached.at(-1)).toBe(`Bearer ${plausibleJwt}`);
    const fromOwnTenant = jwt(RS256, {
      iss: `https://login.microsoftonline.com/${TENANT}/v2.0`,
      aud: "x",
      azp: APP_ID,
    });
    await activity(fromOwnTenant);
    expect(reached.at(-1)).toBe(`Bearer ${fromOwnTenant}`);
  });

  it("knows the same algorithms and issuers as the installed Bot Framework SDK", async () => {
    const sdk = await import("botframework-connector");
    expect([...ALLOWED_ALGORITHMS]).toEqual(sdk.AuthenticationConstants.AllowedSigningAlgorithms);
    expect(CHANNEL_ISSUER).toBe(sdk.AuthenticationConstants.ToBotFromChannelTokenIssuer);
    expect(sdk.ToBotFromBotOrEmulatorTokenValidationParameters.issuer).toEqual(
      expect.arrayContaining([...ENTRA_ISSUERS]),
    );
  });
});
