import { createHash } from "node:crypto";
import { z } from "zod";
import { type ActionOutcome, type ActionResult, resultWithoutRows } from "../../domain/actions/action-run.js";
import { redactSecrets } from "../redact.js";
import { displayUrl, userinfoSecrets, WebhookClient } from "./webhook-client.js";
import type { WebhookConfig, WebhookTarget } from "./webhook-config.js";
import { describeOutcome, describeUnconfirmed, type Where } from "./webhook-errors.js";
import { answerAbout } from "./webhook-response.js";

/**
 * Runs one approved command action through the webhook connector: a single signed `action.run`
 * POST to the runner the user operates, which answers with a signed result (see README.md,
 * "Command actions"). Exactly once, or say so: there are no retries, and only a signed answer
 * naming this run counts. A request that never left Sesame (connection refused, DNS, TLS
 * handshake) is `failed`; anything after the connection was up that is not such an answer is
 * `unknown`, because the runner may have run the command.
 */

export interface WebhookActionRun {
  requestId: string;
  runId: string;
  /** The exact approved text, and the hex sha256 of its UTF-8 bytes the approval is bound to. */
  text: string;
  sha256: string;
  requesterId: string;
  approverIds: readonly string[];
  /** How long the runner may run the command (the action limits' statementTimeoutMs). */
  timeoutMs: number;
}

export interface WebhookActionInput {
  config: WebhookConfig;
  target: WebhookTarget;
  run: WebhookActionRun;
}

/** Output kept from the runner's answer; more is cut and marked truncated. */
export const MAX_ACTION_OUTPUT_BYTES = 64 * 1024;
/** The runner's error message is shown on cards: a few lines are enough. */
const MAX_ACTION_ERROR_BYTES = 4 * 1024;
/** How much of the answer is read: room for the capped output with JSON escaping. Beyond it the signature cannot be checked. */
const MAX_ACTION_ANSWER_BYTES = 1024 * 1024;
/**
 * The runner gets `timeoutMs` to run the command; Sesame waits that plus the connector's
 * timeoutSeconds for the answer, at most this much more: the sweeper calls a run lost a minute
 * after its timeout, and the answer must arrive before that.
 */
const MAX_ANSWER_GRACE_SECONDS = 30;

/** The runner's signed answer; other members are ignored. */
const RunnerResultSchema = z.object({
  runId: z.string(),
  outcome: z.enum(["succeeded", "failed"]),
  output: z.string().optional(),
  rowCount: z.number().int().min(0).optional(),
  error: z.string().optional(),
});

export async function runWebhookAction(input: WebhookActionInput): Promise<ActionOutcome> {
  const { config, target, run } = input;
  const secrets = [config.secret, ...userinfoSecrets(config.url)];
  const graceSeconds = Math.min(config.timeoutSeconds, MAX_ANSWER_GRACE_SECONDS);
  const waitMs = run.timeoutMs + graceSeconds * 1000;
  const where: Where = { display: displayUrl(new URL(config.url)), timeoutSeconds: waitMs / 1000, party: "runner" };
  const ended = (outcome: ActionOutcome["outcome"], message: string): ActionOutcome => ({
    outcome,
    result: resultWithoutRows({ error: redactSecrets(message, secrets) }),
  });
  if (createHash("sha256").update(run.text, "utf8").digest("hex") !== run.sha256)
    return ended("failed", "The action's text does not match the hash it was approved with; nothing was sent.");

  const fields = {
    runId: run.runId,
    requestId: run.requestId,
    text: run.text,
    sha256: run.sha256,
    requesterId: run.requesterId,
    approverIds: run.approverIds,
    timeoutMs: run.timeoutMs,
    target,
  };
  // A client of its own: no kept-alive socket from an earlier call that might die as this one is sent.
  const client = new WebhookClient(config);
  let outcome: Awaited<ReturnType<WebhookClient["post"]>>;
  try {
    // retries 0: a second POST could run the command twice.
    outcome = await client.post("action.run", fields, `${run.runId}:action.run`, 0, {
      timeoutMs: waitMs,
      maxBodyBytes: MAX_ACTION_ANSWER_BYTES,
    });
  } finally {
    client.close();
  }

  const mayHaveRun = (reason: string, hint = ""): ActionOutcome =>
    ended(
      "unknown",
      `Unknown whether it ran: ${reason}. The runner may have run it: check its log for run ${run.runId}.${hint} Sesame never runs an action twice; request it again only if the runner did not run it.`,
    );

  if ("error" in outcome) {
    const { reason } = describeOutcome(outcome, where);
    if (!outcome.error.connected)
      return ended(
        "failed",
        `The runner was not reached, so nothing ran: ${reason}. Check the webhook connector's url and that the runner is up, then request the action again.`,
      );
    return mayHaveRun(reason);
  }
  const { response } = outcome;
  if (response.truncated)
    return mayHaveRun(
      describeUnconfirmed(
        outcome,
        where,
        { clause: `with an answer larger than ${MAX_ACTION_ANSWER_BYTES / 1024} KB`, signature: false },
        "",
      ).reason,
      ` Runners should keep their output under ${MAX_ACTION_OUTPUT_BYTES / 1024} KB.`,
    );
  // Always signed, whatever requireSignedResponses says: an unsigned "succeeded" proves nothing.
  const about = answerAbout(response, { field: "runId", id: run.runId }, config.secret);
  if ("unconfirmed" in about) {
    const { reason } = describeUnconfirmed(outcome, where, about.unconfirmed, "");
    const hint = about.unconfirmed.signature
      ? " Only the runner's own answer, signed with the connector's secret, counts (see the webhook connector's README)."
      : "";
    return mayHaveRun(reason, hint);
  }
  const parsed = RunnerResultSchema.safeParse(about.answer);
  if (!parsed.success) {
    const clause = `with an answer that is not a result ({"runId", "outcome": "succeeded" | "failed", "output"?, "rowCount"?, "error"?})`;
    return mayHaveRun(describeUnconfirmed(outcome, where, { clause, signature: false }, "").reason);
  }
  return { outcome: parsed.data.outcome, result: resultOf(parsed.data, secrets) };
}

function resultOf(answer: z.infer<typeof RunnerResultSchema>, secrets: readonly string[]): ActionResult {
  const output =
    answer.output === undefined ? undefined : capUtf8(redactSecrets(answer.output, secrets), MAX_ACTION_OUTPUT_BYTES);
  const error =
    answer.error !== undefined
      ? capUtf8(redactSecrets(answer.error, secrets), MAX_ACTION_ERROR_BYTES).text
      : answer.outcome === "failed"
        ? "the runner reported a failure without saying why"
        : undefined;
  return {
    rowCount: answer.rowCount ?? null,
    columns: [],
    rows: [],
    truncated: output?.truncated ?? false,
    ...(output === undefined ? {} : { output: output.text }),
    ...(error === undefined ? {} : { error }),
  };
}

/** The first `maxBytes` of the UTF-8 text, never cutting a character in half. */
function capUtf8(text: string, maxBytes: number): { text: string; truncated: boolean } {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= maxBytes) return { text, truncated: false };
  // A cut inside a character decodes to U+FFFD at the end: drop it.
  return {
    text: bytes
      .subarray(0, maxBytes)
      .toString("utf8")
      .replace(/\uFFFD$/, ""),
    truncated: true,
  };
}
