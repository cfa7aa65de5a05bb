import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/prisma/client.js";

export type Database = PrismaClient;

/** The only place the Prisma client is built; everything else goes through repositories. */
/**
 * Connections per process. No transaction stays open across a connector call, so a connection is
 * held only for the milliseconds of one transaction; jobs beyond the pool wait briefly for one.
 */
export const DATABASE_POOL_SIZE = 30;

export function createDatabase(databaseUrl: string): Database {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, max: DATABASE_POOL_SIZE }) });
}
