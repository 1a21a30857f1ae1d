import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { BackfillModule, BackfillNotFoundError, BackfillRepository, BackfillService } from '#libs/backfill';
import { BackfillStatus } from '#libs/database';
import { PLATFORM_SCOPE, tenantScope, WorkspaceNotFoundError } from '#libs/tenancy';
import { MediumContext } from '#libs/testing';

/** Backfills are scoped by construction: a tenant id is in every WHERE, and only the platform scope reaches any tenant's row. */
describe('backfills in a TenantScope', () => {
  let ctx: MediumContext;
  let repository: BackfillRepository;
  let sut: BackfillService;

  beforeAll(async () => {
    ctx = await MediumContext.create({ imports: [BackfillModule] });
    repository = ctx.get(BackfillRepository);
    sut = ctx.get(BackfillService);
  });
  afterAll(() => ctx.close());

  /** A queued backfill of a new tenant's workspace, and a second tenant that does not own it. */
  async function backfillOfAnotherTenant() {
    const owner = await ctx.newTenant();
    const other = await ctx.newTenant();
    const workspace = await ctx.newWorkspace(owner.id);
    const backfill = (await repository.createQueued(owner.id, workspace.id, 'all'))!;
    return { owner, other, workspace, backfill };
  }

  it("never returns another tenant's row from a scoped repository read", async () => {
    const { owner, other, workspace, backfill } = await backfillOfAnotherTenant();

    await expect(repository.findById(other.id, backfill.id)).resolves.toBeNull();
    await expect(repository.findById(owner.id, backfill.id)).resolves.toMatchObject({ id: backfill.id, tenantId: owner.id });
    await expect(repository.listByWorkspace(other.id, workspace.id)).resolves.toEqual([]);
    await expect(repository.findActive(other.id, workspace.id)).resolves.toBeNull();
    await expect(repository.findLatestFull(other.id, workspace.id, 'all')).resolves.toBeNull();
    await expect(repository.isCancelRequested(other.id, backfill.id)).resolves.toBe(false);
  });

  it("changes nothing of another tenant's row through a scoped write", async () => {
    const { owner, other, backfill } = await backfillOfAnotherTenant();

    await repository.requestCancel(other.id, backfill.id);
    await expect(repository.finish(other.id, backfill.id, BackfillStatus.cancelled)).resolves.toBe(false);
    await expect(repository.claim({ backfillId: backfill.id, tenantId: other.id, leaseToken: randomUUID() })).resolves.toBe(false);
    await repository.delete(other.id, backfill.id);

    await expect(repository.findById(owner.id, backfill.id)).resolves.toMatchObject({
      status: BackfillStatus.queued,
      cancelRequested: false,
      leaseToken: null,
    });
  });

  it('answers the owner, and only that, to the one unscoped read', async () => {
    const { owner, backfill } = await backfillOfAnotherTenant();
    await expect(repository.ownerOf(backfill.id)).resolves.toBe(owner.id);
    await expect(repository.ownerOf(randomUUID())).resolves.toBeNull();
    await expect(repository.ownerOf('not-a-uuid')).resolves.toBeNull();
  });

  it("reads another tenant's backfill as not found, and any tenant's in the platform scope", async () => {
    const { owner, other, workspace, backfill } = await backfillOfAnotherTenant();

    await expect(sut.get(tenantScope(other.id), backfill.id)).rejects.toThrow(BackfillNotFoundError);
    await expect(sut.cancel(tenantScope(other.id), backfill.id)).rejects.toThrow(BackfillNotFoundError);
    await expect(sut.failuresOf(tenantScope(other.id), backfill.id, { limit: 10 })).rejects.toThrow(BackfillNotFoundError);
    await expect(sut.list(tenantScope(other.id), workspace.id)).rejects.toThrow(WorkspaceNotFoundError);

    await expect(sut.get(tenantScope(owner.id), backfill.id)).resolves.toMatchObject({ id: backfill.id });
    await expect(sut.get(PLATFORM_SCOPE, backfill.id)).resolves.toMatchObject({ id: backfill.id });
    await expect(sut.get(PLATFORM_SCOPE, randomUUID())).rejects.toThrow(BackfillNotFoundError);
    await expect(sut.list(PLATFORM_SCOPE, workspace.id)).resolves.toEqual([expect.objectContaining({ id: backfill.id })]);
  });

  it("lists a previous owner's backfills of a workspace to the platform scope only", async () => {
    const { owner, other, workspace, backfill } = await backfillOfAnotherTenant();
    await ctx.prisma.$executeRaw`UPDATE workspaces SET tenant_id = ${other.id}::uuid WHERE id = ${workspace.id}::uuid`;

    await expect(repository.listByWorkspace(other.id, workspace.id)).resolves.toEqual([]);
    await expect(repository.listByWorkspace(owner.id, workspace.id)).resolves.toEqual([expect.objectContaining({ id: backfill.id })]);
    await expect(repository.listByWorkspaceAnyTenant(workspace.id)).resolves.toEqual([expect.objectContaining({ id: backfill.id })]);
  });
});
