import { setTimeout as sleep } from "node:timers/promises";
import okta from "@okta/okta-sdk-nodejs";
import { z } from "zod";
import { AppError } from "../../domain/errors.js";
import { type QuickRetryPolicy, withQuickRetries } from "../quick-retry.js";
import { httpStatusOf, retryAdvice } from "./okta-errors.js";
import type { OktaGroupConfig } from "./okta-group-config.js";

/**
 * The Okta management API calls the connector makes, through `@okta/okta-sdk-nodejs` with three
 * of its defaults replaced:
 * - requests go through Node's own fetch with a real timeout (AbortSignal.timeout). The SDK's
 *   executor uses node-fetch 2, whose `timeout` is only honoured by the SDK's own retry path and
 *   whose abort emits an 'error' on the request body that nobody listens to (the same trap the
 *   gcp-iam connector met in the Google client): an abort there could end the process;
 * - its response cache is off: a membership read must see Okta as it is now, not a cached list;
 * - its own 429 retry (real timers, no cap tied to our job timing) is replaced by ours, which waits
 *   for X-Rate-Limit-Reset through an injectable sleep.
 */

const { Client, RequestExecutor } = okta;

export interface OktaApiOptions {
  sleep?: (ms: number) => Promise<void>;
}

export interface OktaGroupInfo {
  id: string;
  type: string | undefined;
  name: string | undefined;
}

export interface OktaApi {
  /** The Okta user id of the principal (login or email); undefined when there is none. */
  userIdOf(principal: string): Promise<string | undefined>;
  /** The group; undefined when it does not exist. */
  group(groupId: string): Promise<OktaGroupInfo | undefined>;
  isMember(userId: string, groupId: string): Promise<boolean>;
  addMember(userId: string, groupId: string): Promise<void>;
  /** Removing a membership that is gone already succeeds. */
  removeMember(userId: string, groupId: string): Promise<void>;
  /** Any one user: proves the token may read users. */
  anyUser(): Promise<void>;
}

interface SdkRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Every request through Node's fetch, ended after `timeoutMs`: an abort rejects, it never throws elsewhere. */
class TimedFetchExecutor extends RequestExecutor {
  readonly #timeoutMs: number;
  constructor(timeoutMs: number) {
    super();
    this.#timeoutMs = timeoutMs;
  }
  override fetch(request: SdkRequest): Promise<never> {
    const { url, method, headers, body } = request;
    return fetch(url, {
      method: (method ?? "GET").toUpperCase(),
      ...(headers === undefined ? {} : { headers }),
      ...(body === undefined ? {} : { body }),
      redirect: "error",
      signal: AbortSignal.timeout(this.#timeoutMs),
    }) as Promise<never>;
  }
}

const UserSchema = z.looseObject({ id: z.string().min(1) });
const GroupSchema = z.looseObject({
  id: z.string().min(1),
  type: z.string().optional(),
  profile: z.looseObject({ name: z.string().optional() }).optional(),
});

function garbage(what: string): AppError {
  return new AppError(
    "connector_failed",
    `Okta answered ${what} with something that is not an Okta ${what.includes("group") ? "group" : "user"}; nothing was changed. Check the connector's orgUrl.`,
  );
}

export function createOktaApi(config: OktaGroupConfig, options: OktaApiOptions = {}): OktaApi {
  const client = new Client({
    orgUrl: config.orgUrl,
    token: config.token,
    authorizationMode: "SSWS",
    requestExecutor: new TimedFetchExecutor(config.requestTimeoutSeconds * 1000) as never,
    cacheMiddleware: null,
  });
  const policy: QuickRetryPolicy = { retries: config.retries, sleep: options.sleep ?? sleep };
  const retried = <T>(call: () => Promise<T>) => withQuickRetries(call, retryAdvice, policy);
  const absentOn404 = async <T>(call: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await retried(call);
    } catch (error) {
      if (httpStatusOf(error) === 404) return undefined;
      throw error;
    }
  };
  const userId = (raw: unknown, what: string): string => {
    const parsed = UserSchema.safeParse(raw);
    if (!parsed.success) throw garbage(what);
    return parsed.data.id;
  };

  return {
    async userIdOf(principal) {
      if (config.principalAttribute === "login") {
        const user = await absentOn404(() => client.userApi.getUser({ userId: principal }));
        return user === undefined ? undefined : userId(user, "the user lookup");
      }
      const found = await retried(async () => {
        const ids: string[] = [];
        const users = await client.userApi.listUsers({ search: `profile.email eq "${principal}"`, limit: 2 });
        for await (const user of users) {
          if (user !== null) ids.push(userId(user, "the user search"));
          if (ids.length > 1) break;
        }
        return ids;
      });
      if (found.length > 1)
        throw new AppError(
          "connector_failed",
          `more than one Okta user has the email "${principal}"; use principalAttribute: login so the principal names exactly one.`,
        );
      return found[0];
    },
    async group(groupId) {
      const raw = await absentOn404(() => client.groupApi.getGroup({ groupId }));
      if (raw === undefined) return undefined;
      const parsed = GroupSchema.safeParse(raw);
      if (!parsed.success || parsed.data.id !== groupId) throw garbage("the group lookup");
      return { id: parsed.data.id, type: parsed.data.type, name: parsed.data.profile?.name };
    },
    isMember(user, groupId) {
      return retried(async () => {
        const groups = await client.userApi.listUserGroups({ userId: user });
        for await (const group of groups) {
          const parsed = GroupSchema.safeParse(group);
          if (!parsed.success) throw garbage("the user's group list");
          if (parsed.data.id === groupId) return true;
        }
        return false;
      });
    },
    async addMember(user, groupId) {
      await retried(() => client.groupApi.assignUserToGroup({ groupId, userId: user }));
    },
    async removeMember(user, groupId) {
      await absentOn404(() => client.groupApi.unassignUserFromGroup({ groupId, userId: user }));
    },
    async anyUser() {
      await retried(async () => {
        const users = await client.userApi.listUsers({ limit: 1 });
        await users.next();
      });
    },
  };
}
