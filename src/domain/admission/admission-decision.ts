import type { Guardrail } from "../policy/guardrail-schema.js";
import type { AdmissionRequest } from "./admission-review.js";

/**
 * The webhook's decision, pure: which guardrails a review touches, who the person is, and whether
 * they hold an active grant (status active and now before expiresAt) of a resource each guardrail
 * requires. Every guardrail a review touches must be satisfied; a review touching none is allowed.
 */

/** An active grant as the in-memory view holds it. */
export interface HeldGrant {
  id: string;
  resourceId: string;
  expiresAt: Date;
}

export interface AdmissionContext {
  guardrails: readonly Guardrail[];
  /** The Sesame person a Kubernetes username belongs to (their `kubernetes` field, else email). */
  personOf(username: string): string | undefined;
  grantsOf(personId: string): Iterable<HeldGrant>;
  /** The default duration of the policy that lets the person request the resource, if one does. */
  requestDuration(personId: string, resourceId: string): string | undefined;
  now: Date;
}

/** One guardrail the review touched, and what let it through. */
export interface GuardrailPass {
  guardrail: string;
  grantId: string | null;
  exempt: boolean;
}

export type AdmissionVerdict =
  | { kind: "unguarded" }
  | { kind: "allowed"; personId: string | null; passes: GuardrailPass[] }
  | { kind: "refused"; personId: string | null; guardrail: string; message: string };

export function touches(guardrail: Guardrail, request: AdmissionRequest): boolean {
  if (request.namespace === undefined || !guardrail.namespaces.includes(request.namespace)) return false;
  return guardrail.match.some(
    (rule) =>
      rule.operations.includes(request.operation) &&
      rule.apiGroup === request.resource.group &&
      rule.resource === request.resource.resource &&
      (rule.subResource ?? "") === (request.subResource ?? ""),
  );
}

function isExempt(guardrail: Guardrail, request: AdmissionRequest): boolean {
  return (
    guardrail.exempt.users.includes(request.userInfo.username) ||
    request.userInfo.groups.some((group) => guardrail.exempt.groups.includes(group))
  );
}

/** "exec into pods/web-0", "DELETE deployments/api": what the person tried, in their words. */
export function describeOperation(request: AdmissionRequest): string {
  const object = `${request.resource.resource}${request.name ? `/${request.name}` : ""}`;
  if (request.operation === "CONNECT" && request.subResource) return `${request.subResource} into ${object}`;
  const sub = request.subResource ? ` (${request.subResource})` : "";
  return `${request.operation} ${object}${sub}`;
}

function refusalMessage(
  guardrail: Guardrail,
  request: AdmissionRequest,
  personId: string | undefined,
  context: AdmissionContext,
): string {
  const what = `${describeOperation(request)} in namespace ${request.namespace}`;
  const resources = guardrail.requires.join(" or ");
  const head = `Sesame guardrail ${guardrail.id}: ${what} needs an active Sesame grant of ${resources}.`;
  if (personId === undefined) {
    return (
      `${head} Kubernetes user "${request.userInfo.username}" is not a Sesame person: ask a Sesame admin to add ` +
      `\`kubernetes: ${request.userInfo.username}\` to your entry under people in the policy file.`
    );
  }
  const requestable = guardrail.requires.flatMap((resourceId) => {
    const duration = context.requestDuration(personId, resourceId);
    return duration === undefined ? [] : [`/request-access ${resourceId} ${duration} <reason>`];
  });
  if (requestable.length === 0)
    return `${head} No Sesame policy lets ${personId} request ${resources}: ask a Sesame admin.`;
  return `${head} Request it in chat: ${requestable.join(" or ")}`;
}

export function decideAdmission(request: AdmissionRequest, context: AdmissionContext): AdmissionVerdict {
  const touched = context.guardrails.filter((guardrail) => touches(guardrail, request));
  if (touched.length === 0) return { kind: "unguarded" };
  const personId = context.personOf(request.userInfo.username);
  const now = context.now.getTime();
  const held = personId === undefined ? [] : [...context.grantsOf(personId)].filter((g) => now < g.expiresAt.getTime());
  const passes: GuardrailPass[] = [];
  for (const guardrail of touched) {
    if (isExempt(guardrail, request)) {
      passes.push({ guardrail: guardrail.id, grantId: null, exempt: true });
      continue;
    }
    const grant = held.find((g) => guardrail.requires.includes(g.resourceId));
    if (!grant) {
      const message = refusalMessage(guardrail, request, personId, context);
      return { kind: "refused", personId: personId ?? null, guardrail: guardrail.id, message };
    }
    passes.push({ guardrail: guardrail.id, grantId: grant.id, exempt: false });
  }
  return { kind: "allowed", personId: personId ?? null, passes };
}
