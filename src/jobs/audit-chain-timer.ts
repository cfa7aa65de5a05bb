import type { Logger } from "../services/ports.js";

/**
 * Runs the audit chainer on a timer in every worker process; the chainer's own lock lets one
 * process chain at a time. Like the sweeper it is a timer, not a Redis job, so chaining goes on
 * while Redis is down. A failure is logged once per outage, not once a second.
 */
export interface AuditChainTimer {
  stop(): Promise<void>;
}

export function startAuditChainTimer(
  chain: () => Promise<unknown>,
  logger: Logger,
  intervalSeconds: number,
): AuditChainTimer {
  let running: Promise<void> | undefined;
  let failing = false;
  const runOnce = (): void => {
    running ??= chain()
      .then(
        () => {
          if (failing) logger.info({}, "audit chaining works again");
          failing = false;
        },
        (error: unknown) => {
          if (!failing) {
            const message = error instanceof Error ? error.message : String(error);
            logger.error({ error: message }, "audit chaining failed; retrying quietly until it works again");
          }
          failing = true;
        },
      )
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(runOnce, intervalSeconds * 1000);
  timer.unref();
  runOnce();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
