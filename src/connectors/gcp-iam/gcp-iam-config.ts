import { z } from "zod";
import { ApiEndpointSchema } from "../api-endpoint.js";

/** Connector config and resource targets of the `gcp-iam` connector (see README.md). */

export const GcpIamConfigSchema = z.strictObject({
  apiEndpoint: ApiEndpointSchema.default("https://cloudresourcemanager.googleapis.com/").describe(
    "The Cloud Resource Manager API root (a Private Service Connect endpoint, a proxy); default: Google's",
  ),
  requestTimeoutSeconds: z.coerce.number().positive().max(120).default(15).describe("Per API request"),
  retries: z.coerce
    .number()
    .int()
    .min(0)
    .max(10)
    .default(4)
    .describe("Quick retries within one call for throttling (429), 5xx and network errors"),
  conflictRetries: z.coerce
    .number()
    .int()
    .min(0)
    .max(20)
    .default(5)
    .describe("How often a policy change is read and written again when someone else changed the policy meanwhile"),
});
export type GcpIamConfig = z.infer<typeof GcpIamConfigSchema>;

/** Basic roles cannot carry an IAM condition, so Google could not end them at expiry on its own. */
const BASIC_ROLES = new Set(["roles/owner", "roles/editor", "roles/viewer"]);

export const GcpIamTargetSchema = z
  .strictObject({
    project: z
      .string()
      .regex(/^([a-z][a-z0-9-]{4,28}[a-z0-9]|\d{1,20})$/, "must be a project id (my-project-123) or project number")
      .optional(),
    folder: z
      .string()
      .regex(/^\d{1,20}$/, "must be a folder number such as 123456789012")
      .optional(),
    organization: z
      .string()
      .regex(/^\d{1,20}$/, "must be an organization number such as 123456789012")
      .optional(),
    role: z
      .string()
      .regex(
        /^(roles\/[A-Za-z0-9_.]{1,64}|(projects|organizations)\/[A-Za-z0-9_.:-]{1,64}\/roles\/[A-Za-z0-9_.]{1,64})$/,
        "must be a role such as roles/storage.objectViewer or projects/my-project/roles/myCustomRole",
      )
      .refine(
        (role) => !BASIC_ROLES.has(role),
        "basic roles (owner, editor, viewer) cannot carry an IAM condition, so their expiry could not be enforced by Google: use a predefined or custom role",
      ),
    memberType: z
      .enum(["user", "group", "serviceAccount"])
      .default("user")
      .describe("What the principal (an email) names: a Google account, a Google group or a service account"),
  })
  .refine(
    (target) =>
      [target.project, target.folder, target.organization].filter((scope) => scope !== undefined).length === 1,
    "give exactly one of project, folder or organization",
  );
export type GcpIamTarget = z.infer<typeof GcpIamTargetSchema>;

/** The resource name the policy belongs to: projects/…, folders/… or organizations/…. */
export function resourceOf(target: GcpIamTarget): string {
  if (target.project !== undefined) return `projects/${target.project}`;
  if (target.folder !== undefined) return `folders/${target.folder}`;
  return `organizations/${target.organization}`;
}

/** Principals are emails that go into a policy member (`user:alice@example.com`). */
export function principalProblem(principal: string): string | undefined {
  if (!/^[^\s:@]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$/.test(principal)) return "is not an email address";
  return undefined;
}
