import type { Database } from "./prisma-client.js";

export interface IdentityRecord {
  id: string;
  email: string;
  name?: string | undefined;
  admin: boolean;
  links: { platform: string; externalId: string }[];
}

/**
 * Makes the Identity table match the policy file's `people`. Identities that left the file are
 * kept (old requests and audit rows name them) but lose their platform links and admin rights.
 */
export async function syncIdentities(db: Database, people: IdentityRecord[]): Promise<void> {
  await db.$transaction(
    async (tx) => {
      const ids = people.map((p) => p.id);
      await tx.identityLink.deleteMany({ where: { identityId: { notIn: ids } } });
      await tx.identity.updateMany({ where: { id: { notIn: ids } }, data: { isAdmin: false } });
      // A person removed from the file gives up their address, so a newcomer can reuse it.
      const taken = await tx.identity.findMany({
        where: { id: { notIn: ids }, email: { in: people.map((p) => p.email) } },
        select: { id: true },
      });
      for (const { id } of taken) await tx.identity.update({ where: { id }, data: { email: `${id}@removed.invalid` } });
      for (const person of people) {
        await tx.identity.upsert({
          where: { id: person.id },
          create: { id: person.id, email: person.email, displayName: person.name ?? null, isAdmin: person.admin },
          update: { email: person.email, displayName: person.name ?? null, isAdmin: person.admin },
        });
        for (const link of person.links) {
          await tx.identityLink.upsert({
            where: { platform_externalId: link },
            create: { identityId: person.id, ...link },
            update: { identityId: person.id },
          });
        }
      }
      // Thousands of people take a few seconds; Prisma's default 5 s would fail start-up.
    },
    { timeout: 300_000, maxWait: 10_000 },
  );
}
