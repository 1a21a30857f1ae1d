import { Writable } from 'node:stream';

/** One JSON log line as pino writes it: `level`, `msg` and the line's own fields. */
export interface LogEntry {
  level: number;
  msg?: string;
  [field: string]: unknown;
}

/**
 * Collects every log line a process writes, so tests can read and scan them. A line split across
 * writes is kept whole; a last line without its newline is kept too.
 */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  private partial = '';

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    const pieces = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = pieces.pop() ?? '';
    this.lines.push(...pieces.filter(Boolean));
    done();
  }

  override _final(done: (error?: Error | null) => void): void {
    this.flushPartial();
    done();
  }

  /** Every line, the unfinished one included. */
  get text(): string {
    return this.all().join('\n');
  }

  messages(): string[] {
    return this.lines.map((line) => (JSON.parse(line) as LogEntry).msg ?? '');
  }

  /** The complete lines and a line still waiting for its newline: what a scan must read. */
  all(): string[] {
    return this.partial ? [...this.lines, this.partial] : [...this.lines];
  }

  clear(): void {
    this.lines.length = 0;
    this.partial = '';
  }

  private flushPartial(): void {
    if (this.partial) this.lines.push(this.partial);
    this.partial = '';
  }
}

/**
 * The one capture of this test file's process. Each app builds its own pino logger, but services log
 * through Nest's static logger, which is one per process: it follows the app that called `useLogger`
 * last, so a line may go through another app's logger than the one that wrote it. Every context and
 * harness of a file shares this capture, so none reads an empty capture while its lines went elsewhere.
 */
export const fileLogs = new LogCapture();
