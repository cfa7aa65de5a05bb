-- AlterTable
ALTER TABLE "AccessRequest" ADD COLUMN     "breakGlass" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "escalationLog" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN     "reviewNote" TEXT,
ADD COLUMN     "reviewedAt" TIMESTAMP(3),
ADD COLUMN     "reviewedById" TEXT;

-- CreateIndex
CREATE INDEX "AccessRequest_breakGlass_reviewedAt_idx" ON "AccessRequest"("breakGlass", "reviewedAt");

