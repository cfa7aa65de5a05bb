import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildServer } from "../../src/http/server.js";
import type { ServiceDeps } from "../../src/services/deps.js";

/** The OpenAPI document has a page a person can read: Swagger UI at /api/v1/docs, served without a token. */

let app: FastifyInstance;

beforeAll(async () => {
  app = await buildServer({
    // Nothing here reaches the services: only the documentation routes are called.
    deps: {} as ServiceDeps,
    resolveToken: async () => null,
    readiness: [],
    logLevel: "silent",
  });
  await app.ready();
});
afterAll(() => app.close());

describe("GET /api/v1/docs", () => {
  it("answers Swagger UI's HTML page", async () => {
    let response = await app.inject({ method: "GET", url: "/api/v1/docs" });
    if (response.statusCode === 302) response = await app.inject({ method: "GET", url: response.headers.location! });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^text\/html/);
    expect(response.body).toContain("swagger-ui");
  });

  it("serves its assets from the package and the same document as /api/v1/openapi.json", async () => {
    const bundle = await app.inject({ method: "GET", url: "/api/v1/docs/static/swagger-ui-bundle.js" });
    expect(bundle.statusCode).toBe(200);
    const fromUi = (await app.inject({ method: "GET", url: "/api/v1/docs/json" })).json();
    const document = (await app.inject({ method: "GET", url: "/api/v1/openapi.json" })).json();
    expect(Object.keys(fromUi.paths)).toEqual(
      expect.arrayContaining(["/api/v1/requests", "/api/v1/grants/{id}/extend"]),
    );
    expect(fromUi.paths).toEqual(document.paths);
    // The UI's own routes are not API operations.
    expect(Object.keys(document.paths).filter((path) => path.startsWith("/api/v1/docs"))).toEqual([]);
  });
});
