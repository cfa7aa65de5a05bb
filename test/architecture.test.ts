import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * Layers point inward: src/domain and src/services stay free of I/O frameworks, the generated
 * Prisma client, and the outer layers (storage, jobs, http). src/domain also does not reach up
 * into src/services.
 */

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../src");

const FORBIDDEN_PACKAGES = [
  "@slack/bolt",
  "botbuilder",
  "bullmq",
  "ioredis",
  "@prisma/client",
  "@prisma/adapter-pg",
  "pg",
  "fastify",
  "prom-client",
];
const OUTER_LAYERS = ["storage", "jobs", "http", "metrics"];

function tsFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFilesUnder(path);
    return entry.isFile() && entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** Every module specifier a source file names: static, type-only, re-export, side-effect, dynamic, require. */
function importSpecifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const patterns = [
    /\b(?:import|export)\b[^;'"`]*?\bfrom\s*(["'])([^"'\n]+)\1/g,
    /\bimport\s*(["'])([^"'\n]+)\1/g,
    /\bimport\s*\(\s*(["'])([^"'\n]+)\1\s*\)/g,
    /\brequire\s*\(\s*(["'])([^"'\n]+)\1\s*\)/g,
  ];
  return [...new Set(patterns.flatMap((pattern) => [...code.matchAll(pattern)].map((match) => match[2]!)))];
}

/** Layer violations of one file under src/, each naming the file and the import. */
function importViolations(file: string, source: string): string[] {
  const from = relative(SRC, file).split(sep).join("/");
  const inDomain = from.startsWith("domain/");
  const problems: string[] = [];
  for (const specifier of importSpecifiers(source)) {
    const why = reasonForbidden(file, specifier, inDomain);
    if (why) problems.push(`src/${from} imports "${specifier}" (${why})`);
  }
  return problems;
}

function reasonForbidden(file: string, specifier: string, inDomain: boolean): string | undefined {
  const pkg = FORBIDDEN_PACKAGES.find((name) => specifier === name || specifier.startsWith(`${name}/`));
  if (pkg) return `${pkg} is an I/O framework; only outer layers may use it`;
  if (specifier.includes("storage/generated")) return "the generated Prisma client belongs to src/storage";
  if (!specifier.startsWith(".")) return undefined;
  const target = relative(SRC, resolve(dirname(file), specifier))
    .split(sep)
    .join("/");
  const layer = OUTER_LAYERS.find((name) => target === name || target.startsWith(`${name}/`));
  if (layer) return `src/${layer} is an outer layer`;
  if (inDomain && (target === "services" || target.startsWith("services/")))
    return "src/domain must not depend on src/services";
  return undefined;
}

describe("architecture: domain and services stay pure", () => {
  it.each(["domain", "services"])("src/%s has no forbidden imports", (layer) => {
    const files = tsFilesUnder(join(SRC, layer));
    expect(files.length).toBeGreaterThan(0);
    const violations = files.flatMap((file) => importViolations(file, readFileSync(file, "utf8")));
    expect(violations, `layer violations:\n${violations.join("\n")}`).toEqual([]);
  });

  it("actually reads the machines it protects", () => {
    const domain = tsFilesUnder(join(SRC, "domain")).map((file) => relative(SRC, file).split(sep).join("/"));
    expect(domain).toEqual(
      expect.arrayContaining(["domain/request-machine.ts", "domain/grant-machine.ts", "domain/audit-chain.ts"]),
    );
    expect(importSpecifiers(readFileSync(join(SRC, "domain/request-machine.ts"), "utf8"))).toContain("./errors.js");
  });
});

describe("architecture: the import checker itself", () => {
  const domainFile = join(SRC, "domain/example.ts");
  const serviceFile = join(SRC, "services/example.ts");

  it("finds every import form, including multi-line, type-only, side-effect, dynamic and require", () => {
    const source = [
      `import type {`,
      `  Queue,`,
      `  Job,`,
      `} from "bullmq";`,
      `import "ioredis";`,
      `export { App } from '@slack/bolt';`,
      `const pg = await import("pg");`,
      `const bb = require("botbuilder");`,
      `import * as client from "../storage/generated/prisma/client.js";`,
    ].join("\n");
    expect(importSpecifiers(source)).toEqual(
      expect.arrayContaining([
        "bullmq",
        "ioredis",
        "@slack/bolt",
        "pg",
        "botbuilder",
        "../storage/generated/prisma/client.js",
      ]),
    );
    expect(importViolations(serviceFile, source)).toHaveLength(6);
  });

  it("names the file and the import in each violation", () => {
    expect(importViolations(serviceFile, `import { x } from "../jobs/queues.js";`)).toEqual([
      `src/services/example.ts imports "../jobs/queues.js" (src/jobs is an outer layer)`,
    ]);
  });

  it.each([
    ["pg/lib/client.js", true],
    ["@prisma/client/runtime", true],
    ["fastify", true],
    ["../storage/store.js", true],
    ["../http/server.js", true],
    ["../../src/storage/audit-repository.js", true],
    ["pg-format", false],
    ["fastify-like", false],
    ["node:crypto", false],
    ["zod", false],
    ["./errors.js", false],
    ["../domain/errors.js", false],
    ["../config/policy-schema.js", false],
  ] as const)("from a service, %s is forbidden: %s", (specifier, forbidden) => {
    expect(importViolations(serviceFile, `import x from "${specifier}";`).length > 0).toBe(forbidden);
  });

  it("lets services use ports but keeps domain from depending on services", () => {
    const source = `import type { Store } from "../services/ports.js";`;
    expect(importViolations(domainFile, source)).toEqual([
      `src/domain/example.ts imports "../services/ports.js" (src/domain must not depend on src/services)`,
    ]);
    expect(importViolations(serviceFile, `import type { Store } from "./ports.js";`)).toEqual([]);
  });

  it("ignores imports that are only mentioned in comments", () => {
    expect(
      importViolations(
        serviceFile,
        `// import pg from "pg";\n/* import { Queue } from "bullmq"; */\nexport const x = 1;`,
      ),
    ).toEqual([]);
  });
});

describe("architecture: the chat core is channel-neutral", () => {
  // Fastify is allowed (adapters mount routes through the contract); platform SDKs, queues and storage are not.
  const CHAT_CORE_FORBIDDEN = ["@slack/", "botbuilder", "botframework-", "bullmq", "ioredis", "@prisma/", "pg"];
  const CHAT_CORE_OUTER = ["storage", "jobs", "http", "chat/slack", "chat/teams"];

  function chatCoreViolations(file: string): string[] {
    return importSpecifiers(readFileSync(file, "utf8")).flatMap((specifier) => {
      const from = relative(SRC, file).split(sep).join("/");
      if (
        CHAT_CORE_FORBIDDEN.some(
          (name) =>
            specifier === name || specifier.startsWith(name.endsWith("/") || name.endsWith("-") ? name : `${name}/`),
        )
      )
        return [`src/${from} imports "${specifier}"`];
      if (!specifier.startsWith(".")) return [];
      const target = relative(SRC, resolve(dirname(file), specifier))
        .split(sep)
        .join("/");
      return CHAT_CORE_OUTER.some((layer) => target === layer || target.startsWith(`${layer}/`))
        ? [`src/${from} imports "${specifier}"`]
        : [];
    });
  }

  it("src/chat/core imports no chat SDK, queue, database or adapter", () => {
    const files = tsFilesUnder(join(SRC, "chat/core"));
    expect(files.length).toBeGreaterThan(5);
    const violations = files.flatMap(chatCoreViolations);
    expect(violations, `chat core violations:\n${violations.join("\n")}`).toEqual([]);
  });
});
