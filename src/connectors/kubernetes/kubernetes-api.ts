import {
  ApiException,
  AuthorizationV1Api,
  createConfiguration,
  KubeConfig,
  RbacAuthorizationV1Api,
  type RequestContext,
  type ResponseContext,
  ServerConfiguration,
  type V1ClusterRoleBinding,
  type V1RoleBinding,
} from "@kubernetes/client-node";
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
}

export function createKubernetesApi(config: KubernetesConfig): KubernetesApi {
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
  const timeoutMs = config.requestTimeoutSeconds * 1000;
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

export function isStatus(error: unknown, code: number): error is ApiException<unknown> {
  return error instanceof ApiException && error.code === code;
}
