-- Fencing: the run that holds a backfill writes its lease token here when it claims the job; a page
-- commits only while the row still carries that token (and the workspace still belongs to the job's tenant).
ALTER TABLE "backfills" ADD COLUMN "lease_token" UUID;

-- Resume: a backfill started after a failed or cancelled one continues from that one's checkpoint.
ALTER TABLE "backfills" ADD COLUMN "resumed_from_id" UUID;
ALTER TABLE "backfills" ADD CONSTRAINT "backfills_resumed_from_id_fkey"
  FOREIGN KEY ("resumed_from_id") REFERENCES "backfills"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- The reconciler looks for rows that are not terminal, in every workspace, at every pass.
CREATE INDEX "backfills_status_idx" ON "backfills" ("status") WHERE "status" IN ('queued', 'preflight', 'running');
CREATE INDEX "ai_jobs_status_idx" ON "ai_jobs" ("status") WHERE "status" IN ('queued', 'running');
