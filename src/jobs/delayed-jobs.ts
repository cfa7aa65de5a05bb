import { Job, type Queue } from "bullmq";
import type { Redis } from "ioredis";

/**
 * "This job exists and is due no later than `at`", for many jobs at once. BullMQ ignores an add
 * whose job id exists, and a finished job kept in Redis still counts as existing, so a plain add
 * is not enough; and a read-then-write upsert lets a second writer undo the first. Here every
 * writer only ever moves a job *earlier* (a job that fires before its grant's current expiry
 * finds it not due and sleeps again), so concurrent writers converge on the earliest time
 * wanted: an activation's or a sweep's expiry never overrides a relinquish's "now".
 */

export interface DelayedJob<T> {
  id: string;
  data: T;
  at: Date;
}

/**
 * The states of many jobs in one script call: with "clear", a finished job (completed or failed,
 * kept for inspection) is removed in the same step, so it reads as absent and can be added again;
 * a delayed one reports when it is due (BullMQ scores delayed jobs as due-ms × 4096 + a counter).
 * Job keys are the queue's key prefix and the id, as in BullMQ's own scripts. Sesame's jobs have
 * no parents, children or deduplication keys: a finished one is its hash and the side keys
 * BullMQ's own removal deletes. Replies come flat: state, due time, state, due time...
 */
const LOOK_UP_AND_CLEAR_FINISHED = `
local completed, failed, delayed = KEYS[1], KEYS[2], KEYS[3]
local mode, prefix = ARGV[1], ARGV[2]
local states = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local job = prefix .. id
  local state, due = "pending", 0
  if redis.call("EXISTS", job) == 0 then
    state = "absent"
  elseif redis.call("ZSCORE", completed, id) or redis.call("ZSCORE", failed, id) then
    state = "finished"
    if mode == "clear" then
      redis.call("ZREM", completed, id)
      redis.call("ZREM", failed, id)
      redis.call("DEL", job, job .. ":logs", job .. ":dependencies", job .. ":processed", job .. ":failed",
        job .. ":unsuccessful")
      state = "absent"
    end
  else
    local score = redis.call("ZSCORE", delayed, id)
    if score then state, due = "delayed", math.floor(tonumber(score) / 4096) end
  end
  states[#states + 1] = state
  states[#states + 1] = due
end
return states
`;

type JobState = [state: "absent" | "finished" | "delayed" | "pending", dueMs: number];

/** A delayed job due this much later than wanted is on time: BullMQ stamps the add a moment after the caller computed the delay. */
const ON_TIME_SLACK_MS = 1_000;
/** Ids per script call: one call must not keep Redis busy for long. */
const IDS_PER_CALL = 1_000;

const COMMAND = "sesameLookUpJobs";

type WithLookUp = Redis & {
  [COMMAND](
    completed: string,
    failed: string,
    delayed: string,
    mode: string,
    prefix: string,
    ...ids: string[]
  ): Promise<(string | number)[]>;
};

async function lookUp(redis: Redis, queue: Queue, ids: readonly string[], mode: "clear" | "read"): Promise<JobState[]> {
  if (!(COMMAND in redis)) redis.defineCommand(COMMAND, { numberOfKeys: 3, lua: LOOK_UP_AND_CLEAR_FINISHED });
  const states: JobState[] = [];
  for (let start = 0; start < ids.length; start += IDS_PER_CALL) {
    const reply = await (redis as WithLookUp)[COMMAND](
      queue.keys.completed!,
      queue.keys.failed!,
      queue.keys.delayed!,
      mode,
      queue.toKey(""),
      ...ids.slice(start, start + IDS_PER_CALL),
    );
    for (let i = 0; i < reply.length; i += 2) states.push([reply[i] as JobState[0], Number(reply[i + 1])]);
  }
  return states;
}

/** Moves a delayed job earlier (to now if `at` has passed); false when it is no longer delayed. */
async function moveEarlier(queue: Queue, job: DelayedJob<unknown>): Promise<boolean> {
  // BullMQ's scripts need only the id: a handle built here saves reading the job's hash first.
  // A job gone or no longer delayed makes the script refuse, which reads as false below.
  const handle = new Job(queue, "run", job.data, {}, job.id);
  const delay = job.at.getTime() - Date.now();
  try {
    if (delay <= 0) await handle.promote();
    else await handle.changeDelay(delay);
    return true;
  } catch {
    // Not delayed any more (promoted, started, removed): the caller looks again.
    return false;
  }
}

/** The jobs found delayed beyond their `at` (the states are theirs, in order). */
function dueTooLate<T>(jobs: readonly DelayedJob<T>[], states: readonly JobState[]): DelayedJob<T>[] {
  return jobs.filter((job, index) => {
    const [state, dueMs] = states[index]!;
    return state === "delayed" && dueMs > job.at.getTime() + ON_TIME_SLACK_MS;
  });
}

/** Adds jobs in one bulk, each due exactly at its `at`; BullMQ ignores the add of an id it holds. */
async function addAll<T>(queue: Queue, jobs: readonly DelayedJob<T>[]): Promise<void> {
  const now = Date.now();
  await queue.addBulk(
    jobs.map((job) => ({
      name: "run",
      data: job.data,
      // The delay counts from a timestamp given here, so the job is due exactly at `at`.
      opts: { jobId: job.id, timestamp: now, delay: Math.max(0, job.at.getTime() - now) },
    })),
  );
}

/** Tries to move a job earlier this many times when its state keeps changing under us. */
const MOVE_TRIES = 3;

/** Moves earlier each job found due too late, looking again at those whose state changed under the move. */
async function moveEarlierWhileLate<T>(redis: Redis, queue: Queue, found: DelayedJob<T>[]): Promise<void> {
  let late = found;
  for (let tries = 0; tries < MOVE_TRIES && late.length > 0; tries += 1) {
    const moved = await Promise.all(late.map((job) => moveEarlier(queue, job)));
    const unsure = late.filter((_, index) => !moved[index]);
    late = dueTooLate(unsure, await lookUp(redis, queue, ids(unsure), "read"));
  }
}

const ids = <T>(list: readonly DelayedJob<T>[]) => list.map((job) => job.id);

/**
 * Makes each job exist and be due no later than its `at`, in a few round trips whatever the
 * number of jobs (a thousand per script call): look up (clearing finished ones), add the missing in one bulk,
 * look again at what was added (a concurrent writer's add may have won with a later time; one
 * found gone by then has already run), and move earlier whatever is due too late. Returns how
 * many jobs were missing.
 */
export async function ensureDelayedJobs<T>(
  redis: Redis,
  queue: Queue<T>,
  jobs: readonly DelayedJob<T>[],
): Promise<number> {
  // BullMQ's typings make the job name a generic of the queue; a plain string is what it stores.
  const plainQueue = queue as Queue;
  const found = await lookUp(redis, plainQueue, ids(jobs), "clear");
  const missing = jobs.filter((_, index) => found[index]![0] === "absent");
  if (missing.length > 0) await addAll(plainQueue, missing);
  const added = await lookUp(redis, plainQueue, ids(missing), "read");
  await moveEarlierWhileLate(redis, plainQueue, [...dueTooLate(jobs, found), ...dueTooLate(missing, added)]);
  return missing.length;
}

/**
 * The same promise as ensureDelayedJobs for jobs that most likely do not exist yet (a new grant's
 * activation or revoke, a new request's expiry): add first and look after, two round trips
 * instead of three. A failed job kept in Redis holds its id and makes the add a no-op; those go
 * through ensureDelayedJobs, which clears them. A job of ours that ran and failed for good between
 * the add and the look is added once more, which its worker, idempotent like every job's, allows.
 */
export async function addDelayedJobs<T>(redis: Redis, queue: Queue<T>, jobs: readonly DelayedJob<T>[]): Promise<void> {
  const plainQueue = queue as Queue;
  await addAll(plainQueue, jobs);
  const states = await lookUp(redis, plainQueue, ids(jobs), "read");
  const blocked = jobs.filter((_, index) => states[index]![0] === "finished");
  if (blocked.length > 0) await ensureDelayedJobs(redis, queue, blocked);
  await moveEarlierWhileLate(redis, plainQueue, dueTooLate(jobs, states));
}

/**
 * Of these job ids, which will not run again: gone, or finished but kept in Redis (removed here, so
 * a re-add under the same id is not a silent no-op). One script call for all of them.
 */
export async function clearFinishedJobs(redis: Redis, queue: Queue, ids: readonly string[]): Promise<boolean[]> {
  return (await lookUp(redis, queue, ids, "clear")).map(([state]) => state === "absent");
}

/** Whether a job exists that has not finished yet (waiting, delayed, active...); changes nothing. */
export async function hasUnfinishedJob(redis: Redis, queue: Queue, id: string): Promise<boolean> {
  const [state] = await lookUp(redis, queue, [id], "read");
  return state?.[0] === "delayed" || state?.[0] === "pending";
}
