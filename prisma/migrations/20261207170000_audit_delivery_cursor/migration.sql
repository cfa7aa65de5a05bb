-- CreateTable
CREATE TABLE "AuditDeliveryCursor" (
    "sink" TEXT NOT NULL,
    "position" BIGINT NOT NULL,
    "deliveredAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "AuditDeliveryCursor_pkey" PRIMARY KEY ("sink")
);

