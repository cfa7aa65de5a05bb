import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { POLICY_SCHEMA_ID, policyJsonSchemaText } from "../../src/config/policy-json-schema.js";

describe("policy.schema.json", () => {
  it("is up to date with src/config/policy-schema.ts", async () => {
    const checkedIn = await readFile(new URL("../../policy.schema.json", import.meta.url), "utf8");
    expect(checkedIn, "policy.schema.json is stale: run `npm run policy:schema` and commit the result").toBe(
      policyJsonSchemaText(),
    );
  });

  it("describes the file as written, with defaulted fields optional", () => {
    const schema = JSON.parse(policyJsonSchemaText()) as {
      $id: string;
      required: string[];
      properties: { policies: { items: { required: string[] } } };
    };
    expect(schema.$id).toBe(POLICY_SCHEMA_ID);
    expect(schema.required).toEqual(["version", "resources", "policies"]);
    expect(schema.properties.policies.items.required).toEqual(["id", "resources", "requesters", "duration"]);
  });
});
