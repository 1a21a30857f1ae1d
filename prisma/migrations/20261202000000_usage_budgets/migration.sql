-- Usage, cost and budgets (issue 16). Tokens as the provider reported them, the model, and the cost
-- the price table gave at the time (micro-USD: USD per million tokens times tokens is micro-USD).

ALTER TABLE "key_usage"
    ADD COLUMN "model" TEXT NOT NULL DEFAULT '',
    ADD COLUMN "input_tokens" BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN "output_tokens" BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN "cost_micro_usd" BIGINT NOT NULL DEFAULT 0;

-- The daily rollup per tenant, updated in the transaction that inserts the key_usage row, so the usage
-- API and the budget checks read at most (days x providers x models) rows, never every call batch.
CREATE TABLE "usage_daily" (
    "tenant_id" UUID NOT NULL,
    "day" DATE NOT NULL,
    "provider" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "key_source" TEXT NOT NULL,
    "calls" BIGINT NOT NULL DEFAULT 0,
    "input_tokens" BIGINT NOT NULL DEFAULT 0,
    "output_tokens" BIGINT NOT NULL DEFAULT 0,
    "cost_micro_usd" BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT "usage_daily_pkey" PRIMARY KEY ("tenant_id", "day", "provider", "model", "key_source")
);

-- groupBy=job reads a tenant's batches in a date range
CREATE INDEX "key_usage_tenant_id_created_at_job_id_idx" ON "key_usage"("tenant_id", "created_at", "job_id");

-- One budget per tenant. A limit in USD is kept in micro-USD; either it or the token limit is set.
CREATE TABLE "tenant_budgets" (
    "tenant_id" UUID NOT NULL,
    "monthly_limit_micro_usd" BIGINT,
    "monthly_limit_tokens" BIGINT,
    "mode" TEXT NOT NULL,
    "per_job_limit_micro_usd" BIGINT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "tenant_budgets_pkey" PRIMARY KEY ("tenant_id"),
    CONSTRAINT "tenant_budgets_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "tenant_budgets_mode" CHECK ("mode" IN ('alert', 'hard')),
    CONSTRAINT "tenant_budgets_one_limit" CHECK (("monthly_limit_micro_usd" IS NULL) <> ("monthly_limit_tokens" IS NULL))
);

-- What running backfill pages hold of a tenant's month before they commit; deleted by the page's
-- commit (its actual cost is then in usage_daily), or ignored once expired (a crashed run).
CREATE TABLE "budget_reservations" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "period" TEXT NOT NULL,
    "job_id" UUID NOT NULL,
    "micro_usd" BIGINT NOT NULL,
    "tokens" BIGINT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "budget_reservations_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "budget_reservations_tenant_id_period_idx" ON "budget_reservations"("tenant_id", "period");
CREATE INDEX "budget_reservations_job_id_idx" ON "budget_reservations"("job_id");

-- A threshold (80, 100 percent) crossed once per tenant per period (YYYY-MM, UTC): insert-once.
CREATE TABLE "budget_thresholds" (
    "tenant_id" UUID NOT NULL,
    "period" TEXT NOT NULL,
    "threshold" INTEGER NOT NULL,
    "crossed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "spent_micro_usd" BIGINT NOT NULL,
    "spent_tokens" BIGINT NOT NULL,
    CONSTRAINT "budget_thresholds_pkey" PRIMARY KEY ("tenant_id", "period", "threshold")
);
