import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { runAction } from "../../src/services/run-action.js";
import { FakeWorkloads } from "../connectors/kubernetes-fake-workloads.js";
import { createKubernetesFixture, type KubernetesFixture } from "../connectors/kubernetes-fixture.js";
import { describeWith } from "../helpers/prerequisites.js";
import { startSesame, type TestSesame } from "../helpers/sesame.js";

/**
 * Kubernetes JIT actions end to end through the REST API and the service layer, against the local
 * stand-in for the API server (test/connectors/kubernetes-fake-api.ts): a rollout restart is
 * approved by policy and runs at once, a pod deletion waits for bob, each runs exactly once however
 * often the job or the click is repeated, and what the connector may not touch is refused before
 * anyone is asked.
 */

let fixture: KubernetesFixture;
let sesame: TestSesame;

const policy = (k8s: KubernetesFixture) => `
version: 1
people:
  - { id: alice, email: alice@example.com }
  - { id: bob, email: bob@example.com }
  - { id: dave, email: dave@example.com, admin: true }
connectors:
  k8s:
    type: kubernetes
    config:
      server: ${k8s.server}
      token: { env: K8S_TOKEN }
      caData: ${k8s.caData}
      allowedNamespaces: [team-*]
      allowClusterRoleBindings: true
resources:
  web-ops:
    connector: k8s
    target: { namespace: team-a, clusterRole: view }
    actions:
      classes:
        restart: { autoApprove: { reason: a rollout restart replaces pods one by one } }
        delete: { approvers: { users: [bob] } }
  cluster-ops:
    connector: k8s
    target: { clusterWide: true, clusterRole: view }
    actions: {}
policies:
  - id: ops
    resources: [web-ops, cluster-ops]
    requesters: { users: [alice] }
    duration: { default: 1h, max: 1h }
    approvers: { users: [bob] }
`;

const ask = (action: string, resource = "web-ops") =>
  sesame.api("alice", "POST", "/api/v1/requests", { resource, action, reason: "INC-7: web is stuck" });

const sent = (method: string, path: string) =>
  fixture.api.requests.filter((request) => request.method === method && request.path === path).length;

describeWith("openssl", "Kubernetes JIT actions through the API", () => {
  beforeAll(async () => {
    fixture = await createKubernetesFixture();
    fixture.allowActions("team-a");
    sesame = await startSesame("k8s-actions", {
      policy: policy(fixture),
      identities: ["alice", "bob", "dave"],
      env: { K8S_TOKEN: fixture.sesameToken },
    });
  });
  afterAll(async () => {
    await sesame?.stop();
    await fixture?.cleanup();
  });
  beforeEach(() => {
    fixture.api.workloads.objects.clear();
    fixture.api.workloads.add("deployments", "team-a", "web", 2);
    fixture.api.workloads.add("pods", "team-a", "web-abc");
  });

  it("auto-approves a rollout restart by its class, runs it once, and shows the result", async () => {
    const path = "/apis/apps/v1/namespaces/team-a/deployments/web";
    const created = await ask("rollout restart deployment/web");
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: "approved", durationSeconds: 0 });
    expect(created.body.autoApprovalReason).toMatch(/replaces pods one by one/);
    expect(created.body.action).toMatchObject({
      kind: "kubernetes",
      text: "rollout restart deployment/web",
      class: "restart",
      classWhy: "restarts deployment web in namespace team-a (its pods are replaced one by one)",
      status: "succeeded",
      result: { rowCount: null, columns: [], rows: [], truncated: false, output: "deployment.apps/web restarted" },
    });
    expect(sent("PATCH", path)).toBe(1);
    // The job runs again: the claim is taken, nothing is sent a second time.
    expect((await runAction(sesame.runtime.deps, created.body.id))?.status).toBe("succeeded");
    expect(sent("PATCH", path)).toBe(1);
    const annotations = fixture.api.workloads.objects.get(FakeWorkloads.key("deployments", "team-a", "web"))?.spec
      .template?.metadata?.annotations;
    expect(Object.keys(annotations ?? {})).toEqual(["kubectl.kubernetes.io/restartedAt"]);
  });

  it("a pod deletion waits for bob, then runs exactly once, even when the click and the job repeat", async () => {
    const path = "/api/v1/namespaces/team-a/pods/web-abc";
    const created = await ask("delete pod web-abc");
    expect(created.body).toMatchObject({ status: "pending", action: { class: "delete", status: "pending" } });
    expect(created.body.steps).toEqual([{ name: "approval", approvers: ["bob"], required: 1, received: 0 }]);
    expect(sent("DELETE", path)).toBe(0);

    const approved = await sesame.api("bob", "POST", `/api/v1/requests/${created.body.id}/approve`, {
      version: created.body.version,
      sha256: created.body.action.sha256,
    });
    expect(approved.status).toBe(200);
    expect(approved.body.action).toMatchObject({ status: "succeeded", result: { output: "pod/web-abc deleted" } });
    const replayed = await sesame.api("bob", "POST", `/api/v1/requests/${created.body.id}/approve`, {
      version: created.body.version,
    });
    expect(replayed.status).toBe(409);
    expect((await runAction(sesame.runtime.deps, created.body.id))?.status).toBe("succeeded");
    expect(sent("DELETE", path)).toBe(1);
  });

  it("refuses, before anyone is asked, what the grammar, the target or the connector does not allow", async () => {
    const before = fixture.api.requests.length;
    for (const [action, resource, why] of [
      ["get pods", "web-ops", /"get pods" is not an operation Sesame runs/],
      ["delete pod web-abc -n team-b", "web-ops", /acts in namespace team-a only, not team-b/],
      ["delete pod web-abc", "cluster-ops", /cluster-wide: say the namespace with -n/],
      ["delete pod web-abc -n other", "cluster-ops", /namespace other is outside the connector's allowedNamespaces/],
    ] as const) {
      const refused = await ask(action, resource);
      expect(refused.status, action).toBe(422);
      expect(refused.body.error.message, action).toMatch(why);
    }
    expect(fixture.api.requests.slice(before)).toEqual([]);
  });
});
