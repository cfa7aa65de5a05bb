import { randomBytes, randomUUID } from "node:crypto";
import { type Answer, type Call, json, RestStandIn } from "./rest-stand-in.js";

/**
 * A LOCAL STAND-IN FOR MICROSOFT GRAPH v1.0 AND THE MICROSOFT IDENTITY PLATFORM'S TOKEN ENDPOINT,
 * not Microsoft: no tenant is reachable from the test machine. It speaks the documented JSON of the
 * calls the connector makes:
 *   POST /{tenant}/oauth2/v2.0/token          client credentials (401 invalid_client on a bad secret)
 *   GET  /v1.0/users/{id | userPrincipalName}  GET /v1.0/users?$filter=mail eq '…'
 *   GET  /v1.0/users/{id}/memberOf            GET /v1.0/groups/{id}
 *   POST /v1.0/groups/{id}/members/$ref        (204; 400 "One or more added object references
 *                                               already exist …" for a direct member)
 *   DELETE /v1.0/groups/{id}/members/{userId}/$ref  (204; 404 Request_ResourceNotFound if not one)
 * with `Authorization: Bearer <issued token>` checked and errors as `{ error: { code, message } }`.
 */

interface EntraUser {
  id: string;
  userPrincipalName: string;
  mail: string;
}

interface EntraGroup {
  id: string;
  displayName: string;
  groupTypes: string[];
  onPremisesSyncEnabled: boolean | null;
}

export const graphError = (status: number, code: string, message: string, headers = {}): Answer =>
  json(status, { error: { code, message, innerError: { "request-id": randomUUID() } } }, headers);

export class EntraStandIn extends RestStandIn {
  readonly tenantId = randomUUID();
  readonly clientId = randomUUID();
  readonly clientSecret = `Qx8Q~${randomBytes(18).toString("base64url")}`;
  readonly #tokens = new Set<string>();
  readonly #users = new Map<string, EntraUser>();
  readonly #groups = new Map<string, EntraGroup>();
  readonly #members = new Map<string, Set<string>>();
  readonly forbiddenGroups = new Set<string>();

  get graphUrl(): string {
    return `${this.base}/v1.0`;
  }

  addUser(userPrincipalName: string, mail = userPrincipalName): EntraUser {
    const user = { id: randomUUID(), userPrincipalName, mail };
    this.#users.set(user.id, user);
    return user;
  }

  addGroup(displayName: string, extra: Partial<EntraGroup> = {}): EntraGroup {
    const group = { id: randomUUID(), displayName, groupTypes: [], onPremisesSyncEnabled: null, ...extra };
    this.#groups.set(group.id, group);
    this.#members.set(group.id, new Set());
    return group;
  }

  isMember(groupId: string, userId: string): boolean {
    return this.#members.get(groupId)?.has(userId) ?? false;
  }

  setMember(groupId: string, userId: string, member: boolean): void {
    if (member) this.#members.get(groupId)!.add(userId);
    else this.#members.get(groupId)!.delete(userId);
  }

  protected route(call: Call): Answer {
    if (call.method === "POST" && call.path === `/${this.tenantId}/oauth2/v2.0/token`) return this.#token(call);
    if (!call.path.startsWith("/v1.0/")) return graphError(404, "BadRequest", "Resource not found for the segment.");
    const bearer = /^Bearer (.+)$/.exec(call.headers.authorization ?? "")?.[1];
    if (bearer === undefined || !this.#tokens.has(bearer))
      return graphError(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.");
    const [collection, id, sub, subId, ref] = call.path.slice("/v1.0/".length).split("/");
    if (collection === "users" && call.method === "GET") {
      if (id === undefined) {
        const filter = /^mail eq '([^']*)'$/.exec(call.query.get("$filter") ?? "");
        const users = [...this.#users.values()].filter((user) => filter === null || user.mail === filter[1]);
        return json(200, {
          value: users.slice(0, Number(call.query.get("$top") ?? 100)).map((user) => ({ id: user.id })),
        });
      }
      const user = this.#users.get(id) ?? [...this.#users.values()].find((u) => u.userPrincipalName === id);
      if (user === undefined) return notFound(id);
      if (sub === undefined) return json(200, { id: user.id });
      if (sub === "memberOf")
        return json(200, {
          value: [...this.#groups.values()]
            .filter((group) => this.isMember(group.id, user.id))
            .map((group) => ({ "@odata.type": "#microsoft.graph.group", id: group.id })),
        });
    }
    if (collection === "groups" && id !== undefined) {
      const group = this.#groups.get(id);
      if (group === undefined) return notFound(id);
      if (this.forbiddenGroups.has(id))
        return graphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");
      if (sub === undefined && call.method === "GET") return json(200, group);
      if (sub === "members" && call.method === "POST" && subId === "$ref") {
        const reference = (JSON.parse(call.body || "{}") as { "@odata.id"?: string })["@odata.id"] ?? "";
        const userId = /\/directoryObjects\/([^/]+)$/.exec(reference)?.[1];
        if (userId === undefined || !this.#users.has(userId)) return notFound(reference);
        if (this.isMember(id, userId))
          return graphError(
            400,
            "Request_BadRequest",
            "One or more added object references already exist for the following modified properties: 'members'.",
          );
        this.setMember(id, userId, true);
        return { status: 204 };
      }
      if (sub === "members" && call.method === "DELETE" && subId !== undefined && ref === "$ref") {
        if (!this.isMember(id, subId)) return notFound(subId);
        this.setMember(id, subId, false);
        return { status: 204 };
      }
    }
    return graphError(400, "BadRequest", `Unsupported request ${call.method} ${call.path}`);
  }

  #token(call: Call): Answer {
    const form = new URLSearchParams(call.body);
    if (form.get("client_id") !== this.clientId || form.get("client_secret") !== this.clientSecret)
      return json(401, {
        error: "invalid_client",
        error_description: `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.\r\nTrace ID: ${randomUUID()}`,
        error_codes: [7000215],
      });
    if (form.get("grant_type") !== "client_credentials" || form.get("scope") !== `${this.base}/.default`)
      return json(400, { error: "invalid_request", error_description: "AADSTS90014: bad grant or scope" });
    const token = `eyJ0eXAi.${randomBytes(24).toString("base64url")}`;
    this.#tokens.add(token);
    return json(200, { token_type: "Bearer", expires_in: 3599, ext_expires_in: 3599, access_token: token });
  }
}

const notFound = (id: string) =>
  graphError(
    404,
    "Request_ResourceNotFound",
    `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
  );
