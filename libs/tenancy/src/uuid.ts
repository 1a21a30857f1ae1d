const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Postgres rejects a malformed uuid with an error; checking first turns it into a plain miss. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}
