/** Costs for people: the API gives them in micro-USD (1,000,000 = 1 USD). */
const dollars = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });
const cents = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 4, maximumFractionDigits: 4 });

export const MICRO_USD_PER_USD = 1_000_000;

/**
 * A cost in micro-USD as USD: two decimals from one dollar up, four below (a backfill of a few
 * hundred records costs cents), and "< $0.0001" for a cost too small to show rather than "$0.0000".
 */
export function formatMicroUsd(microUsd: number): string {
  const usd = microUsd / MICRO_USD_PER_USD;
  if (microUsd > 0 && microUsd < 100) return '< $0.0001';
  return Math.abs(usd) >= 1 ? dollars.format(usd) : cents.format(usd);
}

/** A limit in USD as entered (a number of dollars), e.g. $50.00. */
export function formatUsd(usd: number): string {
  return usd >= 1 ? dollars.format(usd) : cents.format(usd);
}
