import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect as connectTcp, createServer, type Socket } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { freePort, PrivateDovecot } from '#libs/testing';

/**
 * Just enough IMAP to check the server: one command at a time, answers read line by line (the
 * commands used here get no literal back).
 */
class Imap {
  private buffer = '';
  private lines: string[] = [];
  private waiting: (() => void) | undefined;
  private tag = 0;
  private closed: Error | undefined;

  private constructor(private readonly socket: Socket | TLSSocket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      const parts = this.buffer.split('\r\n');
      this.buffer = parts.pop() ?? '';
      this.lines.push(...parts);
      this.waiting?.();
    });
    socket.on('close', () => {
      this.closed = new Error('connection closed');
      this.waiting?.();
    });
    socket.on('error', () => undefined);
  }

  /** Connects and reads the greeting. */
  static async open(socket: Socket | TLSSocket): Promise<{ imap: Imap; greeting: string }> {
    const imap = new Imap(socket);
    const greeting = await imap.line();
    return { imap, greeting };
  }

  /** Sends `command` with a fresh tag; resolves to the tagged status and the untagged lines before it. */
  async run(command: string): Promise<{ status: string; text: string; untagged: string[] }> {
    const tag = `t${++this.tag}`;
    this.socket.write(`${tag} ${command}\r\n`);
    const untagged: string[] = [];
    for (;;) {
      const line = await this.line();
      if (line.startsWith(`${tag} `)) {
        const [, status, text] = /^\S+ (\S+) ?(.*)$/.exec(line) ?? [];
        return { status, text, untagged };
      }
      untagged.push(line);
    }
  }

  async logout(): Promise<void> {
    await this.run('LOGOUT');
    this.socket.destroy();
  }

  private async line(): Promise<string> {
    while (this.lines.length === 0) {
      if (this.closed) throw this.closed;
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
    return this.lines.shift() as string;
  }
}

function plain(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

function secure(port: number, options: { rejectUnauthorized: boolean; ca?: string }): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({ port, host: '127.0.0.1', ...options }, () => resolve(socket));
    socket.once('error', reject);
  });
}

async function login(port: number, user: string, password: string): Promise<Imap> {
  const { imap } = await Imap.open(await plain(port));
  const answer = await imap.run(`LOGIN ${user} ${password}`);
  if (answer.status !== 'OK') throw new Error(`LOGIN ${user}: ${answer.status} ${answer.text}`);
  return imap;
}

/** MESSAGES and UIDVALIDITY of `folder`, asked with STATUS. */
async function status(imap: Imap, folder: string): Promise<{ messages: number; uidValidity: number }> {
  const { status: result, untagged } = await imap.run(`STATUS ${folder} (MESSAGES UIDVALIDITY)`);
  expect(result).toBe('OK');
  const line = untagged.find((l) => l.startsWith('* STATUS')) ?? '';
  return { messages: Number(/MESSAGES (\d+)/.exec(line)?.[1]), uidValidity: Number(/UIDVALIDITY (\d+)/.exec(line)?.[1]) };
}

/** The messages of an mbox file, `>From ` unescaped. */
function mboxMessages(path: URL): string[] {
  return readFileSync(path, 'utf8')
    .split(/^From .*\n/m)
    .filter((m) => m.trim() !== '')
    .map((m) => m.replace(/^>(>*From )/gm, '$1'));
}

/** Process ids whose command line holds `text`. */
function processesWith(text: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** The state letter of process `pid` (R, S, T for stopped, ...). */
function state(pid: number): string {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ')[0];
}

/** The direct children of process `pid`. */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
        return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

const SIMPLE = [
  'Message-ID: <simple-1@example.test>',
  'Date: Tue, 05 Mar 2019 08:00:00 +0000',
  'From: Frank Liu <frank@example.test>',
  'To: alice@example.test',
  'Subject: An old note',
  '',
  'Delivered with a received date in 2019.',
  '',
].join('\r\n');

describe('PrivateDovecot', () => {
  let dovecot: PrivateDovecot;

  beforeAll(async () => {
    dovecot = await PrivateDovecot.start({
      tls: true,
      authFailureDelaySeconds: 0,
      users: [
        { name: 'alice', password: 'alice-secret' },
        { name: 'bob', password: 'bob-secret' },
        { name: 'carol', password: 'carol-secret' },
        { name: 'erin', password: 'erin-secret' },
        // an OAuth2 user: the password is the bearer token it signs in with
        { name: 'frank', password: 'frank-token' },
      ],
    });
    const [plainMessage, , , noDate] = mboxMessages(new URL('../../../apps/api/test/fixtures/sample.mbox', import.meta.url));
    dovecot.deliver('alice', 'INBOX', plainMessage);
    dovecot.deliver('alice', 'INBOX', Buffer.from(noDate));
    dovecot.deliver('alice', 'INBOX', SIMPLE, { receivedAt: new Date('2019-03-05T08:00:00Z'), seen: true });
  });

  afterAll(async () => {
    await dovecot?.destroy();
  });

  it('serves the delivered messages to a user who logs in, with their received dates and flags', async () => {
    const imap = await login(dovecot.port, 'alice', 'alice-secret');
    const { messages, uidValidity } = await status(imap, 'INBOX');
    expect(messages).toBe(3);
    expect(uidValidity).toBeGreaterThan(0);
    const selected = await imap.run('SELECT INBOX');
    expect(selected.status).toBe('OK');
    expect(selected.untagged).toContain('* 3 EXISTS');
    expect(selected.untagged).toContain(`* OK [UIDVALIDITY ${uidValidity}] UIDs valid`);
    expect((await imap.run('UID SEARCH ALL')).untagged).toEqual(['* SEARCH 1 2 3']);
    // the INTERNALDATE is the file's time: only the message delivered as received in 2019 is before 2020
    expect((await imap.run('UID SEARCH BEFORE 1-Jan-2020')).untagged).toEqual(['* SEARCH 3']);
    expect((await imap.run('UID SEARCH SEEN')).untagged).toEqual(['* SEARCH 3']);
    await imap.logout();
  });

  it('numbers messages in the order they were delivered', async () => {
    const subjects = Array.from({ length: 40 }, (_, i) => `Ordered ${i}`);
    for (const [i, subject] of subjects.entries()) {
      dovecot.deliver('alice', 'Ordered', `Message-ID: <ordered-${i}@example.test>\r\nSubject: ${subject}\r\n\r\nbody ${i}\r\n`);
    }
    const imap = await login(dovecot.port, 'alice', 'alice-secret');
    await imap.run('EXAMINE Ordered');
    const { untagged } = await imap.run('UID FETCH 1:* (UID ENVELOPE)');
    await imap.logout();
    const byUid = untagged.map((line) => [Number(/UID (\d+)/.exec(line)?.[1]), /ENVELOPE \(NIL "([^"]*)"/.exec(line)?.[1]] as const);
    expect(byUid).toEqual(subjects.map((subject, i) => [i + 1, subject]));
  });

  it('refuses a wrong password with NO, and records that nothing but LOGIN reached the server', async () => {
    const { imap, greeting } = await Imap.open(await plain(dovecot.port));
    expect(greeting).toMatch(/^\* OK /);
    const answer = await imap.run('LOGIN carol wrong-password');
    expect(answer.status).toBe('NO');
    expect(answer.text).toContain('[AUTHENTICATIONFAILED]');
    await imap.logout();

    expect(await dovecot.commandsSeen('carol')).toEqual(['LOGIN', 'LOGOUT']);
    expect((await dovecot.loginAttempts()).filter((a) => a.user === 'carol')).toEqual([{ user: 'carol', command: 'LOGIN', outcome: 'refused' }]);
  });

  it("takes an OAuth2 bearer token (AUTHENTICATE XOAUTH2) that equals the user's password, as a mailbox client with a token signs in", async () => {
    const xoauth2 = (user: string, token: string) => Buffer.from(`user=${user}\x01auth=Bearer ${token}\x01\x01`).toString('base64');
    const { imap } = await Imap.open(await plain(dovecot.port));
    const capability = await imap.run('CAPABILITY');
    expect(capability.untagged.join(' ')).toContain('AUTH=XOAUTH2');
    const answer = await imap.run(`AUTHENTICATE XOAUTH2 ${xoauth2('frank', 'frank-token')}`);
    expect(answer.status).toBe('OK');
    expect((await imap.run('SELECT INBOX')).status).toBe('OK');
    await imap.logout();
  });

  it('records the commands of a session, before and after login, so a FETCH would show', async () => {
    const before = await dovecot.connectionCount();
    const imap = await login(dovecot.port, 'bob', 'bob-secret');
    await imap.run('SELECT INBOX');
    await imap.run('UID SEARCH ALL');
    await imap.logout();
    expect(await dovecot.commandsSeen('bob')).toEqual(['LOGIN', 'SELECT', 'UID SEARCH', 'LOGOUT']);

    // the positive control: a FETCH, and an AUTHENTICATE PLAIN whose user is read from its SASL response
    const { imap: other } = await Imap.open(await plain(dovecot.port));
    const sasl = Buffer.from('\0bob\0bob-secret').toString('base64');
    expect((await other.run(`AUTHENTICATE PLAIN ${sasl}`)).status).toBe('OK');
    await other.run('EXAMINE INBOX');
    await other.run('FETCH 1:* (FLAGS)');
    await other.run('UID FETCH 1:* (UID)');
    await other.logout();

    expect(await dovecot.commandsSeen('bob')).toEqual([
      'LOGIN',
      'SELECT',
      'UID SEARCH',
      'LOGOUT',
      'AUTHENTICATE',
      'EXAMINE',
      'FETCH',
      'UID FETCH',
      'LOGOUT',
    ]);
    expect(await dovecot.connectionCount()).toBe(before + 2);
    expect((await dovecot.loginAttempts()).filter((a) => a.user === 'bob')).toEqual([
      { user: 'bob', command: 'LOGIN', outcome: 'accepted' },
      { user: 'bob', command: 'AUTHENTICATE', outcome: 'accepted' },
    ]);
  });

  it('gives a folder a new UIDVALIDITY once reset, keeping its messages', async () => {
    dovecot.deliver('alice', 'Archive', SIMPLE);
    const imap = await login(dovecot.port, 'alice', 'alice-secret');
    const inbox = await status(imap, 'INBOX');
    const archive = await status(imap, 'Archive');
    expect(archive.messages).toBe(1);
    await imap.logout();

    dovecot.resetFolder('alice', 'INBOX');
    dovecot.resetFolder('alice', 'Archive');

    const again = await login(dovecot.port, 'alice', 'alice-secret');
    const inboxAfter = await status(again, 'INBOX');
    const archiveAfter = await status(again, 'Archive');
    await again.logout();
    expect(inboxAfter.messages).toBe(3);
    expect(inboxAfter.uidValidity).not.toBe(inbox.uidValidity);
    expect(archiveAfter.messages).toBe(1);
    expect(archiveAfter.uidValidity).not.toBe(archive.uidValidity);
  });

  it('completes a TLS handshake on the IMAPS port with its self-signed certificate, which fails verification unless trusted', async () => {
    const { imap, greeting } = await Imap.open(await secure(dovecot.imapsPort as number, { rejectUnauthorized: false }));
    expect(greeting).toMatch(/^\* OK /);
    expect((await imap.run('LOGIN erin erin-secret')).status).toBe('OK');
    expect((await status(imap, 'INBOX')).messages).toBe(0);
    await imap.logout();
    // on TLS the commands before login are ciphertext to the login process: those after it are seen
    expect(await dovecot.commandsSeen('erin')).toEqual(['STATUS', 'LOGOUT']);
    expect(await dovecot.commandsSeen()).not.toContainEqual(expect.stringMatching(/[^A-Z ]/));

    await expect(secure(dovecot.imapsPort as number, { rejectUnauthorized: true })).rejects.toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    // trusted, the certificate names 127.0.0.1
    const trusted = await secure(dovecot.imapsPort as number, { rejectUnauthorized: true, ca: dovecot.certificate });
    expect(trusted.authorized).toBe(true);
    trusted.destroy();
  });

  it('refuses connections once stopped and comes back on the same port with the same mail', async () => {
    const first = await login(dovecot.port, 'alice', 'alice-secret');
    const before = await status(first, 'INBOX');
    await first.logout();

    await dovecot.stop();
    expect(dovecot.running).toBe(false);
    await expect(plain(dovecot.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await dovecot.restart();
    const second = await login(dovecot.port, 'alice', 'alice-secret');
    expect(await status(second, 'INBOX')).toEqual(before);

    // killed mid-session: the client's connection ends, and a restart serves the same mail
    await dovecot.stop('kill');
    await expect(second.run('NOOP')).rejects.toThrow('connection closed');
    await dovecot.restart();
    const third = await login(dovecot.port, 'alice', 'alice-secret');
    expect(await status(third, 'INBOX')).toEqual(before);
    await third.logout();
  });

  it('freezes while paused, holding a new connection unanswered, and answers it once resumed', async () => {
    await dovecot.pause();
    const socket = await plain(dovecot.port);
    // every process of the server is stopped: nothing can have greeted the connection the kernel accepted
    // (a zombie, a process that ended before the pause and is not reaped yet, is no server)
    const stopped = processesWith(dovecot.dir)
      .flatMap((master) => [master, ...childrenOf(master)])
      .filter((pid) => state(pid) !== 'Z');
    expect(stopped.length).toBeGreaterThan(1);
    expect(stopped.map(state)).toEqual(stopped.map(() => 'T'));
    const greeted = Imap.open(socket);
    dovecot.resume();
    const { imap, greeting } = await greeted;
    expect(greeting).toMatch(/^\* OK /);
    expect((await imap.run('LOGIN alice alice-secret')).status).toBe('OK');
    await imap.logout();
  });

  it('leaves no process and no folder behind once destroyed', async () => {
    const scratch = await PrivateDovecot.start({ users: [{ name: 'dan', password: 'dan-secret' }] });
    const master = processesWith(scratch.dir);
    expect(master).toHaveLength(1);
    await (await login(scratch.port, 'dan', 'dan-secret')).logout();
    await scratch.destroy();
    expect(processesWith(scratch.dir)).toEqual([]);
    expect(existsSync(scratch.dir)).toBe(false);
    await expect(plain(scratch.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('fails to start with an error that quotes the server, its temporary folder removed', async () => {
    const taken = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    try {
      const error = (await PrivateDovecot.start({ port }).then(
        () => undefined,
        (e: Error) => e,
      )) as Error;
      expect(error.message).toContain(`Dovecot on port ${port} did not greet: it exited`);
      expect(error.message).toContain('Address already in use');
      const dir = /\(in (\/[^)]*private-dovecot-[^)]*)\)/.exec(error.message)?.[1] as string;
      expect(existsSync(dir)).toBe(false);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
