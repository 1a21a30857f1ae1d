-- Records name their Cc recipients beside To (one comma-separated text, '' when none); rows stored
-- before this change had no Cc.
ALTER TABLE "source_records" ADD COLUMN "cc_addr" TEXT NOT NULL DEFAULT '';

-- GET /v1/workspaces/:id/records pages a workspace's records by seq across all sources.
CREATE INDEX "source_records_workspace_id_seq_idx" ON "source_records"("workspace_id", "seq");
