/**
 * Calls that arrive while earlier ones are under way share one round trip. Alone, a call starts
 * at once (no timer, no added latency); while `atOnce` batches are in flight, new calls wait and
 * then go together, up to `maxBatch`. In a burst the batches grow by themselves, so a hundred acks
 * cost a few statements and commits instead of a hundred. `run` answers each item, in order.
 *
 * A batch that fails with an error `retryAloneWhen` accepts (one bad item, not a database away) is
 * run again item by item, in its slot, so only the callers of the bad items get the error.
 */
export function batchWhileBusy<In, Out>(
  run: (items: In[]) => Promise<Out[]>,
  options: { maxBatch: number; atOnce: number; retryAloneWhen?: (error: unknown) => boolean },
): (item: In) => Promise<Out> {
  interface Waiting {
    item: In;
    resolve(value: Out): void;
    reject(reason: unknown): void;
  }
  const waiting: Waiting[] = [];
  let running = 0;
  const answer = async (batch: Waiting[]) => {
    const outs = await run(batch.map((entry) => entry.item));
    if (outs.length !== batch.length) throw new Error(`a batch of ${batch.length} got ${outs.length} answers`);
    for (const [i, entry] of batch.entries()) entry.resolve(outs[i] as Out);
  };
  const next = () => {
    while (running < options.atOnce && waiting.length > 0) {
      const batch = waiting.splice(0, options.maxBatch);
      running += 1;
      // Through a promise: a `run` that throws at once must still answer every caller of its batch.
      Promise.resolve()
        .then(() => answer(batch))
        .catch(async (reason: unknown) => {
          if (batch.length === 1 || !options.retryAloneWhen?.(reason)) {
            for (const entry of batch) entry.reject(reason);
            return;
          }
          await Promise.all(batch.map((entry) => answer([entry]).catch((alone: unknown) => entry.reject(alone))));
        })
        .finally(() => {
          running -= 1;
          next();
        });
    }
  };
  return (item) =>
    new Promise<Out>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      next();
    });
}
