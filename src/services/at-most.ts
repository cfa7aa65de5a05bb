/**
 * Runs `work` for every item with at most `limit` in flight: a sweep that finds thousands of
 * overdue grants revokes them steadily instead of all at once (connection pool, target systems)
 * or one by one. `work` handles its own errors.
 */
export async function forEachAtMost<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const item = items[next]!;
      next += 1;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
