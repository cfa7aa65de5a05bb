import { execFile } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ApiException, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import type { Connector, GrantContext } from "../../src/connectors/connector.js";
import { kubernetesConnectorDefinition } from "../../src/connectors/kubernetes/kubernetes-connector.js";
import { FakeKubernetesApi } from "./kubernetes-fake-api.js";

/**
 * The fake API server (see kubernetes-fake-api.ts for why it is not a real one) over TLS with a
 * throw-away self-signed certificate, seeded like a small cluster:
 *   namespaces  team-a, team-b, other (other exists but the connector must not be allowed there)
 *   pod-reader  a ClusterRole, and a Role in team-a, both granting get/list on pods
 *   ns-admin    a ClusterRole like Kubernetes' `admin`, as far as the tests need: get/list on pods, and
 *               every verb on rolebindings, so its grantee can edit (patch, update) Sesame's binding
 *   sesame      the service account Sesame uses, least privilege: get/create/delete on
 *               rolebindings and clusterrolebindings, bind on (cluster)roles named pod-reader or ns-admin
 *   weak        a service account without any permission
 */
export interface KubernetesFixture {
  api: FakeKubernetesApi;
  server: string;
  caData: string;
  sesameToken: string;
  weakToken: string;
  /** A connector for the fake as Sesame's service account, allowed in team-* unless `overrides` say otherwise. */
  connector(overrides?: Record<string, unknown>, name?: string): Connector;
  /** A client configuration that "logs in" as `user` (with `groups`) to the fake. */
  userConfig(user: string, groups?: string[]): KubeConfig;
  /**
   * Gives Sesame's service account what JIT actions need in `namespace`, as README says: a
   * RoleBinding there to a ClusterRole with patch on workloads, get/patch on their scale, delete on pods.
   */
  allowActions(namespace: string): void;
  /** "Logs in" as `user` (with `groups`) through the real client and lists pods: true = allowed, false = 403. */
  canListPods(user: string, namespace: string, groups?: string[]): Promise<boolean>;
  cleanup(): Promise<void>;
}

const run = promisify(execFile);
const RBAC = "rbac.authorization.k8s.io";
const POD_READER = [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] }];
const SESAME_SA = "system:serviceaccount:sesame:sesame";
const SESAME_ACTIONS = [
  { apiGroups: ["apps"], resources: ["deployments", "statefulsets", "daemonsets"], verbs: ["patch"] },
  { apiGroups: ["apps"], resources: ["deployments/scale", "statefulsets/scale"], verbs: ["get", "patch"] },
  { apiGroups: [""], resources: ["pods"], verbs: ["delete"] },
];

async function selfSignedCertificate(): Promise<{ key: string; cert: string }> {
  const dir = await mkdtemp(join(tmpdir(), "sesame-k8s-"));
  try {
    await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=sesame-fake-apiserver",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
    ]);
    return { key: await readFile(join(dir, "key.pem"), "utf8"), cert: await readFile(join(dir, "cert.pem"), "utf8") };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function createKubernetesFixture(): Promise<KubernetesFixture> {
  const tls = await selfSignedCertificate();
  const api = new FakeKubernetesApi(tls);
  const server = await api.start();
  const caData = Buffer.from(tls.cert).toString("base64");
  const { store } = api;
  for (const namespace of ["team-a", "team-b", "other"]) store.namespaces.add(namespace);
  store.clusterRoles.set("pod-reader", POD_READER);
  store.roles.set("team-a/pod-reader", POD_READER);
  store.clusterRoles.set("ns-admin", [...POD_READER, { apiGroups: [RBAC], resources: ["rolebindings"], verbs: ["*"] }]);
  store.clusterRoles.set("sesame-granter", [
    { apiGroups: [RBAC], resources: ["rolebindings", "clusterrolebindings"], verbs: ["get", "create", "delete"] },
    {
      apiGroups: [RBAC],
      resources: ["roles", "clusterroles"],
      verbs: ["bind"],
      resourceNames: ["pod-reader", "ns-admin"],
    },
  ]);
  store.putBinding(
    {
      apiVersion: `${RBAC}/v1`,
      kind: "ClusterRoleBinding",
      metadata: { name: "sesame-granter" },
      roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: "sesame-granter" },
      subjects: [{ kind: "ServiceAccount", name: "sesame", namespace: "sesame" }],
    },
    undefined,
  );
  // Token-like values with characters that JSON and URLs escape, to exercise every redaction spelling.
  const sesameToken = `sesame.${randomBytes(18).toString("base64url")}+/=`;
  const weakToken = `weak.${randomBytes(18).toString("base64url")}`;
  api.addToken(sesameToken, { user: SESAME_SA, groups: ["system:serviceaccounts", "system:authenticated"] });
  api.addToken(weakToken, {
    user: "system:serviceaccount:sesame:weak",
    groups: ["system:serviceaccounts", "system:authenticated"],
  });

  function userConfig(user: string, groups: string[] = []): KubeConfig {
    const token = `user.${randomBytes(12).toString("hex")}`;
    api.addToken(token, { user, groups: [...groups, "system:authenticated"] });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromClusterAndUser({ name: "fake", server, caData, skipTLSVerify: false }, { name: user, token });
    return kubeConfig;
  }

  return {
    api,
    server,
    caData,
    sesameToken,
    weakToken,
    connector(overrides = {}, name = "k8s-test") {
      const config = kubernetesConnectorDefinition.configSchema.parse({
        server,
        token: sesameToken,
        caData,
        allowedNamespaces: ["team-*"],
        ...overrides,
      });
      return kubernetesConnectorDefinition.create(config, { name, secrets: [config.token] });
    },
    allowActions(namespace) {
      store.clusterRoles.set("sesame-actions", SESAME_ACTIONS);
      store.putBinding(
        {
          apiVersion: `${RBAC}/v1`,
          kind: "RoleBinding",
          metadata: { name: "sesame-actions" },
          roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: "sesame-actions" },
          subjects: [{ kind: "ServiceAccount", name: "sesame", namespace: "sesame" }],
        },
        namespace,
      );
    },
    userConfig,
    async canListPods(user, namespace, groups = []) {
      try {
        await userConfig(user, groups).makeApiClient(CoreV1Api).listNamespacedPod({ namespace });
        return true;
      } catch (error) {
        if (error instanceof ApiException && error.code === 403) return false;
        throw error;
      }
    },
    async cleanup() {
      await api.stop();
    },
  };
}

/** A fresh grant (new UUID) of `target` to `principal`, the target validated as the policy loader would. */
export function kubernetesContext(
  principal: string,
  target: Record<string, unknown> = { namespace: "team-a", role: "pod-reader" },
  grantId: string = randomUUID(),
): GrantContext {
  return {
    grantId,
    principal,
    target: kubernetesConnectorDefinition.targetSchema.parse(target) as Record<string, unknown>,
    expiresAt: new Date(Date.now() + 3_600_000),
  };
}
