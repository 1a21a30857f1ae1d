import { Injectable } from '@nestjs/common';

/**
 * The time usage is accounted at: the UTC day of the daily rollup and the budget period (a calendar
 * month in UTC). One injectable, so a test can move it across a month boundary.
 */
@Injectable()
export class UsageClock {
  now(): Date {
    return new Date();
  }
}

/** The budget period of an instant: its calendar month in UTC, `YYYY-MM`. */
export function periodOf(at: Date): string {
  return at.toISOString().slice(0, 7);
}

/** The first UTC day of a period and of the one after it (`YYYY-MM-DD`), for `day >= from AND day < to`. */
export function periodDays(period: string): { from: string; to: string } {
  const [year, month] = period.split('-').map(Number);
  const next = new Date(Date.UTC(year, month, 1));
  return { from: `${period}-01`, to: next.toISOString().slice(0, 10) };
}
