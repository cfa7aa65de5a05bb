-- CreateTable
CREATE TABLE "EntitlementLease" (
    "key" TEXT NOT NULL,
    "grantId" TEXT NOT NULL,
    "operation" TEXT NOT NULL,
    "owner" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "EntitlementLease_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "EntitlementLease_grantId_idx" ON "EntitlementLease"("grantId");

-- CreateIndex
CREATE INDEX "EntitlementLease_owner_idx" ON "EntitlementLease"("owner");
