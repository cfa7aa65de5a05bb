/** Small timing helpers shared by the benches. */

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` every `intervalMs` until it returns true. Fails after `timeoutMs`, or at once
 * when `abandon` settles first (e.g. the process being waited for exited).
 */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; abandon?: Promise<string> },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let abandoned: string | undefined;
  void options.abandon?.then((reason) => {
    abandoned = reason;
  });
  while (Date.now() < deadline) {
    if (abandoned !== undefined) throw new Error(`gave up waiting for ${what}: ${abandoned}`);
    if (await probe()) return;
    await sleep(options.intervalMs ?? 100);
  }
  throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}`);
}
