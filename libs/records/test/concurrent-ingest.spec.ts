import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PrismaService } from '#libs/database';
import { RecordIngestService, RecordsModule, WorkspaceGoneError } from '#libs/records';
import { MediumContext } from '#libs/testing';

/** Each upload lists the same external ids in its own order (a client re-sending a batch it built differently). */
function shuffledUpload(ids: string[], seed: number, own: string): Buffer {
  const copy = [...ids];
  let state = seed;
  for (let i = copy.length - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    const j = state % (i + 1);
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  const rows = [...Array.from({ length: 200 }, (_, i) => `${own}-${i}`), ...copy].map((externalId) => ({
    externalId,
    body: `body of ${externalId}`,
    sentAt: '2025-01-01T00:00:00Z',
  }));
  return Buffer.from(JSON.stringify(rows));
}

describe('uploads to one workspace at once', () => {
  let ctx: MediumContext;

  beforeAll(async () => {
    ctx = await MediumContext.create({ imports: [RecordsModule] });
  });
  afterAll(async () => {
    await ctx.close();
  });

  it('six uploads of the same 3,000 ids in different orders all succeed, and each id is stored once (they used to deadlock and keep part of a failed request)', async () => {
    const tenant = await ctx.newTenant();
    const workspace = await ctx.newWorkspace(tenant.id);
    const shared = Array.from({ length: 3_000 }, (_, i) => `shared-${i}`);
    const ingest = ctx.get(RecordIngestService);

    const results = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((seed) => ingest.ingest(workspace.id, [shuffledUpload(shared, seed, `own${seed}`)], 'json')),
    );

    expect(results.map((r) => r.rejected)).toEqual([[], [], [], [], [], []]);
    expect(results.reduce((sum, r) => sum + r.accepted, 0)).toBe(3_000 + 6 * 200);
    expect(results.reduce((sum, r) => sum + r.accepted + r.duplicates, 0)).toBe(6 * 3_200);
    const stored = await ctx.get(PrismaService).sourceRecord.count({ where: { workspaceId: workspace.id } });
    expect(stored).toBe(3_000 + 6 * 200);
  }, 60_000);

  it('stores nothing for a workspace deleted while its upload was read, and says the workspace is gone', async () => {
    const tenant = await ctx.newTenant();
    const workspace = await ctx.newWorkspace(tenant.id);
    await ctx.get(PrismaService).workspace.update({ where: { id: workspace.id }, data: { deletedAt: new Date() } });

    const upload = ctx.get(RecordIngestService).ingest(workspace.id, [shuffledUpload(['a', 'b'], 1, 'late')], 'json');
    await expect(upload).rejects.toBeInstanceOf(WorkspaceGoneError);
    await expect(upload).rejects.toMatchObject({ code: 'WORKSPACE_NOT_FOUND' });
    expect(await ctx.get(PrismaService).sourceRecord.count({ where: { workspaceId: workspace.id } })).toBe(0);
  });
});
