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
