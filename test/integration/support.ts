import { expect } from "vitest";
import { verifyOnceChained } from "../helpers/audit-chain.js";
import type { TestSesame } from "../helpers/sesame.js";
import { WAIT_MS, waitFor } from "../helpers/wait.js";

/** Shared steps of the integration tests: everything goes through the REST API except audit reads. */

/** Generous: these files run in parallel with others on two cores, on machines that may be busy. */
export const SLOW_MS = WAIT_MS;

export interface AuditRow {
  type: string;
  actorId: string | null;
  requestId: string | null;
  grantId: string | null;
  data: Record<string, unknown>;
}

/** The audit rows about one grant or request, in chain order. */
export async function auditEvents(
  sesame: TestSesame,
  where: { grantId?: string; requestId?: string },
): Promise<AuditRow[]> {
  const rows = await sesame.runtime.db.auditEvent.findMany({ where, orderBy: { seq: "asc" } });
  return rows.map((row) => ({
    type: row.type,
    actorId: row.actorId,
    requestId: row.requestId,
    grantId: row.grantId,
    data: row.data as Record<string, unknown>,
  }));
}

export async function getGrant(sesame: TestSesame, identity: string, grantId: string): Promise<any> {
  const response = await sesame.api(identity, "GET", `/api/v1/grants/${grantId}`);
  expect(response.status).toBe(200);
  return response.body;
}

export async function getRequest(sesame: TestSesame, identity: string, requestId: string): Promise<any> {
  const response = await sesame.api(identity, "GET", `/api/v1/requests/${requestId}`);
  expect(response.status).toBe(200);
  return response.body;
}

/**
 * Waits until the grant reaches `status` (as seen by `identity`), and `also` holds of it when
 * given (work after the commit that set the status, such as a clean-up), and returns it.
 */
export async function waitForGrantStatus(
  sesame: TestSesame,
  identity: string,
  grantId: string,
  status: string,
  timeoutMs = SLOW_MS,
  also: (grant: any) => boolean = () => true,
): Promise<any> {
  let last: any;
  await waitFor(
    async () => {
      last = await getGrant(sesame, identity, grantId);
      return last.status === status && also(last);
    },
    `grant ${grantId} to become ${status}`,
    timeoutMs,
  ).catch((error: Error) => {
    throw new Error(`${error.message} (last seen: ${last?.status}, lastError: ${last?.lastError})`);
  });
  return last;
}

export async function waitForRequestStatus(
  sesame: TestSesame,
  identity: string,
  requestId: string,
  status: string,
  timeoutMs = SLOW_MS,
): Promise<any> {
  let last: any;
  await waitFor(
    async () => {
      last = await getRequest(sesame, identity, requestId);
      return last.status === status;
    },
    `request ${requestId} to become ${status}`,
    timeoutMs,
  ).catch((error: Error) => {
    throw new Error(`${error.message} (last seen: ${last?.status})`);
  });
  return last;
}

/** Submits a request as `requester` and has `approver` approve it; returns the ids (the grant may still be scheduled). */
export async function requestAndApprove(
  sesame: TestSesame,
  requester: string,
  approver: string,
  body: { resource: string; duration?: string; reason?: string; ticket?: string },
): Promise<{ requestId: string; grantId: string }> {
  const created = await sesame.api(requester, "POST", "/api/v1/requests", { reason: "integration test", ...body });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  expect(created.body.status).toBe("pending");
  const approved = await sesame.api(approver, "POST", `/api/v1/requests/${created.body.id}/approve`, {
    version: created.body.version,
  });
  expect(approved.status, JSON.stringify(approved.body)).toBe(200);
  expect(approved.body.status).toBe("approved");
  expect(approved.body.grant).toEqual(expect.any(String));
  return { requestId: created.body.id, grantId: approved.body.grant };
}

/** Request, approval and activation: an active grant held by `requester`. */
export async function activeGrant(
  sesame: TestSesame,
  requester: string,
  approver: string,
  body: { resource: string; duration?: string; reason?: string; ticket?: string },
): Promise<{ requestId: string; grantId: string; grant: any }> {
  const ids = await requestAndApprove(sesame, requester, approver, body);
  const grant = await waitForGrantStatus(sesame, requester, ids.grantId, "active");
  // Activation schedules the revoke job just after it commits: wait for that too, so a test that
  // then flushes Redis or looks at jobs does not race it.
  await waitFor(() => sesame.runtime.deps.jobs.hasRevokeJob(ids.grantId), `the revoke job of ${ids.grantId}`, SLOW_MS);
  return { ...ids, grant };
}

/** Invariant 7: whatever the file did, the audit chain still verifies. */
export async function expectIntactAuditChain(sesame: TestSesame, atLeast: number): Promise<void> {
  const verdict = await verifyOnceChained(sesame.runtime.db, atLeast);
  expect(verdict).toMatchObject({ ok: true });
  expect(verdict.checked).toBeGreaterThanOrEqual(atLeast);
}
