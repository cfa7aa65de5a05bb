import type { Command } from "commander";
import { loadPolicyFile } from "../config/policy-loader.js";
import { connectorValidators } from "../connectors/connector-set.js";
import { parseDuration } from "../domain/duration.js";
import { EMPTY_ROSTER, type OnCallRoster } from "../domain/policy/approval-steps.js";
import { eventSecretProblems } from "../domain/policy/event-access.js";
import { PolicyBook } from "../domain/policy/policy-book.js";
import type { Policy, PolicyFile } from "../domain/policy/policy-schema.js";
import { createOnCallDirectory } from "../oncall/on-call-directory.js";
import { describeOnCallSetup } from "../oncall/on-call-setup.js";
import { rosterFor } from "../services/on-call-roster.js";
import { envFor, print } from "./context.js";

/** Asks the on-call providers (keys from the environment) about every source the matching policy uses. */
async function onCallNow(book: PolicyBook, file: PolicyFile, policy: Policy | undefined): Promise<OnCallRoster> {
  const used = policy ? book.onCallSourcesOf(policy) : { approvers: [], autoApproval: [], pages: [] };
  const names = [...used.approvers, ...used.autoApproval, ...used.pages];
  if (names.length === 0) return EMPTY_ROSTER;
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  return rosterFor(
    { policy: () => book, oncall: createOnCallDirectory(file.oncall, envFor([])), logger: quiet },
    names,
  );
}

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
      print(
        `${path} is valid: ${parsed.people.length} people, ${Object.keys(parsed.resources).length} resources, ${parsed.policies.length} policies.`,
      );
      for (const problem of describeOnCallSetup(parsed.oncall, envFor([]))) print(`warning: ${problem}`);
      // What `sesame start` checks in this environment before it writes anything.
      const secrets = eventSecretProblems(parsed.eventAccess, process.env);
      for (const problem of secrets.fatal) print(`warning: ${problem} (Sesame refuses to start with it)`);
      for (const problem of secrets.missing) print(`warning: ${problem}`);
    });

  policy
    .command("explain <requester> <resource>")
    .description("who would approve this request, would it auto-approve, and why (sends nothing)")
    .option("-d, --duration <duration>", "requested duration, e.g. 2h (default: the policy default)")
    .option("--at <iso-time>", "evaluate time windows at this moment instead of now")
    .option("-f, --file <file>", "policy file (default: $SESAME_POLICY_FILE)")
    .option("--json", "print the explanation as JSON")
    .option("--no-oncall", "do not ask PagerDuty/Opsgenie who is on call now")
    .action(
      async (
        requester: string,
        resource: string,
        options: { duration?: string; at?: string; file?: string; json?: boolean; oncall?: boolean },
      ) => {
        const file = await loadPolicyFile(policyPath(options.file));
        const book = new PolicyBook(file);
        const at = options.at ? new Date(options.at) : new Date();
        if (Number.isNaN(at.getTime()))
          throw new Error(`--at: "${options.at}" is not a date; use ISO 8601, e.g. 2026-11-22T09:30:00Z.`);
        const matched = book.matchPolicy(requester, resource);
        const roster = options.oncall === false ? EMPTY_ROSTER : await onCallNow(book, file, matched);
        const explanation = book.explain(
          requester,
          resource,
          at,
          options.duration ? parseDuration(options.duration) : undefined,
          roster,
        );
        if (options.json) print(JSON.stringify(explanation, null, 2));
        else for (const line of explanation.lines) print(line);
        if (explanation.outcome === "refused") process.exitCode = 1;
      },
    );
}
