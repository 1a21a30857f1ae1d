import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { type LogEntry, MediumContext } from '#libs/testing';
import { TenantResolver, WorkspaceNotFoundError, WorkspaceService } from '#libs/tenancy';

describe(TenantResolver.name, () => {
  let ctx: MediumContext;
  let sut: TenantResolver;

  beforeAll(async () => {
    ctx = await MediumContext.create();
    sut = ctx.get(TenantResolver);
  });
  afterAll(() => ctx.close());

  it('resolves a workspace to the tenant that owns it, with a debug line naming both', async () => {
    const tenant = await ctx.newTenant();
    const workspace = await ctx.newWorkspace(tenant.id);

    await expect(sut.resolve(workspace.id)).resolves.toEqual({
      workspaceId: workspace.id,
      tenantId: tenant.id,
      subdomain: tenant.subdomain,
      planType: tenant.planType,
      aiKeyMode: tenant.aiKeyMode,
    });
    const line = ctx.logs.lines
      .map((l) => JSON.parse(l) as LogEntry)
      .find((l) => l.msg === 'Resolved tenant_id from workspace_id' && l.workspaceId === workspace.id);
    expect(line).toMatchObject({ tenantId: tenant.id, level: 20 });
  });

  it.each([
    ['an unknown workspace id', randomUUID()],
    ['a malformed workspace id', 'not-a-uuid'],
    ['an empty workspace id', ''],
  ])('throws WorkspaceNotFoundError for %s', async (_, workspaceId) => {
    await expect(sut.resolve(workspaceId)).rejects.toThrow(WorkspaceNotFoundError);
  });

  it('never treats a tenant id as a workspace id', async () => {
    const tenant = await ctx.newTenant();
    await ctx.newWorkspace(tenant.id);
    await expect(sut.resolve(tenant.id)).rejects.toThrow(WorkspaceNotFoundError);
  });

  it('serves repeated lookups from its cache', async () => {
    const tenant = await ctx.newTenant();
    const elsewhere = await ctx.newTenant();
    const workspace = await ctx.newWorkspace(tenant.id);
    await sut.resolve(workspace.id);
    // changed behind the service's back: the cached answer stands until invalidated or expired
    await ctx.prisma.$executeRaw`UPDATE workspaces SET tenant_id = ${elsewhere.id}::uuid WHERE id = ${workspace.id}::uuid`;
    await expect(sut.resolve(workspace.id)).resolves.toMatchObject({ tenantId: tenant.id });
    await sut.invalidateWorkspace(workspace.id);
    await expect(sut.resolve(workspace.id)).resolves.toMatchObject({ tenantId: elsewhere.id });
  });

  it("drops the cached tenant in every process when a workspace's tenant changes", async () => {
    const other = await MediumContext.create({ database: ctx.database, env: { REDIS_PREFIX: ctx.config.redisPrefix } });
    try {
      const from = await ctx.newTenant();
      const to = await ctx.newTenant();
      const workspace = await ctx.newWorkspace(from.id);
      await expect(sut.resolve(workspace.id)).resolves.toMatchObject({ tenantId: from.id });
      await expect(other.get(TenantResolver).resolve(workspace.id)).resolves.toMatchObject({ tenantId: from.id });

      await ctx.get(WorkspaceService).transfer(workspace.id, to.id);

      await expect(sut.resolve(workspace.id)).resolves.toMatchObject({ tenantId: to.id, subdomain: to.subdomain });
      await waitFor(async () => (await other.get(TenantResolver).resolve(workspace.id)).tenantId === to.id);
    } finally {
      await other.close();
    }
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
