import {
  ApiException,
  AppsV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  createConfiguration,
  KubeConfig,
  PatchStrategy,
  RbacAuthorizationV1Api,
  type RequestContext,
  type ResponseContext,
  ServerConfiguration,
  setHeaderOptions,
  type V1ClusterRoleBinding,
  type V1RoleBinding,
} from "@kubernetes/client-node";
import type { ScalableKind, WorkloadKind } from "../../domain/actions/kubernetes-action.js";
import type { BindingRef, RbacBinding } from "./binding-spec.js";
import type { KubernetesConfig } from "./kubernetes-config.js";

/**
 * The few API calls the connector makes, with RoleBinding and ClusterRoleBinding behind one
 * interface. Built from explicit settings only: never from ~/.kube/config, $KUBECONFIG or an
 * in-cluster service account, so what Sesame can touch is what the policy file says.
 */

export interface KubernetesApi {
  authorization: AuthorizationV1Api;
  /** The binding, or undefined when it does not exist. */
  readBinding(ref: BindingRef): Promise<RbacBinding | undefined>;
  /** Creates the binding; returns it as stored (with the uid the API server gave it). */
  createBinding(ref: BindingRef, body: RbacBinding): Promise<RbacBinding>;
  /** Deletes the binding only if it is still the object with `uid`; true when it was there. */
  deleteBinding(ref: BindingRef, uid: string | undefined): Promise<boolean>;
  /** The calls of JIT actions (see kubernetes-action-executor.ts). */
  actions: KubernetesActionCalls;
}

/** One object of a Kubernetes action: where it is and what it is called. */
export interface ObjectRef {
  namespace: string;
  name: string;
}

export interface KubernetesActionCalls {
  /** `spec.replicas` of the workload's scale subresource (GET …/scale). */
  readReplicas(kind: ScalableKind, ref: ObjectRef): Promise<number>;
  /** Sets the replicas with a merge patch of …/scale; returns them as stored. */
  patchReplicas(kind: ScalableKind, ref: ObjectRef, replicas: number): Promise<number>;
  /** What `kubectl rollout restart` does: stamps the pod template with `restartedAt` (a strategic merge patch). */
  restartWorkload(kind: WorkloadKind, ref: ObjectRef, restartedAt: string): Promise<void>;
  deletePod(ref: ObjectRef): Promise<void>;
}

export interface KubernetesApiOptions {
  /** Overrides the connector's requestTimeoutSeconds, e.g. with an action's own time limit. */
  timeoutMs?: number;
}

export function createKubernetesApi(config: KubernetesConfig, options: KubernetesApiOptions = {}): KubernetesApi {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromClusterAndUser(
    {
      name: "sesame-target",
      server: config.server,
      skipTLSVerify: config.insecureSkipTlsVerify,
      ...(config.caData === undefined ? {} : { caData: config.caData }),
    },
    { name: "sesame", token: config.token },
  );
  const timeoutMs = options.timeoutMs ?? config.requestTimeoutSeconds * 1000;
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(config.server, {}),
    authMethods: { default: kubeConfig },
    // The client sets no timeout of its own: an API server that accepts but never answers would hang a job.
    promiseMiddleware: [
      {
        pre: async (context: RequestContext) => {
          context.setSignal(AbortSignal.timeout(timeoutMs));
          return context;
        },
        post: async (context: ResponseContext) => context,
      },
    ],
  });
  const rbac = new RbacAuthorizationV1Api(configuration);
  return {
    authorization: new AuthorizationV1Api(configuration),
    actions: actionCalls(new AppsV1Api(configuration), new CoreV1Api(configuration)),
    async readBinding(ref) {
      try {
        return ref.namespace === undefined
          ? await rbac.readClusterRoleBinding({ name: ref.name })
          : await rbac.readNamespacedRoleBinding({ name: ref.name, namespace: ref.namespace });
      } catch (error) {
        if (isStatus(error, 404)) return undefined;
        throw error;
      }
    },
    async createBinding(ref, body) {
      return ref.namespace === undefined
        ? await rbac.createClusterRoleBinding({ body: body as V1ClusterRoleBinding })
        : await rbac.createNamespacedRoleBinding({ namespace: ref.namespace, body: body as V1RoleBinding });
    },
    async deleteBinding(ref, uid) {
      // The uid precondition makes the server refuse (409) if the name now belongs to another object.
      const body = uid === undefined ? {} : { preconditions: { uid } };
      try {
        if (ref.namespace === undefined) await rbac.deleteClusterRoleBinding({ name: ref.name, body });
        else await rbac.deleteNamespacedRoleBinding({ name: ref.name, namespace: ref.namespace, body });
        return true;
      } catch (error) {
        if (isStatus(error, 404)) return false;
        throw error;
      }
    },
  };
}

function actionCalls(apps: AppsV1Api, core: CoreV1Api): KubernetesActionCalls {
  const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
  const strategicMergePatch = setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch);
  return {
    async readReplicas(kind, ref) {
      const scale =
        kind === "deployment"
          ? await apps.readNamespacedDeploymentScale(ref)
          : await apps.readNamespacedStatefulSetScale(ref);
      return scale.spec?.replicas ?? 0;
    },
    async patchReplicas(kind, ref, replicas) {
      const request = { ...ref, body: { spec: { replicas } } };
      const scale =
        kind === "deployment"
          ? await apps.patchNamespacedDeploymentScale(request, mergePatch)
          : await apps.patchNamespacedStatefulSetScale(request, mergePatch);
      return scale.spec?.replicas ?? replicas;
    },
    async restartWorkload(kind, ref, restartedAt) {
      const body = {
        spec: { template: { metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": restartedAt } } } },
      };
      const request = { ...ref, body };
      if (kind === "deployment") await apps.patchNamespacedDeployment(request, strategicMergePatch);
      else if (kind === "statefulset") await apps.patchNamespacedStatefulSet(request, strategicMergePatch);
      else await apps.patchNamespacedDaemonSet(request, strategicMergePatch);
    },
    async deletePod(ref) {
      await core.deleteNamespacedPod(ref);
    },
  };
}

export function isStatus(error: unknown, code: number): error is ApiException<unknown> {
  return error instanceof ApiException && error.code === code;
}
