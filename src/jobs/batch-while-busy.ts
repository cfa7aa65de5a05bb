/**
 * Calls that arrive while earlier ones are under way share one round trip. Alone, a call starts
 * at once (no timer, no added latency); while `atOnce` batches are in flight, new calls wait and
 * then go together, up to `maxBatch`. In a burst the batches grow by themselves, so a hundred acks
 * cost a few statements and commits instead of a hundred. `run` answers each item, in order.
 */
export function batchWhileBusy<In, Out>(
  run: (items: In[]) => Promise<Out[]>,
  options: { maxBatch: number; atOnce: number },
): (item: In) => Promise<Out> {
  interface Waiting {
    item: In;
    resolve(value: Out): void;
    reject(reason: unknown): void;
  }
  const waiting: Waiting[] = [];
  let running = 0;
  const next = () => {
    while (running < options.atOnce && waiting.length > 0) {
      const batch = waiting.splice(0, options.maxBatch);
      running += 1;
      // Through a promise: a `run` that throws at once must still answer every caller of its batch.
      Promise.resolve()
        .then(() => run(batch.map((entry) => entry.item)))
        .then((outs) => {
          if (outs.length !== batch.length) throw new Error(`a batch of ${batch.length} got ${outs.length} answers`);
          for (const [i, entry] of batch.entries()) entry.resolve(outs[i] as Out);
        })
        .catch((reason: unknown) => {
          for (const entry of batch) entry.reject(reason);
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
