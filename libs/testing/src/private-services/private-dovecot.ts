import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ChildService } from './child-service.js';
import { dovecotConfig } from './dovecot-config.js';
import { freePort, trackLive, untrackLive, waitFor } from './free-port.js';
import { DovecotRawlogs, type LoginAttempt } from './dovecot-rawlogs.js';

export type { LoginAttempt } from './dovecot-rawlogs.js';
import { descendants, processRuns, processStopped, signalAll } from './process-tree.js';

const run = promisify(execFile);
const BIN = process.env.TEST_DOVECOT_BIN ?? '/usr/sbin/dovecot';
/** As root, Dovecot's services and mailboxes run as this account: it refuses uid 0 for both. */
const ROOT_RUNS_AS = 'nobody';

/** A mailbox user of a private Dovecot. */
export interface PrivateDovecotUser {
  name: string;
  password: string;
}

/** How a private Dovecot is started. */
export interface PrivateDovecotOptions {
  users?: PrivateDovecotUser[];
  /** Also listen for IMAPS (implicit TLS) on `imapsPort` with a self-signed certificate for localhost and 127.0.0.1; STARTTLS on `port` too. */
  tls?: boolean;
  /** Seconds Dovecot waits before it refuses a login; its default is 2. */
  authFailureDelaySeconds?: number;
  /** Plain IMAP on this port instead of a free one picked at random. */
  port?: number;
  /** Offer AUTHENTICATE XOAUTH2, a bearer token equal to the user's password logging in (the default); false: PLAIN and LOGIN only. */
  xoauth2?: boolean;
}

/** A message delivered into a folder. */
export interface DeliverOptions {
  /** The message's INTERNALDATE (the file's modification time); now by default. */
  receivedAt?: Date;
  /** Delivered as read (cur/ with the S flag) instead of new (new/). */
  seen?: boolean;
}

/**
 * A Dovecot IMAP server of one test's own (Debian's `dovecot-imapd`): a temporary folder holds its
 * configuration, runtime and state folders, log, passwd-file users and their maildirs; it listens on
 * a free port of 127.0.0.1 (plain IMAP, and IMAPS with `tls`), runs as a child of the test process
 * and reads no file of /etc/dovecot. Started by root, its services and mailboxes run as `nobody`
 * (Dovecot refuses root for both); otherwise as the current user.
 *
 * Every connection is recorded (Dovecot's rawlogs), so a test can tell which IMAP commands a client
 * issued: `commandsSeen`, `loginAttempts`, `connectionCount`. `stop()` and `restart()` keep the port
 * and the mail; `pause()` freezes it as a hung server. Call `destroy()` in afterAll (an exit hook kills it anyway should the test process end first).
 */
export class PrivateDovecot {
  private readonly server = new ChildService();
  private readonly rawlogs: DovecotRawlogs;
  private readonly greeting = `Private Dovecot ${randomBytes(6).toString('hex')} ready.`;
  private sequence = 0;

  private constructor(
    /** Plain IMAP (STARTTLS offered with `tls`). */
    readonly port: number,
    /** Implicit TLS, with `tls` only. */
    readonly imapsPort: number | undefined,
    readonly dir: string,
    private readonly account: { user: string; group: string; uid: number; gid: number },
  ) {
    this.rawlogs = new DovecotRawlogs(join(dir, 'rawlog-login'), join(dir, 'rawlog'));
  }

  /** Writes the configuration, users and certificate, starts Dovecot and resolves once it greets on `port`. */
  static async start(options: PrivateDovecotOptions = {}): Promise<PrivateDovecot> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await PrivateDovecot.startOnce(options);
      } catch (error) {
        // another process took a port picked as free before Dovecot bound it: pick again
        const raced = options.port === undefined && (error as Error).message.includes('Address already in use');
        if (!raced || attempt === 3) throw error;
      }
    }
  }

  private static async startOnce(options: PrivateDovecotOptions): Promise<PrivateDovecot> {
    if (!existsSync(BIN)) throw new Error(`Dovecot is not installed (no ${BIN}): apt-get install dovecot-imapd (.ci/run does it when missing)`);
    const dir = mkdtempSync(join(tmpdir(), 'private-dovecot-'));
    const dovecot = new PrivateDovecot(options.port ?? (await freePort()), options.tls ? await freePort() : undefined, dir, await serviceAccount());
    trackLive(dovecot);
    try {
      await dovecot.prepare(options);
      await dovecot.launch();
      return dovecot;
    } catch (error) {
      await dovecot.destroy();
      throw error;
    }
  }

  get running(): boolean {
    return this.server.running;
  }

  /** The self-signed certificate of the IMAPS port (PEM), for a client that should trust it. */
  get certificate(): string {
    return readFileSync(join(this.dir, 'tls', 'cert.pem'), 'utf8');
  }

  /**
   * Writes `message` into `folder` of `user`'s maildir as a new message (tmp/ then renamed, as a
   * delivery agent does, so Dovecot never sees half a file). A folder other than INBOX is created
   * when missing (Maildir++: `.Name`, `.Parent.Child` for `Parent.Child`). Messages get UIDs in the
   * order delivered.
   */
  deliver(user: string, folder: string, message: string | Buffer, options: DeliverOptions = {}): void {
    const path = this.folderPath(user, folder, true);
    // maildir's <seconds>.M<micros>P<pid> form with a sequence for micros: Dovecot numbers new files in
    // the order of these two fields, so UIDs follow the order of delivery
    const name = `${Math.floor(Date.now() / 1000)}.M${++this.sequence}P${process.pid}R${randomBytes(4).toString('hex')}.private-dovecot`;
    const temporary = join(path, 'tmp', name);
    writeFileSync(temporary, message);
    this.own(temporary);
    if (options.receivedAt) utimesSync(temporary, options.receivedAt, options.receivedAt);
    renameSync(temporary, options.seen ? join(path, 'cur', `${name}:2,S`) : join(path, 'new', name));
  }

  /**
   * Makes Dovecot forget the UIDs of `folder`: removes its uid list and indexes (and the mailbox list
   * index that caches STATUS), so the next session assigns a new UIDVALIDITY and numbers the same
   * messages from 1 again. Call it while no client has the folder open.
   */
  resetFolder(user: string, folder: string): void {
    const path = this.folderPath(user, folder, false);
    const root = this.folderPath(user, 'INBOX', false);
    for (const [where, prefixes] of [
      [path, ['dovecot-uidlist', 'dovecot.index']],
      [root, ['dovecot.list.index']],
    ] as const) {
      for (const entry of listing(where)) {
        if (prefixes.some((prefix) => entry.startsWith(prefix))) rmSync(join(where, entry), { force: true });
      }
    }
  }

  /**
   * The IMAP commands (`LOGIN`, `SELECT`, `UID FETCH`, ...) of every connection that tried to log in
   * as `user` (of every connection without `user`), in order. Before login on plain connections only
   * (TLS is ciphertext to the login process); after login always. Complete for each command whose
   * answer the client already has.
   */
  commandsSeen(user?: string): Promise<string[]> {
    return this.rawlogs.commandsSeen(user);
  }

  /** Every LOGIN and AUTHENTICATE sent on a plain connection, in order, with its outcome. */
  loginAttempts(): Promise<LoginAttempt[]> {
    return this.rawlogs.loginAttempts();
  }

  /** How many connections Dovecot accepted so far (plain and TLS), logged in or not. */
  connectionCount(): Promise<number> {
    return this.rawlogs.connectionCount();
  }

  /** The last `lines` lines of Dovecot's log. */
  logTail(lines = 30): string {
    return tail(join(this.dir, 'dovecot.log'), lines);
  }

  /**
   * Stops Dovecot and waits until every one of its processes is gone (so the port is free again):
   * `term` (default) is a clean shutdown that disconnects clients; `kill` is SIGKILL to all of them, a crash.
   */
  async stop(how: 'term' | 'kill' = 'term'): Promise<void> {
    const master = this.server.pid;
    if (master === undefined) return;
    const tree = descendants(master);
    // a paused server would hold a SIGTERM until continued
    signalAll([master, ...tree], 'SIGCONT');
    if (how === 'kill') {
      signalAll([master, ...tree], 'SIGKILL');
      await this.server.waitForExit();
    } else {
      // the master ends its processes itself; the log process may outlive it by a moment
      await this.server.signal('SIGTERM');
    }
    await waitFor(
      `Dovecot's processes ${tree.join(', ')} did not exit`,
      () => Promise.resolve(!tree.some(processRuns)),
      () => undefined,
    );
  }

  /**
   * Freezes Dovecot (SIGSTOP to all its processes) and resolves once every one is stopped: the kernel
   * still accepts connections on its ports, but nothing answers, as with a hung server. `resume()` ends it.
   */
  async pause(): Promise<void> {
    const master = this.server.pid;
    if (master === undefined) throw new Error('Dovecot is not running');
    const all = [master, ...descendants(master)];
    signalAll(all, 'SIGSTOP');
    await waitFor(
      'Dovecot did not stop',
      () => Promise.resolve(all.every((pid) => processStopped(pid) || !processRuns(pid))),
      () => undefined,
    );
  }

  /** Continues a paused Dovecot: what clients sent meanwhile is answered then. */
  resume(): void {
    const master = this.server.pid;
    if (master !== undefined) signalAll([master, ...descendants(master)], 'SIGCONT');
  }

  /** Stops Dovecot if it runs and starts it again on the same ports, with the same users and mail. */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  /** Kills Dovecot and its processes and removes its folder. */
  async destroy(): Promise<void> {
    await this.stop('kill');
    untrackLive(this);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * Synchronous last resort for process exit (the exit hook calls it): SIGKILL to the master and its processes, no waiting.
   * @public
   */
  killNow(): void {
    const master = this.server.pid;
    if (master !== undefined) signalAll([master, ...descendants(master)], 'SIGKILL');
  }

  private async prepare(options: PrivateDovecotOptions): Promise<void> {
    const users = options.users ?? [];
    for (const { name, password } of users) {
      // one line of the passwd-file, one folder name (%u), one argument of LOGIN without quoting
      if (!/^[A-Za-z0-9._@-]+$/.test(name)) throw new Error(`Not a plain user name: ${name}`);
      if (/[:\r\n]/.test(password)) throw new Error(`A passwd-file password cannot hold ':' or a line break (user ${name})`);
    }
    // services running as the unprivileged account must reach into the folder, not list it
    chmodSync(this.dir, 0o711);
    writeFileSync(join(this.dir, 'passwd'), users.map((u) => `${u.name}:{PLAIN}${u.password}\n`).join(''), { mode: 0o644 });
    for (const folder of ['home', 'rawlog', 'rawlog-login']) this.makeDir(join(this.dir, folder));
    for (const { name } of users) {
      this.makeDir(join(this.dir, 'rawlog', name));
      this.makeDir(join(this.dir, 'home', name));
      this.folderPath(name, 'INBOX', true);
    }
    if (this.imapsPort !== undefined) await this.makeCertificate();
    writeFileSync(
      this.configPath,
      dovecotConfig({
        dir: this.dir,
        port: this.port,
        imapsPort: this.imapsPort,
        greeting: this.greeting,
        account: this.account,
        authFailureDelaySeconds: options.authFailureDelaySeconds ?? 2,
        xoauth2: options.xoauth2 ?? true,
      }),
    );
  }

  private async makeCertificate(): Promise<void> {
    const tls = join(this.dir, 'tls');
    mkdirSync(tls);
    // P-256: generated in milliseconds, where RSA keys take a noticeable part of a second
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      join(tls, 'key.pem'),
      '-out',
      join(tls, 'cert.pem'),
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ]);
  }

  private async launch(): Promise<void> {
    if (this.running) return;
    // a master killed by SIGKILL leaves its pid file; a reused or zombie pid would look like a running Dovecot
    rmSync(join(this.dir, 'run', 'master.pid'), { force: true });
    const output = join(this.dir, 'dovecot.out');
    this.server.launch(BIN, ['-F', '-c', this.configPath], output);
    try {
      await waitFor(
        `Dovecot on port ${this.port} did not greet`,
        () => greets(this.port, this.greeting),
        () => (this.running ? undefined : 'it exited'),
      );
    } catch (error) {
      await this.stop('kill');
      const log = [tail(output, 20), this.logTail(20)].filter(Boolean).join('\n');
      throw new Error(`${(error as Error).message}. Last lines of its output and log (in ${this.dir}):\n${log}`, { cause: error });
    }
  }

  private get configPath(): string {
    return join(this.dir, 'dovecot.conf');
  }

  /** The maildir folder of `folder` (INBOX is the Maildir itself), created with cur/ new/ tmp/ when `create`. */
  private folderPath(user: string, folder: string, create: boolean): string {
    // a home of its own, made at start for each user: one made here would not belong to the account Dovecot runs as
    if (!existsSync(join(this.dir, 'home', user))) throw new Error(`No user ${user} on this Dovecot`);
    const maildir = join(this.dir, 'home', user, 'Maildir');
    let path = maildir;
    if (folder.toUpperCase() !== 'INBOX') {
      if (!/^[A-Za-z0-9 _-]+(\.[A-Za-z0-9 _-]+)*$/.test(folder)) throw new Error(`Not a plain folder name: ${folder}`);
      path = join(maildir, `.${folder}`);
    }
    if (create && !existsSync(join(path, 'tmp'))) {
      for (const sub of ['', 'cur', 'new', 'tmp']) this.makeDir(join(path, sub));
      if (path !== maildir) {
        writeFileSync(join(path, 'maildirfolder'), '');
        this.own(join(path, 'maildirfolder'));
      }
    }
    return path;
  }

  private makeDir(path: string): void {
    mkdirSync(path, { recursive: true });
    this.own(path);
  }

  /** Hands `path` to the account Dovecot runs as (a no-op unless the test runs as root). */
  private own(path: string): void {
    if (userInfo().uid === 0) chownSync(path, this.account.uid, this.account.gid);
  }
}

/** The account Dovecot's services and mailboxes run as: the current user, or `nobody` for root. */
async function serviceAccount(): Promise<{ user: string; group: string; uid: number; gid: number }> {
  const user = userInfo().uid === 0 ? ROOT_RUNS_AS : userInfo().username;
  const id = async (flag: string) => (await run('id', [flag, user])).stdout.trim();
  const [uid, gid, group] = await Promise.all([id('-u'), id('-g'), id('-gn')]);
  return { user, group, uid: Number(uid), gid: Number(gid) };
}

/** The names in folder `path`; none when it does not exist. */
function listing(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

function tail(path: string, lines: number): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * Whether the server on `port` sends `greeting` (this instance, not another test's server that took
 * the port first). A bare socket: `* OK [CAPABILITY ...] <greeting>` is the first line Dovecot sends.
 */
function greets(port: number, greeting: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setEncoding('utf8');
    // something else on the port that accepts and stays silent is not this Dovecot
    socket.setTimeout(1_000, () => done(false));
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\r\n')) done(text.startsWith('* OK') && text.includes(greeting));
    });
    socket.once('error', () => done(false));
    socket.once('close', () => resolve(false));
  });
}
