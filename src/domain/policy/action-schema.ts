import { z } from "zod";
import { ACTION_KINDS } from "../actions/action-kind.js";
import { tryParseDuration } from "../duration.js";

/**
 * A resource's `actions:` block: which one-off actions people may ask Sesame to run on it (one
 * exact SQL statement, Kubernetes operation or runner command, as the resource's connector
 * implies), who may ask, and per class of action who approves, whether it approves itself, or
 * whether it is refused. Approvers follow the policy's own rules (people,
 * groups, on-call, N of M, ordered steps); a class without approvers uses the policy's.
 */

const Id = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, "use lowercase letters, digits, '.', '_' or '-'");
const Subjects = z.object({ users: z.array(Id).default([]), groups: z.array(Id).default([]) }).strict();
const Approvers = Subjects.extend({ oncall: z.array(Id).default([]) }).strict();

export const ActionClassRuleSchema = z
  .object({
    refuse: z.boolean().default(false).describe("Never run actions of this class"),
    autoApprove: z
      .object({ reason: z.string().min(1).describe("Shown to people and written to the audit log") })
      .strict()
      .optional()
      .describe("Run actions of this class without asking anyone"),
    approvers: Approvers.optional().describe("Who approves this class (the policy's approvers when absent)"),
    requiredApprovals: z.number().int().min(1).optional().describe("N of M for `approvers`"),
    steps: z
      .array(
        z
          .object({ name: z.string().optional(), approvers: Approvers, required: z.number().int().min(1).default(1) })
          .strict(),
      )
      .min(1)
      .optional()
      .describe("Ordered approval steps for this class"),
  })
  .strict();
export type ActionClassRule = z.infer<typeof ActionClassRuleSchema>;

const REFUSED: ActionClassRule = { refuse: true };
const BY_POLICY: ActionClassRule = { refuse: false };

export const ResourceActionsSchema = z
  .object({
    kinds: z
      .array(z.enum(ACTION_KINDS))
      .min(1)
      .optional()
      .describe(
        "What may be run, implied by the connector when absent: sql (postgres, or mysql in role mode), kubernetes (kubernetes), command (webhook)",
      ),
    requesters: Subjects.optional().describe(
      "Who may request actions (everyone the policy lets request the resource when absent)",
    ),
    classes: z
      .object({
        read: ActionClassRuleSchema.default(BY_POLICY),
        write: ActionClassRuleSchema.default(BY_POLICY),
        unbounded_write: ActionClassRuleSchema.default(REFUSED).describe("UPDATE or DELETE without WHERE"),
        ddl: ActionClassRuleSchema.default(REFUSED).describe("Schema changes, and anything the parser cannot read"),
        restart: ActionClassRuleSchema.default(BY_POLICY).describe("Kubernetes: rollout restart of a workload"),
        scale: ActionClassRuleSchema.default(BY_POLICY).describe("Kubernetes: scale a deployment or statefulset"),
        delete: ActionClassRuleSchema.default(BY_POLICY).describe("Kubernetes: delete one pod"),
        command: ActionClassRuleSchema.default(BY_POLICY).describe("A command forwarded to your runner (webhook)"),
      })
      .strict()
      .default({
        read: BY_POLICY,
        write: BY_POLICY,
        unbounded_write: REFUSED,
        ddl: REFUSED,
        restart: BY_POLICY,
        scale: BY_POLICY,
        delete: BY_POLICY,
        command: BY_POLICY,
      }),
    rowLimit: z.number().int().min(1).max(10_000).default(100).describe("Rows returned at most (the rest is cut)"),
    maxAffectedRows: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("A write changing more rows than this is rolled back and fails"),
    statementTimeout: z
      .string()
      .refine((text) => tryParseDuration(text) !== undefined, "must be a duration like 5s, 30s or 2m")
      .default("30s")
      .describe(
        "Time limit of one action (PostgreSQL statement_timeout, MariaDB max_statement_time, MySQL max_execution_time; the Kubernetes API request timeout)",
      ),
    allowMultipleStatements: z.boolean().default(false),
    readFunctions: z
      .array(z.string().min(1))
      .default([])
      .describe("Functions a read-only SELECT may call, on top of Sesame's built-in allow-list"),
  })
  .strict();
export type ResourceActions = z.infer<typeof ResourceActionsSchema>;
