import { randomBytes } from 'node:crypto';
import { expect } from '@jest/globals';
import { PrismaService } from '#libs/database';
import type { ApiHarness, HttpResult, JobStarted, RequestOptions } from './api-harness.js';
import { type Actor, TENANTS, type TenantName } from './isolation-model.js';

/** Every mailbox's secret in the world: no answer may carry it. */
const MAILBOX_SECRET = `imap-secret-${randomBytes(12).toString('hex')}`;

/**
 * The world the isolation property runs in, built once through the API as the platform admin (and
 * Prisma for what no route does: an expired token, graph entities, a record failure, a tombstone):
 * four tenants, each with workspaces holding records, a tombstone and an entity, a queued and a
 * cancelled backfill, an AI job, a deleted workspace with its deletion job, tokens of every kind
 * and a webhook endpoint. No worker runs, so every job stays as set up. Tenant `former` moved one of its workspaces
 * (with its records, an entity and its own backfill) to tenant `a`.
 *
 * It also remembers which tenant may see each id, name and token it made, so any answer can be
 * searched for another tenant's.
 */

/** A workspace as the world made it: its entity, a record it holds and a record it deleted. */
export interface WorldWorkspace {
  id: string;
  deleted: boolean;
  entityId: string;
  keptRecord: string;
  deletedRecord: string;
}

/** A tenant's share of the world; `tokenIds` are all its tokens, working or not. */
export interface WorldTenant {
  name: TenantName;
  id: string;
  workspaces: WorldWorkspace[];
  backfills: string[];
  aiJobs: string[];
  deletions: string[];
  tokenIds: string[];
  webhookIds: string[];
}

/** The actors of every tenant: `vault` has no admin token, `former` no dead ones. */
const TOKEN_KINDS: Readonly<Record<TenantName, readonly Actor['kind'][]>> = {
  a: ['admin', 'read', 'expired', 'revoked', 'rotated'],
  b: ['admin', 'read', 'expired', 'revoked', 'rotated'],
  former: ['admin', 'read'],
  vault: ['read', 'expired', 'revoked'],
};

// the offline-refused placeholder shape (libs/llm placeholder-keys): validating it calls no provider
const PLACEHOLDER_KEY = `sk-${'x'.repeat(40)}`;
const DAY_MS = 86_400_000;

export class IsolationWorld {
  readonly tenants = {} as Record<TenantName, WorldTenant>;
  readonly actors: Actor[] = [];
  /** A tenant outside the world that transfers move fresh workspaces to. */
  sinkTenantId = '';
  private readonly credentials = new Map<string, Pick<RequestOptions, 'token' | 'headers'>>();
  // every id, name and token the world made -> the tenants that may see it (token secrets: nobody)
  private readonly visibleTo = new Map<string, Set<TenantName>>();

  private constructor(
    private readonly api: ApiHarness,
    private readonly prisma: PrismaService,
  ) {}

  /** Builds the world in the API's database (a few seconds: some hundred requests). */
  static async build(api: ApiHarness): Promise<IsolationWorld> {
    const world = new IsolationWorld(api, api.app.get(PrismaService));
    await world.setUp();
    return world;
  }

  /** How `actor` authenticates, for `ApiHarness.request`. */
  credentialsOf(actor: Actor): Pick<RequestOptions, 'token' | 'headers'> {
    return this.credentials.get(actor.name)!;
  }

  /**
   * The strings in `text` that `viewer` may not see (null: nobody's), unless the request itself
   * named them (a 404 may quote the id it was asked for).
   */
  leaks(text: string, viewer: TenantName | null, request: string): string[] {
    const found: string[] = [];
    for (const [value, tenants] of this.visibleTo) {
      if ((viewer === null || !tenants.has(viewer)) && text.includes(value) && !request.includes(value)) found.push(value);
    }
    return found;
  }

  // ---- disposable resources for allowed writes that would otherwise use the world up ----

  /** A new empty workspace of the tenant: its id. */
  async freshWorkspace(tenant: TenantName, options: { mailbox?: boolean } = {}): Promise<string> {
    const { body } = await this.ok<{ id: string }>('POST', `/v1/tenants/${this.tenants[tenant].id}/workspaces`, { body: { name: 'Disposable' } });
    this.reveal(body.id, tenant);
    if (options.mailbox) await this.connectMailbox(body.id);
    return body.id;
  }

  /**
   * A mailbox a workspace's owner may save: a host NAME (judged at connect time) that resolves to
   * loopback, which the egress policy refuses there, so a connection test answers 400 EGRESS_REFUSED
   * at once; its secret is nobody's to see again.
   */
  mailboxBody(): { host: string; username: string; secret: string } {
    return { host: 'localhost', username: 'isolation', secret: MAILBOX_SECRET };
  }

  /** Connects the workspace's mailbox (again: a transfer drops it). */
  private async connectMailbox(workspaceId: string): Promise<void> {
    await this.ok('PUT', `/v1/workspaces/${workspaceId}/imap-source`, { body: this.mailboxBody() });
  }

  /** A queued backfill in a fresh workspace of the tenant (nothing runs it). */
  async freshActiveBackfill(tenant: TenantName): Promise<string> {
    const workspaceId = await this.freshWorkspace(tenant);
    const { body } = await this.ok<JobStarted>('POST', `/v1/workspaces/${workspaceId}/backfills`, { body: {} });
    this.reveal(body.jobId, tenant);
    return body.jobId;
  }

  /** A new read-scope token of the tenant: its id (no actor uses it). */
  async freshToken(tenant: TenantName): Promise<string> {
    return (await this.issueToken(tenant, 'read')).id;
  }

  /** A new webhook endpoint of the tenant: its id (its secret is nobody's to see again). */
  async freshWebhook(tenant: TenantName): Promise<string> {
    const { body } = await this.ok<{ id: string; secret: string }>('POST', `/v1/tenants/${this.tenants[tenant].id}/webhooks`, {
      body: { url: `https://hooks.example.test/${tenant}`, events: ['backfill.failed', 'key.invalid'] },
    });
    this.reveal(body.id, tenant);
    this.visibleTo.set(body.secret, new Set());
    return body.id;
  }

  /** A new record in the tenant's workspace: its externalId. */
  async freshRecord(tenant: TenantName, workspaceId: string): Promise<string> {
    const externalId = `fresh-${randomBytes(6).toString('hex')}`;
    await this.ok('POST', `/v1/workspaces/${workspaceId}/records`, { body: [record(externalId)] });
    this.reveal(externalId, tenant);
    return externalId;
  }

  /** A new tombstone in the tenant's workspace (written directly: no record to delete first): its externalId. */
  async freshTombstone(tenant: TenantName, workspaceId: string): Promise<string> {
    const externalId = `fresh-${randomBytes(6).toString('hex')}`;
    await this.prisma.recordTombstone.create({ data: { workspaceId, source: 'api', externalId } });
    this.reveal(externalId, tenant);
    return externalId;
  }

  /** Sets the tenant's non-secret setting `key` to "openai" again, so that deleting it finds it. */
  async resetSetting(tenant: TenantName, key: string): Promise<void> {
    await this.ok('PUT', `/v1/tenants/${this.tenants[tenant].id}/settings/${key}`, { body: { value: 'openai' } });
  }

  // ---- the world ----

  private async setUp(): Promise<void> {
    this.visibleTo.set(MAILBOX_SECRET, new Set());
    for (const name of TENANTS) this.tenants[name] = await this.newTenant(name);
    this.sinkTenantId = (await this.ok<{ id: string }>('POST', '/v1/tenants', { body: tenantBody('sink') })).body.id;
    await this.moveWorkspace('former', 'a');
    this.actors.push(
      { name: 'platform', kind: 'platform', tenant: null },
      { name: 'no token', kind: 'none', tenant: null },
      { name: 'unknown token', kind: 'unknown', tenant: null },
      { name: 'admin token as Basic', kind: 'malformed', tenant: null },
    );
    this.credentials.set('platform', { token: this.api.adminToken });
    this.credentials.set('no token', { token: null });
    this.credentials.set('unknown token', { token: `tt_${randomBytes(32).toString('base64url')}` });
    this.credentials.set('admin token as Basic', {
      token: null,
      headers: { authorization: `Basic ${Buffer.from(this.api.adminToken).toString('base64')}` },
    });
  }

  private async newTenant(name: TenantName): Promise<WorldTenant> {
    const created = await this.ok<{ id: string; subdomain: string }>('POST', '/v1/tenants', { body: tenantBody(name) });
    const tenant: WorldTenant = { name, id: created.body.id, workspaces: [], backfills: [], aiJobs: [], deletions: [], tokenIds: [], webhookIds: [] };
    this.tenants[name] = tenant;
    this.reveal(tenant.id, name);
    this.reveal(created.body.subdomain, name);
    await this.ok('PUT', `/v1/tenants/${tenant.id}/settings/OPENAI_API_KEY`, { body: { value: PLACEHOLDER_KEY } });
    await this.resetSetting(name, 'GRAPHRAG_PROVIDER');

    const main = await this.newWorkspace(name);
    const active = await this.newWorkspace(name);
    const jobs = await this.newWorkspace(name);
    const doomed = await this.newWorkspace(name);
    tenant.workspaces.push(main, active, jobs, doomed);
    // a backfill nothing runs: queued for good, so the workspace has an active job
    tenant.backfills.push((await this.ok<JobStarted>('POST', `/v1/workspaces/${active.id}/backfills`, { body: {} })).body.jobId);
    tenant.backfills.push(await this.cancelledBackfillWithFailure(jobs));
    const deletion = await this.ok<{ id: string }>('DELETE', `/v1/workspaces/${doomed.id}`);
    doomed.deleted = true;
    tenant.deletions.push(deletion.body.id);
    const aiJob = await this.ok<JobStarted>('POST', '/v1/ai/jobs/extract', { body: { text: 'Alice met Bob', tenantId: tenant.id } });
    tenant.aiJobs.push(aiJob.body.jobId);
    for (const id of [...tenant.backfills, ...tenant.deletions, ...tenant.aiJobs]) this.reveal(id, name);

    for (const kind of TOKEN_KINDS[name]) await this.newActor(name, kind);
    tenant.webhookIds.push(await this.freshWebhook(name));
    return tenant;
  }

  /** A workspace with two records, the second deleted (a tombstone), and one graph entity. */
  private async newWorkspace(tenant: TenantName): Promise<WorldWorkspace> {
    const id = await this.freshWorkspace(tenant, { mailbox: true });
    const suffix = id.slice(0, 8);
    const [keptRecord, deletedRecord, name] = [`kept-${suffix}`, `deleted-${suffix}`, `Entity ${suffix}`];
    await this.ok('POST', `/v1/workspaces/${id}/records`, { body: [record(keptRecord), record(deletedRecord)] });
    await this.ok('DELETE', `/v1/workspaces/${id}/records/${deletedRecord}`);
    const entity = await this.prisma.entity.create({
      data: { workspaceId: id, name, normalizedName: name.toLowerCase(), type: 'person', description: '' },
    });
    for (const value of [keptRecord, deletedRecord, entity.id, name]) this.reveal(value, tenant);
    return { id, deleted: false, entityId: entity.id, keptRecord, deletedRecord };
  }

  /** A backfill cancelled before it ran, with one record failure stored by hand: retry-failed has something to retry. */
  private async cancelledBackfillWithFailure(workspace: WorldWorkspace): Promise<string> {
    const { body } = await this.ok<JobStarted>('POST', `/v1/workspaces/${workspace.id}/backfills`, { body: {} });
    await this.ok('POST', `/v1/backfills/${body.jobId}/cancel`);
    const row = await this.prisma.sourceRecord.findFirstOrThrow({ where: { workspaceId: workspace.id, externalId: workspace.keptRecord } });
    await this.prisma.backfillRecordFailure.create({
      data: {
        backfillId: body.jobId,
        workspaceId: workspace.id,
        recordId: row.id,
        recordSeq: row.seq,
        code: 'EXTRACTION_UNPARSABLE',
        reason: 'set up',
      },
    });
    return body.jobId;
  }

  /**
   * Moves `from`'s workspace (records, an entity, a cancelled backfill of `from`'s) to `to`: the
   * workspace is `to`'s now, the backfill stays `from`'s, and each tenant's audit log names the other.
   */
  private async moveWorkspace(from: TenantName, to: TenantName): Promise<void> {
    const moved = await this.newWorkspace(from);
    const backfill = await this.ok<JobStarted>('POST', `/v1/workspaces/${moved.id}/backfills`, { body: {} });
    await this.ok('POST', `/v1/backfills/${backfill.body.jobId}/cancel`);
    await this.ok('POST', `/v1/workspaces/${moved.id}/transfer`, { body: { tenantId: this.tenants[to].id } });
    // its mailbox stayed behind with its former owner's credentials: the new owner connects its own
    await this.connectMailbox(moved.id);
    // first in their lists: the cases that pick the first of a kind (every fixed example) meet them
    this.tenants[to].workspaces.unshift(moved);
    this.tenants[from].backfills.unshift(backfill.body.jobId);
    this.reveal(backfill.body.jobId, from);
    for (const value of [moved.id, moved.keptRecord, moved.deletedRecord, moved.entityId, `Entity ${moved.id.slice(0, 8)}`, this.tenants[from].id]) {
      this.reveal(value, to);
    }
    this.reveal(this.tenants[to].id, from);
  }

  private async newActor(tenant: TenantName, kind: Actor['kind']): Promise<void> {
    const name = `${tenant} ${kind} token`;
    const issued = await this.issueToken(tenant, kind === 'read' ? 'read' : 'admin');
    const path = `/v1/tenants/${this.tenants[tenant].id}/tokens/${issued.id}`;
    if (kind === 'expired') {
      await this.prisma.tenantToken.update({
        where: { id: issued.id },
        data: { createdAt: new Date(Date.now() - 2 * DAY_MS), expiresAt: new Date(Date.now() - 60_000) },
      });
    }
    if (kind === 'revoked') await this.ok('DELETE', path);
    if (kind === 'rotated') {
      const successor = await this.ok<{ id: string; token: string; prefix: string }>('POST', `${path}/rotate`, { body: {} });
      this.rememberToken(tenant, successor.body);
    }
    this.actors.push({ name, kind, tenant });
    this.credentials.set(name, { token: issued.token });
  }

  private async issueToken(tenant: TenantName, scope: 'admin' | 'read'): Promise<{ id: string; token: string }> {
    const { body } = await this.ok<{ id: string; token: string; prefix: string }>('POST', `/v1/tenants/${this.tenants[tenant].id}/tokens`, {
      body: { name: `${tenant}-${scope}`, scope },
    });
    this.rememberToken(tenant, body);
    return body;
  }

  private rememberToken(tenant: TenantName, issued: { id: string; token: string; prefix: string }): void {
    this.tenants[tenant].tokenIds.push(issued.id);
    this.reveal(issued.id, tenant);
    this.reveal(issued.prefix, tenant);
    // a token is shown once, when minted: no later answer may carry any, its own tenant's included
    this.visibleTo.set(issued.token, new Set());
  }

  private reveal(value: string, tenant: TenantName): void {
    const tenants = this.visibleTo.get(value) ?? new Set<TenantName>();
    tenants.add(tenant);
    this.visibleTo.set(value, tenants);
  }

  /** A platform-admin request that must succeed: the world is built on it. */
  private async ok<T>(method: string, path: string, options: RequestOptions = {}): Promise<HttpResult<T>> {
    const res = await this.api.request<T>(method, path, options);
    expect({ method, path, status: res.status < 300 ? 'ok' : `${res.status} ${res.text}` }).toEqual({ method, path, status: 'ok' });
    return res as HttpResult<T>;
  }
}

function tenantBody(name: string) {
  return { subdomain: `iso-${name}-${randomBytes(4).toString('hex')}`, planType: 'enterprise', aiKeyMode: 'byok' };
}

/** One valid email record. */
export function record(externalId: string) {
  return { externalId, from: 'a@example.test', to: ['b@example.test'], subject: 'Renewal', body: 'Alice met Bob', sentAt: '2025-01-06T09:00:00Z' };
}
