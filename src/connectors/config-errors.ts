import type { z } from "zod";
import { AppError } from "../domain/errors.js";

/** One line per zod issue, prefixed with where it is: `connector "prod-db" config.url: is required`. */
export function describeIssues(error: z.ZodError, where: string): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join(".");
    return `${where}${path === "" ? "" : `.${path}`}: ${issue.message}`;
  });
}

export function configInvalid(problems: readonly string[], details: Record<string, unknown>): AppError {
  return new AppError("config_invalid", `Fix the policy file: ${problems.join("; ")}`, {
    details: { ...details, problems },
  });
}

/**
 * A resource's target checked against the connector's schema, and its principal against the
 * connector's rule: a config error names the line to fix, a bad principal the identity mapping.
 * `action` finishes "Connector "x" cannot …", e.g. `look up principal "alice"`.
 */
export function checkedTarget<T>(
  schema: z.ZodType<T>,
  context: { target: unknown; principal: string },
  connector: string,
  principalProblem: (principal: string) => string | undefined,
  action = `look up principal "${context.principal}"`,
): T {
  const result = schema.safeParse(context.target);
  if (!result.success)
    throw configInvalid(describeIssues(result.error, `connector "${connector}" target`), { connector });
  const problem = principalProblem(context.principal);
  if (problem !== undefined)
    throw new AppError(
      "connector_failed",
      `Connector "${connector}" cannot ${action}: it ${problem}. Fix the identity mapping.`,
    );
  return result.data;
}
