import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decideRequest } from "../../src/services/decide-request.js";
import type { Notification } from "../../src/services/ports.js";
import { runAction } from "../../src/services/run-action.js";
import { makeSecret } from "../connectors/webhook-fixture.js";
import { createWebhookRunner, succeed, type WebhookRunner } from "../connectors/webhook-runner.js";
import { startSesame, type TestSesame } from "../helpers/sesame.js";

/**
 * JIT command actions end to end through the REST API and the service layer: a resource of a
 * webhook connector takes one exact command, bob approves it, and Sesame POSTs it once to a local
 * runner (which verifies the signature and signs its answer); the requester sees the runner's
 * output. A repeated run posts nothing more; an unsigned answer ends `unknown` and is announced.
 */

const secret = makeSecret();
let runner: WebhookRunner;
let sesame: TestSesame;

const policy = (url: string) => `
version: 1
people:
  - { id: alice, email: alice@example.com }
  - { id: bob, email: bob@example.com }
connectors:
  runner: { type: webhook, config: { url: "${url}", secret: { env: ACTIONS_RUNNER_SECRET }, timeoutSeconds: 2 } }
resources:
  billing-host:
    connector: runner
    target: { host: app-1, service: billing }
    actions:
      classes:
        command: { approvers: { users: [bob] } }
      statementTimeout: 5s
policies:
  - id: ops
    resources: [billing-host]
    requesters: { users: [alice] }
    duration: { default: 1h, max: 1h }
    reason: { required: true }
    approvers: { users: [bob] }
`;

beforeAll(async () => {
  runner = await createWebhookRunner(secret);
  sesame = await startSesame("webhook_actions", {
    policy: policy(runner.url),
    identities: ["alice", "bob"],
    env: { ACTIONS_RUNNER_SECRET: secret },
  });
});

afterAll(async () => {
  await sesame?.stop();
  await runner?.close();
});

const ask = (action: string) =>
  sesame.api("alice", "POST", "/api/v1/requests", { resource: "billing-host", action, reason: "OPS-7" });

describe("JIT command actions through the webhook runner", () => {
  it("waits for bob, posts the exact command to the runner once, and shows the runner's output", async () => {
    const text = "systemctl restart billing\n# then check /healthz";
    const created = await ask(text);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: "pending", action: { kind: "command", class: "command", text } });
    const id = created.body.id as string;
    expect(runner.jobs.filter((job) => job.requestId === id)).toHaveLength(0);

    const approved = await sesame.api("bob", "POST", `/api/v1/requests/${id}/approve`, {
      version: created.body.version,
      sha256: created.body.action.sha256,
    });
    expect(approved.status).toBe(200);
    expect(approved.body.action).toMatchObject({
      status: "succeeded",
      result: { rowCount: 1, output: `ran: ${text}`, truncated: false },
    });
    const jobs = runner.jobs.filter((job) => job.requestId === id);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({
      event: "action.run",
      text,
      sha256: created.body.action.sha256,
      requesterId: "alice",
      approverIds: ["bob"],
      timeoutMs: 5_000,
      target: { host: "app-1", service: "billing" },
    });

    // The job runs again: the run is taken, nothing is posted a second time.
    expect(await runAction(sesame.runtime.deps, id)).toMatchObject({ status: "succeeded" });
    expect(runner.jobs.filter((job) => job.requestId === id)).toHaveLength(1);
    expect(runner.refused).toBe(0);
    const read = await sesame.api("alice", "GET", `/api/v1/requests/${id}`);
    expect(read.body.action.result.output).toBe(`ran: ${text}`);
  });

  it("an unsigned answer ends unknown, is announced, and is never posted again", async () => {
    const created = await ask("systemctl restart billing-worker");
    const id = created.body.id as string;
    const published: Notification[] = [];
    const deps = sesame.runtime.deps;
    const notifier = {
      ...deps.notifier,
      publish: async (notification: Notification) => {
        published.push(notification);
        await deps.notifier.publish(notification);
      },
    };
    runner.respond = (job) => ({
      body: { runId: job.runId, outcome: "succeeded", output: "trust me" },
      sign: null,
    });
    try {
      await decideRequest({ ...deps, notifier }, { requestId: id, actorId: "bob", decision: "approve" });
    } finally {
      runner.respond = succeed;
    }
    const after = await sesame.api("alice", "GET", `/api/v1/requests/${id}`);
    expect(after.body.action.status).toBe("unknown");
    expect(after.body.action.result.error).toMatch(/without a signature.*may have run it/);
    expect(after.body.action.result.output).toBeUndefined();
    expect(published.some((n) => n.type === "action.finished" && n.request.id === id)).toBe(true);
    expect(JSON.stringify(after.body)).not.toContain(JSON.stringify(secret).slice(1, -1));

    expect(await runAction(deps, id)).toMatchObject({ status: "unknown" });
    expect(runner.jobs.filter((job) => job.requestId === id)).toHaveLength(1);
    const audit = await sesame.runtime.db.auditEvent.findMany({ where: { requestId: id, type: "action.unknown" } });
    expect(audit).toHaveLength(1);
  });
});
