import { Writable } from 'node:stream';

/** One JSON log line as pino writes it: `level`, `msg` and the line's own fields. */
export interface LogEntry {
  level: number;
  msg?: string;
  [field: string]: unknown;
}

/** Collects every log line a process writes, so tests can read and scan them. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }

  get text(): string {
    return this.lines.join('\n');
  }

  messages(): string[] {
    return this.lines.map((line) => (JSON.parse(line) as LogEntry).msg ?? '');
  }

  clear(): void {
    this.lines.length = 0;
  }
}
