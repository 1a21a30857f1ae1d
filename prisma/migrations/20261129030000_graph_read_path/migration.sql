-- Graph read path: counts kept with the entity, a version for caching, and an index for every read.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- mention counts are maintained by the page transaction (GraphRepository.applyPage), never counted per request
ALTER TABLE "entities" ADD COLUMN "mention_count" INTEGER NOT NULL DEFAULT 0;
UPDATE "entities" e SET "mention_count" = c.n
  FROM (SELECT "entity_id", count(*)::int AS n FROM "entity_mentions" GROUP BY "entity_id") c
 WHERE c."entity_id" = e."id";

-- bumped by every page transaction that writes a workspace's graph: cached graph pages are keyed by it
ALTER TABLE "workspaces" ADD COLUMN "graph_version" BIGINT NOT NULL DEFAULT 0;

-- a mention carries its record's sent_at, so an entity's oldest mentions come from an index, not a sort of all of them
ALTER TABLE "entity_mentions" ADD COLUMN "sent_at" TIMESTAMPTZ(3);
UPDATE "entity_mentions" m SET "sent_at" = r."sent_at" FROM "source_records" r WHERE r."id" = m."record_id";
ALTER TABLE "entity_mentions" ALTER COLUMN "sent_at" SET NOT NULL;
CREATE INDEX "entity_mentions_entity_id_sent_at_record_id_idx" ON "entity_mentions"("entity_id", "sent_at", "record_id");

-- keyset pages, with and without a type filter; the type index supersedes (workspace_id, type)
CREATE INDEX "entities_workspace_id_normalized_name_id_idx" ON "entities"("workspace_id", "normalized_name", "id");
CREATE INDEX "entities_workspace_id_type_normalized_name_id_idx" ON "entities"("workspace_id", "type", "normalized_name", "id");
DROP INDEX "entities_workspace_id_type_idx";

-- name-fragment search (LIKE '%fragment%')
CREATE INDEX "entities_normalized_name_trgm_idx" ON "entities" USING GIN ("normalized_name" gin_trgm_ops);

-- relationships by target; by source the unique (workspace_id, source_entity_id, target_entity_id) serves
CREATE INDEX "relationships_workspace_id_target_entity_id_idx" ON "relationships"("workspace_id", "target_entity_id");
