import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCommands, parseReplies, type RawlogCommand, type RawlogReply } from './imap-rawlog.js';

/** A LOGIN or AUTHENTICATE a client sent, and what became of it. */
export interface LoginAttempt {
  user: string | undefined;
  command: string;
  /** `accepted`: a session as that user began; `refused`: NO or BAD; `unanswered`: the client left first. */
  outcome: 'accepted' | 'refused' | 'unanswered';
}

interface Session {
  kind: 'login' | 'user';
  /** For `user` sessions, the folder's user. */
  user?: string;
  commands: RawlogCommand[];
  replies: RawlogReply[];
}

/**
 * The rawlogs of a private Dovecot: `loginDir` holds one pair of files per connection as the login
 * process saw it (before login; ciphertext on TLS), `userDir/<user>` one pair per session after login.
 */
export class DovecotRawlogs {
  constructor(
    private readonly loginDir: string,
    private readonly userDir: string,
  ) {}

  /**
   * The IMAP commands (`LOGIN`, `SELECT`, `UID FETCH`, ...) of every connection that tried to log in
   * as `user` (every connection without `user`), in the order sent. Commands before login are seen on
   * plain connections only (on TLS the login process's rawlog holds ciphertext); every command after
   * login is seen. Complete for each command the client already has an answer to.
   */
  async commandsSeen(user?: string): Promise<string[]> {
    const sessions = await this.sessions();
    const relevant = sessions.filter((s) => user === undefined || (s.kind === 'user' ? s.user === user : s.commands.some((c) => c.user === user)));
    return relevant
      .flatMap((s) => s.commands)
      .sort((a, b) => a.at - b.at)
      .map((c) => c.name);
  }

  /** Every LOGIN and AUTHENTICATE sent on a plain connection, in order, with its outcome. */
  async loginAttempts(): Promise<LoginAttempt[]> {
    const sessions = await this.sessions();
    const attempts = sessions
      .filter((s) => s.kind === 'login')
      .flatMap((s) => s.commands.filter((c) => c.name === 'LOGIN' || c.name === 'AUTHENTICATE').map((c) => ({ c, s })))
      .sort((a, b) => a.c.at - b.c.at);
    return attempts.map(({ c, s }) => {
      const answer = s.replies.find((r) => r.tag === c.tag && r.at >= c.at);
      // a login that succeeds is answered by the user's imap process, first thing in its own rawlog
      const accepted = sessions.some((u) => u.kind === 'user' && u.user === c.user && u.replies[0]?.tag === c.tag && u.replies[0].at >= c.at);
      const outcome = accepted ? 'accepted' : answer && answer.status !== 'OK' ? 'refused' : 'unanswered';
      return { user: c.user, command: c.name, outcome };
    });
  }

  /** How many connections Dovecot accepted so far (plain and TLS), logged in or not. */
  async connectionCount(): Promise<number> {
    return (await readdir(this.loginDir)).filter((f) => f.endsWith('.in')).length;
  }

  private async sessions(): Promise<Session[]> {
    const read = async (folder: string, kind: Session['kind'], user?: string): Promise<Session[]> => {
      const names = (await readdir(folder).catch(() => [])).filter((f) => f.endsWith('.in'));
      return Promise.all(
        names.map(async (name) => {
          const base = join(folder, name.slice(0, -'.in'.length));
          const [input, output] = await Promise.all([readFile(`${base}.in`, 'latin1'), readFile(`${base}.out`, 'latin1').catch(() => '')]);
          return { kind, user, commands: parseCommands(input), replies: parseReplies(output) };
        }),
      );
    };
    const users = await readdir(this.userDir);
    const perUser = await Promise.all(users.map((user) => read(join(this.userDir, user), 'user', user)));
    return [...(await read(this.loginDir, 'login')), ...perUser.flat()];
  }
}
