/** Who holds backfill slots and who waits for one, across every worker. */
export interface SlotCensus {
  /** Live backfill slots per tenant. */
  running: ReadonlyMap<string, number>;
  /** Tenants with a backfill waiting for a worker now. */
  waiting: ReadonlySet<string>;
}

/**
 * How many backfill slots `tenantId` may hold now. While no other tenant waits, its cap
 * (TENANT_MAX_ACTIVE_BACKFILLS): slots nobody else wants are not left idle. While another tenant
 * (under its own cap) has a backfill waiting for a worker, an equal share of the slots in use between
 * every tenant that runs or waits, rounded up so no slot idles, never more than the cap. `asking`:
 * the tenant asks for one more slot (a job it is about to start sits on a slot not yet counted).
 */
export function fairShare(tenantId: string, census: SlotCensus, cap: number, asking: boolean): number {
  const others = [...census.waiting].filter((tenant) => tenant !== tenantId && (census.running.get(tenant) ?? 0) < cap);
  if (others.length === 0) return cap;
  const demand = new Set([...census.running.keys(), ...others, tenantId]);
  const slots = [...census.running.values()].reduce((sum, n) => sum + n, 0) + (asking ? 1 : 0);
  return Math.min(cap, Math.max(1, Math.ceil(slots / demand.size)));
}
