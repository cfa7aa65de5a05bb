import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { policyJsonSchemaText } from "../src/config/policy-json-schema.js";

// Run with `npm run policy:schema` after changing src/config/policy-schema.ts.
const target = fileURLToPath(new URL("../policy.schema.json", import.meta.url));
await writeFile(target, policyJsonSchemaText());
console.log(`wrote ${target}`);
