import { randomBytes } from "node:crypto";
import { type Answer, type Call, json, RestStandIn } from "./rest-stand-in.js";

/**
 * A LOCAL STAND-IN FOR THE GITHUB REST API, not GitHub: github.com is not reachable from the test
 * machine. It speaks the documented JSON of the calls the connector makes, so the real
 * @octokit/rest client talks to it unchanged:
 *   GET    /orgs/{org}                       (x-oauth-scopes on a classic token, as GitHub does)
 *   GET    /orgs/{org}/teams/{team_slug}
 *   GET    /orgs/{org}/teams/{team_slug}/memberships/{username}   (404 when not a member)
 *   PUT    /orgs/{org}/teams/{team_slug}/memberships/{username}   { role } → { role, state };
 *          `pending` for someone outside the organization (GitHub invites them)
 *   DELETE /orgs/{org}/teams/{team_slug}/memberships/{username}   (204)
 * with `Authorization: token <token>` checked (401 "Bad credentials") and errors as
 * `{ message, documentation_url }`; secondary rate limits are 403 with retry-after.
 */

interface Membership {
  role: "member" | "maintainer";
  state: "active" | "pending";
}

export const githubError = (status: number, message: string, headers: Record<string, string> = {}): Answer =>
  json(status, { message, documentation_url: "https://docs.github.com/rest", status: String(status) }, headers);

export const secondaryRateLimit = (retryAfterSeconds: number): Answer =>
  githubError(403, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", {
    "retry-after": String(retryAfterSeconds),
  });

export class GithubStandIn extends RestStandIn {
  readonly token = `ghp_${randomBytes(18).toString("base64url")}`;
  readonly org = "sesame-test-org";
  /** Scopes reported for a classic token; undefined: a fine-grained token (no header). */
  scopes: string[] | undefined = ["admin:org", "repo"];
  readonly #teams = new Map<string, string>();
  readonly #memberships = new Map<string, Membership>();
  readonly #orgMembers = new Set<string>();

  addTeam(slug: string, name = slug): void {
    this.#teams.set(slug, name);
  }

  addOrgMember(username: string): void {
    this.#orgMembers.add(username.toLowerCase());
  }

  membership(team: string, username: string): Membership | undefined {
    return this.#memberships.get(`${team}/${username.toLowerCase()}`);
  }

  setMembership(team: string, username: string, membership: Membership | undefined): void {
    if (membership === undefined) this.#memberships.delete(`${team}/${username.toLowerCase()}`);
    else this.#memberships.set(`${team}/${username.toLowerCase()}`, membership);
  }

  protected route(call: Call): Answer {
    const auth = call.headers.authorization ?? "";
    if (auth !== `token ${this.token}` && auth !== `bearer ${this.token}` && auth !== `Bearer ${this.token}`)
      return githubError(401, "Bad credentials");
    if (call.method === "GET" && call.path === "/user") return json(200, { login: "sesame-bot", id: 7 });
    const [, orgs, org, teams, slug, memberships, username] = call.path.split("/");
    if (orgs !== "orgs" || org !== this.org) return githubError(404, "Not Found");
    if (teams === undefined && call.method === "GET")
      return json(
        200,
        { login: org, id: 1 },
        this.scopes === undefined ? {} : { "x-oauth-scopes": this.scopes.join(", ") },
      );
    if (teams !== "teams" || slug === undefined || !this.#teams.has(slug)) return githubError(404, "Not Found");
    if (memberships === undefined && call.method === "GET") return json(200, { slug, name: this.#teams.get(slug) });
    if (memberships !== "memberships" || username === undefined) return githubError(404, "Not Found");
    const url = `${this.base}/orgs/${org}/teams/${slug}/memberships/${username}`;
    if (call.method === "GET") {
      const membership = this.membership(slug, username);
      return membership === undefined ? githubError(404, "Not Found") : json(200, { url, ...membership });
    }
    if (call.method === "PUT") {
      const role = (JSON.parse(call.body || "{}") as { role?: string }).role ?? "member";
      if (role !== "member" && role !== "maintainer") return githubError(422, "Validation Failed");
      if (username.startsWith("ghost-")) return githubError(422, "Validation Failed: user does not exist");
      const state = this.#orgMembers.has(username.toLowerCase()) ? "active" : "pending";
      const membership: Membership = { role, state: this.membership(slug, username)?.state ?? state };
      this.setMembership(slug, username, membership);
      return json(200, { url, ...membership });
    }
    if (call.method === "DELETE") {
      if (this.membership(slug, username) === undefined) return githubError(404, "Not Found");
      this.setMembership(slug, username, undefined);
      return { status: 204 };
    }
    return githubError(404, "Not Found");
  }
}
