import { createHmac, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { signSesameAnswer } from "./webhook-receiver.js";

/**
 * An action runner as a user would write one (the webhook README's "Command actions" example), on
 * 127.0.0.1 and a random port: it verifies Sesame's signature over the raw body, runs each run id
 * once (a repeated run id gets the first answer), and signs its answer. Tests change `respond` to
 * play a runner that fails, does not sign, signs wrong, or never answers.
 */

export interface RunnerJob {
  event: string;
  runId: string;
  requestId: string;
  text: string;
  sha256: string;
  requesterId: string;
  approverIds: string[];
  timeoutMs: number;
  target: Record<string, unknown>;
  headers: http.IncomingHttpHeaders;
}

/** `sign`: the secret to sign with (default the runner's own), or null for no signature. */
export interface RunnerReply {
  status?: number;
  body: unknown;
  sign?: string | null;
}

export interface WebhookRunner {
  url: string;
  /** Jobs the runner accepted (signature valid), in order, repeats included. */
  jobs: RunnerJob[];
  /** Run ids it executed: each once. */
  executed: string[];
  /** Requests refused for a bad signature. */
  refused: number;
  /** What a new run answers; "hang" holds the request without ever answering, "cut" closes the connection. */
  respond: (job: RunnerJob) => RunnerReply | "hang" | "cut";
  close(): Promise<void>;
}

/** The README's verifySesame: the signature over "<timestamp>.<raw body>", at most 5 minutes old. */
function verifySesame(headers: http.IncomingHttpHeaders, rawBody: string, secret: string): boolean {
  const timestamp = String(headers["x-sesame-timestamp"] ?? "");
  if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const expected = Buffer.from(`v1=${createHmac("sha256", secret).update(`${timestamp}.${rawBody}`).digest("hex")}`);
  const given = Buffer.from(String(headers["x-sesame-signature"] ?? ""));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export const succeed = (job: RunnerJob): RunnerReply => ({
  body: { runId: job.runId, outcome: "succeeded", output: `ran: ${job.text}`, rowCount: 1 },
});

export async function createWebhookRunner(secret: string): Promise<WebhookRunner> {
  const answered = new Map<string, { status: number; body: string; sign: string | null }>();
  const runner: WebhookRunner = {
    url: "",
    jobs: [],
    executed: [],
    refused: 0,
    respond: succeed,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      if (!verifySesame(req.headers, raw, secret)) {
        runner.refused += 1;
        res.writeHead(401).end();
        return;
      }
      const job = { ...(JSON.parse(raw) as Omit<RunnerJob, "headers">), headers: req.headers };
      runner.jobs.push(job);
      // Sesame never retries a run, but networks duplicate: a run id runs once.
      let answer = answered.get(job.runId);
      if (answer === undefined) {
        const reply = runner.respond(job);
        if (reply === "hang") return;
        if (reply === "cut") return void req.socket.destroy();
        runner.executed.push(job.runId);
        const body = typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
        answer = { status: reply.status ?? 200, body, sign: reply.sign === undefined ? secret : reply.sign };
        answered.set(job.runId, answer);
      }
      const headers =
        answer.sign === null ? { "Content-Type": "application/json" } : signSesameAnswer(answer.body, answer.sign);
      res.writeHead(answer.status, headers).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  runner.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sesame/actions`;
  return runner;
}
