import { Injectable } from '@nestjs/common';
import { isUuid, ValidationFailedError } from '#libs/common';
import type { AuditEvent, Tx } from '#libs/database';
import { AuditEventRepository } from './audit-event.repository.js';
import { type RequestActor, USER_AGENT_MAX_CHARS } from './request-actor.js';

/** Every action the audit log knows; the API filters on these names. */
export const AUDIT_ACTIONS = [
  'setting.put',
  'setting.delete',
  'setting.validate',
  'token.create',
  'token.revoke',
  'token.rotate',
  'workspace.transfer',
  'workspace.delete',
  'tenant.key_mode',
  'imap_source.put',
  'imap_source.delete',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** A secret as the audit log may name it: its fingerprint (HMAC-SHA256) and last4, never the key. */
export interface KeyTrace {
  fingerprint: string | null;
  last4: string | null;
}

/**
 * One change to record. `details` holds ids, names and verdicts only: plain scalars, so no key can
 * ride along in a nested object by accident; callers never put a value of a secret setting here.
 */
export interface AuditChange {
  action: AuditAction;
  settingKey?: string | null;
  before?: KeyTrace | null;
  after?: KeyTrace | null;
  details?: Record<string, string | number | boolean | null>;
}

/** An audit row as the API shows it. */
export interface AuditEntry {
  id: string;
  occurredAt: Date;
  actor: { kind: 'platform' | 'tenant_token'; tokenId: string | null; label: string };
  action: string;
  settingKey: string | null;
  before: KeyTrace | null;
  after: KeyTrace | null;
  clientAddress: string | null;
  userAgent: string | null;
  details: unknown;
}

export interface AuditQuery {
  /** nextCursor of the previous page */
  cursor?: string;
  /** rows per page, 1..100 */
  limit: number;
  action?: AuditAction;
  /** inclusive lower bound on occurredAt */
  from?: Date;
  /** exclusive upper bound on occurredAt */
  to?: Date;
}

/**
 * The tenant's append-only audit log (audit_events; a database trigger refuses UPDATE and DELETE).
 * Records who changed a key setting, a token, workspace ownership or the key mode, when and from
 * where; reads it back newest first with a keyset cursor.
 */
@Injectable()
export class AuditLog {
  constructor(private readonly events: AuditEventRepository) {}

  /**
   * Appends one event for `tenantId`. Pass `tx` to commit it with the change itself (nothing is
   * recorded for a change that rolled back, and no change goes unrecorded).
   */
  async record(tenantId: string, actor: RequestActor, change: AuditChange, tx?: Tx): Promise<void> {
    await this.events.insert(
      {
        tenantId,
        actorKind: actor.kind,
        actorTokenId: actor.tokenId,
        actorLabel: actor.label,
        action: change.action,
        settingKey: change.settingKey ?? null,
        fingerprintBefore: change.before?.fingerprint ?? null,
        last4Before: change.before?.last4 ?? null,
        fingerprintAfter: change.after?.fingerprint ?? null,
        last4After: change.after?.last4 ?? null,
        clientAddress: actor.clientAddress,
        userAgent: actor.userAgent?.slice(0, USER_AGENT_MAX_CHARS) ?? null,
        details: change.details ?? {},
      },
      tx,
    );
  }

  /**
   * One page of a tenant's events, newest first, and the cursor of the next page (null at the end).
   * @throws ValidationFailedError for a cursor this service did not hand out
   */
  async list(tenantId: string, query: AuditQuery): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const rows = await this.events.page(tenantId, { action: query.action, from: query.from, to: query.to, after }, query.limit + 1);
    const items = rows.slice(0, query.limit);
    const last = items.at(-1);
    return { items: items.map(toEntry), nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null };
  }
}

// the cursor is the last row's (occurred_at in ms, id): opaque to clients, base64url
function encodeCursor(row: AuditEvent): string {
  return Buffer.from(`${row.occurredAt.getTime()}.${row.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { occurredAt: Date; id: string } {
  const invalid = () => new ValidationFailedError('cursor is not one this API returned; start again without it');
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(cursor)) throw invalid();
  const match = /^(\d{1,15})\.(.+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match || !isUuid(match[2])) throw invalid();
  return { occurredAt: new Date(Number(match[1])), id: match[2] };
}

function toEntry(row: AuditEvent): AuditEntry {
  const trace = (fingerprint: string | null, last4: string | null) => (fingerprint === null && last4 === null ? null : { fingerprint, last4 });
  return {
    id: row.id,
    occurredAt: row.occurredAt,
    actor: { kind: row.actorKind, tokenId: row.actorTokenId, label: row.actorLabel },
    action: row.action,
    settingKey: row.settingKey,
    before: trace(row.fingerprintBefore, row.last4Before),
    after: trace(row.fingerprintAfter, row.last4After),
    clientAddress: row.clientAddress,
    userAgent: row.userAgent,
    details: row.details,
  };
}
