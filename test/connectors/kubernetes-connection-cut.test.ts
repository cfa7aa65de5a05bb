import { randomBytes } from "node:crypto";
import { afterAll, beforeAll } from "vitest";
import { runConnectionCutCases } from "./connection-cut.js";
import { createKubernetesFixture, type KubernetesFixture, kubernetesContext } from "./kubernetes-fixture.js";

/**
 * The kubernetes connector against the local stand-in for the API server (kubernetes-fake-api.ts),
 * which holds a request and then destroys its connection: the create of the binding after the
 * server applied it and sent half its answer (the retry must adopt that binding, not add one), the
 * delete before the server applied it.
 */

let fixture: KubernetesFixture;
beforeAll(async () => {
  fixture = await createKubernetesFixture();
});
afterAll(async () => {
  await fixture?.cleanup();
});

const suffix = randomBytes(3).toString("hex");
let people = 0;
runConnectionCutCases(
  "kubernetes, connection destroyed",
  async () => ({
    connector: fixture.connector({}, "k8s-cut"),
    makeContext: () => kubernetesContext(`cut${++people}-${suffix}@example.com`),
    hasAccess: (context) => fixture.canListPods(context.principal, "team-a"),
    countAccess: async (context) =>
      [...fixture.api.store.bindings.values()].filter((binding) =>
        binding.subjects?.some((subject) => subject.name === context.principal),
      ).length,
    holdNext: (action) =>
      action === "grant" ? fixture.api.holdNext("POST", "mid-answer") : fixture.api.holdNext("DELETE", "unanswered"),
    cut: async () => fixture.api.cutHeld(),
    secrets: [fixture.sesameToken],
  }),
  { requires: "openssl" },
);
