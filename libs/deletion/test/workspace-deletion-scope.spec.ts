import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import {
  DeletionModule,
  RecordDeletionService,
  WorkspaceDeletionNotFoundError,
  WorkspaceDeletionRepository,
  WorkspaceDeletionService,
} from '#libs/deletion';
import { PLATFORM_SCOPE, tenantScope, WorkspaceNotFoundError } from '#libs/tenancy';
import { MediumContext } from '#libs/testing';

/** Deletions are scoped by construction: another tenant's workspace or deletion reads as not found and nothing of it changes. */
describe('deletions in a TenantScope', () => {
  let ctx: MediumContext;
  let repository: WorkspaceDeletionRepository;

  beforeAll(async () => {
    ctx = await MediumContext.create({ imports: [DeletionModule] });
    repository = ctx.get(WorkspaceDeletionRepository);
  });
  afterAll(() => ctx.close());

  it("refuses another tenant's workspace as not found and leaves it alone", async () => {
    const owner = await ctx.newTenant();
    const other = await ctx.newTenant();
    const workspace = await ctx.newWorkspace(owner.id);

    await expect(ctx.get(WorkspaceDeletionService).request(tenantScope(other.id), workspace.id)).rejects.toThrow(WorkspaceNotFoundError);
    await expect(ctx.get(RecordDeletionService).delete(tenantScope(other.id), workspace.id, null, 'r1')).rejects.toThrow(WorkspaceNotFoundError);
    await expect(ctx.get(RecordDeletionService).lift(tenantScope(other.id), workspace.id, null, 'r1')).rejects.toThrow(WorkspaceNotFoundError);
    await expect(ctx.prisma.workspace.findUnique({ where: { id: workspace.id } })).resolves.toMatchObject({ deletedAt: null });
  });

  it("never returns or changes another tenant's deletion through a scoped repository method", async () => {
    const owner = await ctx.newTenant();
    const other = await ctx.newTenant();
    const workspace = await ctx.newWorkspace(owner.id);
    const deletion = await ctx.prisma.$transaction((tx) => repository.create(tx, owner.id, workspace.id));

    await expect(repository.findById(other.id, deletion.id)).resolves.toBeNull();
    await expect(repository.findLatest(other.id, workspace.id)).resolves.toBeNull();
    await expect(repository.claim(other.id, deletion.id)).resolves.toBeNull();
    await expect(repository.requeue(other.id, deletion.id)).resolves.toBe(false);

    await expect(repository.findById(owner.id, deletion.id)).resolves.toMatchObject({ status: 'queued', requeues: 0 });
    await expect(repository.ownerOf(deletion.id)).resolves.toBe(owner.id);
    const service = ctx.get(WorkspaceDeletionService);
    await expect(service.get(tenantScope(other.id), deletion.id)).rejects.toThrow(WorkspaceDeletionNotFoundError);
    await expect(service.get(PLATFORM_SCOPE, deletion.id)).resolves.toMatchObject({ id: deletion.id });
    await expect(service.get(PLATFORM_SCOPE, randomUUID())).rejects.toThrow(WorkspaceDeletionNotFoundError);
  });
});
