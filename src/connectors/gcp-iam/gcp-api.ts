import { setTimeout as sleep } from "node:timers/promises";
import { auth, cloudresourcemanager, type cloudresourcemanager_v3 } from "@googleapis/cloudresourcemanager";
import { AppError } from "../../domain/errors.js";
import { backoffMs, type QuickRetryPolicy, withQuickRetries } from "../quick-retry.js";
import { isPolicyConflict, retryAdvice } from "./gcp-errors.js";
import type { GcpIamConfig } from "./gcp-iam-config.js";
import { type IamPolicy, IamPolicySchema } from "./iam-policy.js";

/**
 * The Cloud Resource Manager v3 calls the connector makes (getIamPolicy, setIamPolicy,
 * testIamPermissions on projects, folders and organizations), through the official client with
 * its own retries off: ours retry throttling and 5xx with an injectable sleep, and the policy's
 * read-modify-write is repeated on an etag conflict. Credentials are Application Default
 * Credentials unless a test passes its own token source.
 */

type Auth = InstanceType<typeof auth.GoogleAuth> | InstanceType<typeof auth.OAuth2>;

export interface GcpApiOptions {
  /** Tests only: a fixed token source instead of Application Default Credentials. */
  auth?: Auth;
  sleep?: (ms: number) => Promise<void>;
}

export interface GcpApi {
  /**
   * Reads the policy (version 3, so conditional bindings come back whole), asks `change` for the
   * new one (undefined: nothing to change) and writes it with the etag it was read with; on a
   * conflict (someone changed the policy meanwhile) reads and asks again.
   */
  modifyPolicy(resource: string, change: (policy: IamPolicy) => IamPolicy | undefined): Promise<IamPolicy>;
  readPolicy(resource: string): Promise<IamPolicy>;
  /** The subset of `permissions` Sesame holds on `resource`. */
  grantedPermissions(resource: string, permissions: readonly string[]): Promise<string[]>;
}

const SCOPE = "https://www.googleapis.com/auth/cloud-platform";

export function createGcpApi(config: GcpIamConfig, options: GcpApiOptions = {}): GcpApi {
  // Node's own fetch, not the client's bundled node-fetch: when node-fetch aborts a timed-out
  // request it emits an 'error' on the request body stream that nobody listens to, which would end
  // the process. A timeout, because the client sets none: a target that never answers would hang a job.
  const transport = { fetchImplementation: fetch, timeout: config.requestTimeoutSeconds * 1000 };
  const client = cloudresourcemanager({
    version: "v3",
    auth: options.auth ?? new auth.GoogleAuth({ scopes: [SCOPE], clientOptions: { transporterOptions: transport } }),
    rootUrl: config.apiEndpoint,
    // The client's own retries would wait with real timers and retry what we want to see; ours do.
    retry: false,
    ...transport,
  });
  const wait = options.sleep ?? sleep;
  const policy: QuickRetryPolicy = { retries: config.retries, sleep: wait };
  const retried = <T>(call: () => Promise<T>) => withQuickRetries(call, retryAdvice, policy);
  const scope = (resource: string) => {
    const kind = resource.split("/")[0];
    return kind === "projects" ? client.projects : kind === "folders" ? client.folders : client.organizations;
  };

  const readPolicy = async (resource: string): Promise<IamPolicy> => {
    const answer = await retried(() =>
      scope(resource).getIamPolicy({ resource, requestBody: { options: { requestedPolicyVersion: 3 } } }),
    );
    const parsed = IamPolicySchema.safeParse(answer.data);
    if (!parsed.success)
      throw new AppError(
        "connector_failed",
        `the API answered getIamPolicy for ${resource} with something that is not an IAM policy with an etag. Check the connector's apiEndpoint; nothing was changed.`,
      );
    return parsed.data;
  };

  return {
    readPolicy,
    async modifyPolicy(resource, change) {
      for (let conflicts = 0; ; conflicts += 1) {
        const current = await readPolicy(resource);
        const next = change(current);
        if (next === undefined) return current;
        const body = { policy: { ...next, etag: current.etag } as cloudresourcemanager_v3.Schema$Policy };
        let answer: { data: unknown };
        try {
          answer = await retried(() => scope(resource).setIamPolicy({ resource, requestBody: body }));
        } catch (error) {
          if (!isPolicyConflict(error)) throw error;
          if (conflicts >= config.conflictRetries)
            throw new AppError(
              "connector_failed",
              `the IAM policy of ${resource} changed under Sesame ${conflicts + 1} times in a row (etag conflict); the job retries later. Raise the connector's conflictRetries if other automation writes this policy often.`,
            );
          await wait(backoffMs(conflicts));
          continue;
        }
        // Anything on the path can answer 200; only Google's answer is the policy it now holds.
        const written = IamPolicySchema.safeParse(answer.data);
        if (!written.success)
          throw new AppError(
            "connector_failed",
            `the API answered setIamPolicy for ${resource} with something that is not an IAM policy, so whether the change was made is unknown; the job retries. Check the connector's apiEndpoint.`,
          );
        return written.data;
      }
    },
    async grantedPermissions(resource, permissions) {
      const answer = await retried(() =>
        scope(resource).testIamPermissions({ resource, requestBody: { permissions: [...permissions] } }),
      );
      const granted = (answer.data as { permissions?: unknown } | null)?.permissions;
      if (granted !== undefined && !(Array.isArray(granted) && granted.every((item) => typeof item === "string")))
        throw new AppError(
          "connector_failed",
          `the API answered testIamPermissions for ${resource} with something that is not a permission list. Check the connector's apiEndpoint.`,
        );
      return (granted as string[] | undefined) ?? [];
    },
  };
}
