import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { RequestRow } from "../../domain/access-request.js";
import { actionStatusOf } from "../../domain/actions/action-run.js";
import { AppError } from "../../domain/errors.js";
import { canSeeRequest } from "../../domain/visibility.js";
import { reviewBreakGlass } from "../../services/break-glass.js";
import { cancelRequest } from "../../services/cancel-request.js";
import { decideRequest } from "../../services/decide-request.js";
import type { ServiceDeps } from "../../services/deps.js";
import { openResult } from "../../services/run-action.js";
import { submitAction } from "../../services/submit-action.js";
import { submitRequest } from "../../services/submit-request.js";
import {
  CreateRequestBody,
  DecisionBody,
  DenyBody,
  ErrorResponses,
  IdParams,
  ListRequestsQuery,
  RequestView,
  ReviewBody,
} from "../api-schemas.js";
import { requestView } from "../views.js";

function canSee(deps: ServiceDeps, request: RequestRow, identityId: string): boolean {
  return canSeeRequest(request, identityId, deps.policy().isAdmin(identityId));
}

export function requestRoutes(deps: ServiceDeps): FastifyPluginAsyncZod {
  const view = async (request: RequestRow) => {
    const spec = request.snapshot.action;
    if (!spec) return requestView(request);
    const run = await deps.store.getActionRun(request.id);
    const result = run ? openResult(deps, run) : null;
    return {
      ...requestView(request),
      action: {
        kind: spec.kind,
        text: spec.text,
        sha256: spec.sha256,
        class: spec.class,
        classWhy: spec.classWhy,
        status: actionStatusOf(request.status, run),
        limits: spec.limits,
        result,
      },
    };
  };
  const load = async (id: string, me: string) => {
    const request = await deps.store.getRequest(id);
    if (!request || !canSee(deps, request, me))
      throw new AppError("not_found", `There is no request ${id} that you can see.`);
    return request;
  };

  return async (app) => {
    const tags = ["requests"];
    app.post(
      "/requests",
      {
        schema: {
          tags,
          summary: "Request access, or one exact action (SQL) run once",
          body: CreateRequestBody,
          response: { 201: RequestView, ...ErrorResponses },
        },
      },
      async (req, reply) => {
        const me = req.identityId;
        const { resource, duration, reason, ticket, breakGlass, action } = req.body;
        if (action !== undefined) {
          const asked = await submitAction(deps, {
            requesterId: me,
            resourceId: resource,
            action,
            ...(reason ? { reason } : {}),
            ...(ticket ? { ticket } : {}),
          });
          return reply.status(201).send(await view(asked));
        }
        const created = await submitRequest(deps, {
          requesterId: me,
          resourceId: resource,
          ...(duration === undefined ? {} : { duration }),
          ...(reason ? { reason } : {}),
          ...(ticket ? { ticket } : {}),
          ...(breakGlass ? { breakGlass } : {}),
        });
        return reply.status(201).send(await view(created));
      },
    );

    app.get(
      "/requests",
      {
        schema: {
          tags,
          summary: "List requests you can see",
          querystring: ListRequestsQuery,
          response: { 200: z.object({ requests: z.array(RequestView) }), ...ErrorResponses },
        },
      },
      async (req) => {
        const me = req.identityId;
        const q = req.query;
        const limit = q.limit ?? 100;
        const admin = deps.policy().isAdmin(me);
        const rows = await deps.store.listRequests({
          ...(q.status ? { status: q.status } : {}),
          ...(q.requester ? { requesterId: q.requester } : {}),
          ...(q.resource ? { resourceId: q.resource } : {}),
          ...(q.awaitingMe === "true" ? { approverId: me, status: ["pending"] } : {}),
          // The visibility rule (canSeeRequest) as an indexed filter, so a page is always full.
          ...(admin ? {} : { viewerId: me }),
          limit,
        });
        return { requests: await Promise.all(rows.map(view)) };
      },
    );

    app.get(
      "/requests/:id",
      {
        schema: { tags, summary: "Get a request", params: IdParams, response: { 200: RequestView, ...ErrorResponses } },
      },
      async (req) => {
        const me = req.identityId;
        return view(await load(req.params.id, me));
      },
    );

    // Decisions are not gated on visibility: the service answers "not an approver" explicitly.
    app.post(
      "/requests/:id/approve",
      {
        schema: {
          tags,
          summary: "Approve a request",
          params: IdParams,
          body: DecisionBody,
          response: { 200: RequestView, ...ErrorResponses },
        },
      },
      async (req) => {
        const me = req.identityId;
        const { version, comment, sha256 } = req.body ?? {};
        return view(
          await decideRequest(deps, {
            requestId: req.params.id,
            actorId: me,
            decision: "approve",
            ...(version ? { expectedVersion: version } : {}),
            ...(sha256 ? { expectedSha256: sha256 } : {}),
            ...(comment ? { comment } : {}),
          }),
        );
      },
    );

    app.post(
      "/requests/:id/deny",
      {
        schema: {
          tags,
          summary: "Deny a request",
          params: IdParams,
          body: DenyBody,
          response: { 200: RequestView, ...ErrorResponses },
        },
      },
      async (req) => {
        const me = req.identityId;
        const { version, reason } = req.body ?? {};
        return view(
          await decideRequest(deps, {
            requestId: req.params.id,
            actorId: me,
            decision: "deny",
            ...(version ? { expectedVersion: version } : {}),
            ...(reason ? { comment: reason } : {}),
          }),
        );
      },
    );

    app.post(
      "/requests/:id/review",
      {
        schema: {
          tags,
          summary: "Review a break-glass request after the fact",
          params: IdParams,
          body: ReviewBody,
          response: { 200: RequestView, ...ErrorResponses },
        },
      },
      async (req) => {
        const me = req.identityId;
        const note = req.body?.note;
        return view(await reviewBreakGlass(deps, { requestId: req.params.id, actorId: me, ...(note ? { note } : {}) }));
      },
    );

    app.post(
      "/requests/:id/cancel",
      {
        schema: {
          tags,
          summary: "Cancel your pending request",
          params: IdParams,
          response: { 200: RequestView, ...ErrorResponses },
        },
      },
      async (req) => {
        const me = req.identityId;
        return view(await cancelRequest(deps, { requestId: req.params.id, actorId: me }));
      },
    );
  };
}
