/**
 * The dependency rules of ../shared/DESIGN.md ("Layout"), checked by `npm run lint:deps` (part of
 * `npm test`). Change this file and DESIGN.md together, never one alone.
 * Paths are relative to the repository root; `#libs/<name>` resolves to libs/<name>/src.
 */
const DOMAIN = '(tenancy|byok|llm|tenant-llm|usage|graphrag|records|mailbox|backfill|ai-jobs|deletion|webhooks)';
const TEST_FILE = '\\.(spec|e2e-spec)\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'llm-is-provider-only',
      comment:
        'libs/llm is handed a key, base URLs, a timeout, the egress policy and a call observer; it never looks a key up, sees the configuration (master or platform keys) or knows where its calls are counted.',
      severity: 'error',
      from: { path: '^libs/llm/' },
      to: {
        path: '^libs/(tenancy|byok|database|backfill|records|mailbox|graphrag|ai-jobs|deletion|tenant-llm|usage|webhooks|config|redis|queue|infrastructure|metrics)/',
      },
    },
    {
      name: 'byok-never-calls-providers',
      comment: 'Key storage and policy do not call providers: key validation lives above both, in libs/tenant-llm.',
      severity: 'error',
      from: { path: '^libs/byok/' },
      to: { path: '^libs/(llm|tenant-llm)/' },
    },
    {
      name: 'tenancy-below-byok',
      comment: 'Tenancy knows nothing of keys.',
      severity: 'error',
      from: { path: '^libs/tenancy/' },
      to: { path: '^libs/(byok|llm|tenant-llm|webhooks)/' },
    },
    {
      name: 'webhooks-below-jobs',
      comment:
        'Events are published into libs/webhooks (in the transaction of the change they announce); it never reaches into the domains that publish them.',
      severity: 'error',
      // its tests excepted: they prove that the publishers write their events in their transactions
      from: { path: '^libs/webhooks/', pathNot: TEST_FILE },
      to: { path: '^libs/(llm|tenant-llm|graphrag|records|mailbox|backfill|ai-jobs|deletion)/' },
    },
    {
      name: 'mailbox-is-a-record-source',
      comment:
        "libs/mailbox reads a workspace's mailbox into its records (sealed credentials, the egress guard, the mail parser); it never calls a provider or runs a job: backfills use it, never the other way round.",
      severity: 'error',
      from: { path: '^libs/mailbox/' },
      to: { path: '^libs/(llm|tenant-llm|usage|graphrag|backfill|ai-jobs|deletion|webhooks)/' },
    },
    {
      name: 'egress-is-transport-only',
      comment: 'libs/egress checks and sends outbound HTTP to URLs tenants supplied; it knows no tenant, table, queue or secret.',
      severity: 'error',
      from: { path: '^libs/egress/' },
      to: { path: '^libs/(?!(common|config|egress)/)' },
    },
    {
      name: 'queue-imports-no-domain-lib',
      comment:
        'Job names, payloads and the job runtime are shared by every process; domain libs register their handlers with it, never the other way round.',
      severity: 'error',
      from: { path: '^libs/queue/' },
      to: { path: `^libs/${DOMAIN}/` },
    },
    {
      name: 'foundations-import-no-domain-lib',
      comment: 'common, config, database, redis, logging, metrics, infrastructure and egress sit below every domain lib.',
      severity: 'error',
      from: { path: '^libs/(common|config|database|redis|logging|metrics|infrastructure|egress)/' },
      to: { path: `^libs/${DOMAIN}/` },
    },
    {
      name: 'lib-never-imports-app',
      comment: 'Apps are thin wiring over the libs; a lib never depends on one.',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'apps-never-import-each-other',
      comment: 'The API and the worker meet only through the queue; tests start the other app as a process or through the libs.',
      severity: 'error',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/', pathNot: '^apps/$1/' },
    },
    {
      name: 'testing-only-in-tests',
      comment: 'The simulator, factories and test databases never ship in production code.',
      severity: 'error',
      from: { pathNot: [TEST_FILE, '^libs/testing/', '^apps/[^/]+/test/', '^bench/', '^scripts/(simulator|mailbox)\\.ts$'] },
      to: { path: '^libs/testing/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that resolves to nothing would slip past every rule above.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-circular',
      comment: 'A cycle between modules hides which one is the lower layer.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules|libs/database/src/generated)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['source', 'import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
    },
  },
};
