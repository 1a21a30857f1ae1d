const PEOPLE = [
  'Alice Johnson',
  'Bob Smith',
  'Carol Diaz',
  'Dan Okafor',
  'Eve Martin',
  'Frank Liu',
  'Grace Hopper',
  'Hana Sato',
  'Ivan Petrov',
  'Julia Roberts',
];
const ORGS = ['Acme Corp', 'Globex Inc', 'Initech Ltd', 'Umbrella Group', 'Stark Labs', 'Wayne Holdings'];
const TOPICS = ['the renewal', 'the pilot', 'the invoice', 'the launch plan', 'the security review', 'the hiring plan'];

export interface EmailRecordInput {
  externalId: string;
  from: string;
  to: string;
  subject: string;
  body: string;
  sentAt: string;
}

/**
 * Deterministic emails with a small cast of people and organizations, so the simulator's
 * extraction gives a graph that overlaps between records (merges are exercised) and is stable.
 */
export function emailRecords(count: number, offset = 0): EmailRecordInput[] {
  return Array.from({ length: count }, (_, i) => {
    const n = i + offset;
    const a = PEOPLE[n % PEOPLE.length];
    const b = PEOPLE[(n * 3 + 1) % PEOPLE.length];
    const org = ORGS[n % ORGS.length];
    const topic = TOPICS[n % TOPICS.length];
    const sender = a.toLowerCase().replace(' ', '.');
    return {
      externalId: `msg-${n}@example.test`,
      from: `${sender}@example.test`,
      to: `${b.toLowerCase().replace(' ', '.')}@example.test`,
      subject: `About ${topic} ${n}`,
      body: `${a} from ${org} met ${b} about ${topic}.\nThey agreed to follow up next week with ${ORGS[(n + 2) % ORGS.length]}.`,
      sentAt: new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString(),
    };
  });
}

/**
 * emailRecords as RFC 5322 messages (CRLF line ends, as a mail server stores them), for a mailbox:
 * the same people and organizations, the externalId as Message-ID. `extraHeaders` go before the body.
 */
export function rfc822Messages(count: number, offset = 0, extraBody = ''): string[] {
  return emailRecords(count, offset).map((record) =>
    [
      `Message-ID: <${record.externalId}>`,
      `Date: ${new Date(record.sentAt).toUTCString()}`,
      `From: ${record.from}`,
      `To: ${record.to}`,
      `Subject: ${record.subject}`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      `${record.body}${extraBody}`,
      '',
    ].join('\r\n'),
  );
}
