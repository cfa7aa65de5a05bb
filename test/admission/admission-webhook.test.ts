import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Admission } from "../../src/admission/start-admission.js";
import { createGrantChangeBus } from "../../src/jobs/grant-changes.js";
import { FEED_APPLICATION_NAME } from "../../src/storage/grant-change-feed.js";
import { adminQuery } from "../helpers/database.js";
import { describeWith, missingPrerequisite } from "../helpers/prerequisites.js";
import { startSesame, type TestSesame } from "../helpers/sesame.js";
import { waitFor } from "../helpers/wait.js";
import { activeGrant } from "../integration/support.js";
import {
  deleteDeploymentReview,
  execReview,
  postJson,
  postTls,
  writeSelfSignedCertificate,
} from "./admission-reviews.js";

/**
 * The validating admission webhook end to end: a whole Sesame started with
 * examples/kubernetes-guardrails.yaml, reviews shaped as the API server sends them (no API server
 * can run here, so the test plays its part), grants made and revoked through the REST API. Every
 * wait is on the in-memory view taking a change in (its `until`), never on a timer.
 */

const EXAMPLE = new URL("../../examples/kubernetes-guardrails.yaml", import.meta.url);
const REQUEST_HINT = "/request-access prod-exec 30m <reason>";

let sesame: TestSesame;
let admission: Admission;
let certDir: string;
let ca: string | undefined;

beforeAll(async () => {
  certDir = await mkdtemp(join(tmpdir(), "sesame-admission-"));
  const tlsEnv: Record<string, string> = { SESAME_ADMISSION_PLAIN_HTTP: "true" };
  if (missingPrerequisite("openssl") === undefined) {
    const paths = await writeSelfSignedCertificate(certDir);
    ca = await readFile(paths.cert, "utf8");
    Object.assign(tlsEnv, {
      SESAME_ADMISSION_PORT: "0",
      SESAME_ADMISSION_TLS_CERT: paths.cert,
      SESAME_ADMISSION_TLS_KEY: paths.key,
    });
  }
  sesame = await startSesame("admission", {
    policy: await readFile(EXAMPLE, "utf8"),
    identities: ["alice", "bob", "dave"],
    env: tlsEnv,
  });
  admission = sesame.started.admission!;
});

afterAll(async () => {
  await sesame?.stop();
  await rm(certDir, { recursive: true, force: true });
});

const review = (body: unknown, path = "/k8s/admission") => postJson(`${sesame.baseUrl}${path}`, body);

async function admissionEvents(uid: string) {
  await admission.audit.flush();
  const rows = await sesame.runtime.db.auditEvent.findMany({ where: { type: { startsWith: "admission." } } });
  return rows.filter((row) => (row.data as { uid?: string }).uid === uid);
}

/** Revokes as admin dave, and returns once the view no longer holds the grant. */
async function revoke(grantId: string): Promise<void> {
  const revoked = await sesame.api("dave", "POST", `/api/v1/grants/${grantId}/revoke`, { reason: "done" });
  expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
  await admission.view.until(() => !admission.view.has(grantId));
}

async function grantToAlice(): Promise<string> {
  const { grantId } = await activeGrant(sesame, "alice", "bob", { resource: "prod-exec", reason: "debug web" });
  await admission.view.until(() => admission.view.has(grantId));
  return grantId;
}

describe("admission webhook: guarded operations need an active grant", () => {
  it("refuses exec in prod without a grant, saying exactly what to request", async () => {
    const body = execReview();
    const answer = await review(body);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: {
        uid: body.request.uid,
        allowed: false,
        status: { code: 403, message: expect.stringContaining(REQUEST_HINT) },
      },
    });
    expect(answer.body.response.status.message).toMatch(/exec into pods\/web-7d4b9c-x2x8q in namespace prod/);
    const events = await admissionEvents(body.request.uid);
    expect(events).toMatchObject([
      {
        type: "admission.refused",
        actorId: "alice",
        grantId: null,
        data: { guardrail: "prod-exec", namespace: "prod", operation: "CONNECT", subResource: "exec" },
      },
    ]);
  });

  it("allows it with an active grant, refuses it again once the revoke is in the view", async () => {
    const grantId = await grantToAlice();
    const allowed = execReview();
    expect((await review(allowed)).body.response).toEqual({ uid: allowed.request.uid, allowed: true });
    const deletion = deleteDeploymentReview();
    expect((await review(deletion)).body.response.allowed).toBe(true);
    expect(await admissionEvents(allowed.request.uid)).toMatchObject([
      { type: "admission.allowed", actorId: "alice", grantId, data: { namespace: "prod", name: "web-7d4b9c-x2x8q" } },
    ]);

    await revoke(grantId);
    const after = execReview();
    const answer = await review(after);
    expect(answer.body.response).toMatchObject({ uid: after.request.uid, allowed: false, status: { code: 403 } });
    expect(answer.body.response.status.message).toContain(REQUEST_HINT);
  });

  it("refuses once the grant's expiry has passed, even before the revoke is recorded", async () => {
    const grantId = await grantToAlice();
    const grant = await sesame.runtime.deps.store.getGrant(grantId);
    sesame.clock.travelTo(new Date(grant!.expiresAt.getTime() + 1_000));
    try {
      expect((await review(execReview())).body.response.allowed).toBe(false);
    } finally {
      sesame.clock.reset();
    }
    // Back on time the grant lets it through again, unless the sweeper ran meanwhile on the moved
    // clock and revoked it (then refusing is right too).
    const stillActive = (await sesame.runtime.deps.store.getGrant(grantId))?.status === "active";
    expect((await review(execReview())).body.response.allowed).toBe(stillActive);
    if (stillActive) await revoke(grantId);
    else await admission.view.until(() => !admission.view.has(grantId));
  });

  it("allows what no guardrail covers: another namespace, another operation, without auditing it", async () => {
    const elsewhere = execReview({ namespace: "staging" });
    expect((await review(elsewhere)).body.response).toEqual({ uid: elsewhere.request.uid, allowed: true });
    const create = {
      ...deleteDeploymentReview(),
      request: { ...deleteDeploymentReview().request, operation: "CREATE" },
    };
    expect((await review(create)).body.response.allowed).toBe(true);
    expect(await admissionEvents(elsewhere.request.uid)).toEqual([]);
    expect(await admissionEvents(create.request.uid)).toEqual([]);
  });

  it("answers a dry run the same way without writing an audit event", async () => {
    const dry = execReview({ dryRun: true });
    expect((await review(dry)).body.response).toMatchObject({ allowed: false, status: { code: 403 } });
    expect(await admissionEvents(dry.request.uid)).toEqual([]);
  });

  it("exempts only whom the policy names: Sesame's service account, not another one", async () => {
    const sesameAccount = execReview({
      username: "system:serviceaccount:sesame:sesame",
      groups: ["system:serviceaccounts", "system:serviceaccounts:sesame", "system:authenticated"],
    });
    expect((await review(sesameAccount)).body.response.allowed).toBe(true);
    const other = execReview({ username: "system:serviceaccount:prod:deployer", groups: ["system:serviceaccounts"] });
    const refused = (await review(other)).body.response;
    expect(refused.allowed).toBe(false);
    expect(refused.status.message).toMatch(
      /"system:serviceaccount:prod:deployer" is not a Sesame person: ask a Sesame admin to add `kubernetes: system:serviceaccount:prod:deployer`/,
    );
  });

  it("tells someone who may not request the resource to ask an admin", async () => {
    const answer = await review(execReview({ username: "bob@example.com" }));
    expect(answer.body.response.status.message).toMatch(
      /No Sesame policy lets bob request prod-exec: ask a Sesame admin/,
    );
  });

  it("serves each guardrail on its own path, and 404 for one the policy lacks", async () => {
    expect((await review(execReview(), "/k8s/admission/prod-exec")).body.response.allowed).toBe(false);
    const unknown = await review(execReview(), "/k8s/admission/nope");
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toMatch(/No guardrail "nope".*sesame kubernetes webhook-config/);
  });
});

describe("admission webhook: malformed reviews", () => {
  const valid = execReview();
  it.each([
    ["not JSON", "{ this is not json"],
    ["an empty object", {}],
    ["a JSON array", [valid]],
    ["a JSON string", JSON.stringify("AdmissionReview")],
    ["another apiVersion", { ...valid, apiVersion: "admission.k8s.io/v1beta1" }],
    ["no request", { apiVersion: valid.apiVersion, kind: valid.kind }],
    ["a request without uid", { ...valid, request: { ...valid.request, uid: undefined } }],
    ["a read operation", { ...valid, request: { ...valid.request, operation: "GET" } }],
    ["a resource that is not an object", { ...valid, request: { ...valid.request, resource: "pods" } }],
    ["userInfo missing", { ...valid, request: { ...valid.request, userInfo: null } }],
  ])("answers 400 to %s, never 500", async (_what, body) => {
    const answer = await review(body);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe("invalid_input");
  });
});

describe("admission webhook: keeping the view current", () => {
  it("takes in a change it was never told about at the next catch-up read", async () => {
    const grantId = await grantToAlice();
    // A change never told (its process died between commit and publish), simulated by moving the
    // expiry behind Sesame's back; real writes always go through the grant machine.
    await adminQueryOn(sesame.databaseUrl, [
      `UPDATE "Grant" SET "expiresAt" = (now() AT TIME ZONE 'UTC') - interval '1 minute',
        "updatedAt" = now() AT TIME ZONE 'UTC', version = version + 1 WHERE id = '${grantId}'`,
    ]);
    // (The 5 s poll may already have taken it in; either way the next catch-up read does.)
    await admission.catchUp();
    expect((await review(execReview())).body.response.allowed).toBe(false);
    await revoke(grantId);
  });

  it("hears a revoke committed by another Sesame process", async () => {
    const grantId = await grantToAlice();
    const grant = (await sesame.runtime.deps.store.getGrant(grantId))!;
    // Another process: its own bus on the same Redis prefix, telling what it committed.
    const other = createGrantChangeBus({
      publisher: sesame.runtime.queues.connection,
      redisUrl: sesame.runtime.env.REDIS_URL,
      prefix: sesame.prefix,
      instanceId: "another-process",
      health: { down: () => undefined, up: () => undefined },
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    try {
      const { id, subjectId, resourceId, expiresAt } = grant;
      // Told again until heard: a message published while a connection is not ready is dropped.
      await waitFor(async () => {
        other.committed([{ id, subjectId, resourceId, expiresAt, status: "revoking", version: grant.version + 1 }]);
        await new Promise((resolve) => setTimeout(resolve, 50));
        return !admission.view.has(grantId);
      }, "the view to hear the other process");
      expect((await review(execReview())).body.response.allowed).toBe(false);
    } finally {
      await other.close();
    }
    await revoke(grantId);
  });

  it("survives losing its database session, reloads, and still hears revokes", async () => {
    const grantId = await grantToAlice();
    const before = admission.view.version;
    const { rows } = await adminQuery(
      "SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name = $1 AND datname = $2",
      [FEED_APPLICATION_NAME, new URL(sesame.databaseUrl).pathname.slice(1)],
    );
    expect(rows).toHaveLength(1);
    // The reconnect's full read counts as a change of the view.
    await admission.view.until(() => admission.view.version > before);
    expect((await review(execReview())).body.response.allowed).toBe(true);
    await revoke(grantId);
    expect((await review(execReview())).body.response.allowed).toBe(false);
  });
});

describeWith("openssl", "admission webhook over HTTPS", () => {
  const tlsUrl = (path = "/k8s/admission") => `${admission.tls!.url}${path}`;

  it("gives the same answers on the TLS port", async () => {
    const refused = execReview();
    const answer = await postTls(tlsUrl(), refused, ca!);
    expect(answer.status).toBe(200);
    expect(answer.body.response).toMatchObject({ uid: refused.request.uid, allowed: false, status: { code: 403 } });
    expect(answer.body.response.status.message).toContain(REQUEST_HINT);
    expect((await postTls(tlsUrl(), "not json", ca!)).status).toBe(400);
    expect((await postTls(tlsUrl(), execReview({ namespace: "default" }), ca!)).body.response.allowed).toBe(true);

    const grantId = await grantToAlice();
    expect((await postTls(tlsUrl("/k8s/admission/prod-exec"), execReview(), ca!)).body.response.allowed).toBe(true);
    await revoke(grantId);
    expect((await postTls(tlsUrl(), execReview(), ca!)).body.response.allowed).toBe(false);
  });

  it("takes a renewed certificate without a restart", async () => {
    const before = await postTls(tlsUrl(), execReview(), ca!);
    await writeSelfSignedCertificate(certDir, "sesame-admission-renewed");
    const renewed = await readFile(join(certDir, "cert.pem"), "utf8");
    expect(await admission.tls!.reload()).toBe(true);
    const after = await postTls(tlsUrl(), execReview(), renewed);
    expect(after.fingerprint).not.toBe(before.fingerprint);
    expect(after.body.response.allowed).toBe(false);
    ca = renewed;
  });
});

async function adminQueryOn(url: string, statements: string[]): Promise<void> {
  const pg = (await import("pg")).default;
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => undefined);
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}
