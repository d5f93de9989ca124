// The audit log: append-only (a database trigger refuses UPDATE/DELETE) and hash-chained: each
// row's hash covers its facts and the previous row's hash, so a changed or removed row breaks
// the chain at that point (`infogere audit verify`).
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { canonicalJson } from '../../domain/canonical-json.ts';
import type { Db } from '../db/database.ts';
import type { AuditEntry } from '../db/schema.ts';
import { bySerial, pageOf, type Page, type PageRequest } from './pagination.ts';

export const GENESIS_HASH = '0'.repeat(64);
const CHAIN_LOCK = 0x1a0d17; // advisory lock key: one writer appends at a time

export interface AuditFacts {
  at: Date;
  actorUserId: string | null;
  actor: string;
  action: string;
  targetType?: string | null;
  targetId?: string | null;
  ip?: string | null;
  details?: Record<string, unknown>;
}

function rowFacts(
  r: Pick<
    AuditEntry,
    'at' | 'actor_user_id' | 'actor' | 'action' | 'target_type' | 'target_id' | 'ip' | 'details'
  >,
) {
  return {
    at: new Date(r.at).toISOString(),
    actor_user_id: r.actor_user_id,
    actor: r.actor,
    action: r.action,
    target_type: r.target_type,
    target_id: r.target_id,
    ip: r.ip,
    details: r.details,
  };
}

export function chainHash(prevHash: string, facts: ReturnType<typeof rowFacts>): string {
  return createHash('sha256').update(prevHash).update('\n').update(canonicalJson(facts)).digest('hex');
}

export async function appendAudit(db: Db, f: AuditFacts): Promise<AuditEntry> {
  return db.transaction().execute(async (tx) => {
    await sql`SELECT pg_advisory_xact_lock(${CHAIN_LOCK})`.execute(tx);
    const last = await tx
      .selectFrom('audit_log')
      .select('hash')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    const prev = last?.hash ?? GENESIS_HASH;
    const row = {
      at: f.at,
      actor_user_id: f.actorUserId,
      actor: f.actor,
      action: f.action,
      target_type: f.targetType ?? null,
      target_id: f.targetId ?? null,
      ip: f.ip ?? null,
      details: f.details ?? {},
    };
    // Round-trip the details through JSON so the hash covers exactly what jsonb will store.
    const details = JSON.parse(JSON.stringify(row.details)) as Record<string, unknown>;
    const hash = chainHash(prev, rowFacts({ ...row, details }));
    return tx
      .insertInto('audit_log')
      .values({ ...row, details: JSON.stringify(details), prev_hash: prev, hash })
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

/** The log, newest first (by id: the order of the chain), one page at a time. */
export async function listAudit(db: Db, page: PageRequest): Promise<Page<AuditEntry>> {
  return pageOf(db.selectFrom('audit_log').selectAll(), bySerial('audit', 'desc'), page);
}

export interface ChainReport {
  ok: boolean;
  checked: number;
  /** The first row whose hash or link does not match, if any. */
  firstBadId: string | null;
  reason: string | null;
}

/** Walks the whole chain in id order, in pages. */
export async function verifyAuditChain(db: Db): Promise<ChainReport> {
  let prev = GENESIS_HASH;
  let checked = 0;
  let after = '0';
  for (;;) {
    const page = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('id', '>', after)
      .orderBy('id')
      .limit(1000)
      .execute();
    if (page.length === 0) return { ok: true, checked, firstBadId: null, reason: null };
    for (const r of page) {
      if (r.prev_hash !== prev)
        return {
          ok: false,
          checked,
          firstBadId: r.id,
          reason: 'link to the previous row broken (row removed or inserted)',
        };
      if (chainHash(prev, rowFacts(r)) !== r.hash)
        return {
          ok: false,
          checked,
          firstBadId: r.id,
          reason: 'row content does not match its hash (row changed)',
        };
      prev = r.hash;
      checked++;
      after = r.id;
    }
  }
}
