-- AlterTable
ALTER TABLE "ChatIntake" ADD COLUMN     "runningBy" TEXT,
ADD COLUMN     "runningUntil" TIMESTAMP(3);

