import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Connector } from "../../src/connectors/connector.js";
import { describeWith } from "../helpers/prerequisites.js";
import { runConnectorConformance } from "./conformance.js";
import { FakeRbacStore } from "./kubernetes-fake-rbac.js";
import {
  kubernetesContext as contextFor,
  createKubernetesFixture,
  type KubernetesFixture,
} from "./kubernetes-fixture.js";

/**
 * The kubernetes connector against a LOCAL STAND-IN for the API server (kubernetes-fake-api.ts):
 * no real Kubernetes can run on this machine. The real @kubernetes/client-node talks to it over
 * TLS, and "access" is observed by listing pods as the user, authorized from the stored bindings.
 */

let fixture: KubernetesFixture;
beforeAll(async () => {
  fixture = await createKubernetesFixture();
});
afterAll(async () => {
  await fixture?.cleanup();
});

const suffix = randomBytes(3).toString("hex");
const person = (name: string) => `${name}-${suffix}@example.com`;

let people = 0;
runConnectorConformance(
  "kubernetes",
  async () => ({
    connector: fixture.connector(),
    makeContext: () => contextFor(person(`alice${++people}`)),
    hasAccess: (context) => fixture.canListPods(context.principal, "team-a"),
    countAccess: async (context) =>
      [...fixture.api.store.bindings.values()].filter(
        (binding) =>
          binding.metadata.namespace === "team-a" &&
          binding.subjects?.some((subject) => subject.name === context.principal),
      ).length,
    removeOutOfBand: async (context) => {
      fixture.api.store.bindings.delete(FakeRbacStore.key("team-a", `sesame-${context.grantId}`));
    },
    secrets: [fixture.sesameToken],
    breakConnector: async () => fixture.connector({ server: "https://127.0.0.1:1" }, "k8s-unreachable"),
    makeFailingContext: () => contextFor(person("mallory"), { namespace: "other", role: "pod-reader" }),
  }),
  { brokenConnector: true, failingContext: true, requires: "openssl" },
);

describeWith("openssl", "kubernetes connector", () => {
  let connector: Connector;
  beforeAll(() => {
    connector = fixture.connector();
  });

  it("refuses the user before the grant, allows them during, refuses them after", async () => {
    const bob = person("bob");
    const context = contextFor(bob);
    expect(await fixture.canListPods(bob, "team-a")).toBe(false);
    const receipt = await connector.grant(context);
    const stored = fixture.api.store.bindings.get(FakeRbacStore.key("team-a", `sesame-${context.grantId}`));
    expect(stored?.metadata.uid).toEqual(expect.any(String));
    expect(receipt).toEqual({
      data: {
        kind: "RoleBinding",
        name: `sesame-${context.grantId}`,
        namespace: "team-a",
        uid: stored?.metadata.uid,
        roleRef: { kind: "Role", name: "pod-reader" },
        subject: { kind: "User", name: bob },
        expiresAt: context.expiresAt.toISOString(),
      },
    });
    expect(await fixture.canListPods(bob, "team-a")).toBe(true);
    expect(await fixture.canListPods(bob, "team-b")).toBe(false);
    expect(stored?.metadata.labels).toEqual({
      "app.kubernetes.io/managed-by": "sesame",
      "sesame.dev/grant-id": context.grantId,
    });
    expect(stored?.metadata.annotations).toMatchObject({ "sesame.dev/expires-at": context.expiresAt.toISOString() });
    await connector.revoke({ ...context, receipt: receipt.data });
    expect(await fixture.canListPods(bob, "team-a")).toBe(false);
    expect(await connector.verifyRevoked?.({ ...context, receipt: receipt.data })).toBe(true);
  });

  it("binds a ClusterRole to a group in one namespace only", async () => {
    const carol = person("carol");
    const context = contextFor("oncall-team", { namespace: "team-b", clusterRole: "pod-reader", subjectKind: "Group" });
    expect(await fixture.canListPods(carol, "team-b", ["oncall-team"])).toBe(false);
    const receipt = await connector.grant(context);
    expect(await fixture.canListPods(carol, "team-b", ["oncall-team"])).toBe(true);
    expect(await fixture.canListPods(carol, "team-a", ["oncall-team"])).toBe(false);
    expect(await fixture.canListPods(carol, "team-b")).toBe(false);
    await connector.revoke({ ...context, receipt: receipt.data });
    expect(await fixture.canListPods(carol, "team-b", ["oncall-team"])).toBe(false);
  });

  it("refuses a namespace outside allowedNamespaces without making any request", async () => {
    // Sesame's service account could create bindings in "other": only the connector's guardrail stops it.
    const before = fixture.api.requests.length;
    const error = await connector
      .grant(contextFor(person("dave"), { namespace: "other", role: "pod-reader" }))
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: "connector_failed",
      userMessage: expect.stringMatching(/namespace "other" is not in the connector's allowedNamespaces/),
    });
    expect(fixture.api.requests.length).toBe(before);
    expect(await fixture.canListPods(person("dave"), "other")).toBe(false);
  });

  it("refuses a ClusterRoleBinding unless allowClusterRoleBindings is set", async () => {
    const erin = person("erin");
    const target = { clusterWide: true, clusterRole: "pod-reader" };
    const before = fixture.api.requests.length;
    await expect(connector.grant(contextFor(erin, target))).rejects.toMatchObject({
      userMessage: expect.stringMatching(/clusterWide needs allowClusterRoleBindings: true/),
    });
    expect(fixture.api.requests.length).toBe(before);

    const clusterConnector = fixture.connector({ allowClusterRoleBindings: true });
    const context = contextFor(erin, target);
    const receipt = await clusterConnector.grant(context);
    expect(receipt.data).toMatchObject({
      kind: "ClusterRoleBinding",
      roleRef: { kind: "ClusterRole", name: "pod-reader" },
    });
    expect(receipt.data).not.toHaveProperty("namespace");
    for (const namespace of ["team-a", "other"]) expect(await fixture.canListPods(erin, namespace)).toBe(true);
    await clusterConnector.revoke({ ...context, receipt: null });
    expect(await fixture.canListPods(erin, "other")).toBe(false);
    expect(fixture.api.store.bindings.has(FakeRbacStore.key(undefined, `sesame-${context.grantId}`))).toBe(false);
  });

  it("accepts a binding deleted out of band as revoked", async () => {
    const context = contextFor(person("frank"));
    const receipt = await connector.grant(context);
    fixture.api.store.bindings.delete(FakeRbacStore.key("team-a", `sesame-${context.grantId}`));
    expect(await connector.verifyRevoked?.({ ...context, receipt: receipt.data })).toBe(true);
    await expect(connector.revoke({ ...context, receipt: receipt.data })).resolves.toBeUndefined();
  });
});
