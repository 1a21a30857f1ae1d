import type { PrismaService } from '#libs/database';

/** Generated inside Postgres, so no process holds the records in memory to set them up. */
export async function insertRecords(prisma: PrismaService, workspaceId: string, count: number): Promise<void> {
  await prisma.$executeRaw`
    INSERT INTO source_records (id, workspace_id, source, external_id, from_addr, to_addr, subject, body, sent_at)
    SELECT gen_random_uuid(), ${workspaceId}::uuid, 'api', 'bench-' || i, 'sender' || (i % 50) || '@example.test',
           'team' || (i % 7) || '@example.test', 'Update ' || i,
           (ARRAY['Alice Johnson','Bob Smith','Carol Diaz','Dan Okafor','Eve Martin','Frank Liu'])[1 + i % 6] || ' from ' ||
           (ARRAY['Acme Corp','Globex Inc','Initech Ltd','Umbrella Group'])[1 + i % 4] || ' met ' ||
           (ARRAY['Grace Hopper','Hana Sato','Ivan Petrov','Julia Roberts','Ken Adams'])[1 + i % 5] || ' about Project ' || (i % 997) ||
           E'.\\nThey agreed to follow up with Stark Labs next week.',
           timestamp '2026-01-01' + i * interval '1 minute'
    FROM generate_series(1, ${count}::int) AS i`;
}
