import { describe, expect, it } from '@jest/globals';
import { periodDays, periodOf } from './usage-clock.js';

describe('budget periods (calendar months in UTC)', () => {
  it('names the UTC month of an instant, whatever the local time zone says', () => {
    expect(periodOf(new Date('2026-11-30T23:59:59.999Z'))).toBe('2026-11');
    expect(periodOf(new Date('2026-12-01T00:00:00.000Z'))).toBe('2026-12');
    expect(periodOf(new Date('2026-12-01T00:30:00+01:00'))).toBe('2026-11');
  });

  it('spans the first day of the month to the first of the next, across a year end and in February', () => {
    expect(periodDays('2026-11')).toEqual({ from: '2026-11-01', to: '2026-12-01' });
    expect(periodDays('2026-12')).toEqual({ from: '2026-12-01', to: '2027-01-01' });
    expect(periodDays('2028-02')).toEqual({ from: '2028-02-01', to: '2028-03-01' });
  });
});
