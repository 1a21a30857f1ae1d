import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import pg from 'pg';
import { AppError, ErrorCode } from '#libs/common';
import { AppConfig } from '#libs/config';
import { PrismaService, SESSION_OPTIONS } from '#libs/database';

/** Postgres cancelled the statement: SQLSTATE query_canceled, for a statement timeout and a cancel alike. */
const QUERY_CANCELED = '57014';

export class GraphReadTimeoutError extends AppError {
  constructor(timeoutMs: number) {
    super(ErrorCode.GraphReadTimeout, `The graph read took longer than ${timeoutMs} ms and was stopped; try again, or narrow it (type, q, limit)`);
  }
}

/** The caller went away (its request was abandoned); nobody reads this error's answer. */
export class GraphReadAbortedError extends Error {
  override name = 'GraphReadAbortedError';
}

/** Runs one SQL statement with positional parameters ($1, $2...) and answers its rows. */
export type GraphQuery = <Row extends pg.QueryResultRow>(sql: string, params: unknown[]) => Promise<Row[]>;

/**
 * Graph reads' own bounded pg pool (GRAPH_DATABASE_POOL_SIZE connections), so a burst of graph reads
 * queues here and never in front of job-status or other reads on the main pool. Every statement runs
 * under GRAPH_STATEMENT_TIMEOUT_MS; a read whose caller aborts is cancelled in Postgres at once.
 */
@Injectable()
export class GraphReadPool implements OnModuleDestroy {
  private readonly logger = new Logger(GraphReadPool.name);
  private readonly pool: pg.Pool;
  private readonly timeoutMs: number;

  constructor(
    config: AppConfig,
    private readonly prisma: PrismaService,
  ) {
    this.timeoutMs = config.graph.statementTimeoutMs;
    this.pool = new pg.Pool({
      connectionString: config.databaseUrl,
      max: config.graph.poolSize,
      statement_timeout: config.graph.statementTimeoutMs,
      application_name: 'graph-read',
      options: SESSION_OPTIONS,
    });
    // an idle connection that breaks (Postgres restarted) is dropped by the pool; without a listener it would crash the process
    this.pool.on('error', (error) => this.logger.warn({ err: error }, 'An idle graph read connection broke; the pool drops it'));
  }

  /**
   * Runs `work` on one connection of the pool.
   * @param signal aborts the read: a statement in flight is cancelled in Postgres (pg_cancel_backend) and no further one starts
   * @throws GraphReadTimeoutError when a statement runs past GRAPH_STATEMENT_TIMEOUT_MS
   * @throws GraphReadAbortedError when `signal` aborted the read
   */
  async read<T>(signal: AbortSignal | undefined, work: (query: GraphQuery) => Promise<T>): Promise<T> {
    if (signal?.aborted) throw new GraphReadAbortedError('The caller went away before the read started');
    const client = await this.pool.connect();
    let cancelling: Promise<unknown> | undefined;
    const onAbort = () => {
      cancelling = this.cancel(client);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await work(async <Row extends pg.QueryResultRow>(sql: string, params: unknown[]) => {
        if (signal?.aborted) throw new GraphReadAbortedError('The caller went away');
        try {
          return (await client.query<Row>(sql, params)).rows;
        } catch (error) {
          if ((error as { code?: unknown }).code !== QUERY_CANCELED) throw error;
          if (signal?.aborted) throw new GraphReadAbortedError('The caller went away; the read was cancelled');
          throw new GraphReadTimeoutError(this.timeoutMs);
        }
      });
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // the connection goes back only once the cancel landed, so it can never stop another caller's statement
      await cancelling;
      client.release();
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool.end();
  }

  /** Cancels the statement running on the connection (through the main pool: this one may be full). */
  private async cancel(client: pg.PoolClient): Promise<void> {
    const pid = (client as unknown as { processID?: number }).processID;
    if (pid === undefined) return;
    try {
      await this.prisma.$queryRaw`SELECT pg_cancel_backend(${pid}::int)`;
    } catch (error) {
      // the statement then runs to its timeout at worst
      this.logger.warn({ err: error, pid }, 'Could not cancel an abandoned graph read');
    }
  }
}
