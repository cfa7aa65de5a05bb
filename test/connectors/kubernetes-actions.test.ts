import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer as createHttpsServer } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { createActionExecutor } from "../../src/connectors/action-executors.js";
import type { ActionSpec } from "../../src/domain/actions/action-run.js";
import { classifyKubernetesAction } from "../../src/domain/actions/kubernetes-action.js";
import { PolicyFileSchema } from "../../src/domain/policy/policy-schema.js";
import type { ActionExecutor } from "../../src/services/ports.js";
import { sha256Hex } from "../../src/services/submit-action.js";
import { describeWith } from "../helpers/prerequisites.js";
import { errorTexts, expectNoSecret } from "./conformance.js";
import { FakeWorkloads } from "./kubernetes-fake-workloads.js";
import { createKubernetesFixture, type KubernetesFixture } from "./kubernetes-fixture.js";

/**
 * The Kubernetes action executor against the local stand-in for the API server
 * (kubernetes-fake-api.ts, kubernetes-fake-workloads.ts): the exact calls of scale, rollout
 * restart and delete pod, the namespace guard before anything is sent, the API server's refusal
 * as a failure, and a request that may have reached the server without an answer as unknown.
 */

const RESTARTED_AT = "kubectl.kubernetes.io/restartedAt";
const startedAt = new Date("2026-12-07T10:00:00.123Z");

let fixture: KubernetesFixture;
let executor: ActionExecutor;
let refusedPort: number;

/** A closed port: connecting to it is refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const target = (namespace: string) => ({ namespace, clusterRole: "view" });

/** A server certificate for 127.0.0.1 signed by a throw-away CA that Sesame is not told about. */
async function certificateFromUnknownCa(): Promise<{ key: string; cert: string }> {
  const dir = await mkdtemp(join(tmpdir(), "sesame-k8s-ca-"));
  const openssl = (args: string[]) => promisify(execFile)("openssl", args, { cwd: dir });
  try {
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    await openssl([
      "req",
      "-x509",
      ...ec,
      "-days",
      "1",
      "-subj",
      "/CN=unknown-ca",
      "-keyout",
      "ca.key",
      "-out",
      "ca.crt",
    ]);
    await openssl(["req", "-new", ...ec, "-subj", "/CN=apiserver", "-keyout", "leaf.key", "-out", "leaf.csr"]);
    await writeFile(join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1\n");
    const sign = ["x509", "-req", "-in", "leaf.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial"];
    await openssl([...sign, "-days", "1", "-extfile", "ext.cnf", "-out", "leaf.crt"]);
    return { key: await readFile(join(dir, "leaf.key"), "utf8"), cert: await readFile(join(dir, "leaf.crt"), "utf8") };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function executorFor(server: string): ActionExecutor {
  const file = PolicyFileSchema.parse({
    version: 1,
    connectors: {
      k8s: {
        type: "kubernetes",
        config: { server, token: { env: "K8S_TOKEN" }, caData: fixture.caData, allowedNamespaces: ["team-*"] },
      },
    },
    people: [{ id: "alice", email: "alice@example.com" }],
    resources: { pods: { connector: "k8s", target: target("team-a") } },
    policies: [
      {
        id: "p",
        resources: ["pods"],
        requesters: { users: ["alice"] },
        duration: { default: "1h", max: "1h" },
        approvers: { users: ["alice"] },
      },
    ],
  });
  return createActionExecutor(file, { K8S_TOKEN: fixture.sesameToken });
}

const spec = (text: string, statementTimeoutMs = 10_000): ActionSpec => {
  const classification = classifyKubernetesAction(text, { namespace: "team-a" });
  return {
    kind: "kubernetes",
    text,
    sha256: sha256Hex(text),
    class: classification.class,
    classWhy: classification.why,
    limits: { rowLimit: 100, maxAffectedRows: null, statementTimeoutMs },
  };
};

const identity = { requestId: "r-1", runId: "run-1", requesterId: "alice", approverIds: ["bob"] };

async function run(text: string, options: { namespace?: string; timeoutMs?: number; on?: ActionExecutor } = {}) {
  return (options.on ?? executor).run({
    connectorName: "k8s",
    target: target(options.namespace ?? "team-a"),
    spec: spec(text, options.timeoutMs),
    startedAt,
    run: identity,
  });
}

/** The requests the stand-in received during `body`. */
async function requestsDuring(body: () => Promise<unknown>) {
  const before = fixture.api.requests.length;
  await body();
  return fixture.api.requests.slice(before);
}

describeWith("openssl", "the Kubernetes action executor", () => {
  beforeAll(async () => {
    fixture = await createKubernetesFixture();
    // As README says: a RoleBinding in each namespace Sesame acts in; none in team-b.
    fixture.allowActions("team-a");
    executor = executorFor(fixture.server);
    refusedPort = await closedPort();
  });
  afterAll(async () => {
    await fixture?.cleanup();
  });
  beforeEach(() => {
    const { workloads } = fixture.api;
    workloads.objects.clear();
    workloads.add("deployments", "team-a", "web", 2);
    workloads.add("statefulsets", "team-a", "db", 1);
    workloads.add("daemonsets", "team-a", "agent");
    workloads.add("pods", "team-a", "web-abc");
    workloads.add("deployments", "team-b", "web", 2);
  });

  const stored = (resource: string, name: string, namespace = "team-a") =>
    fixture.api.workloads.objects.get(FakeWorkloads.key(resource, namespace, name));

  it("scale reads the scale subresource, then merge-patches its replicas", async () => {
    let outcome: Awaited<ReturnType<typeof run>> | undefined;
    const requests = await requestsDuring(async () => {
      outcome = await run("scale deployment/web --replicas=3");
    });
    expect(outcome).toEqual({
      outcome: "succeeded",
      result: {
        rowCount: null,
        columns: [],
        rows: [],
        truncated: false,
        output: "deployment.apps/web scaled from 2 to 3 replicas",
      },
    });
    const path = "/apis/apps/v1/namespaces/team-a/deployments/web/scale";
    expect(requests.map(({ method, path }) => ({ method, path }))).toEqual([
      { method: "GET", path },
      { method: "PATCH", path },
    ]);
    expect(requests[1]).toMatchObject({
      contentType: "application/merge-patch+json",
      body: { spec: { replicas: 3 } },
    });
    expect(stored("deployments", "web")?.spec.replicas).toBe(3);

    const statefulSet = await requestsDuring(() => run("scale sts/db --replicas 0"));
    expect(statefulSet.map((request) => request.path)).toEqual([
      "/apis/apps/v1/namespaces/team-a/statefulsets/db/scale",
      "/apis/apps/v1/namespaces/team-a/statefulsets/db/scale",
    ]);
    expect(stored("statefulsets", "db")?.spec.replicas).toBe(0);
  });

  it("rollout restart stamps the pod template with restartedAt by a strategic merge patch, as kubectl does", async () => {
    let outcome: Awaited<ReturnType<typeof run>> | undefined;
    const requests = await requestsDuring(async () => {
      outcome = await run("rollout restart deployment/web");
    });
    expect(outcome).toMatchObject({ outcome: "succeeded", result: { output: "deployment.apps/web restarted" } });
    expect(requests).toEqual([
      {
        method: "PATCH",
        path: "/apis/apps/v1/namespaces/team-a/deployments/web",
        contentType: "application/strategic-merge-patch+json",
        body: { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: "2026-12-07T10:00:00Z" } } } } },
      },
    ]);
    expect(stored("deployments", "web")?.spec.template?.metadata?.annotations).toEqual({
      [RESTARTED_AT]: "2026-12-07T10:00:00Z",
    });

    const daemonSet = await requestsDuring(() => run("rollout restart ds/agent -n team-a"));
    expect(daemonSet.map((request) => `${request.method} ${request.path}`)).toEqual([
      "PATCH /apis/apps/v1/namespaces/team-a/daemonsets/agent",
    ]);
  });

  it("delete pod deletes that one pod; a pod that is not there fails, saying so", async () => {
    let outcome: Awaited<ReturnType<typeof run>> | undefined;
    const requests = await requestsDuring(async () => {
      outcome = await run("delete pod web-abc");
    });
    expect(outcome).toMatchObject({ outcome: "succeeded", result: { output: "pod/web-abc deleted" } });
    expect(requests.map(({ method, path }) => `${method} ${path}`)).toEqual([
      "DELETE /api/v1/namespaces/team-a/pods/web-abc",
    ]);
    expect(stored("pods", "web-abc")).toBeUndefined();
    expect(await run("delete pod/web-abc")).toMatchObject({
      outcome: "failed",
      result: { error: "pod/web-abc not found in namespace team-a" },
    });
  });

  it("refuses a namespace outside allowedNamespaces at submission and again at run time, sending nothing", async () => {
    const input = { connectorName: "k8s", target: target("other"), spec: spec("delete pod web-abc") };
    expect(executor.admit?.(input)).toBe("namespace other is outside the connector's allowedNamespaces (team-*)");
    expect(executor.admit?.({ ...input, target: target("team-a") })).toBeNull();
    let outcome: Awaited<ReturnType<typeof run>> | undefined;
    const requests = await requestsDuring(async () => {
      outcome = await executor.run({ ...input, startedAt, run: identity });
    });
    expect(requests).toEqual([]);
    expect(outcome).toMatchObject({
      outcome: "failed",
      result: {
        error: expect.stringMatching(/^not run: namespace other is outside the connector's allowedNamespaces/),
      },
    });
    // The target names team-a: an action may not name another namespace, even an allowed one.
    expect(executor.admit?.({ ...input, target: target("team-a"), spec: spec("delete pod web-abc -n team-b") })).toBe(
      "this resource acts in namespace team-a only, not team-b",
    );
  });

  it("a 403 from the API server fails with its Status message, and never shows the token", async () => {
    const outcome = await run("rollout restart deployment/web", { namespace: "team-b" });
    expect(outcome.outcome).toBe("failed");
    expect(outcome.result.error).toMatch(
      /^deployment\.apps\/web in namespace team-b: HTTP 403: deployments\.apps "web" is forbidden: User "system:serviceaccount:sesame:sesame" cannot patch resource "deployments"/,
    );
    expect(stored("deployments", "web", "team-b")?.spec.template).toEqual({});
    expectNoSecret(errorTexts(outcome.result.error), [fixture.sesameToken]);
  });

  it("a request the API server takes and never answers ends as unknown after the action's time limit", async () => {
    void fixture.api.holdNext("PATCH", "unanswered");
    const outcome = await run("rollout restart deployment/web", { timeoutMs: 1_500 });
    fixture.api.cutHeld();
    // The PATCH reached the server, which took it and never answered.
    expect(fixture.api.requests.at(-1)).toMatchObject({
      method: "PATCH",
      path: "/apis/apps/v1/namespaces/team-a/deployments/web",
    });
    expect(outcome.outcome).toBe("unknown");
    expect(outcome.result.error).toMatch(
      /did not answer in time: deployment\.apps\/web in namespace team-a may or may not have changed/,
    );
  });

  it("a connection dropped after the request was sent ends as unknown; one refused before sending fails", async () => {
    const held = fixture.api.holdNext("DELETE", "unanswered");
    const pending = run("delete pod web-abc");
    await held;
    fixture.api.cutHeld();
    const cut = await pending;
    expect(cut.outcome).toBe("unknown");
    expect(cut.result.error).toMatch(/pod\/web-abc in namespace team-a may or may not have changed/);

    const refused = await run("delete pod web-abc", { on: executorFor(`https://127.0.0.1:${refusedPort}`) });
    expect(refused.outcome).toBe("failed");
    expect(refused.result.error).toMatch(/ECONNREFUSED/);
  });

  it("a server whose certificate Sesame cannot verify was never sent anything: the action fails", async () => {
    let requests = 0;
    const server = createHttpsServer(await certificateFromUnknownCa(), (_request, response) => {
      requests += 1;
      response.end("{}");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as { port: number };
      const outcome = await run("delete pod web-abc", { on: executorFor(`https://127.0.0.1:${port}`) });
      expect(outcome.outcome).toBe("failed");
      expect(requests).toBe(0);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
