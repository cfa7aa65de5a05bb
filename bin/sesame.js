#!/usr/bin/env node
// Runs the compiled CLI when `npm run build` has produced it, else the TypeScript sources via tsx.
import { existsSync } from "node:fs";

const compiled = new URL("../dist/cli/main.js", import.meta.url);
const { runCli } = existsSync(compiled)
  ? await import(compiled.href)
  : await (async () => {
      const { register } = await import("tsx/esm/api");
      register();
      return import(new URL("../src/cli/main.ts", import.meta.url).href);
    })();
process.exitCode = await runCli(process.argv.slice(2));
