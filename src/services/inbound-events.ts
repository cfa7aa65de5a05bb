import { type InboundEventBody, InboundEventBodySchema } from "../domain/access-trigger.js";
import { toSeconds } from "../domain/duration.js";
import { AppError, isAppError } from "../domain/errors.js";
import { eventApprovalFor } from "../domain/policy/event-access.js";
import type { ServiceDeps } from "./deps.js";
import { cappedDuration, type PagerDutyPorts, processPagerDutyEvent } from "./pagerduty-incidents.js";
import { requestRevoke } from "./request-revoke.js";
import { submitRequest } from "./submit-request.js";

/** A verified event as stored before any work (see InboundEvent in the schema). */
export interface StoredInboundEvent {
  id: string;
  source: string;
  idempotencyKey: string;
  payload: unknown;
}

/** Where verified events are kept: a unique (source, key) so a redelivery is recognised. */
export interface InboundEventStore {
  /** Stores the event unless one with the same source and key exists; says which. */
  record(source: string, idempotencyKey: string, payload: unknown): Promise<{ id: string; duplicate: boolean }>;
  /** Takes the event for processing (received → processing); null when someone else took it or it is done. */
  claim(id: string): Promise<StoredInboundEvent | null>;
  finish(id: string, status: "done" | "failed", outcome: string): Promise<void>;
  /** Gives a claimed event back (processing → received) after a failure worth retrying. */
  release(id: string): Promise<void>;
  /** Whether a PagerDuty `incident.resolved` for this incident was stored. */
  pagerDutyResolveReceived(incidentId: string): Promise<boolean>;
  /**
   * Events received before `before` and never processed (their job was lost), and events whose
   * processing was taken long before it and never finished (the process died): to run again.
   * Processing is idempotent (an event finds the request it already opened), so a re-run is safe.
   */
  stale(before: Date, limit: number): Promise<string[]>;
}

/**
 * Does what a stored event asks, once: `open` submits a request in the subject's name that the
 * `eventAccess` rule approves (the trigger is recorded on it); `close` relinquishes the subject's
 * grants of that resource that events from the same source opened, through the normal revoke path.
 */
export async function processInboundEvent(
  deps: ServiceDeps,
  events: InboundEventStore,
  id: string,
  pagerDuty?: PagerDutyPorts,
): Promise<void> {
  const event = await events.claim(id);
  if (!event) return;
  const log = { eventId: id, source: event.source };
  try {
    const outcome =
      event.source === PAGERDUTY_SOURCE && pagerDuty
        ? await processPagerDutyEvent(deps, pagerDuty, event)
        : await processSignedEvent(deps, event);
    deps.logger.info({ ...log, outcome }, "inbound event processed");
    await events.finish(id, "done", outcome);
  } catch (error) {
    if (!isAppError(error)) {
      // The database or a dependency failed: give it back so the job's retry (or the re-drive) runs it.
      await events.release(id).catch(() => undefined);
      throw error;
    }
    // A refusal is final: retrying cannot make the policy say yes.
    deps.logger.warn({ ...log, refusal: error.message }, "inbound event refused: nothing changed");
    await auditRefusal(deps, event, error.message);
    await events.finish(id, "failed", error.message);
  }
}

/** The source name PagerDuty's webhooks are stored under (POST /events/pagerduty). */
export const PAGERDUTY_SOURCE = "pagerduty";

/**
 * `event.access_refused`: what the event asked and why no rule let it (written before the event is
 * marked failed, so a crash in between writes it again rather than never).
 */
async function auditRefusal(deps: ServiceDeps, event: StoredInboundEvent, refusal: string): Promise<void> {
  const body = InboundEventBodySchema.safeParse(event.payload);
  const asked = body.success
    ? {
        action: body.data.action,
        subject: body.data.subject,
        resource: body.data.resource,
        ...(body.data.ttl ? { ttl: body.data.ttl } : {}),
      }
    : {};
  await deps.store.transaction((uow) =>
    uow.appendAudit({
      type: "event.access_refused",
      data: { source: event.source, eventId: event.id, idempotencyKey: event.idempotencyKey, ...asked, refusal },
    }),
  );
}

async function processSignedEvent(deps: ServiceDeps, event: StoredInboundEvent): Promise<string> {
  const parsed = InboundEventBodySchema.safeParse(event.payload);
  if (!parsed.success) throw new AppError("invalid_input", "the stored payload does not match the event shape");
  const body = parsed.data;
  return body.action === "open" ? open(deps, event, body) : close(deps, event, body);
}

async function open(deps: ServiceDeps, event: StoredInboundEvent, body: InboundEventBody): Promise<string> {
  const book = deps.policy();
  const durationSeconds = body.ttl === undefined ? undefined : toSeconds(body.ttl);
  const approval = eventApprovalFor(book.eventAccessRules(), (person) => book.groupsOf(person), {
    source: event.source,
    subjectId: body.subject,
    resourceId: body.resource,
    ...(durationSeconds === undefined ? {} : { durationSeconds }),
  });
  // Idempotent: a re-run after a crash finds the request this very event already opened.
  const earlier = (await deps.store.listRequests({ requesterId: body.subject, resourceId: body.resource })).find(
    (request) => request.snapshot.trigger?.kind === "event" && request.snapshot.trigger.eventId === event.id,
  );
  if (earlier) return `request ${earlier.id} was already opened by this event`;
  const request = await submitRequest(deps, {
    requesterId: body.subject,
    resourceId: body.resource,
    duration: durationSeconds ?? cappedDuration(deps, body.subject, body.resource, approval.maxSeconds),
    reason: body.reason?.trim() || `opened by an event from ${event.source}`,
    trigger: {
      detail: { kind: "event", source: event.source, eventId: event.id, idempotencyKey: event.idempotencyKey },
      approval: `${approval.reason} (event ${event.idempotencyKey})`,
    },
  });
  return `request ${request.id} ${request.status}${request.grantId ? `, grant ${request.grantId}` : ""}`;
}

async function close(deps: ServiceDeps, event: StoredInboundEvent, body: InboundEventBody): Promise<string> {
  const grants = await deps.store.listGrants({
    subjectId: body.subject,
    resourceId: body.resource,
    status: ["scheduled", "active"],
  });
  const closed: string[] = [];
  for (const grant of grants) {
    const request = await deps.store.getRequest(grant.requestId);
    const trigger = request?.snapshot.trigger;
    if (trigger?.kind !== "event" || trigger.source !== event.source) continue;
    await requestRevoke(deps, {
      grantId: grant.id,
      actorId: body.subject,
      cause: "relinquished",
      reason: `closed by an event from ${event.source} (${event.idempotencyKey})${body.reason ? `: ${body.reason}` : ""}`,
    });
    closed.push(grant.id);
  }
  return closed.length > 0 ? `relinquished ${closed.join(", ")}` : "no open grant from this source to close";
}
