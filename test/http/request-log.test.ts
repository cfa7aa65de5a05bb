import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redactedUrl } from "../../src/http/request-log.js";
import { buildServer } from "../../src/http/server.js";
import type { ServiceDeps } from "../../src/services/deps.js";

/** An API token put in the query string (a mistake, or a tool that does so) never reaches the request log. */

const TOKEN = "ses_4fJq9w0cQy0m1tS3cR3tV4lu3-abcdefghij";
const ENV_TOKEN = "an-env-token-of-at-least-24-characters";
let app: FastifyInstance;
const lines: Record<string, any>[] = [];

beforeAll(async () => {
  app = await buildServer({
    // No route here reaches the services: the requests below stop at authentication or /healthz.
    deps: {} as ServiceDeps,
    resolveToken: async () => null,
    readiness: [],
    logLevel: "info",
    logStream: { write: (line: string) => void lines.push(JSON.parse(line)) },
  });
  await app.ready();
});
afterAll(() => app.close());

describe("the request log", () => {
  it("redacts query values that could be tokens, keeps the API's own filters", async () => {
    for (const url of [
      `/healthz?token=${TOKEN}`,
      `/api/v1/requests?access_token=${ENV_TOKEN}&status=pending&limit=5`,
      `/api/v1/grants?status=${TOKEN}`,
      `/api/v1/${TOKEN}`,
      "/api/v1/grants/g1?waitFor=active%2Crevoked&waitSeconds=30",
    ])
      await app.inject({ method: "GET", url });
    const logged = JSON.stringify(lines);
    expect(logged).not.toContain(TOKEN);
    expect(logged).not.toContain(ENV_TOKEN);
    const urls = lines.flatMap((line) => (line.req?.url ? [line.req.url as string] : []));
    expect(urls).toEqual([
      "/healthz?token=[redacted]",
      "/api/v1/requests?access_token=[redacted]&status=pending&limit=5",
      "/api/v1/grants?status=[redacted]",
      "/api/v1/[redacted]",
      "/api/v1/grants/g1?waitFor=active%2Crevoked&waitSeconds=30",
    ]);
  });

  it("leaves a URL without a query alone", () => {
    expect(redactedUrl("/api/v1/requests/3f2a9c1e")).toBe("/api/v1/requests/3f2a9c1e");
  });
});
