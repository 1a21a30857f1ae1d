import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EgressClient } from './egress-client.js';
import { EgressFailedError, EgressRefusedError } from './egress.errors.js';
import { EgressPolicy } from './egress-policy.js';

const strict = new EgressPolicy({ allowHttp: false, allowedCidrs: [] });
const lenientHttp = new EgressPolicy({ allowHttp: true, allowedCidrs: [] });

function refusal(policy: EgressPolicy, url: string): string | null {
  try {
    policy.checkUrl(url);
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(EgressRefusedError);
    return (error as EgressRefusedError).reason;
  }
}

describe(EgressPolicy.name, () => {
  it.each([
    ['https://127.0.0.1/hook', 'loopback'],
    ['https://2130706433/hook', 'loopback'], // one decimal number
    ['https://0177.0.0.1/hook', 'loopback'], // octal
    ['https://0x7f.1/hook', 'loopback'], // hex, two parts
    ['https://127.1/hook', 'loopback'],
    ['https://[::1]/hook', 'loopback'],
    ['https://[::ffff:127.0.0.1]/hook', 'loopback'], // IPv4-mapped IPv6
    ['https://[::ffff:a9fe:a9fe]/hook', 'linkLocal'],
    ['https://0.0.0.0/hook', 'unspecified'],
    ['https://0/hook', 'unspecified'],
    ['https://[::]/hook', 'unspecified'],
    ['https://10.1.2.3/hook', 'private'],
    ['https://172.16.0.1/hook', 'private'],
    ['https://192.168.1.1/hook', 'private'],
    ['https://169.254.169.254/latest/meta-data', 'linkLocal'], // cloud metadata
    ['https://100.64.0.1/hook', 'carrierGradeNat'],
    ['https://224.0.0.1/hook', 'multicast'],
    ['https://255.255.255.255/hook', 'broadcast'],
    ['https://[fd00::1]/hook', 'uniqueLocal'],
    ['https://[fe80::1]/hook', 'linkLocal'],
    ['https://[ff02::1]/hook', 'multicast'],
    ['https://[64:ff9b::7f00:1]/hook', 'reserved'], // NAT64 of 127.0.0.1
    ['https://127.0.0.1./hook', 'loopback'], // trailing dot
    ['https://[::7f00:1]/hook', 'reserved'], // IPv4-compatible (deprecated) of 127.0.0.1
    ['https://[::a9fe:a9fe]/hook', 'reserved'], // IPv4-compatible of 169.254.169.254
    [`https://example.com/${'é'.repeat(1_000)}`, 'length'], // 1,026 characters sent, over 6,000 once percent-encoded
  ])('refuses %s as %s', (url, reason) => {
    expect(refusal(strict, url)).toBe(reason);
  });

  it.each([
    'https://93.184.215.14/hook',
    'https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/hook',
    'https://example.com/hook',
    'https://bücher.example/hook',
  ])('accepts the public %s (host names are judged at connect time)', (url) => {
    expect(refusal(strict, url)).toBeNull();
  });

  it('turns an IDN into its ASCII form (what DNS is asked for)', () => {
    expect(strict.checkUrl('https://bücher.example/hook').hostname).toBe('xn--bcher-kva.example');
  });

  it('refuses http unless the operator allows it, other schemes always, credentials, and long or malformed URLs', () => {
    expect(refusal(strict, 'http://example.com/hook')).toBe('scheme');
    expect(refusal(lenientHttp, 'http://example.com/hook')).toBeNull();
    expect(refusal(lenientHttp, 'ftp://example.com/hook')).toBe('scheme');
    expect(refusal(lenientHttp, 'file:///etc/passwd')).toBe('scheme');
    expect(refusal(strict, 'https://user:pass@example.com/hook')).toBe('credentials');
    expect(refusal(strict, 'https://user@example.com/hook')).toBe('credentials');
    expect(refusal(strict, `https://example.com/${'a'.repeat(2_100)}`)).toBe('length');
    expect(refusal(strict, 'not a url')).toBe('invalid');
    expect(refusal(strict, '/relative')).toBe('invalid');
  });

  it('names the host at most, never the path, query or credentials', () => {
    const messages = ['https://user:s3cr3t@10.0.0.1/p?token=abc', 'https://10.0.0.1/private-path?token=abc', 'ftp://x/?token=abc'].map((url) => {
      try {
        strict.checkUrl(url);
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    });
    for (const message of messages) expect(message).not.toMatch(/s3cr3t|token|private-path|abc/);
    expect(messages[1]).toContain('10.0.0.1');
  });

  it('lets the allow-list permit exactly its ranges', () => {
    const allowing = new EgressPolicy({ allowHttp: false, allowedCidrs: ['127.0.0.1/32', '::1', '10.8.0.0/16'] });
    expect(refusal(allowing, 'https://127.0.0.1/hook')).toBeNull();
    expect(refusal(allowing, 'https://[::ffff:127.0.0.1]/hook')).toBeNull();
    expect(refusal(allowing, 'https://[::1]/hook')).toBeNull();
    expect(refusal(allowing, 'https://10.8.3.4/hook')).toBeNull();
    expect(refusal(allowing, 'https://127.0.0.2/hook')).toBe('loopback');
    expect(refusal(allowing, 'https://10.9.0.1/hook')).toBe('private');
    expect(refusal(allowing, 'https://169.254.169.254/hook')).toBe('linkLocal');
  });

  it.each([
    ['imap.example.com', 'imap.example.com'],
    ['IMAP.Example.COM', 'imap.example.com'],
    ['bücher.example', 'xn--bcher-kva.example'],
    ['93.184.215.14', '93.184.215.14'],
    ['2606:2800:21f:cb07:6820:80da:af6b:8b2c', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
    ['[2606:2800:21f:cb07:6820:80da:af6b:8b2c]', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
  ])('checkHost takes the host %s as %s (names are judged at connect time)', (host, dialled) => {
    expect(strict.checkHost(host)).toBe(dialled);
  });

  it.each([
    ['127.0.0.1', 'loopback'],
    ['0x7f.1', 'loopback'],
    ['::1', 'loopback'],
    ['[::ffff:127.0.0.1]', 'loopback'],
    ['169.254.169.254', 'linkLocal'],
    ['10.0.0.1', 'private'],
    ['', 'invalid'],
    ['imap.example.com:993', 'invalid'],
    ['user@imap.example.com', 'invalid'],
    ['imap.example.com/path', 'invalid'],
    ['imap example.com', 'invalid'],
    ['a..b', 'invalid'],
    ['-', 'invalid'],
    ['-imap.example.com', 'invalid'],
    ['imap_mail.example.com', 'invalid'],
    [`${'a'.repeat(64)}.example.com`, 'invalid'],
  ])('checkHost refuses %s as %s', (host, reason) => {
    const error = (() => {
      try {
        strict.checkHost(host);
        return null;
      } catch (e) {
        return e as EgressRefusedError;
      }
    })();
    expect(error).toBeInstanceOf(EgressRefusedError);
    expect(error?.reason).toBe(reason);
  });

  it('refuses an allow-list entry that is no address', () => {
    expect(() => new EgressPolicy({ allowHttp: false, allowedCidrs: ['localhost'] })).toThrow(/localhost/);
  });
});

describe(EgressClient.name, () => {
  let server: Server;
  let port: number;
  let received = 0;

  beforeAll(async () => {
    server = createServer((request, response) => {
      received += 1;
      request.resume();
      response.writeHead(request.url === '/redirect' ? 302 : 204, request.url === '/redirect' ? { location: 'http://127.0.0.1/elsewhere' } : {});
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const post = { headers: { 'content-type': 'application/json' }, body: '{}', timeoutMs: 5_000 };

  it('refuses at connect time a host name that resolves to loopback, before any byte is sent', async () => {
    const client = new EgressClient(lenientHttp);
    const before = received;
    await expect(client.post(`http://localhost:${port}/hook`, post)).rejects.toMatchObject({ code: 'EGRESS_REFUSED', reason: 'loopback' });
    await expect(client.post(`http://127.0.0.1:${port}/hook`, post)).rejects.toMatchObject({ code: 'EGRESS_REFUSED', reason: 'loopback' });
    expect(received).toBe(before);
  });

  it('reaches an address the allow-list permits, through a host name too, and does not follow redirects', async () => {
    const client = new EgressClient(new EgressPolicy({ allowHttp: true, allowedCidrs: ['127.0.0.1/32', '::1/128'] }));
    await expect(client.post(`http://127.0.0.1:${port}/hook`, post)).resolves.toEqual({ status: 204 });
    await expect(client.post(`http://localhost:${port}/hook`, post)).resolves.toEqual({ status: 204 });
    const before = received;
    await expect(client.post(`http://127.0.0.1:${port}/redirect`, post)).resolves.toEqual({ status: 302 });
    expect(received).toBe(before + 1);
  });

  it('types a refused connection as EGRESS_UNREACHABLE naming the host only', async () => {
    const client = new EgressClient(new EgressPolicy({ allowHttp: true, allowedCidrs: ['127.0.0.1/32'] }));
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await client.post(`http://127.0.0.1:${closedPort}/secret-path`, post).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EgressFailedError);
    expect(error).toMatchObject({ code: 'EGRESS_UNREACHABLE', kind: 'connection' });
    expect((error as Error).message).not.toContain('secret-path');
  });
});
