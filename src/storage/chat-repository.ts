import type { ChatPlatform, MessageAddress } from "../chat/core/chat-adapter.js";
import type { ChatStore } from "../chat/core/chat-store.js";
import type { Prisma } from "./generated/prisma/client.js";
import type { Database } from "./prisma-client.js";

const asJson = (value: Record<string, unknown>) => value as Prisma.InputJsonValue;

export function createChatStore(db: Database): ChatStore {
  return {
    async identityForAccount(platform, externalId) {
      const link = await db.identityLink.findUnique({ where: { platform_externalId: { platform, externalId } } });
      return link?.identityId ?? null;
    },
    async accountForIdentity(platform, identityId) {
      const link = await db.identityLink.findFirst({ where: { platform, identityId }, orderBy: { createdAt: "desc" } });
      return link?.externalId ?? null;
    },
    async identityByEmail(email) {
      const identity = await db.identity.findFirst({ where: { email: { equals: email.trim(), mode: "insensitive" } } });
      return identity?.id ?? null;
    },
    async emailOf(identityId) {
      return (await db.identity.findUnique({ where: { id: identityId } }))?.email ?? null;
    },
    async linkAccount(platform: ChatPlatform, externalId: string, identityId: string) {
      await db.identityLink.upsert({
        where: { platform_externalId: { platform, externalId } },
        create: { platform, externalId, identityId },
        update: { identityId },
      });
    },
    async saveMessage(platform, requestId, recipient, address) {
      await db.chatMessage.upsert({
        where: { platform_requestId_recipient: { platform, requestId, recipient } },
        create: { platform, requestId, recipient, address: asJson(address) },
        update: { address: asJson(address) },
      });
    },
    async findMessage(platform, requestId, recipient) {
      const row = await db.chatMessage.findUnique({
        where: { platform_requestId_recipient: { platform, requestId, recipient } },
      });
      return (row?.address as MessageAddress | undefined) ?? null;
    },
    async messagesFor(platform, requestId) {
      const rows = await db.chatMessage.findMany({ where: { platform, requestId }, orderBy: { createdAt: "asc" } });
      return rows.map((row) => ({ recipient: row.recipient, address: row.address as MessageAddress }));
    },
    async saveGrantMessage(platform, grantId, jobKey, address) {
      await db.chatGrantMessage.upsert({
        where: { platform_jobKey: { platform, jobKey } },
        create: { platform, grantId, jobKey, address: asJson(address) },
        update: { address: asJson(address) },
      });
    },
    async grantMessagesFor(platform, grantId) {
      const rows = await db.chatGrantMessage.findMany({ where: { platform, grantId }, orderBy: { createdAt: "asc" } });
      return rows.map((row) => row.address as MessageAddress);
    },
    async claimDelivery(key) {
      const { count } = await db.chatDeliveryClaim.createMany({ data: [{ key }], skipDuplicates: true });
      return count === 1;
    },
    async releaseDelivery(key) {
      await db.chatDeliveryClaim.deleteMany({ where: { key } });
    },
    async saveConversation(platform, key, reference) {
      await db.chatConversation.upsert({
        where: { platform_key: { platform, key } },
        create: { platform, key, reference: asJson(reference) },
        update: { reference: asJson(reference) },
      });
    },
    async conversation(platform, key) {
      const row = await db.chatConversation.findUnique({ where: { platform_key: { platform, key } } });
      return (row?.reference as Record<string, unknown> | undefined) ?? null;
    },
  };
}
