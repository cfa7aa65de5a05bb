import { randomBytes } from "node:crypto";
import { type Answer, type Call, json, RestStandIn } from "./rest-stand-in.js";

/**
 * A LOCAL STAND-IN FOR THE OKTA MANAGEMENT API, not Okta itself: no Okta org is reachable from the
 * test machine. It speaks the documented JSON of the calls the connector makes, so the real
 * @okta/okta-sdk-nodejs client talks to it unchanged:
 *   GET    /api/v1/users/{id or login}            GET /api/v1/users?search=profile.email eq "…"
 *   GET    /api/v1/users/{id}/groups              GET /api/v1/groups/{groupId}
 *   PUT    /api/v1/groups/{groupId}/users/{userId}  (204, also when a member already)
 *   DELETE /api/v1/groups/{groupId}/users/{userId}  (204; 404 when the user is unknown)
 * with `Authorization: SSWS <token>` checked (401 E0000011 otherwise), errors as
 * `{ errorCode, errorSummary, errorLink, errorId, errorCauses }`, and rate limits answered 429
 * E0000047 with X-Rate-Limit-Limit / -Remaining / -Reset (epoch seconds) and a Date header.
 */

interface OktaUser {
  id: string;
  login: string;
  email: string;
}

interface OktaGroup {
  id: string;
  type: string;
  name: string;
}

const oktaId = (prefix: string) => `${prefix}${randomBytes(9).toString("hex").slice(0, 17)}`;

export const oktaError = (status: number, errorCode: string, errorSummary: string, headers = {}): Answer =>
  json(
    status,
    { errorCode, errorSummary, errorLink: errorCode, errorId: `oae${randomBytes(6).toString("hex")}`, errorCauses: [] },
    headers,
  );

/** A 429 whose window resets `resetInSeconds` after the answer's own Date. */
export function rateLimited(resetInSeconds: number, now = Date.now()): Answer {
  const date = Math.floor(now / 1000) * 1000;
  return oktaError(429, "E0000047", "API call exceeded rate limit due to too many requests.", {
    "x-rate-limit-limit": "600",
    "x-rate-limit-remaining": "0",
    "x-rate-limit-reset": String(date / 1000 + resetInSeconds),
    date: new Date(date).toUTCString(),
  });
}

export class OktaStandIn extends RestStandIn {
  readonly token = `00${randomBytes(20).toString("base64url")}`;
  readonly #users = new Map<string, OktaUser>();
  readonly #groups = new Map<string, OktaGroup>();
  readonly #members = new Map<string, Set<string>>();
  /** Groups the token's admin may not manage (403 E0000006 on read and change). */
  readonly forbiddenGroups = new Set<string>();

  addUser(login: string, email = login): OktaUser {
    const user = { id: oktaId("00u"), login, email };
    this.#users.set(user.id, user);
    return user;
  }

  addGroup(name: string, type = "OKTA_GROUP"): OktaGroup {
    const group = { id: oktaId("00g"), type, name };
    this.#groups.set(group.id, group);
    this.#members.set(group.id, new Set());
    return group;
  }

  isMember(groupId: string, userId: string): boolean {
    return this.#members.get(groupId)?.has(userId) ?? false;
  }

  /** Changes a membership as an administrator (or a group rule) would. */
  setMember(groupId: string, userId: string, member: boolean): void {
    const members = this.#members.get(groupId)!;
    if (member) members.add(userId);
    else members.delete(userId);
  }

  protected route(call: Call): Answer {
    if (call.headers.authorization !== `SSWS ${this.token}`)
      return oktaError(401, "E0000011", "Invalid token provided");
    const parts = call.path.split("/").slice(1);
    if (parts[0] !== "api" || parts[1] !== "v1")
      return oktaError(404, "E0000022", "The endpoint does not support the provided HTTP method");
    const [, , collection, id, sub, subId] = parts;
    if (collection === "users" && call.method === "GET") {
      if (id === undefined) {
        const search = /^profile\.email eq "([^"]*)"$/.exec(call.query.get("search") ?? "");
        const users = [...this.#users.values()].filter((user) => search === null || user.email === search[1]);
        return json(200, users.slice(0, Number(call.query.get("limit") ?? 200)).map(userJson));
      }
      const user = this.#user(id);
      if (user === undefined) return notFound(id, "User");
      if (sub === undefined) return json(200, userJson(user));
      if (sub === "groups")
        return json(200, [...this.#groups.values()].filter((group) => this.isMember(group.id, user.id)).map(groupJson));
    }
    if (collection === "groups" && id !== undefined) {
      const group = this.#groups.get(id);
      if (group === undefined) return notFound(id, "UserGroup");
      if (this.forbiddenGroups.has(id))
        return oktaError(403, "E0000006", "You do not have permission to perform the requested action");
      if (sub === undefined && call.method === "GET") return json(200, groupJson(group));
      if (sub === "users" && subId !== undefined && (call.method === "PUT" || call.method === "DELETE")) {
        const user = this.#users.get(subId);
        if (user === undefined) return notFound(subId, "User");
        if (group.type !== "OKTA_GROUP")
          return oktaError(400, "E0000001", "Api validation failed: Cannot modify the members of this group");
        this.setMember(id, subId, call.method === "PUT");
        return { status: 204 };
      }
    }
    return oktaError(404, "E0000022", "The endpoint does not support the provided HTTP method");
  }

  #user(idOrLogin: string): OktaUser | undefined {
    return this.#users.get(idOrLogin) ?? [...this.#users.values()].find((user) => user.login === idOrLogin);
  }
}

const notFound = (id: string, kind: string) =>
  oktaError(404, "E0000007", `Not found: Resource not found: ${id} (${kind})`);

const userJson = (user: OktaUser) => ({
  id: user.id,
  status: "ACTIVE",
  created: "2026-01-01T00:00:00.000Z",
  profile: { login: user.login, email: user.email, firstName: "Test", lastName: "User" },
  _links: {},
});

const groupJson = (group: OktaGroup) => ({
  id: group.id,
  type: group.type,
  created: "2026-01-01T00:00:00.000Z",
  profile: { name: group.name, description: null },
  _links: {},
});
