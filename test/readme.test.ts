import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

/**
 * README's shell blocks are meant to be pasted: every ```sh / ```bash block must parse in bash
 * and hold no `<placeholder>` to fill in (ids go into variables instead). A block that is not
 * meant to run says so on the line before its fence: `<!-- not meant to run: why -->`.
 */

interface ShellBlock {
  line: number;
  code: string;
}

async function readmeShellBlocks(): Promise<ShellBlock[]> {
  const lines = (await readFile(new URL("../README.md", import.meta.url), "utf8")).split("\n");
  const blocks: ShellBlock[] = [];
  for (let index = 0; index < lines.length; index += 1) {
    const fence = /^(\s*)```(\w*)\s*$/.exec(lines[index]!);
    if (!fence) continue;
    const end = lines.findIndex((line, at) => at > index && /^\s*```\s*$/.test(line));
    if (end < 0) throw new Error(`README.md line ${index + 1}: a code block that never ends`);
    const notMeantToRun = /<!--\s*not meant to run/.test(lines[index - 1] ?? "");
    if (["sh", "bash", "shell"].includes(fence[2]!) && !notMeantToRun)
      blocks.push({ line: index + 1, code: lines.slice(index + 1, end).join("\n") });
    index = end;
  }
  return blocks;
}

/** `<request id>`-style placeholders outside comments; redirections such as `< file` or `<<'EOF'` are fine. */
function placeholders(code: string): string[] {
  return code
    .split("\n")
    .map((line) => line.replace(/(^|\s)#.*$/, ""))
    .flatMap((line) => line.match(/<[A-Za-z][\w .-]*>/g) ?? []);
}

describe("README.md shell blocks", async () => {
  const blocks = await readmeShellBlocks();

  it("has shell blocks to check", () => {
    expect(blocks.length).toBeGreaterThan(3);
  });

  it.each(blocks.map((block) => [block.line, block] as const))(
    "the block at line %i parses in bash",
    async (_, block) => {
      await expect(run("bash", ["-n", "-c", block.code])).resolves.toBeDefined();
    },
  );

  it.each(blocks.map((block) => [block.line, block] as const))(
    "the block at line %i has no <placeholder> to fill in",
    (_, block) => {
      expect(placeholders(block.code)).toEqual([]);
    },
  );
});
