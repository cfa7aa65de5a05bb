import { randomUUID } from "node:crypto";
import { loadPolicyFile } from "../src/config/policy-loader.js";
import { connectorValidators, createConnectorSet } from "../src/connectors/connector-set.js";
import { PolicyBook } from "../src/domain/policy/policy-book.js";
import { createJobScheduler } from "../src/jobs/bullmq-scheduler.js";
import { createQueues } from "../src/jobs/queues.js";
import type { ServiceDeps } from "../src/services/deps.js";
import { createDatabase } from "../src/storage/prisma-client.js";
import { createStore } from "../src/storage/store.js";
import { type LiveGrant, makeLiveGrants } from "./live-grants.js";
import { REVOCATION_REQUESTERS, REVOCATION_RESOURCE } from "./revocation-policy.js";

/**
 * Live grants for the revocation bench, made in the bench's process with Sesame's own code
 * (makeLiveGrants), a batch per transaction; their revoke jobs are real jobs on Sesame's queue,
 * which only Sesame's workers and sweeper act on.
 */
export interface GrantLoader {
  /** `count` grants, activated now, each lasting `durationSeconds` (whole seconds, as requests do). */
  load(count: number, durationSeconds: number): Promise<LiveGrant[]>;
  close(): Promise<void>;
}

/** Grants per transaction. */
const BATCH = 250;

export async function createGrantLoader(options: {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  policyPath: string;
}): Promise<GrantLoader> {
  const source: Record<string, string | undefined> = {};
  const policyFile = await loadPolicyFile(options.policyPath, connectorValidators(source));
  const book = new PolicyBook(policyFile);
  const db = createDatabase(options.databaseUrl);
  const queues = createQueues(options.redisUrl, options.redisPrefix);
  const connectors = await createConnectorSet(policyFile, source);
  const unused = (what: string) => () => Promise.reject(new Error(`the grant loader does not ${what}`));
  const deps: ServiceDeps = {
    store: createStore(db),
    jobs: createJobScheduler(queues),
    connectors,
    policy: () => book,
    secrets: { seal: () => "", open: () => ({}) },
    notifier: { publish: async () => undefined },
    oncall: { whoIsOnCall: unused("look up on-call"), page: unused("page"), resolvePage: unused("page") },
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    now: () => new Date(),
    newId: randomUUID,
    instanceId: `bench-loader:${process.pid}`,
  };
  let next = 0;
  const loadBatch = (count: number, durationSeconds: number) =>
    makeLiveGrants(deps, {
      requesterIds: Array.from({ length: count }, () => REVOCATION_REQUESTERS[next++ % REVOCATION_REQUESTERS.length]!),
      resourceId: REVOCATION_RESOURCE,
      durationSeconds,
      scheduleRevokes: true,
    });

  return {
    async load(count, durationSeconds) {
      const loaded: LiveGrant[] = [];
      for (let done = 0; done < count; done += BATCH)
        loaded.push(...(await loadBatch(Math.min(BATCH, count - done), durationSeconds)));
      return loaded;
    },
    async close() {
      await queues.close();
      await connectors.close();
      await db.$disconnect();
    },
  };
}
