-- AlterTable
ALTER TABLE "AccessRequest" ADD COLUMN     "awaitingIds" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "viewerIds" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- Backfill: who sees each existing request, and who a pending one waits for (src/domain/visibility.ts).
UPDATE "AccessRequest" r SET
  "viewerIds" = ARRAY(
    SELECT DISTINCT person FROM (
      SELECT r."requesterId" AS person
      UNION ALL
      SELECT jsonb_array_elements_text(step->'approverIds') FROM jsonb_array_elements(r."policySnapshot"->'steps') AS step
    ) AS people ORDER BY person),
  "awaitingIds" = CASE WHEN r.status = 'pending'
    THEN ARRAY(SELECT jsonb_array_elements_text(r."policySnapshot"->'steps'->r."currentStep"->'approverIds'))
    ELSE ARRAY[]::TEXT[] END;

-- CreateIndex
CREATE INDEX "AccessRequest_createdAt_idx" ON "AccessRequest"("createdAt");

-- CreateIndex
CREATE INDEX "AccessRequest_viewerIds_idx" ON "AccessRequest" USING GIN ("viewerIds");

-- CreateIndex
CREATE INDEX "AccessRequest_awaitingIds_idx" ON "AccessRequest" USING GIN ("awaitingIds");

-- CreateIndex
CREATE INDEX "Grant_createdAt_idx" ON "Grant"("createdAt");

-- CreateIndex
CREATE INDEX "Grant_subjectId_createdAt_idx" ON "Grant"("subjectId", "createdAt");

