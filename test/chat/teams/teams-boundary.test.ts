import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/** The Bot Framework SDK is out of support: it stays behind one module so moving to its successor stays cheap. */

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
  );
}

describe("Teams SDK boundary", () => {
  it("only src/chat/teams/bot-framework-transport.ts imports botbuilder", () => {
    const importers = sources("src").filter((file) =>
      /from\s+["']botbuilder[^"']*["']|import\(["']botbuilder/.test(readFileSync(file, "utf8")),
    );
    expect(importers).toEqual(["src/chat/teams/bot-framework-transport.ts"]);
  });
});
