import type { Command } from "commander";
import { loadPolicyFile } from "../config/policy-loader.js";
import { connectorValidators, createConnectorSet } from "../connectors/connector-set.js";
import { validateTarget } from "../connectors/registry.js";
import { print } from "./context.js";

export function registerConnectorCommands(program: Command): void {
  program
    .command("connectors")
    .description("the systems Sesame grants access in")
    .command("check")
    .description(
      "run each configured connector's check: reachable, credentials valid, privileges enough for its resources",
    )
    .option("-f, --file <file>", "policy file (default: $SESAME_POLICY_FILE)")
    .action(async (options: { file?: string }) => {
      const path = options.file ?? process.env.SESAME_POLICY_FILE;
      if (!path) throw new Error("Name the policy file (--file) or set SESAME_POLICY_FILE.");
      const policy = await loadPolicyFile(path, connectorValidators(process.env));
      const connectors = await createConnectorSet(policy, process.env);
      let failed = 0;
      try {
        for (const [name, instance] of Object.entries(policy.connectors)) {
          const targets = Object.entries(policy.resources)
            .filter(([, resource]) => resource.connector === name)
            .map(([resourceName, resource]) => validateTarget(instance.type, resource.target, resourceName));
          const result = await connectors.get(name).check({ targets });
          if (result.ok) print(`✓ ${name} (${instance.type}): ok`);
          else {
            failed += 1;
            print(`✗ ${name} (${instance.type}):`);
            for (const problem of result.problems) print(`    ${problem}`);
          }
        }
      } finally {
        await connectors.close();
      }
      if (failed > 0) process.exitCode = 1;
    });
}
