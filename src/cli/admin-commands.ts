import type { Command } from "commander";
import { createApiToken, revokeApiTokens } from "../storage/api-token-repository.js";
import { migrate } from "../storage/migrator.js";
import { envFor, print, withDatabase } from "./context.js";

export function registerAdminCommands(program: Command): void {
  program
    .command("db")
    .description("database maintenance")
    .command("migrate")
    .description("apply pending migrations (recorded in _prisma_migrations, like prisma migrate deploy)")
    .action(async () => {
      const result = await migrate(envFor(["DATABASE_URL"]).DATABASE_URL);
      print(result.applied.length > 0 ? `Applied: ${result.applied.join(", ")}.` : "Database is up to date.");
    });

  const tokens = program.command("tokens").description("API tokens (each acts as one identity)");
  tokens
    .command("create <identity>")
    .description("create a token that acts as <identity>; it is printed once and stored hashed")
    .option("-n, --name <name>", "a label for the token", "cli")
    .action(async (identity: string, options: { name: string }) => {
      await withDatabase(async (db) => {
        const exists = await db.identity.findUnique({ where: { id: identity } });
        if (!exists)
          throw new Error(
            `No identity "${identity}": add it under people in the policy file and start Sesame once (it syncs people at start-up).`,
          );
        print(await createApiToken(db, identity, options.name));
      });
    });
  tokens
    .command("revoke <identity>")
    .description("revoke every token of <identity> (or only the one named with --name)")
    .option("-n, --name <name>", "only the token with this label")
    .action(async (identity: string, options: { name?: string }) => {
      await withDatabase(async (db) => print(`Revoked ${await revokeApiTokens(db, identity, options.name)} token(s).`));
    });
}
