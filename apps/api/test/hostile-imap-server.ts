import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** How the hostile server answers one command; `undefined` falls back to the well-behaved answer. */
export type Misbehaviour = (tag: string, command: string, args: string, socket: Socket, server: HostileImapServer) => boolean;

/** One message the server holds: its UID and RFC 5322 text. */
export interface HostileMessage {
  uid: number;
  text: string;
}

/**
 * A raw node:net IMAP4rev1 server speaking just enough for imapflow (greeting, CAPABILITY, LOGIN,
 * LIST, NAMESPACE, EXAMINE/SELECT, STATUS, UID SEARCH, UID FETCH, LOGOUT), with a hook that lets a
 * test make any command misbehave: never answer, answer with a huge literal, drop mid-FETCH, and so on.
 */
export class HostileImapServer {
  private server: Server | undefined;
  readonly commands: string[] = [];
  connections = 0;
  uidValidity = 1;
  /** Bumped at every EXAMINE/SELECT when set (a server whose UIDVALIDITY never holds). */
  flipUidValidity = false;
  messages: HostileMessage[] = [];
  /** UIDs SEARCH names but FETCH does not return (expunged in between). */
  vanished = new Set<number>();
  misbehave: Misbehaviour | undefined;
  private readonly sockets = new Set<Socket>();

  /** Listens on a free port of 127.0.0.1. */
  async start(): Promise<number> {
    this.server = createServer((socket) => this.serve(socket));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  /** Closes the server and every connection. */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private serve(socket: Socket): void {
    this.connections++;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.write('* OK [CAPABILITY IMAP4rev1] hostile ready\r\n');
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      let at: number;
      while ((at = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        this.onLine(line, socket);
      }
    });
  }

  private onLine(line: string, socket: Socket): void {
    const match = /^(\S+) (UID \S+|\S+) ?(.*)$/.exec(line);
    if (!match) return;
    const [, tag, rawCommand, args] = match;
    const command = rawCommand.toUpperCase();
    this.commands.push(command);
    if (this.misbehave?.(tag, command, args, socket, this)) return;
    socket.write(this.answer(tag, command, args));
  }

  /** The well-behaved answer to a command. */
  answer(tag: string, command: string, args: string): string {
    switch (command) {
      case 'CAPABILITY':
        return `* CAPABILITY IMAP4rev1\r\n${tag} OK done\r\n`;
      case 'LOGIN':
        return `${tag} OK [CAPABILITY IMAP4rev1] logged in\r\n`;
      case 'LIST':
        return `* LIST () "/" "INBOX"\r\n${tag} OK done\r\n`;
      case 'EXAMINE':
      case 'SELECT': {
        if (this.flipUidValidity) this.uidValidity++;
        const next = Math.max(0, ...this.messages.map((m) => m.uid)) + 1;
        return (
          `* ${this.messages.length} EXISTS\r\n* 0 RECENT\r\n* FLAGS (\\Seen)\r\n* OK [UIDVALIDITY ${this.uidValidity}] ok\r\n` +
          `* OK [UIDNEXT ${next}] ok\r\n${tag} OK [READ-ONLY] done\r\n`
        );
      }
      case 'STATUS':
        return `* STATUS "INBOX" (MESSAGES ${this.messages.length} UIDVALIDITY ${this.uidValidity})\r\n${tag} OK done\r\n`;
      case 'UID SEARCH': {
        const range = /UID (\d+):(\d+|\*)/.exec(args);
        const from = range ? Number(range[1]) : 1;
        const to = range && range[2] !== '*' ? Number(range[2]) : Number.POSITIVE_INFINITY;
        const uids = this.messages.map((m) => m.uid).filter((uid) => uid >= from && uid <= to);
        return `* SEARCH${uids.map((u) => ` ${u}`).join('')}\r\n${tag} OK done\r\n`;
      }
      case 'UID FETCH': {
        const [set] = args.split(' ');
        const wanted = new Set(set.split(',').map(Number));
        const full = /BODY/i.test(args);
        let out = '';
        this.messages.forEach((m, index) => {
          if (!wanted.has(m.uid) || this.vanished.has(m.uid)) return;
          const bytes = Buffer.byteLength(m.text, 'latin1');
          out += full
            ? `* ${index + 1} FETCH (UID ${m.uid} INTERNALDATE "01-Jan-2024 00:00:00 +0000" BODY[] {${bytes}}\r\n${m.text})\r\n`
            : `* ${index + 1} FETCH (UID ${m.uid} RFC822.SIZE ${bytes})\r\n`;
        });
        return `${out}${tag} OK done\r\n`;
      }
      case 'LOGOUT':
        return `* BYE bye\r\n${tag} OK done\r\n`;
      default:
        return `${tag} OK done\r\n`;
    }
  }
}
