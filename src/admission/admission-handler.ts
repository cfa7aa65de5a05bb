import {
  type AdmissionContext,
  type AdmissionVerdict,
  decideAdmission,
  describeOperation,
} from "../domain/admission/admission-decision.js";
import {
  type AdmissionRequest,
  type AdmissionReviewResponse,
  AdmissionReviewSchema,
  admissionResponse,
  describeReviewProblems,
} from "../domain/admission/admission-review.js";
import type { Guardrail } from "../domain/policy/guardrail-schema.js";
import type { PolicyFile } from "../domain/policy/policy-schema.js";
import type { AdmissionAudit } from "./admission-audit.js";

/** What the webhook route answers: the review response, or a 400/404 naming the problem. */
export type AdmissionAnswer =
  | { status: 200; body: AdmissionReviewResponse }
  | { status: 400 | 404; body: { error: { code: string; message: string } } };

export interface AdmissionHandlerDeps {
  policyFile: PolicyFile;
  grantsOf: AdmissionContext["grantsOf"];
  requestDuration: AdmissionContext["requestDuration"];
  /** Since when the grants in memory may be out of date (the database unreachable), or undefined. */
  outOfTouchSince(): number | undefined;
  /** How long the webhook keeps answering from grants it cannot confirm before refusing guarded operations. */
  outOfTouchLimitMs: number;
  audit: AdmissionAudit;
  now(): Date;
}

export type AdmissionHandler = (body: unknown, guardrailId?: string) => AdmissionAnswer;

/** Kubernetes usernames (exactly) and emails (any case) to Sesame people. */
function peopleIndex(policyFile: PolicyFile): (username: string) => string | undefined {
  const byUsername = new Map<string, string>();
  const byEmail = new Map<string, string>();
  for (const person of policyFile.people) {
    if (person.kubernetes !== undefined) byUsername.set(person.kubernetes, person.id);
    else byEmail.set(person.email.toLowerCase(), person.id);
  }
  return (username) => byUsername.get(username) ?? byEmail.get(username.toLowerCase());
}

/**
 * Parses a review, decides from memory, answers, and queues the audit event (not for dry runs).
 * Synchronous on purpose: nothing on this path waits for the database, a connector or chat.
 */
export function createAdmissionHandler(deps: AdmissionHandlerDeps): AdmissionHandler {
  const guardrails = deps.policyFile.kubernetes.guardrails;
  const byId = new Map(guardrails.map((guardrail) => [guardrail.id, guardrail]));
  const personOf = peopleIndex(deps.policyFile);

  return (body, guardrailId) => {
    let scope: readonly Guardrail[] = guardrails;
    if (guardrailId !== undefined) {
      const guardrail = byId.get(guardrailId);
      if (!guardrail)
        return notFound(
          `No guardrail "${guardrailId}" in Sesame's policy: regenerate the webhook configuration (sesame kubernetes webhook-config).`,
        );
      scope = [guardrail];
    }
    const parsed = AdmissionReviewSchema.safeParse(body);
    if (!parsed.success)
      return badRequest(`Not an admission.k8s.io/v1 AdmissionReview: ${describeReviewProblems(parsed.error)}`);
    const request = parsed.data.request;
    const now = deps.now();
    let verdict = decideAdmission(request, {
      guardrails: scope,
      personOf,
      grantsOf: deps.grantsOf,
      requestDuration: deps.requestDuration,
      now,
    });
    verdict = refuseIfOutOfTouch(verdict, deps);
    if (verdict.kind !== "unguarded" && !request.dryRun) deps.audit.record(auditEvent(request, verdict), now);
    return {
      status: 200,
      body: admissionResponse(request.uid, verdict.kind === "refused" ? verdict.message : undefined),
    };
  };
}

/** A grant revoked while the database was unreachable would still be honoured: past the limit, refuse. */
function refuseIfOutOfTouch(verdict: AdmissionVerdict, deps: AdmissionHandlerDeps): AdmissionVerdict {
  if (verdict.kind !== "allowed" || verdict.passes.every((pass) => pass.exempt)) return verdict;
  const since = deps.outOfTouchSince();
  if (since === undefined || Date.now() - since <= deps.outOfTouchLimitMs) return verdict;
  const guardrail = verdict.passes.find((pass) => !pass.exempt)!.guardrail;
  return {
    kind: "refused",
    personId: verdict.personId,
    guardrail,
    message: `Sesame guardrail ${guardrail}: Sesame cannot reach its database to confirm your grant is still active. Try again in a minute; if it persists, tell a Sesame admin.`,
  };
}

function auditEvent(request: AdmissionRequest, verdict: Exclude<AdmissionVerdict, { kind: "unguarded" }>) {
  const common = {
    uid: request.uid,
    username: request.userInfo.username,
    operation: request.operation,
    apiGroup: request.resource.group,
    resource: request.resource.resource,
    subResource: request.subResource ?? null,
    namespace: request.namespace ?? null,
    name: request.name ?? null,
    summary: describeOperation(request),
  };
  if (verdict.kind === "refused") {
    return {
      type: "admission.refused",
      actorId: verdict.personId,
      data: { ...common, guardrail: verdict.guardrail },
    };
  }
  return {
    type: "admission.allowed",
    actorId: verdict.personId,
    grantId: verdict.passes.find((pass) => pass.grantId !== null)?.grantId ?? null,
    data: { ...common, guardrails: verdict.passes },
  };
}

const badRequest = (message: string): AdmissionAnswer => ({
  status: 400,
  body: { error: { code: "invalid_input", message } },
});
const notFound = (message: string): AdmissionAnswer => ({
  status: 404,
  body: { error: { code: "not_found", message } },
});
