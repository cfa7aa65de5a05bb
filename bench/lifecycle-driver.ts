import type { BenchPerson } from "./bench-policy.js";
import { describeAnswer, type SesameApi, stringField } from "./http-api.js";
import { sleep } from "./wait.js";

/** The measured steps of one lifecycle, in order. */
export const STEPS = ["submit", "approve", "approveToActive", "relinquish", "relinquishToRevoked"] as const;
export type Step = (typeof STEPS)[number];

export interface LifecycleFailure {
  step: Step;
  detail: string;
  grantId?: string;
}

export interface DriverOptions {
  lifecycles: number;
  concurrency: number;
  resource: string;
  duration: string;
  /**
   * Pause before the first read of a grant while waiting for a state; each further pause is 1.5
   * times longer, up to `pollMaxMs`. Fast transitions are timed finely, and slow ones (under
   * load) are not made slower still by the bench's own polling: every poll costs Sesame an
   * authenticated request with its own database transactions.
   */
  pollMs: number;
  pollMaxMs: number;
  /**
   * Wait with one read that Sesame answers when the status is reached (`?waitFor=`), as a CI job
   * would, instead of polling; `pollMs` and `pollMaxMs` are then unused.
   */
  waitInSesame: boolean;
  /** How long a grant may take to reach a state before the lifecycle counts as stuck. */
  waitDeadlineMs: number;
  /** Aborted when a Sesame process dies: the remaining lifecycles are not started. */
  signal?: AbortSignal;
}

export interface DriverResult {
  wallMs: number;
  completed: number;
  failures: LifecycleFailure[];
  /** Milliseconds per step, one value per completed step. */
  steps: Record<Step, number[]>;
  /** GETs of a grant made while waiting for it to become active or revoked (waiting reads included). */
  polls: number;
}

class LifecycleError extends Error {
  constructor(
    readonly step: Step,
    detail: string,
    readonly grantId?: string,
  ) {
    super(detail);
  }
}

/**
 * Runs `lifecycles` full lifecycles through the REST API, `concurrency` at a time: submit (the
 * requester) → approve (an approver) → wait until the grant is active → relinquish (the holder)
 * → wait until it is revoked. Worker k always acts as requester k (modulo the requesters), so at
 * the default concurrency each requester has one lifecycle in flight, as a person would.
 */
export async function driveLifecycles(
  api: SesameApi,
  cast: { requesters: readonly BenchPerson[]; approvers: readonly BenchPerson[] },
  options: DriverOptions,
): Promise<DriverResult> {
  const steps: Record<Step, number[]> = {
    submit: [],
    approve: [],
    approveToActive: [],
    relinquish: [],
    relinquishToRevoked: [],
  };
  const failures: LifecycleFailure[] = [];
  let polls = 0;
  let next = 0;
  let completed = 0;

  const waitForGrant = async (
    token: string,
    grantId: string,
    step: Step,
    wanted: string,
    passing: readonly string[],
  ): Promise<number> => {
    const started = performance.now();
    const deadline = started + options.waitDeadlineMs;
    let last = "unknown";
    let pause = options.pollMs;
    // Under the API client's 30 s call timeout: a wait that ends still short of its status is read again.
    const waitSeconds = Math.max(1, Math.min(25, Math.floor(options.waitDeadlineMs / 1000)));
    const path = options.waitInSesame
      ? `/api/v1/grants/${grantId}?waitFor=${wanted}&waitSeconds=${waitSeconds}`
      : `/api/v1/grants/${grantId}`;
    while (performance.now() < deadline && !options.signal?.aborted) {
      if (!options.waitInSesame) {
        await sleep(pause);
        pause = Math.min(options.pollMaxMs, pause * 1.5);
      }
      polls += 1;
      const answer = await api.call(token, "GET", path);
      if (answer.status !== 200) throw new LifecycleError(step, describeAnswer(answer), grantId);
      last = stringField(answer.body, "status") ?? "missing";
      if (last === wanted) return performance.now() - started;
      if (!passing.includes(last)) throw new LifecycleError(step, `grant became ${last}, not ${wanted}`, grantId);
    }
    throw new LifecycleError(step, `grant still ${last} after ${Math.round(performance.now() - started)} ms`, grantId);
  };

  const lifecycle = async (requester: BenchPerson, approver: BenchPerson): Promise<void> => {
    const submitted = await api.call(requester.token, "POST", "/api/v1/requests", {
      resource: options.resource,
      duration: options.duration,
      reason: "lifecycle bench",
    });
    const requestId = stringField(submitted.body, "id");
    if (submitted.status !== 201 || !requestId) throw new LifecycleError("submit", describeAnswer(submitted));
    steps.submit.push(submitted.ms);

    const approved = await api.call(approver.token, "POST", `/api/v1/requests/${requestId}/approve`, {});
    const grantId = stringField(approved.body, "grant");
    if (approved.status !== 200 || !grantId) throw new LifecycleError("approve", describeAnswer(approved));
    steps.approve.push(approved.ms);

    steps.approveToActive.push(
      await waitForGrant(requester.token, grantId, "approveToActive", "active", ["scheduled"]),
    );

    const relinquished = await api.call(requester.token, "POST", `/api/v1/grants/${grantId}/relinquish`);
    if (relinquished.status !== 200) throw new LifecycleError("relinquish", describeAnswer(relinquished), grantId);
    steps.relinquish.push(relinquished.ms);

    steps.relinquishToRevoked.push(
      await waitForGrant(requester.token, grantId, "relinquishToRevoked", "revoked", ["active", "revoking"]),
    );
  };

  const worker = async (slot: number): Promise<void> => {
    const requester = cast.requesters[slot % cast.requesters.length]!;
    while (next < options.lifecycles && !options.signal?.aborted) {
      const index = next++;
      try {
        await lifecycle(requester, cast.approvers[index % cast.approvers.length]!);
        completed += 1;
      } catch (error) {
        if (!(error instanceof LifecycleError)) throw error;
        failures.push({
          step: error.step,
          detail: error.message,
          ...(error.grantId ? { grantId: error.grantId } : {}),
        });
      }
    }
  };

  const started = performance.now();
  await Promise.all(Array.from({ length: options.concurrency }, (_, slot) => worker(slot)));
  return { wallMs: performance.now() - started, completed, failures, steps, polls };
}
