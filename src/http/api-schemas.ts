import { z } from "zod";
import { AccessTriggerSchema } from "../domain/access-trigger.js";
import { ACTION_CLASSES, ACTION_KINDS } from "../domain/actions/action-kind.js";
import { MAX_DURATION_SECONDS, tryParseDuration } from "../domain/duration.js";
import { GRANT_STATUSES } from "../domain/grant.js";

/** Request bodies, query strings and views of /api/v1. The OpenAPI document is generated from these. */

// A NUL byte or a lone surrogate cannot be stored in PostgreSQL text or jsonb: refuse it here, by name.
const BROKEN_TEXT = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const Text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((text) => !BROKEN_TEXT.test(text), "must be plain text (no NUL characters or broken Unicode)");

const DurationInput = z
  .union([z.string(), z.number().int().positive().max(MAX_DURATION_SECONDS, "must be at most 10 years")])
  .refine(
    (value) => typeof value === "number" || tryParseDuration(value) !== undefined,
    "must be a duration like 30m, 1h or 1h30m, or a number of seconds",
  )
  .describe("A duration such as 1h or 90m, or a number of seconds");

export const IdParams = z.object({ id: z.uuid("must be a request or grant id (a UUID)") });

export const CreateRequestBody = z
  .object({
    resource: Text(200).min(1, "name the resource to request"),
    duration: DurationInput.optional().describe("Defaults to the policy's default duration"),
    reason: Text(2000).optional(),
    ticket: Text(200).optional(),
    breakGlass: z
      .boolean()
      .optional()
      .describe(
        "Emergency access: granted at once if the policy allows break-glass; pages on-call and needs a review afterwards",
      ),
    action: z
      .string()
      .min(1)
      .max(20_000)
      .refine((text) => !BROKEN_TEXT.test(text), "must be plain text (no NUL characters or broken Unicode)")
      .optional()
      .describe(
        "Run this one exact action once instead of asking for access (no duration): a SQL statement, a Kubernetes operation or a runner command, as the resource's connector implies; the approval is bound to its sha256",
      ),
  })
  .strict()
  .refine((body) => body.action === undefined || (body.duration === undefined && !body.breakGlass), {
    message: "an action request takes no duration and no breakGlass",
    path: ["action"],
  });

export const ReviewBody = z
  .object({ note: Text(2000).optional() })
  .strict()
  .optional();

export const DecisionBody = z
  .object({
    version: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("The request version you looked at; refused if it changed meanwhile"),
    comment: Text(2000).optional(),
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, "must be the hex sha256 of the action text")
      .optional()
      .describe("Action requests: the sha256 of the text you approve; refused if it is not the request's"),
  })
  .strict();

export const DenyBody = z
  .object({
    version: z.number().int().positive().optional(),
    reason: Text(2000).optional(),
  })
  .strict();

export const ExtendBody = z.object({ duration: DurationInput, reason: Text(2000).optional() }).strict();
export const RevokeBody = z.object({ reason: Text(2000).optional() }).strict();

const RequestStatus = z.enum(["pending", "approved", "denied", "cancelled", "expired"]);
const GrantStatus = z.enum(GRANT_STATUSES);
/** Comma-separated values of `item`; with `atLeastOne`, an empty list is refused with that message. */
const csv = <T extends z.ZodType<unknown, string>>(item: T, atLeastOne?: string) =>
  z
    .string()
    .transform((value) => value.split(",").filter(Boolean))
    .pipe(atLeastOne ? z.array(item).min(1, atLeastOne) : z.array(item));

export const ListRequestsQuery = z
  .object({
    status: csv(RequestStatus).optional().describe("Comma-separated statuses"),
    requester: Text(200).optional(),
    resource: Text(200).optional(),
    awaitingMe: z.enum(["true", "false"]).optional().describe("Only requests waiting for my decision"),
    limit: z.coerce.number().int().min(1).max(500).optional(),
  })
  .strict();

export const ListGrantsQuery = z
  .object({
    status: csv(GrantStatus).optional(),
    subject: Text(200).optional(),
    resource: Text(200).optional(),
    limit: z.coerce.number().int().min(1).max(500).optional(),
  })
  .strict();

/** The longest a read may wait: below the 60 s idle timeout of most proxies and load balancers. */
export const MAX_WAIT_SECONDS = 55;

export const GetGrantQuery = z
  .object({
    waitFor: csv(GrantStatus, "name at least one status to wait for")
      .optional()
      .describe(
        "Comma-separated statuses: answer once the grant has one of them, or can no longer reach one (a revoked grant never becomes active), or waitSeconds pass",
      ),
    waitSeconds: z.coerce
      .number()
      .int()
      .min(1)
      .max(MAX_WAIT_SECONDS)
      .optional()
      .describe("How long to wait for waitFor (default 30)"),
  })
  .strict()
  .refine((q) => q.waitSeconds === undefined || q.waitFor !== undefined, {
    message: "waitSeconds needs waitFor: say which status to wait for",
  });

export const DecisionView = z.object({
  approverId: z.string(),
  kind: z.enum(["approve", "deny"]),
  step: z.number(),
  comment: z.string().nullable(),
  at: z.string(),
});

export const ActionView = z
  .object({
    kind: z.enum(ACTION_KINDS).describe("sql (postgres, mysql), kubernetes (kubernetes) or command (webhook)"),
    text: z.string(),
    sha256: z.string().describe("Hex sha256 of the UTF-8 text: what the approval is bound to"),
    class: z.enum(ACTION_CLASSES),
    classWhy: z.string(),
    status: z.enum(["pending", "queued", "running", "succeeded", "failed", "unknown", "not_run"]),
    limits: z.object({ rowLimit: z.number(), maxAffectedRows: z.number().nullable(), statementTimeoutMs: z.number() }),
    result: z
      .object({
        rowCount: z.number().nullable(),
        columns: z.array(z.string()),
        rows: z.array(z.array(z.unknown())),
        truncated: z.boolean(),
        output: z.string().optional(),
        error: z.string().optional(),
      })
      .nullable()
      .describe(
        "Once finished: the row count and first rows (up to rowLimit) of SQL, the output of other kinds, or the target's error",
      ),
  })
  .describe("Action requests only: the exact action, its class and its single run");

export const RequestView = z.object({
  id: z.string(),
  kind: z.enum(["access", "extension"]),
  status: RequestStatus,
  version: z.number(),
  requester: z.string(),
  resource: z.string(),
  policy: z.string(),
  durationSeconds: z.number(),
  reason: z.string().nullable(),
  ticket: z.string().nullable(),
  matchedBecause: z.string(),
  steps: z.array(
    z.object({ name: z.string(), approvers: z.array(z.string()), required: z.number(), received: z.number() }),
  ),
  currentStep: z.number(),
  decisions: z.array(DecisionView),
  autoApprovalReason: z.string().nullable(),
  decisionReason: z.string().nullable(),
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
  pendingUntil: z.string(),
  extendsGrant: z.string().nullable(),
  grant: z.string().nullable(),
  createdAt: z.string(),
  escalation: z
    .array(z.object({ step: z.number(), action: z.string(), at: z.string(), summary: z.string() }))
    .describe("What the escalation ladder did so far"),
  onCallNote: z.string().nullable(),
  trigger: AccessTriggerSchema.nullable().describe("The signed event that opened it (null when someone asked)"),
  breakGlass: z.boolean(),
  review: z
    .object({ by: z.string().nullable(), at: z.string(), note: z.string().nullable() })
    .nullable()
    .describe("Break-glass review, once done"),
  action: ActionView.optional(),
});

export const GrantView = z.object({
  id: z.string(),
  request: z.string(),
  subject: z.string(),
  resource: z.string(),
  connector: z.string(),
  principal: z.string(),
  status: GrantStatus,
  version: z.number(),
  startsAt: z.string(),
  expiresAt: z.string(),
  activatedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  revokeReason: z.string().nullable(),
  revokedBy: z.string().nullable(),
  receipt: z.record(z.string(), z.unknown()).nullable(),
  hasCredentials: z.boolean(),
  attempts: z.number(),
  lastError: z.string().nullable(),
  trigger: AccessTriggerSchema.nullable().describe("What opened it when nobody asked (a signed event, an incident)"),
});

export const ErrorView = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    fields: z.array(z.object({ field: z.string(), problem: z.string() })).optional(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

/** The error answers every authenticated route may give, for the OpenAPI document. */
export const ErrorResponses = {
  400: ErrorView,
  401: ErrorView,
  403: ErrorView,
  404: ErrorView,
  409: ErrorView,
  422: ErrorView,
  /** Sesame's database is unreachable: retry after the Retry-After header's seconds. */
  503: ErrorView,
};
