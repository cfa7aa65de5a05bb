import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { AppError } from "../../domain/errors.js";
import { canSeeGrant } from "../../domain/visibility.js";
import { adminRevokeGrant } from "../../services/admin-revoke-grant.js";
import type { ServiceDeps } from "../../services/deps.js";
import { extendGrant } from "../../services/extend-grant.js";
import { readGrantCredentials } from "../../services/grant-credentials.js";
import { relinquishGrant } from "../../services/relinquish-grant.js";
import {
  ErrorResponses,
  ExtendBody,
  GrantView,
  IdParams,
  ListGrantsQuery,
  RequestView,
  RevokeBody,
} from "../api-schemas.js";
import { grantView, requestView } from "../views.js";

export function grantRoutes(deps: ServiceDeps): FastifyPluginAsyncZod {
  const load = async (id: string, me: string) => {
    const grant = await deps.store.getGrant(id);
    if (!grant || !canSeeGrant(grant, me, deps.policy().isAdmin(me)))
      throw new AppError("not_found", `There is no grant ${id} that you can see.`);
    return grant;
  };

  return async (app) => {
    const tags = ["grants"];
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
      { schema: { tags, summary: "Get a grant", params: IdParams, response: { 200: GrantView, ...ErrorResponses } } },
      async (req) => {
        const me = req.identityId;
        return grantView(await load(req.params.id, me));
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
