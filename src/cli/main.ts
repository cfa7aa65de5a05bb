import { Command, CommanderError } from "commander";
import { EnvError } from "../config/env.js";
import { isAppError } from "../domain/errors.js";
import { registerAdminCommands } from "./admin-commands.js";
import { registerAuditCommands } from "./audit-commands.js";
import { registerBreakGlassCommands } from "./break-glass-commands.js";
import { registerConnectorCommands } from "./connector-commands.js";
import { loadDotEnv } from "./context.js";
import { registerGrantCommands } from "./grant-commands.js";
import { registerKubernetesCommands } from "./kubernetes-commands.js";
import { registerPolicyCommands } from "./policy-commands.js";

/** `sesame`: the admin command line. Errors print one actionable message and exit 1. */
export function buildCli(): Command {
  const program = new Command("sesame").description("Sesame: just-in-time access approval").exitOverride();
  registerPolicyCommands(program);
  registerGrantCommands(program);
  registerConnectorCommands(program);
  registerAuditCommands(program);
  registerBreakGlassCommands(program);
  registerAdminCommands(program);
  registerKubernetesCommands(program);
  return program;
}

export async function runCli(argv: string[]): Promise<number> {
  loadDotEnv();
  // Commands report failure through process.exitCode; start each run from a clean slate.
  process.exitCode = undefined;
  try {
    await buildCli().parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    const message =
      error instanceof EnvError
        ? error.message
        : isAppError(error)
          ? error.message
          : error instanceof Error
            ? error.message
            : String(error);
    process.stderr.write(`sesame: ${message}\n`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await runCli(process.argv.slice(2));
}
