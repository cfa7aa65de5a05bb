import { afterAll, beforeAll, expect, it } from "vitest";
import type { TestPrerequisite } from "../../scripts/prerequisite-checks.js";
import type { Connector, GrantContext, GrantReceipt } from "../../src/connectors/connector.js";
import { isAppError } from "../../src/domain/errors.js";
import { describeWith } from "../helpers/prerequisites.js";
import { errorTexts, expectNoSecret } from "./conformance.js";
import { watchProcessErrors } from "./process-errors.js";

/**
 * The shared fault cases: the target's connection is cut while a grant or a revoke is under way
 * (a reset, a killed session, a dead kadmin). Sesame must survive it (no uncaught error: in
 * production one would end the API, the workers and the sweeper together), the call must fail as a
 * retryable connector_failed without secrets, and the job's retry must leave the target right.
 */

export type CutAction = "grant" | "revoke";

export interface CutSubject {
  /** A connector whose way to the target the test can hold and cut (a TCP proxy, a stand-in server, a kadmin wrapper). */
  connector: Connector;
  /** A fresh grant whose access does not exist yet. */
  makeContext(): GrantContext;
  /** Observes the target directly, not through the connector. */
  hasAccess(context: GrantContext): Promise<boolean>;
  /** How many separate copies of the access exist, when the connector can tell. */
  countAccess?(context: GrantContext): Promise<number>;
  /** Arms a hold on the next `action`; resolves once that call is under way and waiting for the target. */
  holdNext(action: CutAction): Promise<void>;
  /** Cuts what the held call waits on. */
  cut(): Promise<void>;
  secrets: readonly string[];
  cleanup?(): Promise<void>;
}

/** Starts `call`, cuts it once it is held, and returns the error it failed with. */
export async function errorWhenCut(
  subject: Pick<CutSubject, "holdNext" | "cut">,
  action: CutAction,
  call: () => Promise<unknown>,
): Promise<unknown> {
  const held = subject.holdNext(action);
  const outcome = call().then(
    () => expect.fail(`the ${action} succeeded although its connection was cut`),
    (error: unknown) => error,
  );
  // A call that fails before it reaches the hold would otherwise leave the test waiting for it.
  await Promise.race([
    held,
    outcome.then((error) => expect.fail(`the ${action} ended before it was held: ${String(error)}`)),
  ]);
  await subject.cut();
  return outcome;
}

/** A failure the job layer retries, in words an operator can act on, without secrets. */
export function expectRetryableFailure(error: unknown, action: CutAction, secrets: readonly string[]): void {
  if (!isAppError(error)) expect.fail(`expected an AppError, got ${String(error)}`);
  expect(error.code).toBe("connector_failed");
  expect(error.userMessage).toMatch(new RegExp(`could not ${action} access: .+retr(y|ied)`, "i"));
  expectNoSecret(errorTexts(error), secrets);
}

/**
 * Registers the two cut cases. The process-error watch stays on until after the retry: a socket's
 * last 'error' or 'end' can arrive after the call already failed, and the retry's own round trips
 * to the target give it every chance to surface before the watch is read.
 */
export function runConnectionCutCases(
  name: string,
  setup: () => Promise<CutSubject>,
  options: { requires?: TestPrerequisite } = {},
): void {
  describeWith(options.requires, `${name}: connection cut mid-call`, () => {
    let subject: CutSubject;
    beforeAll(async () => {
      subject = await setup();
    });
    afterAll(async () => {
      await subject?.connector.close?.();
      await subject?.cleanup?.();
    });
    const revokeContext = (context: GrantContext, receipt: GrantReceipt | null) => ({
      ...context,
      receipt: receipt?.data ?? null,
    });

    it("survives a grant cut mid-call, fails it as retryable, and the retry grants once", async () => {
      const watch = watchProcessErrors();
      try {
        const context = subject.makeContext();
        const error = await errorWhenCut(subject, "grant", () => subject.connector.grant(context));
        expectRetryableFailure(error, "grant", subject.secrets);
        const receipt = await subject.connector.grant(context);
        expect(await subject.hasAccess(context)).toBe(true);
        if (subject.countAccess !== undefined) expect(await subject.countAccess(context)).toBe(1);
        await subject.connector.revoke(revokeContext(context, receipt));
        expect(await subject.hasAccess(context)).toBe(false);
        watch.expectNone();
      } finally {
        watch.stop();
      }
    });

    it("survives a revoke cut mid-call, fails it as retryable, and the retry revokes", async () => {
      const watch = watchProcessErrors();
      try {
        const context = subject.makeContext();
        const receipt = await subject.connector.grant(context);
        const error = await errorWhenCut(subject, "revoke", () =>
          subject.connector.revoke(revokeContext(context, receipt)),
        );
        expectRetryableFailure(error, "revoke", subject.secrets);
        await subject.connector.revoke(revokeContext(context, receipt));
        expect(await subject.hasAccess(context)).toBe(false);
        expect(await subject.connector.verifyRevoked?.(revokeContext(context, receipt))).not.toBe(false);
        watch.expectNone();
      } finally {
        watch.stop();
      }
    });
  });
}
