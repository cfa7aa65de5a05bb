import { randomBytes, randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { createServer, type Server } from "node:net";
import { PatchStrategy, RbacAuthorizationV1Api, setHeaderOptions, type V1RoleBinding } from "@kubernetes/client-node";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import type { Connector } from "../../src/connectors/connector.js";
import { kubernetesConnectorDefinition } from "../../src/connectors/kubernetes/kubernetes-connector.js";
import { isAppError } from "../../src/domain/errors.js";
import { describeWith } from "../helpers/prerequisites.js";
import { expectNoSecret } from "./conformance.js";
import { FakeRbacStore } from "./kubernetes-fake-rbac.js";
import {
  kubernetesContext as contextFor,
  createKubernetesFixture,
  type KubernetesFixture,
} from "./kubernetes-fixture.js";

/** The kubernetes connector's guardrails, ownership rules and error reporting, against the local stand-in API server. */

let fixture: KubernetesFixture;
let connector: Connector;
beforeAll(async () => {
  fixture = await createKubernetesFixture();
  connector = fixture.connector();
});
afterAll(async () => {
  await fixture?.cleanup();
});

const suffix = randomBytes(3).toString("hex");
const person = (name: string) => `${name}-${suffix}@example.com`;
const foreignBinding = (name: string, subject: string) => ({
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "RoleBinding",
  metadata: { name, labels: { team: "platform" } },
  roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "pod-reader" },
  subjects: [{ kind: "User", name: subject }],
});

async function failure(promise: Promise<unknown>): Promise<{ code: string; userMessage: string; texts: string[] }> {
  const error = await promise.then(
    () => expect.fail("expected a failure"),
    (caught: unknown) => caught,
  );
  if (!isAppError(error)) throw new Error(`expected an AppError, got ${String(error)}`);
  return {
    code: error.code,
    userMessage: error.userMessage,
    texts: [error.message, error.userMessage, error.stack ?? "", JSON.stringify(error)],
  };
}

describeWith("openssl", "kubernetes connector: only what Sesame gave", () => {
  it("neither takes over nor deletes a same-named binding without Sesame's grant label that binds someone else", async () => {
    const gina = person("gina");
    const colleague = person("gina-colleague");
    const context = contextFor(gina);
    const key = FakeRbacStore.key("team-a", `sesame-${context.grantId}`);
    fixture.api.store.putBinding(foreignBinding(`sesame-${context.grantId}`, colleague), "team-a");
    expect((await failure(connector.grant(context))).userMessage).toMatch(
      /already exists and was not created by Sesame for this grant/,
    );
    await connector.revoke({ ...context, receipt: null });
    expect(fixture.api.store.bindings.has(key)).toBe(true);
    expect(await connector.verifyRevoked?.({ ...context, receipt: null })).toBe(true);
    expect(await fixture.canListPods(colleague, "team-a")).toBe(true);
    fixture.api.store.bindings.delete(key);
  });

  it("deletes a same-named binding that gives this grant's role to this grant's subject, labelled or not", async () => {
    // Whoever made it, it is named for the grant and holds exactly the access the grant gave: at expiry it goes.
    const gwen = person("gwen");
    const context = contextFor(gwen);
    const key = FakeRbacStore.key("team-a", `sesame-${context.grantId}`);
    fixture.api.store.putBinding(foreignBinding(`sesame-${context.grantId}`, gwen), "team-a");
    expect((await failure(connector.grant(context))).userMessage).toMatch(
      /already exists and was not created by Sesame for this grant/,
    );
    expect(await connector.verifyRevoked?.({ ...context, receipt: null })).toBe(false);
    await connector.revoke({ ...context, receipt: null });
    expect(fixture.api.store.bindings.has(key)).toBe(false);
    expect(await fixture.canListPods(gwen, "team-a")).toBe(false);
  });

  it("leaves alone a foreign binding (another uid, another subject) that replaced Sesame's behind its back", async () => {
    const context = contextFor(person("hank"));
    const other = person("hank-other");
    const receipt = await connector.grant(context);
    const key = FakeRbacStore.key("team-a", `sesame-${context.grantId}`);
    fixture.api.store.bindings.delete(key);
    const foreign = fixture.api.store.putBinding(foreignBinding(`sesame-${context.grantId}`, other), "team-a");
    expect(foreign.metadata.uid).not.toBe(receipt.data.uid);
    const deletes = fixture.api.requests.filter((request) => request.method === "DELETE").length;
    await connector.revoke({ ...context, receipt: receipt.data });
    expect(fixture.api.requests.filter((request) => request.method === "DELETE").length).toBe(deletes);
    expect(fixture.api.store.bindings.get(key)?.metadata.labels).toEqual({ team: "platform" });
    expect(await connector.verifyRevoked?.({ ...context, receipt: receipt.data })).toBe(true);
    expect(await fixture.canListPods(other, "team-a")).toBe(true);
    expect(await fixture.canListPods(context.principal, "team-a")).toBe(false);
    fixture.api.store.bindings.delete(key);
  });

  it("refuses to adopt its own-labelled binding when someone changed its subject", async () => {
    const context = contextFor(person("ivy"));
    await connector.grant(context);
    const stored = fixture.api.store.bindings.get(FakeRbacStore.key("team-a", `sesame-${context.grantId}`))!;
    stored.subjects = [{ kind: "User", name: person("intruder") }];
    expect((await failure(connector.grant(context))).userMessage).toMatch(
      /binds a different role or subject; it was changed outside Sesame/,
    );
    await connector.revoke({ ...context, receipt: null });
    expect(await fixture.canListPods(person("intruder"), "team-a")).toBe(false);
  });

  it("derives a valid binding name and label from a grant id Kubernetes would reject", async () => {
    const context = contextFor(person("jack"), undefined, `Grant_42/${"x".repeat(80)}`);
    const receipt = await connector.grant(context);
    expect((await connector.grant(context)).data.uid).toBe(receipt.data.uid);
    expect(receipt.data.name).toMatch(/^sesame-h-[0-9a-f]{40}$/);
    expect(await fixture.canListPods(context.principal, "team-a")).toBe(true);
    await connector.revoke({ ...context, receipt: null });
    expect(await fixture.canListPods(context.principal, "team-a")).toBe(false);
  });
});

describeWith("openssl", "kubernetes connector: a grantee who edits Sesame's binding", () => {
  // The grantee holds ns-admin (like Kubernetes' `admin`): it may patch, update, delete and create
  // rolebindings in the namespace, Sesame's own included. Edits go through the API as the grantee.
  const adminContext = (name: string) => contextFor(person(name), { namespace: "team-a", clusterRole: "ns-admin" });
  const asGrantee = (context: { principal: string }) =>
    fixture.userConfig(context.principal).makeApiClient(RbacAuthorizationV1Api);
  const bindingName = (context: { grantId: string }) => `sesame-${context.grantId}`;
  const stored = (context: { grantId: string }) =>
    fixture.api.store.bindings.get(FakeRbacStore.key("team-a", bindingName(context)));

  it("removes the binding whose grant label the grantee removed, by the uid in the receipt", async () => {
    const context = adminContext("nora");
    const receipt = await connector.grant(context);
    const uid = stored(context)?.metadata.uid;
    expect(receipt.data.uid).toBe(uid);
    await asGrantee(context).patchNamespacedRoleBinding({
      name: bindingName(context),
      namespace: "team-a",
      body: [{ op: "remove", path: "/metadata/labels/sesame.dev~1grant-id" }],
    });
    expect(stored(context)?.metadata.labels).toEqual({ "app.kubernetes.io/managed-by": "sesame" });
    expect(stored(context)?.metadata.uid).toBe(uid);
    expect(await connector.verifyRevoked?.({ ...context, receipt: receipt.data })).toBe(false);

    await connector.revoke({ ...context, receipt: receipt.data });
    expect(stored(context)).toBeUndefined();
    expect(await fixture.canListPods(context.principal, "team-a")).toBe(false);
    expect(await connector.verifyRevoked?.({ ...context, receipt: receipt.data })).toBe(true);
    // The delete still carried the uid precondition.
    const deletion = fixture.api.requests.findLast(
      (request) => request.method === "DELETE" && request.path.endsWith(`/rolebindings/${bindingName(context)}`),
    );
    expect(deletion?.body).toMatchObject({ preconditions: { uid } });
  });

  it("removes an unlabelled binding without a receipt when it still binds this grant's role to this subject", async () => {
    const context = adminContext("otto");
    await connector.grant(context);
    await asGrantee(context).patchNamespacedRoleBinding(
      { name: bindingName(context), namespace: "team-a", body: { metadata: { labels: null, annotations: null } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    expect(stored(context)?.metadata.labels).toBeUndefined();
    expect(await connector.verifyRevoked?.({ ...context, receipt: null })).toBe(false);

    await connector.revoke({ ...context, receipt: null });
    expect(stored(context)).toBeUndefined();
    expect(await fixture.canListPods(context.principal, "team-a")).toBe(false);
    expect(await connector.verifyRevoked?.({ ...context, receipt: null })).toBe(true);
  });

  it("removes its binding by uid even when the grantee also moved it to another subject", async () => {
    const context = adminContext("pia");
    const accomplice = person("pia-accomplice");
    const receipt = await connector.grant(context);
    const current = stored(context)!;
    await asGrantee(context).replaceNamespacedRoleBinding({
      name: bindingName(context),
      namespace: "team-a",
      body: {
        metadata: {
          name: current.metadata.name,
          uid: current.metadata.uid,
          resourceVersion: current.metadata.resourceVersion,
        },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "ns-admin" },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: accomplice }],
      },
    });
    expect(await fixture.canListPods(accomplice, "team-a")).toBe(true);
    expect(await connector.verifyRevoked?.({ ...context, receipt: receipt.data })).toBe(false);

    await connector.revoke({ ...context, receipt: receipt.data });
    expect(stored(context)).toBeUndefined();
    expect(await fixture.canListPods(accomplice, "team-a")).toBe(false);
  });

  it("removes a binding the grantee recreated under the same name without labels (another uid, same role and subject)", async () => {
    const context = adminContext("quinn");
    const receipt = await connector.grant(context);
    const grantee = asGrantee(context);
    const body = (name: string): V1RoleBinding => ({
      metadata: { name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "ns-admin" },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: context.principal }],
    });
    // Deleting its only binding would lock the grantee out, so it first copies it under another name:
    // a copy Sesame does not know of and does not remove (the README's documented limit).
    const copy = `${bindingName(context)}-copy`;
    await grantee.createNamespacedRoleBinding({ namespace: "team-a", body: body(copy) });
    await grantee.deleteNamespacedRoleBinding({ name: bindingName(context), namespace: "team-a" });
    await grantee.createNamespacedRoleBinding({ namespace: "team-a", body: body(bindingName(context)) });
    expect(stored(context)?.metadata.uid).not.toBe(receipt.data.uid);
    expect(await connector.verifyRevoked?.({ ...context, receipt: receipt.data })).toBe(false);

    await connector.revoke({ ...context, receipt: receipt.data });
    expect(stored(context)).toBeUndefined();
    expect(await connector.verifyRevoked?.({ ...context, receipt: receipt.data })).toBe(true);
    expect(fixture.api.store.bindings.has(FakeRbacStore.key("team-a", copy))).toBe(true);
    fixture.api.store.bindings.delete(FakeRbacStore.key("team-a", copy));
    expect(await fixture.canListPods(context.principal, "team-a")).toBe(false);
  });

  it("the fake refuses to change a binding's roleRef, as Kubernetes does", async () => {
    const context = adminContext("rosa");
    const receipt = await connector.grant(context);
    const error = await asGrantee(context)
      .patchNamespacedRoleBinding({
        name: bindingName(context),
        namespace: "team-a",
        body: [{ op: "replace", path: "/roleRef/name", value: "pod-reader" }],
      })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 422 });
    await connector.revoke({ ...context, receipt: receipt.data });
    expect(stored(context)).toBeUndefined();
  });
});

describeWith("openssl", "kubernetes connector: validation before any request", () => {
  it("refuses Kubernetes system identities and malformed principals as subjects", async () => {
    const before = fixture.api.requests.length;
    for (const principal of ["system:masters", "System:Authenticated", "eve\nadmin", " eve"]) {
      const result = await failure(
        connector.grant(contextFor(principal, { namespace: "team-a", role: "pod-reader", subjectKind: "Group" })),
      );
      expect(result.userMessage).toMatch(/cannot bind principal/);
    }
    expect(fixture.api.requests.length).toBe(before);
  });

  it("rejects targets that are not valid Kubernetes names or combinations", () => {
    const invalid = [
      { namespace: "Team_A", role: "pod-reader" },
      { namespace: "team-a", role: "a/b" },
      { namespace: "team-a", role: "pod-reader", clusterRole: "view" },
      { namespace: "team-a" },
      { role: "pod-reader" },
      { clusterWide: true, role: "pod-reader" },
      { clusterWide: true, clusterRole: "view", namespace: "team-a" },
      { namespace: "team-a", role: "pod-reader", subjectKind: "ServiceAccount" },
    ];
    for (const target of invalid)
      expect(kubernetesConnectorDefinition.targetSchema.safeParse(target).success, JSON.stringify(target)).toBe(false);
  });

  it("rejects unsafe or ambiguous connector configs", () => {
    const base = { server: "https://k8s.example.com:6443", token: "t", allowedNamespaces: ["team-a"] };
    const invalid = [
      { ...base, server: "http://k8s.example.com:8080" },
      { ...base, server: "https://sesame:t0ken@k8s.example.com" },
      { ...base, caData: Buffer.from("not a certificate").toString("base64") },
      { ...base, caData: fixture.caData, insecureSkipTlsVerify: true },
      { ...base, allowedNamespaces: [] },
      { ...base, allowedNamespaces: ["te*m"] },
      { ...base, allowedNamespaces: ["Team-A"] },
    ];
    for (const config of invalid)
      expect(kubernetesConnectorDefinition.configSchema.safeParse(config).success, JSON.stringify(config)).toBe(false);
    expect(
      kubernetesConnectorDefinition.configSchema.parse({ ...base, server: "https://k8s.example.com:6443/" }),
    ).toMatchObject({ server: "https://k8s.example.com:6443" });
  });
});

describeWith("openssl", "kubernetes connector: check() and errors", () => {
  const targets = [
    { namespace: "team-a", role: "pod-reader" },
    { namespace: "team-b", clusterRole: "pod-reader" },
  ];

  it("passes for the least-privilege account, with and without targets, and through a trailing slash", async () => {
    expect(await connector.check({ targets })).toEqual({ ok: true, problems: [] });
    expect(await fixture.connector({ allowedNamespaces: ["team-a", "team-b"] }).check()).toEqual({
      ok: true,
      problems: [],
    });
    expect(await fixture.connector({ server: `${fixture.server}/` }).check()).toEqual({ ok: true, problems: [] });
  });

  it("names each missing permission and each target the guardrails would refuse", async () => {
    const weak = fixture.connector({ token: fixture.weakToken }, "k8s-weak");
    const result = await weak.check({
      targets: [
        ...targets,
        { namespace: "other", role: "pod-reader" },
        { clusterWide: true, clusterRole: "pod-reader" },
        { role: "x" },
      ],
    });
    const text = result.problems.join("\n");
    expect(result.ok).toBe(false);
    expect(text).toMatch(
      /may not create rolebindings \(API group rbac.authorization.k8s.io\) in namespace "team-a": add the rule .*verbs: \["create"\]/,
    );
    expect(text).toMatch(
      /may not bind roles "pod-reader" .* in namespace "team-a": add the rule .*resourceNames: \["pod-reader"\]/,
    );
    expect(text).toMatch(/may not bind clusterroles "pod-reader" .* in namespace "team-b"/);
    expect(text).toMatch(/target 3: namespace "other" is not in the connector's allowedNamespaces/);
    expect(text).toMatch(/target 4: clusterWide needs allowClusterRoleBindings: true/);
    expect(text).toMatch(/target 5\.namespace: is required/);
    expectNoSecret(result.problems, [fixture.weakToken, fixture.sesameToken]);
  });

  it("reports a token the API server rejects as unauthorized, without the token", async () => {
    const badToken = `bad.${randomBytes(16).toString("base64url")}`;
    const bad = fixture.connector({ token: badToken }, "k8s-bad-token");
    const check = await bad.check({ targets });
    expect(check).toEqual({
      ok: false,
      problems: [expect.stringMatching(/HTTP 401: Unauthorized\. The API server did not accept the connector's token/)],
    });
    const grant = await failure(bad.grant(contextFor(person("kim"))));
    expect(grant.code).toBe("connector_failed");
    expect(grant.userMessage).toMatch(/Connector "k8s-bad-token" could not grant access: HTTP 401/);
    expectNoSecret([...check.problems, ...grant.texts], [badToken]);
  });

  it("reports a missing permission at grant time with the API server's reason", async () => {
    const weak = fixture.connector({ token: fixture.weakToken }, "k8s-weak");
    const grant = await failure(weak.grant(contextFor(person("lee"))));
    expect(grant.userMessage).toMatch(/HTTP 403: .*cannot create resource "rolebindings".*lacks an RBAC permission/);
    expectNoSecret(grant.texts, [fixture.weakToken]);
  });

  it("reports an unreachable server and an untrusted certificate with what to fix", async () => {
    const unreachable = await fixture.connector({ server: "https://127.0.0.1:1" }, "k8s-down").check();
    expect(unreachable.problems.join("\n")).toMatch(/ECONNREFUSED.*Check the connector's server URL/);
    const untrusted = await fixture.connector({ caData: undefined }, "k8s-untrusted").check();
    expect(untrusted.problems.join("\n")).toMatch(/certificate.*set caData/);
    expectNoSecret([...unreachable.problems, ...untrusted.problems], [fixture.sesameToken]);
    expect(await fixture.connector({ caData: undefined, insecureSkipTlsVerify: true }).check()).toEqual({
      ok: true,
      problems: [],
    });
  });

  it("gives up on a server that never answers after requestTimeoutSeconds", async () => {
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const hanging = fixture.connector(
        { server: `https://127.0.0.1:${port}`, requestTimeoutSeconds: 1 },
        "k8s-silent",
      );
      // What proves the configured bound (not the 15 s default, nor none) is the signal armed with it.
      const armed = vi.spyOn(AbortSignal, "timeout");
      expect((await failure(hanging.grant(contextFor(person("max"), undefined, randomUUID())))).userMessage).toMatch(
        /did not answer in time/,
      );
      expect(armed).toHaveBeenCalledWith(1_000);
      expect(armed.mock.calls.every(([ms]) => ms === 1_000)).toBe(true);
    } finally {
      vi.restoreAllMocks();
      silent.close();
    }
  });
});
