-- The audit log: who changed a tenant's keys, tokens, workspace ownership or key mode, when and from
-- where. Never a key: a secret appears only as its fingerprint (HMAC) and last4. Append-only.

CREATE TYPE "audit_actor_kind" AS ENUM ('platform', 'tenant_token');

-- No foreign key to tenants or tokens: the trail outlives what it describes.
CREATE TABLE "audit_events" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor_kind" "audit_actor_kind" NOT NULL,
    "actor_token_id" UUID,
    "actor_label" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "setting_key" TEXT,
    "fingerprint_before" TEXT,
    "last4_before" TEXT,
    "fingerprint_after" TEXT,
    "last4_after" TEXT,
    "client_address" TEXT,
    "user_agent" VARCHAR(256),
    "details" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
);
-- keyset pagination, newest first: (occurred_at, id) descending within a tenant
CREATE INDEX "audit_events_tenant_id_occurred_at_id_idx" ON "audit_events"("tenant_id", "occurred_at" DESC, "id" DESC);

-- Append-only: rows are written once and never changed or removed, whoever asks.
CREATE FUNCTION "audit_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER "audit_events_append_only"
    BEFORE UPDATE OR DELETE ON "audit_events"
    FOR EACH ROW EXECUTE FUNCTION "audit_events_append_only"();
