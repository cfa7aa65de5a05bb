import { afterAll, beforeAll, expect, it } from "vitest";
import type { TestPrerequisite } from "../../scripts/prerequisite-checks.js";
import type { Connector, GrantContext, GrantReceipt, RevokeContext } from "../../src/connectors/connector.js";
import { secretVariants } from "../../src/connectors/redact.js";
import type { ActionOutcome } from "../../src/domain/actions/action-run.js";
import { type ActionRunRow, type ActionSpec, transitionActionRun } from "../../src/domain/actions/action-run.js";
import { isAppError } from "../../src/domain/errors.js";
import { describeWith } from "../helpers/prerequisites.js";
import { startCutProxy } from "./cut-proxy.js";

/** What a connector's test file provides so the shared suite can drive it. */
export interface ConformanceSubject {
  connector: Connector;
  /** A fresh grant (new grant id) whose access does not exist yet. */
  makeContext(): GrantContext;
  /** Observes the target directly, not through the connector. */
  hasAccess(context: GrantContext): Promise<boolean>;
  /** How many separate copies of the access exist; lets the suite prove a retried grant adds none. */
  countAccess?(context: GrantContext): Promise<number>;
  /** Removes the access behind Sesame's back. */
  removeOutOfBand(context: GrantContext): Promise<void>;
  /** Every secret the connectors below were configured with. */
  secrets: readonly string[];
  /** A connector that cannot work (unreachable, bad credentials) and was given some of `secrets`. */
  breakConnector?(): Promise<Connector>;
  /** A context the working connector must refuse, e.g. an unknown principal. */
  makeFailingContext?(): GrantContext;
  /** For connectors that run JIT actions (issue 14): the action cases run only when given. */
  actions?: ActionSubject;
}

/** What the action cases need: the real executor on the real target, and a row to count its runs. */
export interface ActionSubject {
  /** Runs one action with the connector's executor; `port` reaches the server through a cut proxy. */
  run(spec: ActionSpec, port?: number): Promise<ActionOutcome>;
  /** A write that adds 1 to a counter row (UPDATE … WHERE, one row). */
  increment: string;
  /** The counter's value, read directly on the target. */
  counter(): Promise<number>;
  /** The server, for a cut proxy in front of it. */
  server: { host: string; port: number };
}

const writeSpec = (text: string): ActionSpec => ({
  kind: "sql",
  text,
  sha256: "0".repeat(64),
  class: "write",
  classWhy: "conformance",
  limits: { rowLimit: 10, maxAffectedRows: 1, statementTimeoutMs: 10_000 },
});

const revokeContext = (context: GrantContext, receipt: GrantReceipt | null): RevokeContext => ({
  ...context,
  receipt: receipt?.data ?? null,
});

/** Every text a logger, an API response or a chat card could take from an error. */
export function errorTexts(error: unknown): string[] {
  const texts = [String(error), JSON.stringify(error)];
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    texts.push(current.message, current.stack ?? "", JSON.stringify(current), JSON.stringify(Object.entries(current)));
    if (isAppError(current)) texts.push(current.userMessage, JSON.stringify(current.details ?? {}));
  }
  return texts;
}

export function expectNoSecret(texts: readonly string[], secrets: readonly string[]): void {
  for (const variant of secrets.flatMap(secretVariants)) {
    for (const text of texts) expect(text, "a secret leaked").not.toContain(variant);
  }
}

async function expectSafeFailure(promise: Promise<unknown>, secrets: readonly string[]): Promise<void> {
  const error = await promise.then(
    () => expect.fail("expected the call to fail"),
    (caught: unknown) => caught,
  );
  expect(isAppError(error) ? error.code : error).toMatch(/^(connector_failed|config_invalid)$/);
  expectNoSecret(errorTexts(error), secrets);
}

/**
 * Registers the shared suite. Sesame calls a connector between two commits (claim the
 * entitlement → call → record the outcome), so a crash at any point makes it call again; each
 * crash point is a case below:
 * - after the grant call, before its outcome was recorded: the grant is retried ("retried grant"),
 *   and a later revoke may not have the receipt ("receipt was never stored");
 * - before the grant call (or a relinquish while the activation was queued): the grant is revoked
 *   although it never reached the target ("never reached the target");
 * - after the revoke call, before its outcome was recorded: the revoke is retried ("repeated
 *   revoke"), possibly after someone removed the access by hand ("out of band"). The two error-safety cases run only for connectors that can offer a
 * broken instance or a context to refuse; they are not registered at all otherwise, never skipped.
 * `requires` names what the target needs beyond PostgreSQL and Redis (see describeWith()).
 * With `actions` (connectors that run JIT actions: postgres, mysql) three more cases: an action
 * runs once, a repeated run (second job or click) finds the claim and does nothing, and a
 * connection cut while the statement is sent ends `failed` with nothing changed and no secret.
 */
export function runConnectorConformance(
  name: string,
  setup: () => Promise<ConformanceSubject>,
  cases: { brokenConnector: boolean; failingContext: boolean; actions?: boolean; requires?: TestPrerequisite },
): void {
  describeWith(cases.requires, `${name}: connector conformance`, () => {
    let subject: ConformanceSubject;
    beforeAll(async () => {
      subject = await setup();
    });
    afterAll(async () => {
      await subject?.connector.close?.();
    });

    it("grants, then revokes", async () => {
      const context = subject.makeContext();
      expect(await subject.hasAccess(context)).toBe(false);
      const receipt = await subject.connector.grant(context);
      expect(await subject.hasAccess(context)).toBe(true);
      expect(await subject.connector.verifyRevoked?.(revokeContext(context, receipt))).not.toBe(true);
      await subject.connector.revoke(revokeContext(context, receipt));
      expect(await subject.hasAccess(context)).toBe(false);
      expect(await subject.connector.verifyRevoked?.(revokeContext(context, receipt))).not.toBe(false);
    });

    it("keeps secrets out of the receipt data", async () => {
      const context = subject.makeContext();
      const receipt = await subject.connector.grant(context);
      try {
        expectNoSecret([JSON.stringify(receipt.data)], [...subject.secrets, ...Object.values(receipt.secret ?? {})]);
      } finally {
        await subject.connector.revoke(revokeContext(context, receipt));
      }
    });

    it("treats a repeated revoke as a no-op", async () => {
      const context = subject.makeContext();
      const receipt = await subject.connector.grant(context);
      await subject.connector.revoke(revokeContext(context, receipt));
      await subject.connector.revoke(revokeContext(context, receipt));
      expect(await subject.hasAccess(context)).toBe(false);
    });

    it("revokes successfully after the access was removed out of band", async () => {
      const context = subject.makeContext();
      const receipt = await subject.connector.grant(context);
      await subject.removeOutOfBand(context);
      await subject.connector.revoke(revokeContext(context, receipt));
      expect(await subject.hasAccess(context)).toBe(false);
    });

    it("does not duplicate access on a retried grant", async () => {
      const context = subject.makeContext();
      await subject.connector.grant(context);
      const receipt = await subject.connector.grant(context);
      if (subject.countAccess !== undefined) expect(await subject.countAccess(context)).toBe(1);
      await subject.connector.revoke(revokeContext(context, receipt));
      expect(await subject.hasAccess(context)).toBe(false);
    });

    it("revokes a grant that never reached the target (crash before the grant call)", async () => {
      const context = subject.makeContext();
      await subject.connector.revoke(revokeContext(context, null));
      expect(await subject.hasAccess(context)).toBe(false);
    });

    it("revokes a grant whose receipt was never stored", async () => {
      const context = subject.makeContext();
      await subject.connector.grant(context);
      await subject.connector.revoke(revokeContext(context, null));
      expect(await subject.hasAccess(context)).toBe(false);
    });

    if (cases.brokenConnector)
      it("keeps secrets out of errors from a broken connector", async () => {
        const broken = await subject.breakConnector!();
        try {
          const context = subject.makeContext();
          await expectSafeFailure(broken.grant(context), subject.secrets);
          await expectSafeFailure(broken.revoke(revokeContext(context, null)), subject.secrets);
          const check = await broken.check();
          expect(check.ok).toBe(false);
          expectNoSecret(check.problems, subject.secrets);
        } finally {
          await broken.close?.();
        }
      });

    if (cases.failingContext)
      it("keeps secrets out of errors for a context it must refuse", async () => {
        await expectSafeFailure(subject.connector.grant(subject.makeFailingContext!()), subject.secrets);
      });

    if (cases.actions) {
      it("runs an approved action once", async () => {
        const actions = subject.actions!;
        const before = await actions.counter();
        const outcome = await actions.run(writeSpec(actions.increment));
        expect(outcome).toMatchObject({ outcome: "succeeded", result: { rowCount: 1 } });
        expect(await actions.counter()).toBe(before + 1);
      });

      it("a repeated run of the same action does nothing (the claim is taken once)", async () => {
        // Sesame claims the run (queued → running) before calling the executor; the second job or
        // click finds the claim and never reaches the target. Driven here by the pure machine.
        const actions = subject.actions!;
        const spec = writeSpec(actions.increment);
        let row: ActionRunRow = {
          id: "run-1",
          requestId: "req-1",
          status: "queued",
          version: 1,
          claimedAt: null,
          finishedAt: null,
          sealedResult: null,
          resultSha256: null,
          createdAt: new Date(0),
        };
        const context = { requestId: "req-1", requesterId: "alice", spec, approverIds: ["bob"] };
        const attempt = async () => {
          const claim = transitionActionRun(row, { type: "claim", now: new Date(1) }, context);
          row = { ...row, ...claim.patch };
          const { outcome } = await actions.run(spec);
          const done = transitionActionRun(
            row,
            { type: "finish", now: new Date(2), outcome, sealedResult: "sealed", resultSha256: "h" },
            context,
          );
          row = { ...row, ...done.patch };
        };
        const before = await actions.counter();
        await attempt();
        await expect(attempt()).rejects.toMatchObject({ code: "already_decided" });
        expect(row.status).toBe("succeeded");
        expect(await actions.counter()).toBe(before + 1);
      });

      it("a connection cut while the action is sent fails cleanly: failed, nothing changed, no secret", async () => {
        const actions = subject.actions!;
        const proxy = await startCutProxy(actions.server);
        try {
          const before = await actions.counter();
          const held = proxy.holdAt("toServer", actions.increment);
          const running = actions.run(writeSpec(actions.increment), proxy.port);
          await held;
          proxy.resetAll();
          const outcome = await running;
          expect(outcome.outcome).toBe("failed");
          expect(outcome.result.error).toBeTruthy();
          expectNoSecret([JSON.stringify(outcome)], subject.secrets);
          expect(await actions.counter()).toBe(before);
        } finally {
          await proxy.close();
        }
      });
    }
  });
}
