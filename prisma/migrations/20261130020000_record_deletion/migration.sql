-- Deletion: a record's tombstone, a workspace marked deleted at once and emptied by a job, and
-- backfills of every source.

-- A deleted record's identity, never its content: ingest and backfills skip it until the client lifts it.
CREATE TABLE "record_tombstones" (
    "workspace_id" UUID NOT NULL,
    "source" TEXT NOT NULL,
    "external_id" TEXT NOT NULL,
    "deleted_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "record_tombstones_pkey" PRIMARY KEY ("workspace_id", "source", "external_id"),
    CONSTRAINT "record_tombstones_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- set when the workspace's deletion is asked for: from then on it reads as not found and no page commits to it
ALTER TABLE "workspaces" ADD COLUMN "deleted_at" TIMESTAMPTZ(3);

CREATE TYPE "workspace_deletion_status" AS ENUM ('queued', 'running', 'succeeded', 'failed');

-- The job that empties a deleted workspace in batches. No foreign key to the workspace: the row
-- outlives it, so the caller can watch the job end.
CREATE TABLE "workspace_deletions" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "status" "workspace_deletion_status" NOT NULL DEFAULT 'queued',
    "deleted" JSONB NOT NULL DEFAULT '{}',
    "requeues" INTEGER NOT NULL DEFAULT 0,
    "failure_code" TEXT,
    "failure_message" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "workspace_deletions_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "workspace_deletions_workspace_id_idx" ON "workspace_deletions"("workspace_id");
CREATE UNIQUE INDEX "workspace_deletions_one_active_per_workspace" ON "workspace_deletions"("workspace_id") WHERE "status" IN ('queued', 'running');
CREATE INDEX "workspace_deletions_status_idx" ON "workspace_deletions"("status") WHERE "status" IN ('queued', 'running');

-- a backfill of every source pages through the workspace's records by seq alone
CREATE INDEX "source_records_workspace_id_seq_idx" ON "source_records"("workspace_id", "seq");
