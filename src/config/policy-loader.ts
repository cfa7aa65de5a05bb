import { readFile } from "node:fs/promises";
import { LineCounter, parseDocument } from "yaml";
import { AppError } from "../domain/errors.js";
import { checkPolicyConsistency, type PolicyProblem } from "../domain/policy/policy-consistency.js";
import { type PolicyFile, PolicyFileSchema } from "../domain/policy/policy-schema.js";
import { formatPath, locatePath } from "./policy-yaml-locator.js";
import { describeIssue, type PathProblem } from "./policy-zod-issues.js";

/**
 * Reads the policy file once at boot and names every problem in it, each as
 * `<file>:<line>:<col> <path>: <what is wrong>`, so one edit-and-retry fixes them all.
 */

export interface PolicyLoadOptions {
  /** Problems with a connector's config (e.g. from its zod schema); the connector registry supplies it. */
  validateConnector?: (name: string, type: string, config: unknown) => string[];
  /** Problems with a resource's target for its connector type. */
  validateTarget?: (connectorType: string, target: unknown) => string[];
}

export interface LocatedProblem {
  file: string;
  line: number;
  col: number;
  path: string;
  message: string;
}

export async function loadPolicyFile(path: string, options: PolicyLoadOptions = {}): Promise<PolicyFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "the file does not exist" : String(error);
    throw new AppError("config_invalid", `Cannot read the policy file ${path}: ${reason}.`, { cause: error });
  }
  return parsePolicyText(text, path, options);
}

export function parsePolicyText(text: string, fileName: string, options: PolicyLoadOptions = {}): PolicyFile {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  if (document.errors.length > 0) {
    throw invalidFile(
      fileName,
      document.errors.map((error) => ({
        file: fileName,
        ...lineCounter.linePos(error.pos[0]),
        path: "(yaml syntax)",
        message: error.message.split("\n")[0] ?? error.message,
      })),
    );
  }
  const locate = (problem: PathProblem): LocatedProblem => ({
    file: fileName,
    ...locatePath(document, lineCounter, problem.path, problem.at),
    path: formatPath(problem.path),
    message: problem.message,
  });
  const parsed = PolicyFileSchema.safeParse(document.toJS(), { reportInput: true });
  if (!parsed.success) throw invalidFile(fileName, parsed.error.issues.flatMap(describeIssue).map(locate));
  const problems = [...checkPolicyConsistency(parsed.data), ...connectorProblems(parsed.data, options)];
  if (problems.length > 0) {
    throw invalidFile(
      fileName,
      problems.map((problem) => locate({ ...problem, at: "value" })),
    );
  }
  return parsed.data;
}

function connectorProblems(file: PolicyFile, options: PolicyLoadOptions): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  for (const [name, connector] of Object.entries(file.connectors)) {
    for (const message of options.validateConnector?.(name, connector.type, connector.config) ?? []) {
      problems.push({ path: ["connectors", name], message });
    }
  }
  for (const [id, resource] of Object.entries(file.resources)) {
    const connector = Object.hasOwn(file.connectors, resource.connector)
      ? file.connectors[resource.connector]
      : undefined;
    if (!connector) continue; // already reported as an unknown connector
    for (const message of options.validateTarget?.(connector.type, resource.target) ?? []) {
      problems.push({ path: ["resources", id, "target"], message });
    }
  }
  return problems;
}

function invalidFile(fileName: string, problems: LocatedProblem[]): AppError {
  const sorted = [...problems].sort((a, b) => a.line - b.line || a.col - b.col);
  const lines = sorted.map(
    (problem) => `${problem.file}:${problem.line}:${problem.col} ${problem.path}: ${problem.message}`,
  );
  const count = sorted.length === 1 ? "1 problem" : `${sorted.length} problems`;
  return new AppError("config_invalid", `The policy file ${fileName} has ${count}:\n${lines.join("\n")}`, {
    details: { file: fileName, problems: sorted },
  });
}
