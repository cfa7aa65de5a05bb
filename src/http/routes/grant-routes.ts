import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { AppError } from "../../domain/errors.js";
import { adminRevokeGrant } from "../../services/admin-revoke-grant.js";
import type { ServiceDeps } from "../../services/deps.js";
import { extendGrant } from "../../services/extend-grant.js";
import { readGrantCredentials } from "../../services/grant-credentials.js";
import { relinquishGrant } from "../../services/relinquish-grant.js";
import { visibleGrant, waitForGrant } from "../../services/wait-for-grant.js";
import {
  ErrorResponses,
  ExtendBody,
  GetGrantQuery,
  GrantView,
  IdParams,
  ListGrantsQuery,
  RequestView,
  RevokeBody,
} from "../api-schemas.js";
import { grantView, requestView } from "../views.js";

const DEFAULT_WAIT_SECONDS = 30;

export function grantRoutes(deps: ServiceDeps): FastifyPluginAsyncZod {
  const load = (id: string, me: string) => visibleGrant(deps, id, me);

  return async (app) => {
    const tags = ["grants"];
    // Closing waits for requests in flight: waiting reads answer at once instead of holding it up.
    app.addHook("preClose", async () => deps.grantWaits?.stop());
    app.get(
      "/grants",
      {
        schema: {
          tags,
          summary: "List grants (yours; all for admins)",
          querystring: ListGrantsQuery,
          response: { 200: z.object({ grants: z.array(GrantView) }), ...ErrorResponses },
        },
      },
      async (req) => {
        const me = req.identityId;
        const q = req.query;
        const admin = deps.policy().isAdmin(me);
        if (q.subject && q.subject !== me && !admin)
          throw new AppError("forbidden", "Only admins can list other people's grants.");
        const rows = await deps.store.listGrants({
          ...(q.status ? { status: q.status } : {}),
          ...(q.resource ? { resourceId: q.resource } : {}),
          ...(admin ? (q.subject ? { subjectId: q.subject } : {}) : { subjectId: me }),
          limit: q.limit ?? 100,
        });
        return { grants: rows.map(grantView) };
      },
    );

    app.get(
      "/grants/:id",
      {
        schema: {
          tags,
          summary: "Get a grant, or wait for its status (waitFor)",
          params: IdParams,
          querystring: GetGrantQuery,
          response: { 200: GrantView, ...ErrorResponses },
        },
      },
      async (req, reply) => {
        const me = req.identityId;
        const { waitFor, waitSeconds } = req.query;
        if (!waitFor) return grantView(await load(req.params.id, me));
        // A caller that hangs up stops waiting: nothing is kept for an answer nobody reads.
        const hungUp = new AbortController();
        const onClose = () => hungUp.abort();
        reply.raw.once("close", onClose);
        // Gone already (while the token was checked): its close event will not come again.
        if (reply.raw.destroyed) hungUp.abort();
        try {
          const grant = await waitForGrant(deps, {
            grantId: req.params.id,
            actorId: me,
            until: waitFor,
            waitMs: (waitSeconds ?? DEFAULT_WAIT_SECONDS) * 1000,
            signal: hungUp.signal,
          });
          return grantView(grant);
        } finally {
          reply.raw.off("close", onClose);
        }
      },
    );

    app.get(
      "/grants/:id/credentials",
      {
        schema: {
          tags,
          summary: "Credentials the connector issued for your active grant",
          params: IdParams,
          response: { 200: z.object({ credentials: z.record(z.string(), z.string()) }), ...ErrorResponses },
        },
      },
      async (req, reply) => {
        const me = req.identityId;
        const credentials = await readGrantCredentials(deps, { grantId: req.params.id, actorId: me });
        return reply.header("cache-control", "no-store").send({ credentials });
      },
    );

    app.post(
      "/grants/:id/extend",
      {
        schema: {
          tags,
          summary: "Ask for more time on your grant",
          params: IdParams,
          body: ExtendBody,
          response: { 200: z.object({ request: RequestView, grant: GrantView }), ...ErrorResponses },
        },
      },
      async (req) => {
        const me = req.identityId;
        const result = await extendGrant(deps, {
          grantId: req.params.id,
          actorId: me,
          duration: req.body.duration,
          ...(req.body.reason ? { reason: req.body.reason } : {}),
        });
        return { request: requestView(result.request), grant: grantView(result.grant) };
      },
    );

    app.post(
      "/grants/:id/relinquish",
      {
        schema: {
          tags,
          summary: "Give your access back early",
          params: IdParams,
          response: { 200: GrantView, ...ErrorResponses },
        },
      },
      async (req) => {
        const me = req.identityId;
        return grantView(await relinquishGrant(deps, { grantId: req.params.id, actorId: me }));
      },
    );

    app.post(
      "/grants/:id/revoke",
      {
        schema: {
          tags,
          summary: "Revoke a grant now (admins)",
          params: IdParams,
          body: RevokeBody.optional(),
          response: { 200: GrantView, ...ErrorResponses },
        },
      },
      async (req) => {
        const me = req.identityId;
        const reason = req.body?.reason;
        return grantView(
          await adminRevokeGrant(deps, { grantId: req.params.id, actorId: me, ...(reason ? { reason } : {}) }),
        );
      },
    );
  };
}
