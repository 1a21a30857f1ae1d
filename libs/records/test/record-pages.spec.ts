import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type RecordPage, RecordIngestService, RecordSourceFactory, RecordsModule } from '#libs/records';
import { MediumContext } from '#libs/testing';

/**
 * The backfill's pages against real Postgres: bounded by count and by UTF-8 bytes of text, in
 * Postgres, at least one record each, and together every record exactly once in `seq` order.
 * Records carry an empty from, to and subject, so a record's text bytes are its body's.
 */
describe('record pages bounded by count and bytes', () => {
  let ctx: MediumContext;

  beforeAll(async () => {
    ctx = await MediumContext.create({ imports: [RecordsModule] });
  });
  afterAll(async () => {
    await ctx.close();
  });

  /** A new workspace holding one record per body, stored in this order; answers the workspace id. */
  async function workspaceWith(bodies: string[]): Promise<string> {
    const tenant = await ctx.newTenant();
    const workspace = await ctx.newWorkspace(tenant.id);
    const rows = bodies.map((body, i) => ({ externalId: `r${i}`, body, sentAt: '2026-01-01T00:00:00Z' }));
    const result = await ctx.get(RecordIngestService).ingest(workspace.id, JSON.stringify(rows), 'json');
    expect(result).toMatchObject({ accepted: bodies.length, rejected: [] });
    return workspace.id;
  }

  /** Every page from the start, as the backfill walks them. */
  async function walk(workspaceId: string, limit: number, maxBytes: number): Promise<RecordPage[]> {
    const source = ctx.get(RecordSourceFactory).forWorkspace(workspaceId, 'api');
    const pages: RecordPage[] = [];
    let cursor: string | null = null;
    for (;;) {
      const page = await source.fetchPage(cursor, limit, maxBytes);
      pages.push(page);
      if (!page.nextCursor) return pages;
      expect(pages.length).toBeLessThanOrEqual(1_000);
      cursor = page.nextCursor;
    }
  }

  const ids = (pages: RecordPage[]) => pages.map((p) => p.records.map((r) => r.externalId));
  const bytesOf = (page: RecordPage) => page.records.reduce((sum, r) => sum + Buffer.byteLength(r.body, 'utf8'), 0);

  it('cuts a page at the byte bound, however many records the count allows', async () => {
    const workspaceId = await workspaceWith(Array.from({ length: 10 }, () => 'a'.repeat(1_000)));

    const pages = await walk(workspaceId, 100, 3_500);

    expect(ids(pages)).toEqual([['r0', 'r1', 'r2'], ['r3', 'r4', 'r5'], ['r6', 'r7', 'r8'], ['r9']]);
    // an exact bound fits: three records of 1,000 bytes in 3,000
    expect(ids(await walk(workspaceId, 100, 3_000))[0]).toEqual(['r0', 'r1', 'r2']);
  });

  it('cuts a page at the count bound when the bytes allow more, with no empty page at the end', async () => {
    const workspaceId = await workspaceWith(Array.from({ length: 8 }, (_, i) => `body ${i}`));

    const pages = await walk(workspaceId, 4, 4 * 1024 * 1024);

    expect(ids(pages)).toEqual([
      ['r0', 'r1', 'r2', 'r3'],
      ['r4', 'r5', 'r6', 'r7'],
    ]);
    expect(pages.map((p) => p.nextCursor)).toEqual([pages[0].records[3].seq.toString(), null]);
  });

  it('makes a record larger than the bound a page of its own', async () => {
    const workspaceId = await workspaceWith(['a'.repeat(100), 'b'.repeat(5_000), 'c'.repeat(100), 'd'.repeat(100)]);

    const pages = await walk(workspaceId, 100, 1_000);

    expect(ids(pages)).toEqual([['r0'], ['r1'], ['r2', 'r3']]);
    expect(pages[1].records[0].body).toHaveLength(5_000);
  });

  it('counts bytes of UTF-8, not characters: CJK is 3 bytes a character, an emoji 4', async () => {
    // 300 characters, 900 bytes: a character count would put three in 1,000
    const cjk = await workspaceWith(Array.from({ length: 3 }, () => '日本語'.repeat(100)));
    expect(ids(await walk(cjk, 100, 1_000))).toEqual([['r0'], ['r1'], ['r2']]);
    expect(ids(await walk(cjk, 100, 1_800))).toEqual([['r0', 'r1'], ['r2']]);

    // 100 emoji, 200 UTF-16 code units, 400 bytes: two fit in 1,000 (a length count would put five)
    const emoji = await workspaceWith(Array.from({ length: 5 }, () => '😀'.repeat(100)));
    const pages = await walk(emoji, 100, 1_000);
    expect(ids(pages)).toEqual([['r0', 'r1'], ['r2', 'r3'], ['r4']]);
    expect(pages.map(bytesOf)).toEqual([800, 800, 400]);
  });

  it('visits every record exactly once, in seq order, whatever the bounds', async () => {
    // sizes from 1 byte to 12 KB, mixing ASCII, CJK and emoji, in a fixed order
    const bodies = Array.from({ length: 120 }, (_, i) => {
      const unit = ['x', '語', '😀'][i % 3];
      return unit.repeat(1 + ((i * 7_919) % 4_000));
    });
    const workspaceId = await workspaceWith(bodies);
    // another workspace's records never show up in this one's pages
    await workspaceWith(['not mine']);
    const all = bodies.map((_, i) => `r${i}`);

    for (const [limit, maxBytes] of [
      [1, 1],
      [7, 10_000],
      [50, 25_000],
      [200, 1_000_000],
      [13, 4_096],
    ]) {
      const pages = await walk(workspaceId, limit, maxBytes);
      expect(ids(pages).flat()).toEqual(all);
      const seqs = pages.flatMap((p) => p.records.map((r) => r.seq));
      expect(seqs).toEqual([...seqs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      for (const page of pages) {
        expect(page.records.length).toBeGreaterThanOrEqual(1);
        expect(page.records.length).toBeLessThanOrEqual(limit);
        if (page.records.length > 1) expect(bytesOf(page)).toBeLessThanOrEqual(maxBytes);
      }
    }
  });

  it('answers an empty last page when nothing is left', async () => {
    const workspaceId = await workspaceWith(['only']);
    const source = ctx.get(RecordSourceFactory).forWorkspace(workspaceId, 'api');
    const first = await source.fetchPage(null, 10, 1_000);
    expect(first.nextCursor).toBeNull();
    expect(await source.fetchPage(first.records[0].seq.toString(), 10, 1_000)).toEqual({ records: [], nextCursor: null });
  });

  it('pages every source at once in one seq order ("all"), and one source alone when named', async () => {
    const tenant = await ctx.newTenant();
    const { id: workspaceId } = await ctx.newWorkspace(tenant.id);
    // api and mbox records interleaved in insertion order
    await ctx.prisma.$executeRaw`
      INSERT INTO source_records (id, workspace_id, source, external_id, from_addr, to_addr, subject, body, sent_at)
      SELECT gen_random_uuid(), ${workspaceId}::uuid, CASE WHEN i % 3 = 0 THEN 'mbox' ELSE 'api' END, 'r' || i, '', '', '', 'body ' || i, now()
      FROM generate_series(0, 29) AS i ORDER BY i`;
    const walkOf = async (scope: 'all' | 'api' | 'mbox') => {
      const source = ctx.get(RecordSourceFactory).forWorkspace(workspaceId, scope);
      const seen: string[] = [];
      let cursor: string | null = null;
      for (;;) {
        const page = await source.fetchPage(cursor, 4, 1_000_000);
        seen.push(...page.records.map((r) => r.externalId));
        if (!page.nextCursor) return seen;
        cursor = page.nextCursor;
      }
    };
    const every = Array.from({ length: 30 }, (_, i) => `r${i}`);
    expect(await walkOf('all')).toEqual(every);
    expect(await walkOf('mbox')).toEqual(every.filter((_, i) => i % 3 === 0));
    expect(await walkOf('api')).toEqual(every.filter((_, i) => i % 3 !== 0));
  });

  it("reads a page of every source through a workspace-first index, never by walking every workspace's seq order", async () => {
    // 200 workspaces whose records arrive in blocks (as uploads do), both sources mixed: walking the
    // global seq order (the unique seq index) and filtering would read the other workspaces' records first
    const tenant = await ctx.newTenant();
    const workspaces = await Promise.all(Array.from({ length: 200 }, () => ctx.newWorkspace(tenant.id)));
    await ctx.prisma.$executeRaw`
      INSERT INTO source_records (id, workspace_id, source, external_id, from_addr, to_addr, subject, body, sent_at)
      SELECT gen_random_uuid(), (${workspaces.map((w) => w.id)}::uuid[])[1 + i / 200], CASE WHEN i % 2 = 0 THEN 'mbox' ELSE 'api' END,
             'x' || i, '', '', '', 'body', now()
      FROM generate_series(0, 39999) AS i ORDER BY i`;
    await ctx.prisma.$executeRaw`ANALYZE source_records`;
    // the statement's access to the table, as SourceRecordRepository.page runs it for source null
    const plan = await ctx.prisma.$queryRaw<{ 'QUERY PLAN': unknown }[]>`
      EXPLAIN (FORMAT JSON)
      SELECT id, seq, row_number() OVER (ORDER BY seq) AS position,
             sum(octet_length(from_addr) + octet_length(to_addr) + octet_length(subject) + octet_length(body)) OVER (ORDER BY seq) AS running_bytes
      FROM source_records WHERE workspace_id = ${workspaces[150].id}::uuid AND seq > ${0n} ORDER BY seq LIMIT 201`;
    const text = JSON.stringify(plan[0]['QUERY PLAN']);
    // through an index that starts with workspace_id (for a workspace this small the planner may take any of them)
    expect(text).toMatch(/"Index Name":"source_records_workspace_id_/);
    expect(text).not.toContain('source_records_seq_key');
    expect(text).not.toContain('"Node Type":"Seq Scan"');
  });
});
