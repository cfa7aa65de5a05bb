-- CreateTable
CREATE TABLE "ActionRun" (
    "id" TEXT NOT NULL,
    "requestId" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "claimedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "sealedResult" TEXT,
    "resultSha256" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ActionRun_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "ActionRun_status_check" CHECK ("status" IN ('queued', 'running', 'succeeded', 'failed', 'unknown'))
);

-- CreateIndex
CREATE UNIQUE INDEX "ActionRun_requestId_key" ON "ActionRun"("requestId");

-- CreateIndex
CREATE INDEX "ActionRun_status_claimedAt_idx" ON "ActionRun"("status", "claimedAt");

-- AddForeignKey
ALTER TABLE "ActionRun" ADD CONSTRAINT "ActionRun_requestId_fkey" FOREIGN KEY ("requestId") REFERENCES "AccessRequest"("id") ON DELETE CASCADE ON UPDATE CASCADE;
