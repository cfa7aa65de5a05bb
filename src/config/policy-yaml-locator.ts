import { type Document, isAlias, isMap, isNode, isScalar, isSeq, type LineCounter } from "yaml";
import type { ProblemPath } from "../domain/policy/policy-consistency.js";

/**
 * Maps a path inside the parsed policy (["policies", 0, "duration", "max"]) back to a line and
 * column of the YAML text, so every problem points where the operator has to edit. When the path
 * runs out (a missing key), it points at the nearest enclosing node that exists.
 */

export interface TextPosition {
  line: number;
  col: number;
}

const startOf = (node: unknown): number | undefined => (isNode(node) ? node.range?.[0] : undefined);

export function locatePath(
  document: Document.Parsed,
  lineCounter: LineCounter,
  path: ProblemPath,
  at: "key" | "value",
): TextPosition {
  let node: unknown = document.contents;
  let offset = startOf(node) ?? 0;
  for (const [index, segment] of path.entries()) {
    if (isAlias(node)) node = node.resolve(document);
    let key: unknown;
    let value: unknown;
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (!pair) break;
      key = pair.key;
      value = pair.value;
    } else if (isSeq(node) && typeof segment === "number" && segment < node.items.length) {
      value = node.items[segment];
    } else {
      break;
    }
    const wantsKey = at === "key" && index === path.length - 1;
    offset = (wantsKey ? startOf(key) : undefined) ?? startOf(value) ?? startOf(key) ?? offset;
    node = value;
  }
  return lineCounter.linePos(offset);
}

/** `people[0].email`, `resources.prod-db.connector`; odd keys are quoted so the path stays readable. */
export function formatPath(path: ProblemPath): string {
  if (path.length === 0) return "(top level)";
  return path
    .map((segment, index) => {
      if (typeof segment === "number") return `[${segment}]`;
      const name = /^[A-Za-z0-9_-]+$/.test(segment) ? segment : JSON.stringify(segment);
      return index === 0 ? name : `.${name}`;
    })
    .join("");
}
