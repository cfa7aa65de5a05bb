import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Ajv, type ErrorObject } from "ajv";
import Ajv04 from "ajv-draft-04";
import addFormats from "ajv-formats";

/** Validators for the official schemas in schemas/vendor (Adaptive Card 1.5: draft-06; Teams manifest 1.22: draft-04). */

const SCHEMAS = new URL("../../../schemas/vendor/", import.meta.url);
const read = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(name, SCHEMAS), "utf8")) as Record<string, unknown>;
const describe = (errors: ErrorObject[] | null | undefined): string[] =>
  (errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? ""} ${JSON.stringify(e.params)}`);

function adaptiveCardValidator() {
  // The card schema names itself with draft-04's `id`; Ajv 8 wants `$id`. Nothing else changes.
  const { id, ...schema } = read("adaptive-card.1.5.0.json");
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addMetaSchema(
    createRequire(import.meta.url)("ajv/dist/refs/json-schema-draft-06.json") as Record<string, unknown>,
  );
  return ajv.compile({ ...schema, $id: String(id) });
}

function manifestValidator() {
  const ajv = new Ajv04.default({ strict: false, allErrors: true });
  addFormats.default(ajv as unknown as Ajv);
  return ajv.compile(read("MicrosoftTeams.v1.22.schema.json"));
}

const card = adaptiveCardValidator();
const manifest = manifestValidator();

/** Problems of an Adaptive Card against the 1.5 schema; empty when valid. */
export function adaptiveCardProblems(json: unknown): string[] {
  return card(json) ? [] : describe(card.errors);
}

export function manifestProblems(json: unknown): string[] {
  return manifest(json) ? [] : describe(manifest.errors);
}
