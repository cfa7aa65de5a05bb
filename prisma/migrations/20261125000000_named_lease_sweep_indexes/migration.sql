-- DropIndex
DROP INDEX "Grant_status_expiresAt_idx";

-- CreateTable
CREATE TABLE "NamedLease" (
    "name" TEXT NOT NULL,
    "owner" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "NamedLease_pkey" PRIMARY KEY ("name")
);

-- CreateIndex
CREATE INDEX "Grant_status_expiresAt_id_idx" ON "Grant"("status", "expiresAt", "id");

-- CreateIndex
CREATE INDEX "Grant_status_updatedAt_idx" ON "Grant"("status", "updatedAt");

