import { AppError } from "../../domain/errors.js";
import { configInvalid, describeIssues } from "../config-errors.js";
import type {
  CheckOptions,
  CheckResult,
  Connector,
  ConnectorDefinition,
  GrantContext,
  GrantReceipt,
  RevokeContext,
} from "../connector.js";
import { redactSecrets } from "../redact.js";
import {
  type BindingRef,
  bindingRef,
  bindsSame,
  buildBinding,
  describeRef,
  type GrantedAccess,
  isOwnBinding,
  isThisGrantsBinding,
  type RbacBinding,
  roleRefOf,
} from "./binding-spec.js";
import { createKubernetesApi, isStatus, type KubernetesApi } from "./kubernetes-api.js";
import { accessQuestions, guardrailProblem, permissionProblems } from "./kubernetes-check.js";
import {
  type KubernetesConfig,
  type KubernetesTarget,
  KubernetesTargetSchema,
  principalProblem,
} from "./kubernetes-config.js";
import { kubernetesProblem, toKubernetesError } from "./kubernetes-errors.js";
import { kubernetesConnectorSpec } from "./kubernetes-spec.js";

/** Grants Kubernetes access with a RoleBinding (or ClusterRoleBinding) per grant. See README.md. */

export class KubernetesConnector implements Connector {
  readonly type = "kubernetes";
  readonly #name: string;
  readonly #secrets: readonly string[];
  readonly #config: KubernetesConfig;
  readonly #api: KubernetesApi;

  constructor(config: KubernetesConfig, options: { name: string; secrets: readonly string[] }) {
    this.#name = options.name;
    this.#secrets = [...options.secrets, config.token];
    this.#config = config;
    this.#api = createKubernetesApi(config);
  }

  async check(options: CheckOptions = {}): Promise<CheckResult> {
    const problems: string[] = [];
    const targets = (options.targets ?? []).flatMap((raw, index) => {
      const result = KubernetesTargetSchema.safeParse(raw);
      if (!result.success) {
        problems.push(...describeIssues(result.error, `target ${index + 1}`));
        return [];
      }
      const refused = guardrailProblem(this.#config, result.data);
      if (refused !== undefined) problems.push(`target ${index + 1}: ${refused}`);
      return [result.data];
    });
    try {
      problems.push(...(await permissionProblems(this.#api.authorization, accessQuestions(this.#config, targets))));
    } catch (error) {
      problems.push(kubernetesProblem("cannot ask the API server what Sesame may do", error, this.#secrets));
    }
    return { ok: problems.length === 0, problems: problems.map((problem) => redactSecrets(problem, this.#secrets)) };
  }

  async grant(context: GrantContext): Promise<GrantReceipt> {
    const target = this.#target(context);
    const ref = bindingRef(context.grantId, target);
    const wanted = buildBinding(ref, target, context);
    const stored = await this.#call("grant access", async () => {
      // Guardrails come before any API call: a refused namespace never reaches the cluster.
      const refused = guardrailProblem(this.#config, target);
      if (refused !== undefined)
        throw new AppError("connector_failed", `${refused}; Sesame refused the grant without contacting the cluster.`);
      try {
        return await this.#api.createBinding(ref, wanted);
      } catch (error) {
        if (!isStatus(error, 409)) throw error;
        return this.#adoptExisting(ref, wanted, context.grantId);
      }
    });
    const access = grantedAccess(target, context.principal);
    const uid = stored.metadata?.uid;
    return {
      data: {
        kind: ref.kind,
        name: ref.name,
        ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }),
        // The binding's identity: revoke deletes this object even if its labels were edited since.
        ...(typeof uid === "string" && uid !== "" ? { uid } : {}),
        roleRef: access.roleRef,
        subject: access.subject,
        expiresAt: context.expiresAt.toISOString(),
      },
    };
  }

  /** A retried grant finds its own binding (409); anyone else's binding of that name is never taken over. */
  async #adoptExisting(ref: BindingRef, wanted: RbacBinding, grantId: string): Promise<RbacBinding> {
    const existing = await this.#api.readBinding(ref);
    if (existing === undefined) return this.#api.createBinding(ref, wanted); // deleted between our create and read
    if (!isOwnBinding(existing, grantId)) {
      throw new AppError(
        "connector_failed",
        `${describeRef(ref)} already exists and was not created by Sesame for this grant, so Sesame will not take it over. Rename or delete it, then retry.`,
      );
    }
    if (!bindsSame(existing, wanted)) {
      throw new AppError(
        "connector_failed",
        `${describeRef(ref)} carries this grant's label but binds a different role or subject; it was changed outside Sesame. Delete it, then retry.`,
      );
    }
    return existing;
  }

  async revoke(context: RevokeContext): Promise<void> {
    // No allowedNamespaces check here: removing Sesame's own binding must work even after the policy changed.
    const target = this.#target(context);
    const ref = bindingRef(context.grantId, target);
    const access = grantedAccess(target, context.principal);
    const uid = receiptUid(context.receipt);
    await this.#call("revoke access", async () => {
      const existing = await this.#api.readBinding(ref);
      // Gone already (out of band, or a repeated revoke), or someone else's binding: nothing of ours to remove.
      // Labels alone do not decide: the grantee may have removed them (see isThisGrantsBinding).
      if (existing === undefined || !isThisGrantsBinding(existing, context.grantId, access, uid)) return;
      try {
        await this.#api.deleteBinding(ref, existing.metadata?.uid);
      } catch (error) {
        if (!isStatus(error, 409)) throw error;
        throw new AppError(
          "connector_failed",
          `${describeRef(ref)} was replaced while Sesame was deleting it; the revoke will be retried.`,
        );
      }
    });
  }

  /** False while the binding named for this grant is still the grant's object or still gives its role to its subject, whatever its labels. */
  async verifyRevoked(context: RevokeContext): Promise<boolean> {
    const target = this.#target(context);
    const ref = bindingRef(context.grantId, target);
    const access = grantedAccess(target, context.principal);
    const uid = receiptUid(context.receipt);
    return this.#call("verify a revoke", async () => {
      const existing = await this.#api.readBinding(ref);
      return existing === undefined || !isThisGrantsBinding(existing, context.grantId, access, uid);
    });
  }

  #target(context: GrantContext): KubernetesTarget {
    const result = KubernetesTargetSchema.safeParse(context.target);
    if (!result.success)
      throw configInvalid(describeIssues(result.error, `connector "${this.#name}" target`), { connector: this.#name });
    const problem = principalProblem(context.principal);
    if (problem !== undefined) {
      throw new AppError(
        "connector_failed",
        `Connector "${this.#name}" cannot bind principal "${context.principal}": it ${problem}. Fix the identity mapping.`,
      );
    }
    return result.data;
  }

  async #call<T>(action: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw toKubernetesError(error, this.#name, action, this.#secrets);
    }
  }
}

function grantedAccess(target: KubernetesTarget, principal: string): GrantedAccess {
  const roleRef = roleRefOf(target);
  return {
    roleRef: { kind: roleRef.kind, name: roleRef.name },
    subject: { kind: target.subjectKind, name: principal },
  };
}

/** The uid the grant recorded; undefined without a receipt, or for a receipt written before uids were recorded. */
function receiptUid(receipt: Record<string, unknown> | null): string | undefined {
  const uid = receipt?.uid;
  return typeof uid === "string" && uid !== "" ? uid : undefined;
}

export const kubernetesConnectorDefinition: ConnectorDefinition<KubernetesConfig, KubernetesTarget> = {
  ...kubernetesConnectorSpec,
  create: (config, options) => new KubernetesConnector(config, options),
};
