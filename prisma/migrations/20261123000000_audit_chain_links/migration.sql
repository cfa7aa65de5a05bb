-- The audit chain moves out of the event rows into AuditChainLink. Business transactions used to
-- lock the whole log to read the newest hash until they committed; now they insert content only,
-- and a chainer links committed events afterwards (src/storage/audit-chainer.ts).

-- AlterTable: existing rows get txid 0 (they are linked below); the default then becomes the
-- inserting transaction's id. A constant default rewrites nothing and fires no row trigger.
ALTER TABLE "AuditEvent" ADD COLUMN     "txid" BIGINT NOT NULL DEFAULT 0,
ALTER COLUMN "prevHash" DROP NOT NULL,
ALTER COLUMN "hash" DROP NOT NULL;
ALTER TABLE "AuditEvent" ALTER COLUMN "txid" SET DEFAULT (pg_current_xact_id())::text::bigint;

-- CreateTable
CREATE TABLE "AuditChainLink" (
    "position" BIGINT NOT NULL,
    "eventSeq" BIGINT NOT NULL,
    "prevHash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "watermark" BIGINT NOT NULL,

    CONSTRAINT "AuditChainLink_pkey" PRIMARY KEY ("position")
);

-- CreateIndex
CREATE UNIQUE INDEX "AuditChainLink_eventSeq_key" ON "AuditChainLink"("eventSeq");

-- CreateIndex
CREATE UNIQUE INDEX "AuditChainLink_hash_key" ON "AuditChainLink"("hash");

-- CreateIndex
CREATE INDEX "AuditEvent_txid_idx" ON "AuditEvent"("txid");

-- AddForeignKey
ALTER TABLE "AuditChainLink" ADD CONSTRAINT "AuditChainLink_eventSeq_fkey" FOREIGN KEY ("eventSeq") REFERENCES "AuditEvent"("seq") ON DELETE RESTRICT ON UPDATE RESTRICT;

-- The existing chain, link for link, with the hashes it already has: a head hash recorded
-- earlier for `sesame audit verify --known-hash` stays valid. Watermark 1: every event with
-- txid 0 (all of them) is linked.
INSERT INTO "AuditChainLink" ("position", "eventSeq", "prevHash", "hash", "watermark")
SELECT row_number() OVER (ORDER BY "seq"), "seq", "prevHash", "hash", 1 FROM "AuditEvent" ORDER BY "seq";

-- The chain is append-only too. The function now names the table it guards.
CREATE OR REPLACE FUNCTION "sesame_audit_append_only"() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER "AuditChainLink_no_update_delete" BEFORE UPDATE OR DELETE ON "AuditChainLink"
  FOR EACH ROW EXECUTE FUNCTION "sesame_audit_append_only"();
CREATE TRIGGER "AuditChainLink_no_truncate" BEFORE TRUNCATE ON "AuditChainLink"
  FOR EACH STATEMENT EXECUTE FUNCTION "sesame_audit_append_only"();
