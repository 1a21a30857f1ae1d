import { Writable } from 'node:stream';

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
    return this.lines.map((line) => (JSON.parse(line) as { msg?: string }).msg ?? '');
  }

  clear(): void {
    this.lines.length = 0;
  }
}
