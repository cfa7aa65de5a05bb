import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Connector } from "../../src/connectors/connector.js";
import { runConnectionCutCases } from "./connection-cut.js";
import { watchProcessErrors } from "./process-errors.js";
import { makeContext, makeSecret, recordingSleep, webhook } from "./webhook-fixture.js";
import { createWebhookReceiver, type WebhookReceiver } from "./webhook-receiver.js";

/**
 * The webhook connector against the local receiver, which holds a request and then closes its
 * connection: the grant after the receiver processed it and sent half its answer (the retry, with
 * the same Idempotency-Key, gets the first answer and grants nothing more), the revoke before the
 * receiver processed it.
 */

const secret = makeSecret();
let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await createWebhookReceiver(secret);
});
afterAll(async () => {
  await receiver?.close();
});

const holdNext = (action: "grant" | "revoke") => receiver.holdNext(action === "grant" ? "mid-answer" : "unanswered");

runConnectionCutCases("webhook, connection closed", async () => ({
  // No quick retries: the cut must reach the caller, as it does once the quick retries are used up.
  connector: webhook({ url: receiver.url, secret, retries: 0 }, "hooks-cut"),
  makeContext: () => makeContext(),
  hasAccess: async (context) => receiver.grantsOf(context.principal).includes(context.grantId),
  countAccess: async (context) => receiver.grantsOf(context.principal).length,
  holdNext,
  cut: async () => receiver.cutHeld(),
  secrets: [secret],
}));

describe("webhook connector, a cut within quick retries", () => {
  let connector: Connector;
  const { sleep } = recordingSleep();
  beforeAll(() => {
    connector = webhook({ url: receiver.url, secret, retries: 2 }, "hooks-cut-retry", { sleep });
  });
  afterAll(async () => {
    await connector?.close?.();
  });

  it("retries a grant cut mid-answer within the call, and the receiver grants once", async () => {
    const watch = watchProcessErrors();
    try {
      const context = makeContext();
      const requestsBefore = receiver.requests.length;
      const held = receiver.holdNext("mid-answer");
      const granted = connector.grant(context);
      await Promise.race([held, granted]);
      receiver.cutHeld();
      await granted;
      // The cut attempt, and the quick retry the receiver answered with its first answer (same Idempotency-Key).
      expect(receiver.requests.slice(requestsBefore)).toHaveLength(2);
      expect(receiver.grantsOf(context.principal)).toEqual([context.grantId]);
      await connector.revoke({ ...context, receipt: null });
      expect(receiver.grantsOf(context.principal)).toEqual([]);
      watch.expectNone();
    } finally {
      watch.stop();
    }
  });
});
