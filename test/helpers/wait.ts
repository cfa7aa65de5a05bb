/**
 * Generous on purpose: the suite runs on shared machines where a step that takes milliseconds
 * when quiet can take seconds at load 10. A poll returns as soon as its condition holds, so a
 * long deadline costs nothing when things work; it only decides how long a real failure takes.
 */
export const WAIT_MS = 30_000;

/** Polls `condition` until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
