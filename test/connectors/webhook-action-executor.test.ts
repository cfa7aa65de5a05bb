import { createHash, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  MAX_ACTION_OUTPUT_BYTES,
  runWebhookAction,
  type WebhookActionRun,
} from "../../src/connectors/webhook/webhook-action-executor.js";
import { WebhookConfigSchema } from "../../src/connectors/webhook/webhook-config.js";
import { closedPort, makeSecret } from "./webhook-fixture.js";
import { createWebhookRunner, succeed, type WebhookRunner } from "./webhook-runner.js";

/**
 * Command actions through the webhook connector, against a local runner that verifies Sesame's
 * signature and signs its answers: the runner's signed word decides the outcome; anything else
 * after the request may have reached it is `unknown`, and only a runner never reached is `failed`.
 */

const secret = makeSecret();
let runner: WebhookRunner;
beforeAll(async () => {
  runner = await createWebhookRunner(secret);
});
afterAll(async () => {
  await runner?.close();
});

const target = { system: "deploy", service: "billing" };

function makeRun(text = "systemctl restart billing"): WebhookActionRun {
  return {
    requestId: `req-${randomUUID()}`,
    runId: `run-${randomUUID()}`,
    text,
    sha256: createHash("sha256").update(text, "utf8").digest("hex"),
    requesterId: "alice",
    approverIds: ["bob"],
    timeoutMs: 5_000,
  };
}

const configFor = (url: string, extra: Record<string, unknown> = {}) =>
  WebhookConfigSchema.parse({ url, secret, ...extra });

/** Runs with the runner answering `respond` for this run only. */
async function runWith(respond: WebhookRunner["respond"], run = makeRun(), extra: Record<string, unknown> = {}) {
  runner.respond = respond;
  try {
    return { run, ended: await runWebhookAction({ config: configFor(runner.url, extra), target, run }) };
  } finally {
    runner.respond = succeed;
  }
}

function expectNoSecret(value: unknown): void {
  const text = JSON.stringify(value);
  expect(text).not.toContain(secret);
  expect(text).not.toContain(JSON.stringify(secret).slice(1, -1));
}

describe("webhook command actions", () => {
  it("posts the exact text signed, once, and takes the runner's signed success with its output", async () => {
    const run = makeRun("kubectl rollout restart deploy/billing && echo 'done' # ünïcode");
    const jobsBefore = runner.jobs.length;
    const { ended } = await runWith(succeed, run);
    expect(ended).toEqual({
      outcome: "succeeded",
      result: { rowCount: 1, columns: [], rows: [], truncated: false, output: `ran: ${run.text}` },
    });
    const jobs = runner.jobs.slice(jobsBefore);
    expect(jobs).toHaveLength(1);
    const [job] = jobs;
    expect(job).toMatchObject({
      event: "action.run",
      runId: run.runId,
      requestId: run.requestId,
      text: run.text,
      sha256: createHash("sha256").update(run.text, "utf8").digest("hex"),
      requesterId: "alice",
      approverIds: ["bob"],
      timeoutMs: 5_000,
      target,
    });
    expect(job?.headers["x-sesame-event"]).toBe("action.run");
    expect(job?.headers["idempotency-key"]).toBe(`${run.runId}:action.run`);
    expect(runner.refused).toBe(0);
  });

  it("reports the runner's signed failure as failed, with its error and output", async () => {
    const { ended } = await runWith((job) => ({
      body: { runId: job.runId, outcome: "failed", error: "exit status 3", output: "unit billing not found" },
    }));
    expect(ended.outcome).toBe("failed");
    expect(ended.result).toMatchObject({ error: "exit status 3", output: "unit billing not found", rowCount: null });
  });

  it("does not trust an unsigned success: unknown, and says the runner may have run it", async () => {
    const { run, ended } = await runWith((job) => ({ ...succeed(job), sign: null }));
    expect(ended.outcome).toBe("unknown");
    expect(ended.result.error).toContain("without a signature");
    expect(ended.result.error).toContain(`may have run it: check its log for run ${run.runId}`);
    expect(ended.result.output).toBeUndefined();
    expectNoSecret(ended);
  });

  it("does not trust a success signed with another secret", async () => {
    const { ended } = await runWith((job) => ({ ...succeed(job), sign: makeSecret() }));
    expect(ended.outcome).toBe("unknown");
    expect(ended.result.error).toContain("signature that does not match");
    expectNoSecret(ended);
  });

  it("does not take a signed answer about another run", async () => {
    const { ended } = await runWith((job) => ({ body: { ...(succeed(job).body as object), runId: "run-other" } }));
    expect(ended.outcome).toBe("unknown");
    expect(ended.result.error).toContain(`"runId" is not`);
  });

  it("treats an unsigned error status as unknown: something on the path answered, the runner may have run it", async () => {
    const { ended } = await runWith(() => ({ status: 502, body: "<html>Bad Gateway</html>", sign: null }));
    expect(ended.outcome).toBe("unknown");
    expect(ended.result.error).toContain("HTTP 502");
  });

  it("treats a signed answer that is not a result as unknown", async () => {
    const { ended } = await runWith((job) => ({ body: { runId: job.runId, outcome: "maybe" } }));
    expect(ended.outcome).toBe("unknown");
    expect(ended.result.error).toContain("not a result");
  });

  it("ends unknown when the runner accepts the request and never answers", async () => {
    const run = { ...makeRun(), timeoutMs: 50 };
    const { ended } = await runWith(() => "hang", run, { timeoutSeconds: 0.1 });
    expect(ended.outcome).toBe("unknown");
    expect(ended.result.error).toContain("did not answer within");
    expect(runner.jobs.some((job) => job.runId === run.runId)).toBe(true);
  });

  it("ends unknown when the connection is cut after the runner got the request", async () => {
    const { ended } = await runWith(() => "cut");
    expect(ended.outcome).toBe("unknown");
    expect(ended.result.error).toContain("did not complete its answer");
  });

  it("ends failed when nothing listens: nothing was sent, so nothing ran", async () => {
    const url = `http://127.0.0.1:${await closedPort()}/sesame/actions`;
    const ended = await runWebhookAction({ config: configFor(url), target, run: makeRun() });
    expect(ended.outcome).toBe("failed");
    expect(ended.result.error).toContain("not reached, so nothing ran");
    expect(ended.result.error).toContain("connection refused");
    expectNoSecret(ended);
  });

  it("ends failed when the TLS handshake fails: the request is only sent once it is up", async () => {
    const jobsBefore = runner.jobs.length;
    const url = runner.url.replace(/^http:/, "https:"); // the runner speaks plain HTTP
    const ended = await runWebhookAction({ config: configFor(url), target, run: makeRun() });
    expect(ended.outcome).toBe("failed");
    expect(ended.result.error).toMatch(/not reached, so nothing ran: TLS with/);
    expect(runner.jobs.length).toBe(jobsBefore);
  });

  it("keeps the first 64 KiB of a huge output and marks the result truncated", async () => {
    const output = "é".repeat(MAX_ACTION_OUTPUT_BYTES); // two bytes each: twice the cap
    const { ended } = await runWith((job) => ({ body: { runId: job.runId, outcome: "succeeded", output } }));
    expect(ended.outcome).toBe("succeeded");
    expect(ended.result.truncated).toBe(true);
    expect(ended.result.output).toBe("é".repeat(MAX_ACTION_OUTPUT_BYTES / 2));
  });

  it("sends nothing when the text does not match the hash it was approved with", async () => {
    const run = { ...makeRun(), text: "rm -rf /srv/billing" };
    const jobsBefore = runner.jobs.length;
    const ended = await runWebhookAction({ config: configFor(runner.url), target, run });
    expect(ended.outcome).toBe("failed");
    expect(runner.jobs.length).toBe(jobsBefore);
  });

  it("redacts the secret from what the runner reports", async () => {
    const { ended } = await runWith((job) => ({
      body: { runId: job.runId, outcome: "failed", error: `bad key ${secret}`, output: `env: ${secret}` },
    }));
    expect(ended.outcome).toBe("failed");
    expectNoSecret(ended);
  });
});
