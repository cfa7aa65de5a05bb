import type { Command } from "commander";
import { loadPolicyFile } from "../config/policy-loader.js";
import { connectorValidators } from "../connectors/connector-set.js";
import { parseDuration } from "../domain/duration.js";
import { PolicyBook } from "../domain/policy-book.js";
import { print } from "./context.js";

const policyPath = (file: string | undefined): string => {
  const path = file ?? process.env.SESAME_POLICY_FILE;
  if (!path) throw new Error("Name the policy file (sesame policy validate <file>) or set SESAME_POLICY_FILE.");
  return path;
};

export function registerPolicyCommands(program: Command): void {
  const policy = program.command("policy").description("check and explain the policy file");

  policy
    .command("validate [file]")
    .description("check the policy file and name every problem (default: $SESAME_POLICY_FILE)")
    .action(async (file?: string) => {
      const path = policyPath(file);
      const parsed = await loadPolicyFile(path, connectorValidators(process.env));
      new PolicyBook(parsed);
      print(`${path} is valid: ${parsed.people.length} people, ${Object.keys(parsed.resources).length} resources, ${parsed.policies.length} policies.`);
    });

  policy
    .command("explain <requester> <resource>")
    .description("who would approve this request, would it auto-approve, and why (sends nothing)")
    .option("-d, --duration <duration>", "requested duration, e.g. 2h (default: the policy default)")
    .option("--at <iso-time>", "evaluate time windows at this moment instead of now")
    .option("-f, --file <file>", "policy file (default: $SESAME_POLICY_FILE)")
    .option("--json", "print the explanation as JSON")
    .action(async (requester: string, resource: string, options: { duration?: string; at?: string; file?: string; json?: boolean }) => {
      const book = new PolicyBook(await loadPolicyFile(policyPath(options.file)));
      const at = options.at ? new Date(options.at) : new Date();
      if (Number.isNaN(at.getTime())) throw new Error(`--at: "${options.at}" is not a date; use ISO 8601, e.g. 2026-11-22T09:30:00Z.`);
      const explanation = book.explain(requester, resource, at, options.duration ? parseDuration(options.duration) : undefined);
      if (options.json) print(JSON.stringify(explanation, null, 2));
      else explanation.lines.forEach((line) => print(line));
      if (explanation.outcome === "refused") process.exitCode = 1;
    });
}
