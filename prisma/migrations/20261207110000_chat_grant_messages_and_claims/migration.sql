-- CreateTable
CREATE TABLE "ChatGrantMessage" (
    "id" TEXT NOT NULL,
    "platform" TEXT NOT NULL,
    "grantId" TEXT NOT NULL,
    "jobKey" TEXT NOT NULL,
    "address" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ChatGrantMessage_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ChatDeliveryClaim" (
    "key" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ChatDeliveryClaim_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "ChatGrantMessage_grantId_idx" ON "ChatGrantMessage"("grantId");

-- CreateIndex
CREATE UNIQUE INDEX "ChatGrantMessage_platform_jobKey_key" ON "ChatGrantMessage"("platform", "jobKey");

