import { z } from "zod";
import { GuardrailOperationSchema } from "../policy/guardrail-schema.js";

/**
 * `admission.k8s.io/v1` AdmissionReview as the API server sends it to a validating webhook. Only
 * the fields Sesame reads are checked; the rest (object, oldObject, options, requestKind…) passes
 * through unread, so newer API servers adding fields are not refused.
 */

const GroupVersionResource = z.looseObject({
  group: z.string().default(""),
  version: z.string(),
  resource: z.string().min(1),
});

export const AdmissionRequestSchema = z.looseObject({
  uid: z.string().min(1),
  resource: GroupVersionResource,
  subResource: z.string().optional(),
  name: z.string().optional(),
  namespace: z.string().optional(),
  // Validating webhooks are only ever called for these; reads never reach admission.
  operation: GuardrailOperationSchema,
  userInfo: z.looseObject({
    // Kubernetes omits an empty username; anonymous requests carry system:anonymous.
    username: z.string().default(""),
    groups: z.array(z.string()).default([]),
  }),
  dryRun: z.boolean().nullish(),
});
export type AdmissionRequest = z.infer<typeof AdmissionRequestSchema>;

export const AdmissionReviewSchema = z.looseObject({
  apiVersion: z.literal("admission.k8s.io/v1", { error: 'must be "admission.k8s.io/v1"' }),
  kind: z.literal("AdmissionReview", { error: 'must be "AdmissionReview"' }),
  request: AdmissionRequestSchema,
});

export interface AdmissionReviewResponse {
  apiVersion: "admission.k8s.io/v1";
  kind: "AdmissionReview";
  response: { uid: string; allowed: boolean; status?: { code: number; message: string } };
}

/** The answer the API server expects: the request's uid echoed, and a 403 with a message when refusing. */
export function admissionResponse(uid: string, refusal?: string): AdmissionReviewResponse {
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    response: {
      uid,
      allowed: refusal === undefined,
      ...(refusal === undefined ? {} : { status: { code: 403, message: refusal } }),
    },
  };
}

/** What a malformed review got wrong, one line per problem, for the 400 answer. */
export function describeReviewProblems(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`).join("; ");
}
