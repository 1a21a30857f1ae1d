-- A workspace's mailbox (issue 18): where a backfill from IMAP fetches its history. The secret (a
-- password or an OAuth2 access token) is AES-256-GCM as provider keys are (AAD: tenant, the
-- workspace's mailbox setting, master key version); only its last four and fingerprint are shown.

CREATE TABLE "imap_sources" (
    "workspace_id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "host" TEXT NOT NULL,
    "port" INTEGER NOT NULL,
    -- implicit (TLS from the first byte, 993), starttls (143), none (plain text; an operator setting allows it)
    "tls_mode" TEXT NOT NULL,
    "username" TEXT NOT NULL,
    -- password (LOGIN / AUTH=PLAIN) or xoauth2 (an OAuth2 access token, SASL XOAUTH2)
    "auth_method" TEXT NOT NULL,
    "secret_ciphertext" BYTEA NOT NULL,
    "secret_iv" BYTEA NOT NULL,
    "secret_auth_tag" BYTEA NOT NULL,
    "secret_key_version" TEXT NOT NULL,
    "secret_fingerprint" TEXT NOT NULL,
    "secret_last4" TEXT,
    "folders" TEXT[] NOT NULL DEFAULT ARRAY['INBOX']::TEXT[],
    -- only messages on or after this day (IMAP SEARCH SINCE, RFC 3501 6.4.4)
    "since" DATE,
    -- unknown until tested or used; invalid after a refused login (a backfill then fails at once)
    "status" TEXT NOT NULL DEFAULT 'unknown',
    "status_code" TEXT,
    "checked_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "imap_sources_pkey" PRIMARY KEY ("workspace_id"),
    CONSTRAINT "imap_sources_tls_mode" CHECK ("tls_mode" IN ('implicit', 'starttls', 'none')),
    CONSTRAINT "imap_sources_auth_method" CHECK ("auth_method" IN ('password', 'xoauth2')),
    CONSTRAINT "imap_sources_status" CHECK ("status" IN ('unknown', 'valid', 'invalid')),
    CONSTRAINT "imap_sources_port" CHECK ("port" BETWEEN 1 AND 65535),
    CONSTRAINT "imap_sources_folders" CHECK (cardinality("folders") BETWEEN 1 AND 50)
);
ALTER TABLE "imap_sources" ADD CONSTRAINT "imap_sources_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "imap_sources" ADD CONSTRAINT "imap_sources_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
CREATE INDEX "imap_sources_tenant_id_idx" ON "imap_sources"("tenant_id");
CREATE INDEX "imap_sources_secret_key_version_idx" ON "imap_sources"("secret_key_version");

-- A mailbox's credentials are its owner's: when the workspace moves to another tenant, its mailbox
-- is dropped in the same transaction (the new owner connects its own; the secret's additional data
-- names the old owner and would not open for the new one anyway).
CREATE FUNCTION "imap_sources_drop_on_transfer"() RETURNS trigger AS $$
BEGIN
  IF NEW."tenant_id" IS DISTINCT FROM OLD."tenant_id" THEN
    DELETE FROM "imap_sources" WHERE "workspace_id" = NEW."id";
  END IF;
  RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER "workspaces_transfer_drops_mailbox" AFTER UPDATE OF "tenant_id" ON "workspaces"
  FOR EACH ROW EXECUTE FUNCTION "imap_sources_drop_on_transfer"();
