#!/usr/bin/env node
// The admin CLI runs compiled JavaScript (`npm install` builds it; `npm run build` rebuilds it), so
// no command pays for transpiling TypeScript at start-up.
import { existsSync } from "node:fs";

const compiled = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(compiled)) {
  process.stderr.write("sesame: the CLI is not built yet; run `npm run build` in the Sesame folder, then try again.\n");
  process.exit(1);
}
const { runCli } = await import(compiled.href);
process.exitCode = await runCli(process.argv.slice(2));
