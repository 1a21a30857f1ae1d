-- Record-specific failures: a backfill stores the records it could not extract and goes on.
ALTER TABLE "backfills" ADD COLUMN "records_failed" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN "items_dropped" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN "retry_of_id" UUID;

-- CreateTable
CREATE TABLE "backfill_record_failures" (
    "id" UUID NOT NULL,
    "backfill_id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "record_id" UUID NOT NULL,
    "record_seq" BIGINT NOT NULL,
    "code" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "finish_reason" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "backfill_record_failures_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "backfill_record_failures_backfill_id_record_id_key" ON "backfill_record_failures"("backfill_id", "record_id");

-- CreateIndex
CREATE INDEX "backfill_record_failures_backfill_id_record_seq_idx" ON "backfill_record_failures"("backfill_id", "record_seq");

-- AddForeignKey
ALTER TABLE "backfills" ADD CONSTRAINT "backfills_retry_of_id_fkey" FOREIGN KEY ("retry_of_id") REFERENCES "backfills"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "backfill_record_failures" ADD CONSTRAINT "backfill_record_failures_backfill_id_fkey" FOREIGN KEY ("backfill_id") REFERENCES "backfills"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "backfill_record_failures" ADD CONSTRAINT "backfill_record_failures_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "backfill_record_failures" ADD CONSTRAINT "backfill_record_failures_record_id_fkey" FOREIGN KEY ("record_id") REFERENCES "source_records"("id") ON DELETE CASCADE ON UPDATE CASCADE;
