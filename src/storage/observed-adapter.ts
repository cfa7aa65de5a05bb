import type { PrismaPg } from "@prisma/adapter-pg";
import { isDatabaseUnreachable } from "./database-errors.js";
import type { OutageLog } from "./outage-log.js";

/**
 * Every statement Sesame sends, from an API request, a job, the sweeper or /readyz, passes through
 * the driver adapter: watching it there tells the outage log about every failure that shows the
 * database is gone and every answer that shows it is back, without each caller having to.
 */

/** The adapter's and a transaction's methods that talk to the server; their outcome is the evidence. */
const TALKS_TO_SERVER = new Set<PropertyKey>(["queryRaw", "executeRaw", "executeScript", "startTransaction"]);

type AsyncMethod = (...args: unknown[]) => Promise<unknown>;

function observe<T extends object>(target: T, health: OutageLog): T {
  return new Proxy(target, {
    get(object, key) {
      const value: unknown = Reflect.get(object, key);
      if (typeof value !== "function" || !TALKS_TO_SERVER.has(key)) return value;
      return async (...args: unknown[]) => {
        try {
          const result = await (value as AsyncMethod).apply(object, args);
          health.up();
          // A transaction's statements go through the object startTransaction returns.
          return key === "startTransaction" ? observe(result as object, health) : result;
        } catch (error) {
          if (isDatabaseUnreachable(error)) health.down(error);
          throw error;
        }
      };
    },
  });
}

/** The same adapter factory, whose connections report to `health`. */
export function observedAdapter(factory: PrismaPg, health: OutageLog): PrismaPg {
  return new Proxy(factory, {
    get(object, key) {
      const value: unknown = Reflect.get(object, key);
      if (key !== "connect" || typeof value !== "function") return value;
      return async () => observe(await (value as () => Promise<object>).apply(object), health);
    },
  });
}
