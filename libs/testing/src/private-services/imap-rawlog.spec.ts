import { parseCommands, parseReplies } from './imap-rawlog.js';

/** A rawlog file: every line stamped, as Dovecot writes it. */
function rawlog(...lines: string[]): string {
  return lines.map((line, i) => `1700000000.${String(i).padStart(6, '0')} ${line}\r\n`).join('');
}

describe('imap-rawlog', () => {
  it('names each command, UID commands by both words, with its timestamp and tag', () => {
    const commands = parseCommands(rawlog('a1 CAPABILITY', 'a2 login alice secret', 'a3 select INBOX', 'a4 uid fetch 1:* (FLAGS)', 'a5 LOGOUT'));
    expect(commands.map((c) => [c.tag, c.name])).toEqual([
      ['a1', 'CAPABILITY'],
      ['a2', 'LOGIN'],
      ['a3', 'SELECT'],
      ['a4', 'UID FETCH'],
      ['a5', 'LOGOUT'],
    ]);
    expect(commands[1]).toMatchObject({ at: 1700000000.000001, user: 'alice' });
  });

  it('reads the user of LOGIN quoted or as a literal, and keeps a literal that spans lines inside its command', () => {
    const commands = parseCommands(
      rawlog('a LOGIN "al\\"ice" x', 'b LOGIN {4}', 'bob1 {3+}', 'pw!', 'c APPEND INBOX {26}', 'x FETCH 1 (BODY[])', 'y NOOP', 'd NOOP'),
    );
    expect(commands.map((c) => c.name)).toEqual(['LOGIN', 'LOGIN', 'APPEND', 'NOOP']);
    expect(commands.map((c) => c.user)).toEqual(['al"ice', 'bob1', undefined, undefined]);
  });

  it('reads the user of AUTHENTICATE from an initial response or the first SASL response, for PLAIN, LOGIN, XOAUTH2 and OAUTHBEARER', () => {
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    const commands = parseCommands(
      rawlog(
        `a AUTHENTICATE PLAIN ${b64('\0alice\0pw')}`,
        'b AUTHENTICATE PLAIN',
        b64('\0bob\0pw'),
        'c AUTHENTICATE LOGIN',
        b64('carol'),
        b64('pw'),
        `d AUTHENTICATE XOAUTH2 ${b64('user=dan@example.test\x01auth=Bearer t\x01\x01')}`,
        `e AUTHENTICATE OAUTHBEARER ${b64('n,a=erin@example.test,\x01host=h\x01auth=Bearer t\x01\x01')}`,
        'e IDLE',
        'DONE',
        'f LOGOUT',
      ),
    );
    expect(commands.map((c) => [c.name, c.user])).toEqual([
      ['AUTHENTICATE', 'alice'],
      ['AUTHENTICATE', 'bob'],
      ['AUTHENTICATE', 'carol'],
      ['AUTHENTICATE', 'dan@example.test'],
      ['AUTHENTICATE', 'erin@example.test'],
      ['IDLE', undefined],
      ['LOGOUT', undefined],
    ]);
  });

  it('lists the tagged answers of the server, not the untagged ones', () => {
    const replies = parseReplies(
      rawlog('* OK ready', 'a NO [AUTHENTICATIONFAILED] Authentication failed.', '* 3 EXISTS', '+ ', 'b OK Logged in', 'c BAD parse'),
    );
    expect(replies.map((r) => [r.tag, r.status, r.at])).toEqual([
      ['a', 'NO', 1700000000.000001],
      ['b', 'OK', 1700000000.000004],
      ['c', 'BAD', 1700000000.000005],
    ]);
  });

  it('reads no command from ciphertext: an IMAPS connection, or what follows STARTTLS', () => {
    expect(parseCommands(`1700000000.000001 \x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 a LOGIN x y\r\n`)).toEqual([]);
    const commands = parseCommands(rawlog('a CAPABILITY', 'b STARTTLS', '\x16\x03\x01 garbage LOGIN', 'c LOGIN alice pw'));
    expect(commands.map((c) => c.name)).toEqual(['CAPABILITY', 'STARTTLS']);
  });
});
