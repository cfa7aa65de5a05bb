import type { GcpApi } from "./gcp-api.js";
import { gcpProblem, README } from "./gcp-errors.js";
import { type GcpIamTarget, resourceOf } from "./gcp-iam-config.js";

/**
 * What `check()` asks Google: testIamPermissions on each target's project, folder or organization
 * for exactly the two permissions grant and revoke use, and names each missing one.
 */

const KIND: Record<string, string> = { projects: "projects", folders: "folders", organizations: "organizations" };

export function permissionsFor(resource: string): string[] {
  const kind = KIND[resource.split("/")[0] ?? ""] ?? "projects";
  return [`resourcemanager.${kind}.getIamPolicy`, `resourcemanager.${kind}.setIamPolicy`];
}

export async function gcpPermissionProblems(
  api: GcpApi,
  targets: readonly GcpIamTarget[],
  secrets: readonly string[],
): Promise<string[]> {
  const problems: string[] = [];
  for (const resource of new Set(targets.map(resourceOf))) {
    const wanted = permissionsFor(resource);
    try {
      const granted = new Set(await api.grantedPermissions(resource, wanted));
      for (const permission of wanted.filter((item) => !granted.has(item)))
        problems.push(
          `Sesame's Google identity lacks ${permission} on ${resource}: grant it a role with ${wanted.join(" and ")} there (see ${README})`,
        );
    } catch (error) {
      problems.push(gcpProblem(`cannot ask Google what Sesame may do on ${resource}`, error, secrets));
    }
  }
  return problems;
}
