-- CreateEnum
CREATE TYPE "sync_job_status" AS ENUM ('queued', 'preflight', 'running', 'succeeded', 'failed', 'cancelled');

-- CreateTable
CREATE TABLE "source_records" (
    "id" UUID NOT NULL,
    "seq" BIGSERIAL NOT NULL,
    "workspace_id" UUID NOT NULL,
    "source" TEXT NOT NULL,
    "external_id" TEXT NOT NULL,
    "from_addr" TEXT NOT NULL,
    "to_addr" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "sent_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "source_records_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sync_jobs" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "source" TEXT NOT NULL,
    "status" "sync_job_status" NOT NULL DEFAULT 'queued',
    "failure_code" TEXT,
    "failure_message" TEXT,
    "cursor" TEXT,
    "records_fetched" INTEGER NOT NULL DEFAULT 0,
    "records_processed" INTEGER NOT NULL DEFAULT 0,
    "entities" INTEGER NOT NULL DEFAULT 0,
    "relationships" INTEGER NOT NULL DEFAULT 0,
    "provider" TEXT,
    "key_source" TEXT,
    "key_fingerprint" TEXT,
    "key_last4" TEXT,
    "cancel_requested" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sync_jobs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "entities" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "normalized_name" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "entities_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "relationships" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "source_entity_id" UUID NOT NULL,
    "target_entity_id" UUID NOT NULL,
    "description" TEXT NOT NULL,
    "strength" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "relationships_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "entity_mentions" (
    "entity_id" UUID NOT NULL,
    "record_id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "entity_mentions_pkey" PRIMARY KEY ("entity_id","record_id")
);

-- CreateTable
CREATE TABLE "key_usage" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "job_id" UUID NOT NULL,
    "job_kind" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "key_source" TEXT NOT NULL,
    "key_fingerprint" TEXT NOT NULL,
    "calls" INTEGER NOT NULL,
    "outcome" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "key_usage_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "source_records_seq_key" ON "source_records"("seq");

-- CreateIndex
CREATE INDEX "source_records_workspace_id_source_seq_idx" ON "source_records"("workspace_id", "source", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "source_records_workspace_id_source_external_id_key" ON "source_records"("workspace_id", "source", "external_id");

-- CreateIndex
CREATE INDEX "sync_jobs_workspace_id_created_at_idx" ON "sync_jobs"("workspace_id", "created_at");

-- One active backfill per workspace (not expressible in schema.prisma)
CREATE UNIQUE INDEX "sync_jobs_one_active_per_workspace" ON "sync_jobs"("workspace_id") WHERE "status" IN ('queued', 'preflight', 'running');

-- CreateIndex
CREATE INDEX "entities_workspace_id_type_idx" ON "entities"("workspace_id", "type");

-- CreateIndex
CREATE UNIQUE INDEX "entities_workspace_id_normalized_name_type_key" ON "entities"("workspace_id", "normalized_name", "type");

-- CreateIndex
CREATE UNIQUE INDEX "relationships_workspace_id_source_entity_id_target_entity_id_key" ON "relationships"("workspace_id", "source_entity_id", "target_entity_id");

-- CreateIndex
CREATE INDEX "entity_mentions_record_id_idx" ON "entity_mentions"("record_id");

-- CreateIndex
CREATE INDEX "key_usage_tenant_id_created_at_idx" ON "key_usage"("tenant_id", "created_at");

-- CreateIndex
CREATE INDEX "key_usage_job_id_idx" ON "key_usage"("job_id");

-- AddForeignKey
ALTER TABLE "source_records" ADD CONSTRAINT "source_records_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sync_jobs" ADD CONSTRAINT "sync_jobs_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "entities" ADD CONSTRAINT "entities_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "relationships" ADD CONSTRAINT "relationships_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "relationships" ADD CONSTRAINT "relationships_source_entity_id_fkey" FOREIGN KEY ("source_entity_id") REFERENCES "entities"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "relationships" ADD CONSTRAINT "relationships_target_entity_id_fkey" FOREIGN KEY ("target_entity_id") REFERENCES "entities"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "entity_mentions" ADD CONSTRAINT "entity_mentions_entity_id_fkey" FOREIGN KEY ("entity_id") REFERENCES "entities"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "entity_mentions" ADD CONSTRAINT "entity_mentions_record_id_fkey" FOREIGN KEY ("record_id") REFERENCES "source_records"("id") ON DELETE CASCADE ON UPDATE CASCADE;
