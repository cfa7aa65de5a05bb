import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/prisma/client.js";

export type Database = PrismaClient;

/** The only place the Prisma client is built; everything else goes through repositories. */
/**
 * Connector calls run inside transactions (under the entitlement lock), so each busy job holds a
 * connection: the pool must fit every worker's concurrency plus room for the API and the sweeper.
 */
export const DATABASE_POOL_SIZE = 30;

export function createDatabase(databaseUrl: string): Database {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, max: DATABASE_POOL_SIZE }) });
}
