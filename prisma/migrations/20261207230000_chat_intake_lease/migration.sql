-- AlterTable
ALTER TABLE "ChatIntake" ADD COLUMN     "runningUntil" TIMESTAMP(3);

