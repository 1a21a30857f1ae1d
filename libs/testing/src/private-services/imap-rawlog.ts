/**
 * Reading Dovecot's rawlogs: one `.in` file (what the client sent) and one `.out` file (what the
 * server answered) per connection, every line prefixed with a `<seconds>.<micros> ` timestamp. The
 * files are written by the serving process itself as it reads and before it answers, so once a client
 * has its answer to a command, that command is in the file (the server's log goes through another
 * process and may lag).
 */

/** One command a client sent: when, its tag, its name in upper case (`UID FETCH` for UID commands) and the user it names, if any. */
export interface RawlogCommand {
  at: number;
  tag: string;
  name: string;
  /** The user a LOGIN or AUTHENTICATE (PLAIN, LOGIN, XOAUTH2) names. */
  user?: string;
}

/** A tagged answer of the server. */
export interface RawlogReply {
  at: number;
  tag: string;
  status: 'OK' | 'NO' | 'BAD';
}

interface Text {
  /** The stream as the client or server sent it, timestamps removed; latin1, so one char is one byte (literal lengths count bytes). */
  text: string;
  /** Timestamp of each line, by the offset in `text` where the line starts. */
  stamps: Map<number, number>;
}

function unstamp(file: string): Text {
  const stamps = new Map<number, number>();
  let text = '';
  let last = 0;
  for (const line of file.split(/(?<=\n)/)) {
    const stamped = /^(\d+\.\d+) /.exec(line);
    if (stamped) last = Number(stamped[1]);
    stamps.set(text.length, last);
    text += stamped ? line.slice(stamped[0].length) : line;
  }
  return { text, stamps };
}

/**
 * The commands of a rawlog `.in` file (read as latin1). Literals (`{n}` or `{n+}` at a line's end) are
 * part of their command, not commands of their own; lines with fewer than two words (SASL responses
 * of AUTHENTICATE, the DONE of IDLE) are continuations, not commands. A TLS connection (IMAPS, or
 * after STARTTLS) has no readable commands: the login process records the bytes it gets, encrypted.
 */
export function parseCommands(file: string): RawlogCommand[] {
  const { text, stamps } = unstamp(file);
  const commands: RawlogCommand[] = [];
  // a TLS handshake record: the login process logs IMAPS connections as ciphertext
  if (text.startsWith('\x16')) return commands;
  let pendingSasl: { command: RawlogCommand; mechanism: string } | undefined;
  let p = 0;
  while (p < text.length) {
    const start = p;
    // a command ends at the first line end that does not announce a literal
    for (;;) {
      const nl = text.indexOf('\n', p);
      const end = nl < 0 ? text.length : nl;
      const literal = /\{(\d+)\+?\}\r?$/.exec(text.slice(p, end));
      p = end + 1;
      if (!literal || nl < 0) break;
      p += Number(literal[1]);
    }
    const raw = text.slice(start, Math.min(p, text.length)).replace(/\r?\n$/, '');
    const tokens = new Tokens(raw);
    const tag = tokens.next();
    const word = tokens.next();
    if (tag === undefined || word === undefined) {
      // a SASL response: the first one of a mechanism that sent no initial response names the user
      if (pendingSasl && tag !== undefined && tag !== '*') {
        pendingSasl.command.user = saslUser(pendingSasl.mechanism, tag);
      }
      pendingSasl = undefined;
      continue;
    }
    pendingSasl = undefined;
    let name = word.toUpperCase();
    if (name === 'UID') name = `UID ${(tokens.next() ?? '').toUpperCase()}`;
    const command: RawlogCommand = { at: stamps.get(start) ?? 0, tag, name };
    if (name === 'LOGIN') command.user = tokens.next();
    if (name === 'AUTHENTICATE') {
      const mechanism = (tokens.next() ?? '').toUpperCase();
      const initial = tokens.next();
      if (initial !== undefined && initial !== '=') command.user = saslUser(mechanism, initial);
      else pendingSasl = { command, mechanism };
    }
    commands.push(command);
    // the rest of the connection is ciphertext
    if (name === 'STARTTLS') break;
  }
  return commands;
}

/** The tagged OK / NO / BAD answers of a rawlog `.out` file. */
export function parseReplies(file: string): RawlogReply[] {
  const { text, stamps } = unstamp(file);
  const replies: RawlogReply[] = [];
  let offset = 0;
  for (const line of text.split('\n')) {
    const reply = /^([^\s*+]+) (OK|NO|BAD)\b/i.exec(line);
    if (reply) replies.push({ at: stamps.get(offset) ?? 0, tag: reply[1], status: reply[2].toUpperCase() as RawlogReply['status'] });
    offset += line.length + 1;
  }
  return replies;
}

/** The user a SASL response names: PLAIN's authentication id, LOGIN's first response, XOAUTH2's `user=`, OAUTHBEARER's `a=`. */
function saslUser(mechanism: string, base64: string): string | undefined {
  const decoded = Buffer.from(base64, 'base64').toString('utf8');
  if (mechanism === 'PLAIN') return decoded.split('\0')[1];
  if (mechanism === 'LOGIN') return decoded;
  // key=value fields separated by ^A; OAUTHBEARER's first field is the GS2 header "n,a=<user>,"
  const fields = decoded.split(String.fromCharCode(1));
  if (mechanism === 'XOAUTH2') return fields.find((f) => f.startsWith('user='))?.slice('user='.length);
  if (mechanism === 'OAUTHBEARER')
    return fields[0]
      .split(',')
      .find((f) => f.startsWith('a='))
      ?.slice('a='.length);
  return undefined;
}

/** Words of one command: atoms, quoted strings and literals, in order; parenthesised lists are not taken apart. */
class Tokens {
  private p = 0;

  constructor(private readonly text: string) {}

  next(): string | undefined {
    while (this.text[this.p] === ' ') this.p++;
    if (this.p >= this.text.length) return undefined;
    if (this.text[this.p] === '"') {
      let value = '';
      for (this.p++; this.p < this.text.length && this.text[this.p] !== '"'; this.p++) {
        if (this.text[this.p] === '\\') this.p++;
        value += this.text[this.p];
      }
      this.p++;
      return utf8(value);
    }
    const literal = /^\{(\d+)\+?\}\r?\n/.exec(this.text.slice(this.p));
    if (literal) {
      const begin = this.p + literal[0].length;
      this.p = begin + Number(literal[1]);
      return utf8(this.text.slice(begin, this.p));
    }
    const atom = /^[^ \r\n]+/.exec(this.text.slice(this.p));
    this.p += atom ? atom[0].length : 1;
    return atom ? utf8(atom[0]) : undefined;
  }
}

/** A value read from latin1 text (one char per byte) as the UTF-8 the client sent. */
function utf8(latin1: string): string {
  return Buffer.from(latin1, 'latin1').toString('utf8');
}
