import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { AppError } from "../../domain/errors.js";
import { type QuickRetryPolicy, withQuickRetries } from "../quick-retry.js";
import { GraphError, retryAdvice } from "./entra-errors.js";
import type { EntraGroupConfig } from "./entra-group-config.js";

/**
 * The Microsoft Graph calls the connector makes, over Node's fetch (no Graph SDK: the official
 * `@microsoft/msgraph-sdk` is still a preview, and five REST calls need none). A token comes from
 * the client credentials flow and is kept until a minute before it expires. Every request has a
 * real timeout (AbortSignal), and throttling (429 / 503 with Retry-After) is retried.
 */

export interface GraphApiOptions {
  sleep?: (ms: number) => Promise<void>;
}

export interface GraphGroup {
  id: string;
  displayName: string | undefined;
  /** Members come from elsewhere (a membership rule, on-premises AD): Graph cannot change them. */
  managedElsewhere: "dynamic" | "on-premises" | undefined;
}

export interface GraphApi {
  userIdOf(principal: string): Promise<string | undefined>;
  group(groupId: string): Promise<GraphGroup | undefined>;
  /** true: added; false: a direct member already (Graph refuses the duplicate reference). */
  addMember(groupId: string, userId: string): Promise<boolean>;
  /** Removing a membership that is gone already succeeds. */
  removeMember(groupId: string, userId: string): Promise<void>;
  /** Whether the user is a direct member (reads the user's memberOf, page by page). */
  isMember(groupId: string, userId: string): Promise<boolean>;
  /** Any one user: proves the token works and may read users. */
  anyUser(): Promise<void>;
}

const TokenSchema = z.looseObject({ access_token: z.string().min(1), expires_in: z.coerce.number().positive() });
const UserSchema = z.looseObject({ id: z.string().min(1) });
const ListSchema = z.looseObject({
  value: z.array(z.looseObject({ id: z.string().optional() })),
  "@odata.nextLink": z.string().optional(),
});
const GroupSchema = z.looseObject({
  id: z.string().min(1),
  displayName: z.string().nullish(),
  groupTypes: z.array(z.string()).nullish(),
  onPremisesSyncEnabled: z.boolean().nullish(),
});

const garbage = (what: string) =>
  new AppError(
    "connector_failed",
    `Microsoft Graph answered ${what} with something that is not Graph's JSON; nothing was changed. Check the connector's graphUrl and authorityUrl; the job retries.`,
  );

function retryAfterMs(response: Response): number | undefined {
  const seconds = Number(response.headers.get("retry-after"));
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

async function errorOf(source: "graph" | "token", response: Response): Promise<GraphError> {
  const text = await response.text().catch(() => "");
  let code: string | undefined;
  let detail: string | undefined;
  try {
    const body = JSON.parse(text) as { error?: unknown; error_description?: unknown };
    if (typeof body.error === "string") {
      code = body.error;
      detail =
        typeof body.error_description === "string" ? body.error_description.split(/\r?\n/)[0]?.trim() : undefined;
    } else if (typeof body.error === "object" && body.error !== null) {
      const inner = body.error as { code?: unknown; message?: unknown };
      code = typeof inner.code === "string" ? inner.code : undefined;
      detail = typeof inner.message === "string" ? inner.message : undefined;
    }
  } catch {
    detail = "a body that is not JSON";
  }
  return new GraphError(source, response.status, code, detail?.slice(0, 240), retryAfterMs(response));
}

export function createGraphApi(config: EntraGroupConfig, options: GraphApiOptions = {}): GraphApi {
  const base = config.graphUrl.replace(/\/+$/, "");
  const timeoutMs = config.requestTimeoutSeconds * 1000;
  const policy: QuickRetryPolicy = { retries: config.retries, sleep: options.sleep ?? sleep };
  let cached: { token: string; until: number } | undefined;

  const token = async (): Promise<string> => {
    if (cached !== undefined && cached.until > Date.now()) return cached.token;
    const url = `${config.authorityUrl.replace(/\/+$/, "")}/${encodeURIComponent(config.tenantId)}/oauth2/v2.0/token`;
    const scope = `${new URL(base).origin}/.default`;
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        client_id: config.clientId,
        client_secret: config.clientSecret,
        scope,
        grant_type: "client_credentials",
      }),
      redirect: "error",
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) throw await errorOf("token", response);
    const parsed = TokenSchema.safeParse(await response.json().catch(() => undefined));
    if (!parsed.success) throw garbage("the token request");
    cached = { token: parsed.data.access_token, until: Date.now() + Math.max(0, parsed.data.expires_in - 60) * 1000 };
    return cached.token;
  };

  /** One Graph request; the parsed JSON body (undefined for 204), or a GraphError. */
  const call = (method: string, path: string, body?: unknown): Promise<unknown> =>
    withQuickRetries(
      async () => {
        const response = await fetch(path.startsWith("http") ? path : `${base}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${await token()}`,
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          redirect: "error",
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (response.status === 401) cached = undefined;
        if (!response.ok) throw await errorOf("graph", response);
        if (response.status === 204) return undefined;
        const text = await response.text();
        try {
          return JSON.parse(text) as unknown;
        } catch {
          throw garbage(`${method} ${path.split("?")[0]}`);
        }
      },
      retryAdvice,
      policy,
    );

  const absentOn404 = async (method: string, path: string): Promise<unknown> => {
    try {
      return await call(method, path);
    } catch (error) {
      if (error instanceof GraphError && error.status === 404) return undefined;
      throw error;
    }
  };

  return {
    async userIdOf(principal) {
      if (config.principalAttribute === "userPrincipalName") {
        const raw = await absentOn404("GET", `/users/${encodeURIComponent(principal)}?$select=id`);
        if (raw === undefined) return undefined;
        const parsed = UserSchema.safeParse(raw);
        if (!parsed.success) throw garbage("the user lookup");
        return parsed.data.id;
      }
      const filter = encodeURIComponent(`mail eq '${principal}'`);
      const parsed = ListSchema.safeParse(await call("GET", `/users?$filter=${filter}&$select=id&$top=2`));
      if (!parsed.success || parsed.data.value.some((user) => user.id === undefined)) throw garbage("the user search");
      if (parsed.data.value.length > 1)
        throw new AppError(
          "connector_failed",
          `more than one Entra user has the mail "${principal}"; use principalAttribute: userPrincipalName so the principal names exactly one.`,
        );
      return parsed.data.value[0]?.id;
    },
    async group(groupId) {
      const raw = await absentOn404(
        "GET",
        `/groups/${groupId}?$select=id,displayName,groupTypes,onPremisesSyncEnabled`,
      );
      if (raw === undefined) return undefined;
      const parsed = GroupSchema.safeParse(raw);
      if (!parsed.success || parsed.data.id.toLowerCase() !== groupId.toLowerCase()) throw garbage("the group lookup");
      const dynamic = (parsed.data.groupTypes ?? []).includes("DynamicMembership");
      return {
        id: parsed.data.id,
        displayName: parsed.data.displayName ?? undefined,
        managedElsewhere: dynamic ? "dynamic" : parsed.data.onPremisesSyncEnabled === true ? "on-premises" : undefined,
      };
    },
    async addMember(groupId, userId) {
      try {
        await call("POST", `/groups/${groupId}/members/$ref`, {
          "@odata.id": `${base}/directoryObjects/${userId}`,
        });
        return true;
      } catch (error) {
        // Graph: 400 "One or more added object references already exist for the following modified properties: 'members'."
        if (error instanceof GraphError && error.status === 400 && /already exist/i.test(error.detail ?? ""))
          return false;
        throw error;
      }
    },
    async removeMember(groupId, userId) {
      await absentOn404("DELETE", `/groups/${groupId}/members/${userId}/$ref`);
    },
    async isMember(groupId, userId) {
      let next: string | undefined = `/users/${userId}/memberOf?$select=id&$top=999`;
      for (let pages = 0; next !== undefined && pages < 100; pages += 1) {
        const raw = await absentOn404("GET", next);
        if (raw === undefined) return false;
        const parsed = ListSchema.safeParse(raw);
        if (!parsed.success) throw garbage("the user's group list");
        if (parsed.data.value.some((item) => item.id?.toLowerCase() === groupId.toLowerCase())) return true;
        next = parsed.data["@odata.nextLink"];
        // The token goes wherever the link points: follow Graph's own links only.
        if (next !== undefined && !next.startsWith(`${base}/`))
          throw garbage("the user's group list (a next link elsewhere)");
      }
      return false;
    },
    async anyUser() {
      const parsed = ListSchema.safeParse(await call("GET", "/users?$select=id&$top=1"));
      if (!parsed.success) throw garbage("the user list");
    },
  };
}
