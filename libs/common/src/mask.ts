/** The only form in which a key may appear in a message or log line. */
export function maskKey(last4: string | null | undefined): string {
  return last4 ? `...${last4}` : '(no key)';
}

/** Keys shorter than this never reveal a suffix: four characters would be too much of them. */
const MIN_LENGTH_FOR_LAST4 = 12;

export function last4Of(secret: string): string | null {
  return secret.length >= MIN_LENGTH_FOR_LAST4 ? secret.slice(-4) : null;
}
