import { z } from "zod";
import { PolicyFileSchema } from "../domain/policy/policy-schema.js";

/**
 * The editor schema of the policy file (checked in as `policy.schema.json`), generated from the
 * same zod schema the loader uses so the two cannot drift; a test compares them.
 */

// A URN rather than a URL: the schema is served by no one; editors find it by relative path.
export const POLICY_SCHEMA_ID = "urn:sesame:policy-file:1";

export function policyJsonSchemaText(): string {
  // io "input": describe what an operator writes, where defaulted fields are optional.
  const { $schema, ...rest } = z.toJSONSchema(PolicyFileSchema, { io: "input" });
  const schema = {
    $schema,
    $id: POLICY_SCHEMA_ID,
    title: "Sesame policy file",
    description: "Who may request which access, for how long, and who approves it. See examples/policy.yaml.",
    ...rest,
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}
