import { ApiException } from "@kubernetes/client-node";
import { type ActionOutcome, type ActionSpec, resultWithoutRows } from "../../domain/actions/action-run.js";
import type { KubernetesOperation } from "../../domain/actions/kubernetes-action.js";
import { isAbortOrTimeout, socketCodeOf } from "../connection-lost.js";
import { planKubernetesAction } from "./kubernetes-action-plan.js";
import { createKubernetesApi, type ObjectRef } from "./kubernetes-api.js";
import type { KubernetesConfig, KubernetesTarget } from "./kubernetes-config.js";
import { describeKubernetesError } from "./kubernetes-errors.js";

/**
 * Runs one approved Kubernetes action, once, as Sesame's service account through the connector's
 * own client (TLS, token), within the action's time limit (`statementTimeout`, which also tells the
 * sweeper when a run without a result is lost; scale splits it between its two calls): scale (GET then merge-PATCH of the scale subresource),
 * rollout restart (a strategic merge patch of the pod template's `restartedAt`, as kubectl does)
 * or delete pod. The action is read again and its namespace checked again here: the policy or the
 * connector may have changed since it was approved. Outcomes: the API server's answer decides
 * succeeded (2xx) or failed (4xx, with its Status message); a request that may have reached the
 * server without an answer (timeout, connection lost, 5xx) is `unknown`: it may have happened.
 */

export interface KubernetesActionInput {
  config: KubernetesConfig;
  target: KubernetesTarget;
  spec: ActionSpec;
  /** When the run started: the restartedAt stamp of a rollout restart. */
  startedAt: Date;
}

/** RFC 3339 without fractions, as kubectl writes restartedAt. */
const rfc3339 = (at: Date): string => at.toISOString().replace(/\.\d{3}Z$/, "Z");

export async function runKubernetesAction(input: KubernetesActionInput): Promise<ActionOutcome> {
  const planned = planKubernetesAction(input.config, input.target, input.spec.text);
  if ("problem" in planned)
    return { outcome: "failed", result: resultWithoutRows({ error: `not run: ${planned.problem}` }) };
  const { operation, ref } = planned;
  const callCount = operation.op === "scale" ? 2 : 1;
  const timeoutMs = Math.max(1, Math.floor(input.spec.limits.statementTimeoutMs / callCount));
  const secrets = [input.config.token];
  const object = operation.kind === "pod" ? `pod/${ref.name}` : `${operation.kind}.apps/${ref.name}`;
  let sent = false;
  try {
    const calls = createKubernetesApi(input.config, { timeoutMs }).actions;
    switch (operation.op) {
      case "scale": {
        const before = await calls.readReplicas(operation.kind, ref);
        sent = true;
        const after = await calls.patchReplicas(operation.kind, ref, operation.replicas);
        return succeeded(`${object} scaled from ${before} to ${after} replicas`);
      }
      case "restart":
        sent = true;
        await calls.restartWorkload(operation.kind, ref, rfc3339(input.startedAt));
        return succeeded(`${object} restarted`);
      case "delete":
        sent = true;
        await calls.deletePod(ref);
        return succeeded(`${object} deleted`);
    }
  } catch (error) {
    return outcomeOfError(error, { sent, object, ref, operation, secrets });
  }
}

const succeeded = (output: string): ActionOutcome => ({ outcome: "succeeded", result: resultWithoutRows({ output }) });

function outcomeOfError(
  error: unknown,
  context: { sent: boolean; object: string; ref: ObjectRef; operation: KubernetesOperation; secrets: string[] },
): ActionOutcome {
  const { object, ref, operation } = context;
  const where = `in namespace ${ref.namespace}`;
  if (error instanceof ApiException && error.code === 404 && operation.op === "delete")
    return { outcome: "failed", result: resultWithoutRows({ error: `${object} not found ${where}` }) };
  const message = describeKubernetesError(error, context.secrets);
  if (context.sent && mayHaveHappened(error))
    return {
      outcome: "unknown",
      result: resultWithoutRows({
        error: `${message}: ${object} ${where} may or may not have changed; look with kubectl before asking again`,
      }),
    };
  return { outcome: "failed", result: resultWithoutRows({ error: `${object} ${where}: ${message}` }) };
}

/** Socket codes that mean the request never reached the API server (an ETIMEDOUT may come mid-call). */
const NOT_DELIVERED = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);
const UNTRUSTED_CERTIFICATE = /CERT|SELF_SIGNED|LEAF_SIGNATURE|ISSUER|^ERR_TLS|^ERR_SSL/;

/**
 * Whether the request may have reached the API server and been applied. Only what surely did not
 * is ruled out: a 4xx answer, a refused or unroutable connection, an unknown host, a certificate
 * Sesame did not trust. Anything else once the request went out (a 5xx, a timeout, a lost
 * connection, an answer that could not be read) may have been applied.
 */
function mayHaveHappened(error: unknown): boolean {
  if (error instanceof ApiException) return error.code >= 500;
  if (isAbortOrTimeout(error)) return true;
  const code = socketCodeOf(error);
  return code === undefined || !(NOT_DELIVERED.has(code) || UNTRUSTED_CERTIFICATE.test(code));
}
