import type { Writable } from "node:stream";
import { Job, type Queue, type RedisClient } from "bullmq";

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
/** Jobs per round trip: one script call must not keep Redis busy for long. */
const IDS_PER_CALL = 1_000;

const ids = (jobs: readonly DelayedJob<unknown>[]) => jobs.map((job) => job.id);

/** A job's own options: its id, and a delay counted from `now`, given as its timestamp, so it is due exactly at `at`. */
const timing = (job: DelayedJob<unknown>, now: number) => ({
  jobId: job.id,
  timestamp: now,
  delay: Math.max(0, job.at.getTime() - now),
});

/**
 * BullMQ's own client for the queue's connection (the Redis the caller passed), reached through
 * its backend, BullMQ's documented way to it.
 */
const clientOf = (queue: Queue): Promise<RedisClient> => queue.getBackend().client;

const lookUpArgs = (queue: Queue, ids: readonly string[], mode: "clear" | "read") => [
  queue.keys.completed!,
  queue.keys.failed!,
  queue.keys.delayed!,
  mode,
  queue.toKey(""),
  ...ids,
];

/**
 * The look-up as EVAL, never EVALSHA: a script Redis has lost (SCRIPT FLUSH, a failover behind a
 * proxy) makes ioredis resend an EVALSHA once the NOSCRIPT comes back, after the commands written
 * behind it have run, and addAndLook counts on the order it writes them in. Redis caches the
 * compiled script by its hash either way; only the text travels each time.
 */
const lookUpCall = (client: RedisClient, queue: Queue, ids: readonly string[], mode: "clear" | "read") =>
  client.runCommand("eval", [LOOK_UP_AND_CLEAR_FINISHED, 3, ...lookUpArgs(queue, ids, mode)]);

function statesOf(reply: unknown): JobState[] {
  const flat = reply as (string | number)[];
  const states: JobState[] = [];
  for (let i = 0; i < flat.length; i += 2) states.push([flat[i] as JobState[0], Number(flat[i + 1])]);
  return states;
}

async function lookUp(queue: Queue, ids: readonly string[], mode: "clear" | "read"): Promise<JobState[]> {
  const client = await clientOf(queue);
  const states: JobState[] = [];
  for (let start = 0; start < ids.length; start += IDS_PER_CALL) {
    const reply = await lookUpCall(client, queue, ids.slice(start, start + IDS_PER_CALL), mode);
    states.push(...statesOf(reply));
  }
  return states;
}

/** The socket under an ioredis client (`stream`, public in ioredis), reached through BullMQ's wrapper of it. */
const socketOf = (client: RedisClient): Partial<Pick<Writable, "cork" | "uncork">> =>
  (client as unknown as { stream?: Writable }).stream ?? {};

/**
 * In one round trip: look the jobs up, clearing finished ones; add them all (BullMQ ignores the add
 * of an id it holds, so a job still pending stays as it is); and look again. ioredis writes each
 * command as it is called, so Redis runs them in that order; the socket is corked meanwhile so
 * they leave in one write. (An ioredis pipeline would do the same, but building one copies every
 * script BullMQ defines: about 90 µs of CPU here, more than the adds.) The adds go through
 * BullMQ's `addJobToTransaction`, public for adding onto a given client, with the queue's default
 * job options, as `Queue.addBulk` would.
 */
async function addAndLook(
  queue: Queue,
  jobs: readonly DelayedJob<unknown>[],
): Promise<{ before: JobState[]; after: JobState[] }> {
  const client = await clientOf(queue);
  const backend = queue.getBackend();
  const jobIds = ids(jobs);
  const now = Date.now();
  // Built before the socket is corked: nothing there may throw between the commands.
  const added = jobs.map((job) => {
    const opts = { ...queue.defaultJobOptions, ...timing(job, now) };
    return { id: job.id, json: new Job(queue, "run", job.data, opts, job.id).asJSON() };
  });
  const socket = socketOf(client);
  socket.cork?.();
  // From here to uncork nothing awaits, so no other command can come in between.
  let before: Promise<unknown>;
  let adds: Promise<unknown>[];
  let after: Promise<unknown>;
  try {
    before = lookUpCall(client, queue, jobIds, "clear");
    adds = added.map(({ id, json }) => backend.addJobToTransaction(client, json, id));
    after = lookUpCall(client, queue, jobIds, "read");
  } finally {
    socket.uncork?.();
  }
  const [found, , looked] = await Promise.all([before, Promise.all(adds), after]);
  return { before: statesOf(found), after: statesOf(looked) };
}

/**
 * Moves a delayed job earlier (to now if `at` has passed). True only when that is final: a
 * promoted job waits and no later move can undo it. A job given a new delay is looked at again,
 * since BullMQ's changeDelay sets whatever delay it is given, later too: a concurrent writer's
 * move to a later time can land after this one. False too when the job was no longer delayed.
 */
async function moveEarlier(queue: Queue, job: DelayedJob<unknown>): Promise<boolean> {
  // BullMQ's scripts need only the id: a handle built here saves reading the job's hash first.
  // A job gone or no longer delayed makes the script refuse, which reads as false below.
  const handle = new Job(queue, "run", job.data, {}, job.id);
  const delay = job.at.getTime() - Date.now();
  try {
    if (delay > 0) {
      await handle.changeDelay(delay);
      return false;
    }
    await handle.promote();
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

/** Tries to move a job earlier this many times when its state keeps changing under us. */
const MOVE_TRIES = 3;

/**
 * The slow path, one awaited step after another (each step's commands, resends included, have run
 * before the next is written): look up and clear finished jobs, add the missing ones, look at
 * what was added. Returns the jobs found due too late.
 */
async function stepByStep(queue: Queue, jobs: readonly DelayedJob<unknown>[]): Promise<DelayedJob<unknown>[]> {
  const found = await lookUp(queue, ids(jobs), "clear");
  const missing = jobs.filter((_, index) => found[index]![0] === "absent");
  if (missing.length > 0) {
    const now = Date.now();
    await queue.addBulk(missing.map((job) => ({ name: "run", data: job.data, opts: timing(job, now) })));
  }
  const added = await lookUp(queue, ids(missing), "read");
  return [...dueTooLate(jobs, found), ...dueTooLate(missing, added)];
}

/**
 * Makes each job exist and be due no later than its `at`: one round trip per thousand jobs (look
 * up and clear finished ones, add them all, look again: a concurrent writer's add may have won
 * with a later time), then, for the jobs found due too late, a move earlier and (unless it was a
 * promotion) a look at the result. Returns how many jobs were missing.
 *
 * A job the second look found gone or finished goes through the slow path. Gone is rare (its
 * worker took and finished it between two commands of one write), and so is the other cause: an
 * add Redis ran late, after the look, because BullMQ's script had been lost and ioredis resent it
 * once its NOSCRIPT came back. The slow path adds such a job again; jobs are idempotent.
 */
export async function ensureDelayedJobs<T>(queue: Queue<T>, jobs: readonly DelayedJob<T>[]): Promise<number> {
  // BullMQ's typings make the job name a generic of the queue; a plain string is what it stores.
  const plainQueue = queue as Queue;
  let missing = 0;
  for (let start = 0; start < jobs.length; start += IDS_PER_CALL) {
    const chunk = jobs.slice(start, start + IDS_PER_CALL);
    const { before, after } = await addAndLook(plainQueue, chunk);
    missing += before.filter(([state]) => state === "absent").length;
    const late: DelayedJob<unknown>[] = dueTooLate(chunk, after);
    const notLive = chunk.filter((_, index) => after[index]![0] === "absent" || after[index]![0] === "finished");
    if (notLive.length > 0) late.push(...(await stepByStep(plainQueue, notLive)));
    await moveEarlierWhileLate(plainQueue, late);
  }
  return missing;
}

/** Moves earlier each job found due too late, looking again at those whose move was not final. */
async function moveEarlierWhileLate(queue: Queue, found: DelayedJob<unknown>[]): Promise<void> {
  let late = found;
  for (let tries = 0; tries < MOVE_TRIES && late.length > 0; tries += 1) {
    const moved = await Promise.all(late.map((job) => moveEarlier(queue, job)));
    // A job given a new delay, or whose state changed under the move: look again.
    const unsure = late.filter((_, index) => !moved[index]);
    late = dueTooLate(unsure, await lookUp(queue, ids(unsure), "read"));
  }
}

/**
 * Of these job ids, which will not run again: gone, or finished but kept in Redis (removed here, so
 * a re-add under the same id is not a silent no-op). One script call for all of them.
 */
export async function clearFinishedJobs(queue: Queue, ids: readonly string[]): Promise<boolean[]> {
  return (await lookUp(queue, ids, "clear")).map(([state]) => state === "absent");
}

/** Whether a job exists that has not finished yet (waiting, delayed, active...); changes nothing. */
export async function hasUnfinishedJob(queue: Queue, id: string): Promise<boolean> {
  const [state] = await lookUp(queue, [id], "read");
  return state?.[0] === "delayed" || state?.[0] === "pending";
}
