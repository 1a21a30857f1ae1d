-- CreateEnum
CREATE TYPE "plan_type" AS ENUM ('free', 'team', 'enterprise');

-- CreateEnum
CREATE TYPE "ai_key_mode" AS ENUM ('byok', 'managed');

-- CreateEnum
CREATE TYPE "validation_status" AS ENUM ('unknown', 'valid', 'invalid');

-- CreateTable
CREATE TABLE "tenants" (
    "id" UUID NOT NULL,
    "subdomain" TEXT NOT NULL,
    "plan_type" "plan_type" NOT NULL,
    "ai_key_mode" "ai_key_mode" NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tenants_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "workspaces" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "workspaces_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tenant_settings" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "setting_key" TEXT NOT NULL,
    "is_secret" BOOLEAN NOT NULL,
    "value" TEXT,
    "ciphertext" BYTEA,
    "iv" BYTEA,
    "auth_tag" BYTEA,
    "key_version" TEXT,
    "fingerprint" TEXT,
    "last4" TEXT,
    "validation_status" "validation_status" NOT NULL DEFAULT 'unknown',
    "validated_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tenant_settings_pkey" PRIMARY KEY ("id"),
    -- a secret row can never carry a plaintext value; a plain row never carries cipher fields
    CONSTRAINT "tenant_settings_secret_shape" CHECK (
        ("is_secret" AND "value" IS NULL AND "ciphertext" IS NOT NULL AND "iv" IS NOT NULL
            AND "auth_tag" IS NOT NULL AND "key_version" IS NOT NULL AND "fingerprint" IS NOT NULL)
        OR
        (NOT "is_secret" AND "value" IS NOT NULL AND "ciphertext" IS NULL AND "iv" IS NULL
            AND "auth_tag" IS NULL AND "key_version" IS NULL)
    )
);

-- CreateTable
CREATE TABLE "tenant_tokens" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "token_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "tenant_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "tenants_subdomain_key" ON "tenants"("subdomain");

-- CreateIndex
CREATE INDEX "workspaces_tenant_id_idx" ON "workspaces"("tenant_id");

-- CreateIndex
CREATE INDEX "tenant_settings_key_version_idx" ON "tenant_settings"("key_version");

-- CreateIndex
CREATE UNIQUE INDEX "tenant_settings_tenant_id_setting_key_key" ON "tenant_settings"("tenant_id", "setting_key");

-- CreateIndex
CREATE UNIQUE INDEX "tenant_tokens_token_hash_key" ON "tenant_tokens"("token_hash");

-- CreateIndex
CREATE INDEX "tenant_tokens_tenant_id_idx" ON "tenant_tokens"("tenant_id");

-- AddForeignKey
ALTER TABLE "workspaces" ADD CONSTRAINT "workspaces_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tenant_settings" ADD CONSTRAINT "tenant_settings_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tenant_tokens" ADD CONSTRAINT "tenant_tokens_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
