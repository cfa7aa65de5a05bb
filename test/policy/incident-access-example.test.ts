import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadPolicyFile } from "../../src/config/policy-loader.js";
import { PolicyBook } from "../../src/domain/policy/policy-book.js";

const EXAMPLE = fileURLToPath(new URL("../../examples/incident-access.yaml", import.meta.url));

describe("examples/incident-access.yaml", () => {
  it("loads: PSVC001 incidents give their assignees incident-db on acknowledge for at most 4h", async () => {
    const book = new PolicyBook(await loadPolicyFile(EXAMPLE));
    expect(book.incidentAccessRules()).toEqual([
      {
        provider: "pagerduty",
        services: ["PSVC001"],
        resources: ["incident-db"],
        on: "acknowledged",
        maxDuration: "4h",
        grant: "immediately",
      },
    ]);
    expect(book.personByEmail("carol@example.com")?.id).toBe("carol");
    expect(book.isAdmin("dave")).toBe(true);
    expect(book.resource("incident-db")?.connector).toBe("demo");
  });
});
