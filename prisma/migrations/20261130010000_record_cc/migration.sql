-- Records name their Cc recipients beside To (one comma-separated text, '' when none); rows stored
-- before this change had no Cc.
ALTER TABLE "source_records" ADD COLUMN "cc_addr" TEXT NOT NULL DEFAULT '';
