import { z } from "zod";
import { tryParseDuration } from "../duration.js";
import { ResourceActionsSchema } from "./action-schema.js";
import { KubernetesSectionSchema } from "./guardrail-schema.js";

/**
 * The policy file, as written by an operator (YAML). `z.toJSONSchema(PolicyFileSchema)` produces
 * the editor schema checked in at `policy.schema.json` (`npm run policy:schema`).
 */

const Id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]*$/, "use lowercase letters, digits, '.', '_' or '-' (e.g. prod-db-readonly)");

export const DurationTextSchema = z
  .string()
  .refine((text) => tryParseDuration(text) !== undefined, "must be a duration like 30m, 1h, 1h30m or 2d")
  .describe("A duration such as 30m, 1h, 1h30m or 2d");

/** A value that may be written inline or taken from an environment variable (required for secrets). */
export const ValueSourceSchema = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.object({ env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "must be an environment variable name") }).strict(),
]);
export type ValueSource = z.infer<typeof ValueSourceSchema>;

/** A non-human identity: what it may ask for, and whether a person may ever approve it. */
export const ServiceIdentitySchema = z
  .object({
    resources: z.array(Id).min(1).describe("This identity may only ask for these resources"),
    humanApproval: z
      .boolean()
      .default(false)
      .describe(
        "false (default): this identity is never approved by a human; a request no autoApprove rule approves is refused",
      ),
  })
  .strict();

export const PersonSchema = z
  .object({
    id: Id.describe("Stable Sesame identity id, e.g. alice"),
    email: z.email(),
    name: z.string().optional(),
    admin: z.boolean().default(false).describe("May revoke any grant and read the whole audit log"),
    slack: z.string().optional().describe("Slack user id (U…); optional, looked up by email otherwise"),
    teams: z.string().optional().describe("Microsoft Entra (AAD) object id; optional"),
    principals: z
      .record(z.string(), z.string())
      .optional()
      .describe("Explicit principal per connector name, overriding the resource's template"),
    kubernetes: z
      .string()
      .min(1)
      .optional()
      .describe("Kubernetes username (userInfo.username) for guardrails; the email otherwise"),
    service: ServiceIdentitySchema.optional().describe(
      "Marks a non-human identity (CI pipeline, service) that requests through the REST API with its token",
    ),
  })
  .strict();

export const ConnectorInstanceSchema = z
  .object({
    type: z.string().describe("Connector type, e.g. postgres or noop"),
    config: z
      .record(
        z.string(),
        z.union([ValueSourceSchema, z.array(z.string())], {
          error: "must be text, a number, true/false, a list of text, or { env: VARIABLE_NAME }",
        }),
      )
      .default({}),
  })
  .strict();

export const ResourceSchema = z
  .object({
    description: z.string().optional(),
    connector: Id.describe("Name of an entry in `connectors`"),
    target: z
      .record(z.string(), z.unknown())
      .default({})
      .describe("Connector-specific target, e.g. { role: readonly }"),
    principal: z
      .string()
      .default("{{ id }}")
      .describe("Template for the account the connector grants to: {{ id }}, {{ email }}, {{ email | localpart }}"),
    risk: z.enum(["low", "medium", "high"]).default("high"),
    actions: ResourceActionsSchema.optional().describe("One-off actions (one exact SQL statement) Sesame may run here"),
  })
  .strict();

export const OnCallSourceSchema = z
  .object({
    provider: z.enum(["pagerduty", "opsgenie"]),
    schedule: z.string().min(1).optional().describe("PagerDuty schedule id (P…) or Opsgenie schedule name"),
    escalationPolicy: z.string().min(1).optional().describe("PagerDuty escalation policy id (P…)"),
    level: z.number().int().min(1).optional().describe("PagerDuty escalation level: 1 is primary, 2 secondary…"),
  })
  .strict()
  .refine(
    (source) => source.schedule !== undefined || source.escalationPolicy !== undefined,
    "name a schedule or an escalationPolicy",
  )
  .refine(
    (source) =>
      source.provider === "pagerduty" || (source.escalationPolicy === undefined && source.level === undefined),
    "escalationPolicy and level are PagerDuty settings; Opsgenie takes a schedule",
  );
export type OnCallSource = z.infer<typeof OnCallSourceSchema>;

export const SubjectSetSchema = z
  .object({
    users: z.array(Id).default([]),
    groups: z.array(Id).default([]),
  })
  .strict();
export type SubjectSet = z.infer<typeof SubjectSetSchema>;

/** Approvers: people, groups, and whoever is on call for the named sources at the time. */
export const ApproverSetSchema = SubjectSetSchema.extend({
  oncall: z.array(Id).default([]).describe("Names of entries in `oncall`: whoever is on call there may approve"),
}).strict();
export type ApproverSet = z.infer<typeof ApproverSetSchema>;

export const ApprovalStepSchema = z
  .object({
    name: z.string().optional(),
    approvers: ApproverSetSchema,
    required: z.number().int().min(1).default(1).describe("How many distinct approvals this step needs (N of M)"),
  })
  .strict();
export type ApprovalStep = z.infer<typeof ApprovalStepSchema>;

const Weekday = z.enum(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]);
const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be HH:MM (24-hour)");

export const TimeWindowSchema = z
  .object({
    days: z.array(Weekday).min(1).default(["mon", "tue", "wed", "thu", "fri"]),
    start: ClockTime,
    end: ClockTime,
    timezone: z.string().default("UTC").describe("IANA time zone, e.g. Europe/Paris"),
  })
  .strict();
export type TimeWindow = z.infer<typeof TimeWindowSchema>;

export const AutoApproveRuleSchema = z
  .object({
    reason: z.string().min(1).describe("Shown to people and written to the audit log"),
    requester: Id.optional().describe("Only requests by this identity (e.g. a service identity)"),
    requesterInGroup: Id.optional(),
    resources: z.array(Id).min(1).optional().describe("Only requests for one of these resources"),
    ticketPattern: z
      .string()
      .optional()
      .describe("Only requests whose ticket (or CI run id) matches this regular expression, e.g. ^[0-9]+$"),
    resourceRisk: z.enum(["low", "medium", "high"]).optional().describe("Matches resources of this risk"),
    withinTimeWindow: TimeWindowSchema.optional(),
    maxDuration: DurationTextSchema.optional().describe("Only requests no longer than this auto-approve"),
    requesterOnCall: Id.optional().describe(
      "Name of an entry in `oncall`: the requester must be on call there right now",
    ),
    endWithShift: z
      .boolean()
      .default(false)
      .describe("With requesterOnCall: the grant ends no later than the requester's shift"),
  })
  .strict()
  .refine(
    (rule) =>
      rule.requester !== undefined ||
      rule.requesterInGroup !== undefined ||
      rule.resourceRisk !== undefined ||
      rule.withinTimeWindow !== undefined ||
      rule.requesterOnCall !== undefined,
    "an auto-approval rule needs at least one condition (requester, requesterInGroup, resourceRisk, withinTimeWindow or requesterOnCall)",
  )
  .refine((rule) => !rule.endWithShift || rule.requesterOnCall !== undefined, "endWithShift needs requesterOnCall");
export type AutoApproveRule = z.infer<typeof AutoApproveRuleSchema>;

export const TextRequirementSchema = z
  .object({
    required: z.boolean().default(false),
    pattern: z.string().optional().describe("Regular expression the value must match, e.g. ^OPS-[0-9]+$"),
    hint: z.string().optional().describe("Shown when the value is missing or does not match"),
  })
  .strict();

export const EscalationStepSchema = z
  .object({
    after: DurationTextSchema.describe("Time since the request was made"),
    action: z
      .enum(["remind", "reroute", "page", "expire"])
      .describe("remind approvers; reroute to more approvers; page on-call; expire the request"),
    to: SubjectSetSchema.optional().describe("reroute: the approvers to add"),
    oncall: Id.optional().describe("page: name of an entry in `oncall` to page and ask"),
  })
  .strict()
  .refine(
    (step) => step.action !== "reroute" || step.to !== undefined,
    "a reroute step needs `to` (users and/or groups)",
  )
  .refine(
    (step) => step.action !== "page" || step.oncall !== undefined,
    "a page step needs `oncall` (the name of an on-call source)",
  );
export type EscalationStep = z.infer<typeof EscalationStepSchema>;

export const BreakGlassSchema = z
  .object({
    maxDuration: DurationTextSchema.describe("Longest break-glass grant"),
    page: Id.optional().describe("Name of an entry in `oncall` to page at once"),
    channels: z
      .object({ slack: z.string().optional(), teams: z.string().optional() })
      .strict()
      .optional()
      .describe("Security channels told at once (Slack channel id, Teams channel id)"),
  })
  .strict();

export const PolicySchema = z
  .object({
    id: Id,
    description: z.string().optional(),
    resources: z.array(Id).min(1),
    requesters: SubjectSetSchema.extend({ everyone: z.boolean().default(false) }).strict(),
    duration: z
      .object({ default: DurationTextSchema, max: DurationTextSchema })
      .strict()
      .refine((d) => {
        const defaultSeconds = tryParseDuration(d.default);
        const maxSeconds = tryParseDuration(d.max);
        // An unparsable value is already reported on its own field; don't pile on.
        return defaultSeconds === undefined || maxSeconds === undefined || defaultSeconds <= maxSeconds;
      }, "default must not exceed max"),
    reason: TextRequirementSchema.default({ required: true }),
    ticket: TextRequirementSchema.default({ required: false }),
    approvers: ApproverSetSchema.optional().describe("Shorthand for a single approval step"),
    requiredApprovals: z.number().int().min(1).optional().describe("N of M for the `approvers` shorthand"),
    steps: z.array(ApprovalStepSchema).min(1).optional().describe("Ordered approval steps; each must pass in turn"),
    selfApproval: z.boolean().default(false),
    autoApprove: z.array(AutoApproveRuleSchema).default([]),
    approvalChannels: z
      .object({
        slack: z
          .string()
          .regex(/^[CG][A-Z0-9]+$/, "must be a Slack channel id such as C0123ABCD (channel details → About)")
          .optional(),
        teams: z
          .string()
          .min(1)
          .optional()
          .describe("Teams channel id (19:…@thread.tacv2); the bot must be added to its team"),
      })
      .strict()
      .optional()
      .describe("Also post approval cards to these channels (in addition to the approvers' direct messages)"),
    escalation: z
      .array(EscalationStepSchema)
      .default([])
      .describe("What happens while nobody answers, in order of `after`"),
    breakGlass: BreakGlassSchema.optional().describe(
      "Allow immediate access in an emergency, paged and reviewed after the fact",
    ),
    pendingTimeout: DurationTextSchema.default("24h").describe("How long a request may wait for a decision"),
    maxPendingPerRequester: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .optional()
      .describe("At most this many requests of one person may wait for a decision under this policy at once"),
    extension: z
      .object({
        requiresApproval: z.boolean().default(true),
        maxTotal: DurationTextSchema.optional().describe(
          "Longest total grant including extensions (default: duration.max)",
        ),
      })
      .strict()
      .default({ requiresApproval: true }),
  })
  .strict();
export type PolicyInput = z.input<typeof PolicySchema>;

/** `eventAccess`: what a signed event source (POST /events/:source) may open, for whom, how long. */
export const EventAccessRuleSchema = z
  .object({
    source: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]*$/, "use lowercase letters, digits, '_' or '-' (e.g. monitoring)")
      .describe("The source in POST /events/<source>; its secret is SESAME_EVENT_SECRET_<SOURCE> (upper case, - as _)"),
    resources: z.array(Id).min(1).describe("Resources events from this source may open"),
    subjects: SubjectSetSchema.extend({ everyone: z.boolean().default(false) })
      .strict()
      .describe("Who events may give access to (users, groups, or everyone: true)"),
    maxDuration: DurationTextSchema.describe("Longest access an event opens; its ttl is capped by it"),
    reason: z.string().min(1).optional().describe("Recorded as the auto-approval reason"),
  })
  .strict();
export type EventAccessRule = z.infer<typeof EventAccessRuleSchema>;

/** `incidentAccess`: PagerDuty incidents of these services give their assignees these resources. */
export const IncidentAccessRuleSchema = z
  .object({
    provider: z.literal("pagerduty").default("pagerduty"),
    services: z.array(z.string().min(1)).min(1).describe("PagerDuty service ids (P…) whose incidents open access"),
    urgency: z.enum(["high", "low"]).optional().describe("Only incidents of this urgency"),
    priorities: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe(
        "Only incidents of these priorities (PagerDuty priority name, e.g. P1); an incident without one never matches",
      ),
    resources: z.array(Id).min(1).describe("What the incident's assignees get"),
    on: z
      .enum(["acknowledged", "triggered"])
      .default("acknowledged")
      .describe("Access starts when the incident is acknowledged (default) or as soon as it is triggered"),
    maxDuration: DurationTextSchema.describe("Access ends on resolve, or after this long, whichever is first"),
    grant: z
      .enum(["immediately", "offer"])
      .default("immediately")
      .describe(
        "immediately: granted at once; offer: the assignee gets a chat card 'Activate access to <resource> for INC #42' and one click grants it",
      ),
  })
  .strict();
export type IncidentAccessRule = z.infer<typeof IncidentAccessRuleSchema>;

export const PolicyFileSchema = z
  .object({
    version: z.literal(1),
    people: z.array(PersonSchema).default([]),
    groups: z.record(Id, z.array(Id)).default({}),
    connectors: z.record(Id, ConnectorInstanceSchema).default({}),
    oncall: z
      .record(Id, OnCallSourceSchema)
      .default({})
      .describe("Named on-call sources (PagerDuty schedules or escalation policies, Opsgenie schedules)"),
    resources: z.record(Id, ResourceSchema),
    policies: z.array(PolicySchema).min(1),
    kubernetes: KubernetesSectionSchema.default({ guardrails: [] }),
    eventAccess: z
      .array(EventAccessRuleSchema)
      .default([])
      .describe("Signed event sources (POST /events/<source>) and the access their events may open"),
    incidentAccess: z
      .array(IncidentAccessRuleSchema)
      .default([])
      .describe("PagerDuty incidents (POST /events/pagerduty) that give their assignees access while open"),
  })
  .strict();
export type PolicyFile = z.infer<typeof PolicyFileSchema>;
export type Person = z.infer<typeof PersonSchema>;
export type Resource = z.infer<typeof ResourceSchema>;
export type Policy = z.infer<typeof PolicySchema>;
export type ConnectorInstance = z.infer<typeof ConnectorInstanceSchema>;
