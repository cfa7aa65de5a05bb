import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A LOCAL STAND-IN FOR THE GOOGLE CLOUD RESOURCE MANAGER API v3, not Google itself: no Google
 * endpoint is reachable from the test machine. It speaks the documented REST JSON of the calls the
 * connector makes, so the real @googleapis/cloudresourcemanager client talks to it unchanged:
 *   POST /v3/{projects|folders|organizations}/{id}:getIamPolicy   (answers version 3 when asked)
 *   POST /v3/{...}:setIamPolicy    (refuses a stale etag with 409 ABORTED, conditions without
 *                                   version 3 and conditions on basic roles with 400 INVALID_ARGUMENT)
 *   POST /v3/{...}:testIamPermissions
 * with `Authorization: Bearer <token>` checked (401 UNAUTHENTICATED otherwise) and errors as
 * `{ error: { code, message, status } }`.
 */

export interface Binding {
  role: string;
  members: string[];
  condition?: { title?: string; description?: string; expression: string };
}

interface StoredPolicy {
  version: number;
  etag: string;
  bindings: Binding[];
}

export interface ScriptedAnswer {
  status: number;
  body: string;
  /** Only for this method (getIamPolicy, setIamPolicy, testIamPermissions); default: the next request. */
  method?: string;
}

export interface GcpCall {
  resource: string;
  method: string;
  body: Record<string, unknown>;
}

const PATH = /^\/v3\/((?:projects|folders|organizations)\/[^/:]+):(getIamPolicy|setIamPolicy|testIamPermissions)$/;
const BASIC = new Set(["roles/owner", "roles/editor", "roles/viewer"]);
const EXPIRY = /^request\.time < timestamp\("([^"]+)"\)$/;

export const googleError = (code: number, status: string, message: string): ScriptedAnswer => ({
  status: code,
  body: JSON.stringify({ error: { code, message, status } }),
});

export class GcpIamStandIn {
  readonly token = `ya29.standin-${Math.random().toString(36).slice(2)}`;
  readonly calls: GcpCall[] = [];
  readonly #policies = new Map<string, StoredPolicy>();
  /** Permissions refused per resource by testIamPermissions (all others are granted). */
  readonly refused = new Map<string, Set<string>>();
  readonly #scripted: ScriptedAnswer[] = [];
  #beforeNextSet: ((bindings: Binding[]) => void) | undefined;
  #etags = 0;
  #hold: { method: string; reached(): void } | undefined;
  readonly #held = new Set<http.ServerResponse>();
  readonly #server = http.createServer((request, response) => void this.#handle(request, response));

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  bindings(resource: string): Binding[] {
    return this.#policy(resource).bindings;
  }

  /** Someone else changes the policy (another admin, Terraform) just before Sesame's next write lands. */
  changeBeforeNextSet(change: (bindings: Binding[]) => void): void {
    this.#beforeNextSet = change;
  }

  /** Changes the policy as an administrator would (a new etag). */
  edit(resource: string, change: (bindings: Binding[]) => void): void {
    const policy = this.#policy(resource);
    change(policy.bindings);
    policy.etag = this.#nextEtag();
  }

  script(...answers: ScriptedAnswer[]): void {
    this.#scripted.push(...answers);
  }

  /** Processes the next request of this method, then never answers it; resolves when it arrived. */
  holdNext(method: string): Promise<void> {
    return new Promise((reached) => {
      this.#hold = { method, reached };
    });
  }

  cutHeld(): void {
    for (const response of this.#held) response.socket?.destroy();
    this.#held.clear();
  }

  /** Whether `member` has `role` on `resource` at `now`: unconditionally, or under an expiry condition still in the future. */
  hasRole(resource: string, role: string, member: string, now = new Date()): boolean {
    return this.#policy(resource).bindings.some((binding) => {
      if (binding.role !== role || !binding.members.includes(member)) return false;
      if (binding.condition === undefined) return true;
      const expiry = EXPIRY.exec(binding.condition.expression);
      return expiry !== null && now.getTime() < Date.parse(expiry[1]!);
    });
  }

  #policy(resource: string): StoredPolicy {
    let policy = this.#policies.get(resource);
    if (policy === undefined) {
      policy = {
        version: 1,
        etag: this.#nextEtag(),
        bindings: [{ role: "roles/owner", members: ["user:owner@example.com"] }],
      };
      this.#policies.set(resource, policy);
    }
    return policy;
  }

  #nextEtag(): string {
    this.#etags += 1;
    return Buffer.from(`etag-${this.#etags}`).toString("base64");
  }

  async #handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const path = PATH.exec(decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname));
    if (request.method !== "POST" || path === null)
      return this.#send(response, googleError(404, "NOT_FOUND", `no route ${request.method} ${request.url}`));
    const [, resource, method] = path as unknown as [string, string, string];
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, unknown>;
    } catch {
      return this.#send(response, googleError(400, "INVALID_ARGUMENT", "body is not JSON"));
    }
    this.calls.push({ resource, method, body });
    const scriptedIndex = this.#scripted.findIndex((answer) => answer.method === undefined || answer.method === method);
    if (scriptedIndex >= 0) {
      const [answer] = this.#scripted.splice(scriptedIndex, 1);
      return this.#send(response, answer!);
    }
    if (request.headers.authorization !== `Bearer ${this.token}`)
      return this.#send(
        response,
        googleError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."),
      );
    const answer = this.#answer(resource, method, body);
    if (this.#hold?.method === method) {
      const { reached } = this.#hold;
      this.#hold = undefined;
      this.#held.add(response);
      reached();
      return;
    }
    this.#send(response, answer);
  }

  #send(response: http.ServerResponse, answer: ScriptedAnswer): void {
    response.writeHead(answer.status, { "Content-Type": "application/json; charset=UTF-8" });
    response.end(answer.body);
  }

  #answer(resource: string, method: string, body: Record<string, unknown>): ScriptedAnswer {
    const ok = (value: unknown): ScriptedAnswer => ({ status: 200, body: JSON.stringify(value) });
    const policy = this.#policy(resource);
    if (method === "testIamPermissions") {
      const asked = (body.permissions as string[] | undefined) ?? [];
      const refused = this.refused.get(resource) ?? new Set();
      const granted = asked.filter((permission) => !refused.has(permission));
      return ok(granted.length === 0 ? {} : { permissions: granted });
    }
    if (method === "getIamPolicy") {
      const requested = (body.options as { requestedPolicyVersion?: number } | undefined)?.requestedPolicyVersion ?? 1;
      const hasConditions = policy.bindings.some((binding) => binding.condition !== undefined);
      // Google answers version 1 to a client that did not ask for 3, and marks conditional bindings unreadable.
      if (hasConditions && requested < 3)
        return ok({
          version: 1,
          etag: policy.etag,
          bindings: policy.bindings.map((binding) => ({
            ...binding,
            condition: undefined,
            role: `${binding.role}_withcond_stripped`,
          })),
        });
      return ok({ version: policy.version, etag: policy.etag, bindings: policy.bindings });
    }
    // setIamPolicy
    if (this.#beforeNextSet !== undefined) {
      this.edit(resource, this.#beforeNextSet);
      this.#beforeNextSet = undefined;
    }
    const wanted = (body.policy ?? {}) as { version?: number; etag?: string; bindings?: Binding[] };
    if (wanted.etag !== undefined && wanted.etag !== policy.etag)
      return googleError(
        409,
        "ABORTED",
        "There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.",
      );
    const bindings = wanted.bindings ?? [];
    for (const binding of bindings) {
      if (binding.condition === undefined) continue;
      if (wanted.version !== 3)
        return googleError(400, "INVALID_ARGUMENT", "Conditional bindings require policy version 3.");
      if (BASIC.has(binding.role))
        return googleError(400, "INVALID_ARGUMENT", `Role ${binding.role} is not supported with a condition.`);
    }
    policy.bindings = structuredClone(bindings);
    policy.version = wanted.version ?? 1;
    policy.etag = this.#nextEtag();
    return ok({ version: policy.version, etag: policy.etag, bindings: policy.bindings });
  }
}
