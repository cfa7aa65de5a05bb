// Generates the Prisma client. Prisma 7's client needs no native engine, but `prisma generate`
// still checks that a schema-engine path exists; point it at this Node binary when unset so
// generation works offline and in CI.
import { spawnSync } from "node:child_process";

const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
env.PRISMA_HIDE_UPDATE_MESSAGE ??= "1";
const result = spawnSync("npx", ["--no-install", "prisma", "generate"], { stdio: "inherit", env });
process.exit(result.status ?? 1);
