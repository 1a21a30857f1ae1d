-- One name per concept: a backfill's row lives in "backfills" (it was "sync_jobs"). Renames keep
-- every row, index and constraint; Prisma's default names follow the table's new name.
ALTER TYPE "sync_job_status" RENAME TO "backfill_status";

ALTER TABLE "sync_jobs" RENAME TO "backfills";
ALTER TABLE "backfills" RENAME CONSTRAINT "sync_jobs_pkey" TO "backfills_pkey";
ALTER TABLE "backfills" RENAME CONSTRAINT "sync_jobs_workspace_id_fkey" TO "backfills_workspace_id_fkey";
ALTER INDEX "sync_jobs_workspace_id_created_at_idx" RENAME TO "backfills_workspace_id_created_at_idx";
ALTER INDEX "sync_jobs_one_active_per_workspace" RENAME TO "backfills_one_active_per_workspace";
