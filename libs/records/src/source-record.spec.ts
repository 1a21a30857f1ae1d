import { describe, expect, it } from '@jest/globals';
import { describeIssue } from '#libs/common';
import { incomingRecordSchema, isSentAtInRange, SENT_AT_MAX_YEAR, SENT_AT_MIN_YEAR } from './source-record.js';

const base = { externalId: 'r1', body: 'Hello', sentAt: '2025-01-06T09:00:00Z' };

/** The stored form of a record, or the one sentence a rejection reports for it. */
function judge(extra: Record<string, unknown>) {
  const parsed = incomingRecordSchema.safeParse({ ...base, ...extra });
  return parsed.success ? parsed.data : describeIssue(parsed.error.issues[0]);
}

describe('incomingRecordSchema', () => {
  describe('to and cc', () => {
    it('keeps a string as sent, trimmed (a display name may hold a comma)', () => {
      expect(judge({ to: '  "Doe, Jane" <jane@example.test>, bob@example.test ', cc: 'Carol@Example.test' })).toMatchObject({
        to: '"Doe, Jane" <jane@example.test>, bob@example.test',
        cc: 'Carol@Example.test',
      });
    });

    it('joins a list with ", ", each entry trimmed, empty ones dropped, case kept', () => {
      expect(judge({ to: [' Bob@Example.test ', '', '   ', 'carol@example.test'], cc: ['dan@example.test'] })).toMatchObject({
        to: 'Bob@Example.test, carol@example.test',
        cc: 'dan@example.test',
      });
    });

    it('defaults both to empty text, and an empty list too', () => {
      expect(judge({})).toMatchObject({ to: '', cc: '' });
      expect(judge({ to: [], cc: [''] })).toMatchObject({ to: '', cc: '' });
    });

    it('refuses other types, entries that are not strings, and lists or texts past their caps', () => {
      expect(judge({ to: 5 })).toBe('to must be a string or a list of strings');
      expect(judge({ cc: { address: 'a@example.test' } })).toBe('cc must be a string or a list of strings');
      expect(judge({ to: ['a@example.test', 7] })).toBe('to must be a string or a list of strings');
      expect(judge({ cc: Array.from({ length: 1_001 }, (_, i) => `u${i}@example.test`) })).toBe('cc must be a string or a list of strings');
      expect(judge({ to: 'x'.repeat(10_001) })).toBe('to must be at most 10000 characters');
      expect(judge({ cc: Array.from({ length: 600 }, () => 'someone@example.test') })).toBe('cc must be at most 10000 characters');
    });
  });

  describe('text Postgres cannot store', () => {
    it.each([
      ['externalId', 'a\u0000b'],
      ['from', 'alice\u0000@example.test'],
      ['subject', 'Hi\u0000'],
      ['body', '\u0000'],
      ['to', 'bob\u0000@example.test'],
    ])('refuses a NUL in %s, naming the field', (field, value) => {
      expect(judge({ [field]: value })).toBe(`${field} must not contain NUL (U+0000) characters`);
    });

    it.each(['\ud800', 'a\udfffb', '\udc00\ud800'])('refuses the lone surrogates of %j, naming the field', (value) => {
      expect(judge({ body: `Hello ${value}` })).toBe('body must not contain lone UTF-16 surrogates (U+D800 to U+DFFF without their pair)');
      expect(judge({ subject: value })).toBe('subject must not contain lone UTF-16 surrogates (U+D800 to U+DFFF without their pair)');
    });

    it('names the entry of a list that holds one', () => {
      expect(judge({ cc: ['a@example.test', 'b\u0000@example.test'] })).toBe('cc.1: must not contain NUL (U+0000) characters');
    });

    it('keeps a surrogate pair (an emoji) as it is', () => {
      expect(judge({ subject: 'Launch \ud83d\ude80' })).toMatchObject({ subject: 'Launch 🚀' });
    });
  });

  describe('sentAt', () => {
    it(`takes dates from ${SENT_AT_MIN_YEAR} to ${SENT_AT_MAX_YEAR} (UTC), bounds included`, () => {
      expect(judge({ sentAt: '1900-01-01T00:00:00Z' })).toMatchObject({ sentAt: new Date('1900-01-01T00:00:00Z') });
      expect(judge({ sentAt: '2199-12-31T23:59:59.999Z' })).toMatchObject({ sentAt: new Date('2199-12-31T23:59:59.999Z') });
      expect(judge({ sentAt: '2025-01-06T10:00:00+01:00' })).toMatchObject({ sentAt: new Date('2025-01-06T09:00:00Z') });
    });

    it.each(['0000-01-01T00:00:00Z', '1899-12-31T23:59:59.999Z', '1900-01-01T00:30:00+01:00', '2200-01-01T00:00:00Z', '9999-12-31T23:59:59Z'])(
      'refuses %s as out of range',
      (sentAt) => {
        expect(judge({ sentAt })).toBe('sentAt must be from 1900-01-01 to 2199-12-31 (UTC)');
      },
    );

    it('refuses what is not an ISO 8601 date-time, or no real date', () => {
      expect(judge({ sentAt: '+275760-09-13T00:00:00.000Z' })).toBe('sentAt must be an ISO 8601 date-time');
      expect(judge({ sentAt: '23.03.2015 10:00' })).toBe('sentAt must be an ISO 8601 date-time');
      expect(judge({ sentAt: 1_736_154_000_000 })).toBe('sentAt must be an ISO 8601 date-time');
      expect(judge({ sentAt: '2025-02-30T00:00:00Z' })).toMatch(/^sentAt /);
    });

    it('isSentAtInRange says no to an invalid Date', () => {
      expect(isSentAtInRange(new Date(Number.NaN))).toBe(false);
      expect(isSentAtInRange(new Date('2025-01-06T09:00:00Z'))).toBe(true);
    });
  });

  it('refuses unknown fields', () => {
    expect(judge({ bcc: 'x@example.test' })).toBe('Unrecognized key: "bcc"');
  });
});
