import { PrismaService } from '#libs/database';

// refreshed on use (at most once a minute per process), a read may write it: not state a request changes
const VOLATILE_COLUMNS = ['last_used_at'];

interface Table {
  name: string;
  columns: string[];
}

/**
 * The state of the test's database, to prove a request changed nothing: every table of the schema
 * (tables added later included), every column but the volatile ones.
 */
export class DatabaseState {
  private constructor(
    private readonly prisma: PrismaService,
    private readonly tables: Table[],
  ) {}

  /**
   * The state of the database `prisma` is connected to. Creates `test_state_digest()` there (a test
   * database is the test's own): as a PL/pgSQL function its plan of one subquery per table is made
   * once per connection, not on every call, which made it several times cheaper.
   */
  static async of(prisma: PrismaService): Promise<DatabaseState> {
    const rows = await prisma.$queryRaw<{ table: string; columns: string[] }[]>`
      SELECT c.table_name AS table, array_agg(c.column_name::text ORDER BY c.column_name) AS columns
      FROM information_schema.columns c JOIN pg_tables t ON t.tablename = c.table_name AND t.schemaname = c.table_schema
      WHERE c.table_schema = current_schema() AND c.table_name <> '_prisma_migrations'
      GROUP BY c.table_name ORDER BY c.table_name`;
    const tables = rows.map((row) => ({ name: row.table, columns: row.columns }));
    // a table with a volatile column is hashed row by row without it; any other is its row count and
    // newest row version (`xmin`: an insert or update writes a row version of a later transaction, a
    // delete lowers the count), which serialises no row
    const parts = tables.map((t) => {
      const value = VOLATILE_COLUMNS.some((c) => t.columns.includes(c))
        ? `(SELECT md5(coalesce(string_agg(x, E'\\n' ORDER BY x), '')) FROM (SELECT ${rowText(t)} AS x FROM "${t.name}" t) s)`
        : `(SELECT count(*) || ':' || coalesce(max(xmin::text::bigint), 0) FROM "${t.name}")`;
      return `'${t.name}', ${value}`;
    });
    await prisma.$executeRawUnsafe(
      `CREATE OR REPLACE FUNCTION test_state_digest() RETURNS json LANGUAGE plpgsql STABLE AS $fn$ BEGIN RETURN json_build_object(${parts.join(', ')}); END $fn$`,
    );
    return new DatabaseState(prisma, tables);
  }

  /** A fingerprint per table: equal fingerprints, unchanged tables. */
  async digest(): Promise<Record<string, string>> {
    return (await this.prisma.$queryRawUnsafe<{ d: Record<string, string> }[]>('SELECT test_state_digest() AS d'))[0].d;
  }

  /**
   * Every row that belongs to the tenant, by table: its `tenant_id`, or a `workspace_id` among
   * `workspaceIds` (the tenant's workspaces, listed by the caller so a moved one is still looked at).
   * A table with neither column fails: say here how a new one belongs to a tenant.
   */
  async ofTenant(tenantId: string, workspaceIds: string[]): Promise<Record<string, unknown[]>> {
    const parts = this.tables.map((t) => {
      const has = (column: string) => t.columns.includes(column);
      const where =
        t.name === 'tenants'
          ? 'id = $1::uuid'
          : t.name === 'workspaces'
            ? 'tenant_id = $1::uuid OR id = ANY($2::uuid[])'
            : has('tenant_id') && has('workspace_id')
              ? 'tenant_id = $1::uuid OR workspace_id = ANY($2::uuid[])'
              : has('tenant_id')
                ? 'tenant_id = $1::uuid'
                : has('workspace_id')
                  ? 'workspace_id = ANY($2::uuid[])'
                  : undefined;
      if (!where) throw new Error(`Table ${t.name} has neither tenant_id nor workspace_id: say in database-state.ts whose its rows are`);
      return `'${t.name}', (SELECT coalesce(json_agg(x ORDER BY x::text), '[]') FROM (SELECT ${rowText(t)}::jsonb AS x FROM "${t.name}" t WHERE ${where}) s)`;
    });
    const sql = `SELECT json_build_object(${parts.join(', ')}) AS d`;
    return (await this.prisma.$queryRawUnsafe<{ d: Record<string, unknown[]> }[]>(sql, tenantId, workspaceIds))[0].d;
  }
}

function rowText(table: Table): string {
  const dropped = VOLATILE_COLUMNS.filter((c) => table.columns.includes(c)).map((c) => ` - '${c}'`);
  return `(to_jsonb(t)${dropped.join('')})::text`;
}
