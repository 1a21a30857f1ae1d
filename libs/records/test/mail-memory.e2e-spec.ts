import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const MB = 1024 * 1024;
const BUILT_PARSER = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'dist', 'libs', 'records', 'src', 'mail-message.js');

/**
 * What the mail parser keeps referenced while a large attachment streams through it, measured in a
 * process of its own (the built parser, `npm run build` first): a forced collection there takes
 * milliseconds, where in a Jest worker that has loaded other suites each one took seconds. Given the
 * message as one Buffer, mailparser decoded a base64 attachment in one piece (about 1.4 times its
 * size stayed allocated); fed in slices, a few slices stay.
 */
const PROBE = `
import { parseMailMessage } from ${JSON.stringify(pathToFileURL(BUILT_PARSER).href)};
const attachment = Buffer.alloc(${30 * MB}, 'PDF bytes ').toString('base64').replace(/.{76}/g, '$&\\r\\n');
const head = ['Message-ID: <m@example.test>', 'From: Alice <alice@example.test>', 'To: bob@example.test', 'Subject: test',
  'MIME-Version: 1.0', 'Date: Mon, 06 Jan 2025 09:00:00 +0000', 'Content-Type: multipart/mixed; boundary="mix"'].join('\\r\\n');
const raw = Buffer.from(head + '\\r\\n\\r\\n--mix\\r\\nContent-Type: application/pdf\\r\\nContent-Transfer-Encoding: base64\\r\\n' +
  'Content-Disposition: attachment; filename="big.pdf"\\r\\n\\r\\n' + attachment +
  '\\r\\n--mix\\r\\nContent-Type: text/html; charset=utf-8\\r\\n\\r\\n<p>After the attachment: Hedy Lamarr</p>\\r\\n--mix--\\r\\n', 'latin1');
globalThis.gc();
const before = process.memoryUsage().arrayBuffers;
let mostRetained = 0, samples = 0, parsing = true;
const parse = parseMailMessage(raw, 0).finally(() => (parsing = false));
for (let turn = 1; parsing; turn++) {
  await new Promise((resolve) => setImmediate(resolve));
  if (turn % 4 !== 0) continue;
  globalThis.gc();
  mostRetained = Math.max(mostRetained, process.memoryUsage().arrayBuffers - before);
  samples++;
}
const parsed = await parse;
process.stdout.write(JSON.stringify({ body: parsed.record?.body, mostRetained, samples }));
`;

describe('parseMailMessage memory', () => {
  it('reads past a 30 MB attachment without holding it: what stays allocated while it streams is a few slices', async () => {
    expect(existsSync(BUILT_PARSER)).toBe(true);
    const { stdout } = await run(process.execPath, ['--expose-gc', '--input-type=module', '-e', PROBE], { maxBuffer: MB });
    const result = JSON.parse(stdout) as { body: string; mostRetained: number; samples: number };
    expect(result.body).toBe('After the attachment: Hedy Lamarr');
    expect(result.samples).toBeGreaterThan(10);
    expect(result.mostRetained).toBeLessThan(8 * MB);
  }, 60_000);
});
