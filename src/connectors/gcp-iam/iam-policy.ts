import { createHash } from "node:crypto";
import { z } from "zod";

/**
 * The IAM policy as Sesame reads and changes it, and the one conditional binding a grant adds:
 * role + `member` under the condition titled after the grant, `request.time < timestamp(expiresAt)`.
 * Pure functions: the read-modify-write loop around them is in gcp-api.ts.
 */

const ExprSchema = z.looseObject({
  title: z.string().optional(),
  description: z.string().optional(),
  expression: z.string(),
});
const BindingSchema = z.looseObject({
  role: z.string(),
  members: z.array(z.string()).optional(),
  condition: ExprSchema.optional(),
});

/**
 * What getIamPolicy must answer. The etag is required: writing a policy without the etag it was
 * read with would overwrite whatever changed meanwhile, and an answer without one is not a policy.
 */
export const IamPolicySchema = z.looseObject({
  version: z.number().optional(),
  etag: z.string().min(1),
  bindings: z.array(BindingSchema).optional(),
});
export type IamPolicy = z.infer<typeof IamPolicySchema>;
export type IamBinding = z.infer<typeof BindingSchema>;
export type IamCondition = z.infer<typeof ExprSchema>;

/** IAM condition titles are at most 100 characters; grant ids are UUIDs, anything else is hashed. */
export function conditionTitle(grantId: string): string {
  const key = /^[A-Za-z0-9-]{1,80}$/.test(grantId)
    ? grantId
    : `h-${createHash("sha256").update(grantId).digest("hex").slice(0, 40)}`;
  return `sesame-grant-${key}`;
}

export function expiryCondition(grantId: string, expiresAt: Date): IamCondition {
  const iso = expiresAt.toISOString();
  return {
    title: conditionTitle(grantId),
    description: `Granted by Sesame (grant ${grantId.slice(0, 120)}) until ${iso}`,
    expression: `request.time < timestamp("${iso}")`,
  };
}

/** The grant's binding: same role, the condition titled after this grant. */
const isGrantBinding = (binding: IamBinding, role: string, title: string) =>
  binding.role === role && binding.condition?.title === title;

export function holdsGrant(policy: IamPolicy, role: string, member: string, title: string): boolean {
  return (policy.bindings ?? []).some(
    (binding) => isGrantBinding(binding, role, title) && (binding.members ?? []).includes(member),
  );
}

/**
 * The policy with `member` in the grant's binding and that binding's condition set to `condition`;
 * undefined when it is so already (a retried grant changes nothing). Version 3: conditions need it.
 */
export function withGrant(
  policy: IamPolicy,
  role: string,
  member: string,
  condition: IamCondition,
): IamPolicy | undefined {
  const bindings = policy.bindings ?? [];
  const title = condition.title ?? "";
  const existing = bindings.find((binding) => isGrantBinding(binding, role, title));
  if (
    existing !== undefined &&
    (existing.members ?? []).includes(member) &&
    existing.condition?.expression === condition.expression
  )
    return undefined;
  const next =
    existing === undefined
      ? [...bindings, { role, members: [member], condition }]
      : bindings.map((binding) =>
          binding === existing
            ? { ...binding, members: [...new Set([...(binding.members ?? []), member])], condition }
            : binding,
        );
  return { ...policy, version: 3, bindings: next };
}

/**
 * The policy with `member` taken out of the grant's binding (and the binding dropped once empty);
 * undefined when it is not there (a repeated revoke, or removed by hand). Nothing else is touched:
 * the same role given to the same person unconditionally or by another grant stays.
 */
export function withoutGrant(policy: IamPolicy, role: string, member: string, title: string): IamPolicy | undefined {
  if (!holdsGrant(policy, role, member, title)) return undefined;
  const bindings = (policy.bindings ?? []).flatMap((binding) => {
    if (!isGrantBinding(binding, role, title)) return [binding];
    const members = (binding.members ?? []).filter((candidate) => candidate !== member);
    return members.length === 0 ? [] : [{ ...binding, members }];
  });
  return { ...policy, version: 3, bindings };
}
