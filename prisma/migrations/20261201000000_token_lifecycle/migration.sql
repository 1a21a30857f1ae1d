-- Tenant tokens get a lifecycle: a name, a scope (admin manages tokens and settings and writes; read
-- only reads), an expiry and a display prefix (the first characters of the token, shown in lists so a
-- user can tell tokens apart; 48 of its 256 random bits, the rest stays secret).

CREATE TYPE "token_scope" AS ENUM ('admin', 'read');

ALTER TABLE "tenant_tokens"
    ADD COLUMN "name" TEXT NOT NULL DEFAULT 'token',
    ADD COLUMN "scope" "token_scope" NOT NULL DEFAULT 'admin',
    ADD COLUMN "prefix" TEXT,
    -- tokens minted before expiry existed get the default lifetime from now, not from their creation,
    -- so an upgrade does not lock out a running deployment at once
    ADD COLUMN "expires_at" TIMESTAMPTZ(3) NOT NULL DEFAULT (CURRENT_TIMESTAMP + INTERVAL '90 days');

ALTER TABLE "tenant_tokens" ALTER COLUMN "name" DROP DEFAULT;
ALTER TABLE "tenant_tokens" ALTER COLUMN "expires_at" DROP DEFAULT;
ALTER TABLE "tenant_tokens" ADD CONSTRAINT "tenant_tokens_name_length" CHECK (char_length("name") BETWEEN 1 AND 100);
ALTER TABLE "tenant_tokens" ADD CONSTRAINT "tenant_tokens_expiry_after_creation" CHECK ("expires_at" > "created_at");

-- the list route shows a tenant's tokens newest first
CREATE INDEX "tenant_tokens_tenant_id_created_at_idx" ON "tenant_tokens"("tenant_id", "created_at" DESC);
DROP INDEX IF EXISTS "tenant_tokens_tenant_id_idx";
