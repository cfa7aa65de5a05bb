import { createHash } from "node:crypto";
import { draftRequest, type RequestRow } from "../domain/access-request.js";
import { actionsOf, evaluateAction } from "../domain/actions/action-evaluation.js";
import { type ActionClassification, type ActionKind, actionKindOf } from "../domain/actions/action-kind.js";
import type { ActionSpec } from "../domain/actions/action-run.js";
import { classifyCommand } from "../domain/actions/command-classifier.js";
import { classifyMysqlSql } from "../domain/actions/mysql-sql-classifier.js";
import { classifySql } from "../domain/actions/sql-classifier.js";
import { AppError } from "../domain/errors.js";
import type { ResourceActions } from "../domain/policy/action-schema.js";
import type { ServiceDeps } from "./deps.js";
import { rosterFor } from "./on-call-roster.js";
import { storeNewRequest } from "./store-new-request.js";
import { snapshotOf } from "./submit-request.js";

/** The longest action text Sesame accepts (cards truncate visibly long before this). */
export const MAX_ACTION_TEXT = 20_000;

export interface SubmitActionInput {
  requesterId: string;
  resourceId: string;
  /** The exact action to run (SQL, a Kubernetes operation or a runner command); the approval is bound to its sha256. */
  action: string;
  reason?: string;
  ticket?: string;
}

export const sha256Hex = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");

/**
 * Asks for one exact action to be run once: classified by the reader of its kind (the resource's
 * connector implies it: SQL, Kubernetes operation, runner command), checked against the resource's
 * `actions` rules (refused, auto-approved by class, or sent to the class's
 * approvers), stored with its text and hash in the request's snapshot. An auto-approved action
 * runs right after commit.
 */
export async function submitAction(deps: ServiceDeps, input: SubmitActionInput): Promise<RequestRow> {
  if (!deps.actions) throw new AppError("config_invalid", "This Sesame cannot run actions (no executor configured).");
  const text = input.action;
  if (text.trim() === "")
    throw new AppError("invalid_input", "Give the action to run.", { details: { field: "action" } });
  if (text.length > MAX_ACTION_TEXT)
    throw new AppError("invalid_input", `An action is at most ${MAX_ACTION_TEXT} characters.`, {
      details: { field: "action" },
    });
  const now = deps.now();
  const book = deps.policy();
  const { resource, policy } = book.authorize(input.requesterId, input.resourceId);
  const actions = actionsOf(input.resourceId, resource);
  const connectorType = deps.connectors.get(resource.connector).type;
  const kind = actionKindOf(connectorType, actions.kinds);
  if (!kind)
    throw new AppError(
      "config_invalid",
      `Resource ${input.resourceId} uses a ${connectorType} connector, which runs no actions; ask an admin to remove its actions block.`,
    );
  const classification = await classify(kind, connectorType, text, actions);
  const sources = book.onCallSourcesOf(policy);
  const onCall = await rosterFor(deps, sources.approvers);
  const base = book.evaluateRequest(
    {
      requesterId: input.requesterId,
      resourceId: input.resourceId,
      ...(input.reason ? { reason: input.reason } : {}),
      ...(input.ticket ? { ticket: input.ticket } : {}),
      onCall,
    },
    now,
  );
  const evaluation = evaluateAction({
    requesterId: input.requesterId,
    requesterGroups: book.groupsOf(input.requesterId),
    resourceId: input.resourceId,
    resource,
    policy,
    groups: book.groupTable(),
    classification,
    onCall,
  });
  const spec: ActionSpec = {
    kind,
    text,
    sha256: sha256Hex(text),
    class: classification.class,
    classWhy: classification.why,
    limits: evaluation.limits,
  };
  const draft = draftRequest(
    {
      kind: "access",
      requesterId: input.requesterId,
      resourceId: input.resourceId,
      policyId: base.policyId,
      durationSeconds: 0,
      reason: input.reason?.trim() || null,
      ticket: input.ticket?.trim() || null,
      snapshot: { ...snapshotOf({ ...base, steps: evaluation.steps }, deps.connectors), action: spec },
      autoApprovalReason: null,
      extendsGrantId: null,
      pendingUntil: new Date(now.getTime() + base.pendingTimeoutSeconds * 1000),
    },
    { now, newId: deps.newId },
  );
  return storeNewRequest(deps, draft, evaluation.autoApprovalReason);
}

/** Each kind of action is read by its own reader; what none can read is refused or treated as the most dangerous. */
async function classify(
  kind: ActionKind,
  connectorType: string,
  text: string,
  actions: ResourceActions,
): Promise<ActionClassification> {
  switch (kind) {
    case "sql": {
      const options = {
        allowMultipleStatements: actions.allowMultipleStatements,
        readFunctions: actions.readFunctions,
      };
      // MariaDB/MySQL SQL (backticks, LIMIT a, b) is read by a MariaDB grammar, PostgreSQL's by its own.
      return connectorType === "mysql" ? classifyMysqlSql(text, options) : classifySql(text, options);
    }
    case "kubernetes":
      return { class: "refused", why: "Kubernetes actions are not available in this version" };
    case "command":
      return classifyCommand(text);
  }
}
