// Proof-of-identity requests (R6.1) and their documents. Client-reachable reads take a Scope
// and filter by account here: another account's request or document is "not found".
import type { Selectable } from 'kysely';
import { notFound } from '../../domain/errors.ts';
import type { ProofKind } from '../../domain/identity.ts';
import type { Db } from '../db/database.ts';
import type { IdentityDocumentsTable, IdentityRequestsTable } from '../db/tables/clients.ts';
import type { Scope } from './scope.ts';

export type RequestRow = Selectable<IdentityRequestsTable>;
export type DocumentRow = Selectable<IdentityDocumentsTable>;

export async function insertRequest(
  db: Db,
  r: {
    accountId: string;
    kind: ProofKind;
    note: string;
    requestedBy: string | null;
    at: Date;
    dueAt: Date;
    termsVersion: string;
  },
): Promise<RequestRow> {
  return db
    .insertInto('identity_requests')
    .values({
      account_id: r.accountId,
      kind: r.kind,
      note: r.note,
      requested_by: r.requestedBy,
      requested_at: r.at,
      due_at: r.dueAt,
      terms_version: r.termsVersion,
      state: 'open',
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

const requestNotFound = () => notFound('identity.request_not_found', 'No such identity request');

/** A request the caller may see; `lock` takes the row for update (decisions, uploads). */
export async function getRequest(
  db: Db,
  scope: Scope,
  id: string,
  opts: { lock?: boolean } = {},
): Promise<RequestRow> {
  let q = db.selectFrom('identity_requests').selectAll().where('id', '=', id);
  if (scope.kind === 'client') q = q.where('account_id', '=', scope.accountId);
  const r = await (opts.lock ? q.forUpdate() : q).executeTakeFirst();
  if (!r) throw requestNotFound();
  return r;
}

export function listRequestsOf(db: Db, scope: Scope, accountId: string): Promise<RequestRow[]> {
  if (scope.kind === 'client' && scope.accountId !== accountId)
    throw notFound('account.not_found', 'No such account');
  return db
    .selectFrom('identity_requests')
    .selectAll()
    .where('account_id', '=', accountId)
    .orderBy('requested_at', 'desc')
    .execute();
}

/** Staff: open requests of every account, soonest deadline first. */
export function listOpenRequests(db: Db): Promise<(RequestRow & { account_name: string })[]> {
  return db
    .selectFrom('identity_requests')
    .innerJoin('accounts', 'accounts.id', 'identity_requests.account_id')
    .selectAll('identity_requests')
    .select('accounts.name as account_name')
    .where('identity_requests.state', '=', 'open')
    .orderBy('identity_requests.due_at')
    .execute();
}

export async function decideRequest(
  db: Db,
  id: string,
  d: {
    state: RequestRow['state'];
    decision: 'approved' | 'rejected' | 'cancelled';
    at: Date;
    by: string | null;
    reason: string | null;
  },
): Promise<RequestRow> {
  return db
    .updateTable('identity_requests')
    .set({
      state: d.state,
      last_decision: d.decision,
      decided_at: d.at,
      decided_by: d.by,
      decision_reason: d.reason,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function insertDocument(
  db: Db,
  d: Omit<DocumentRow, 'id' | 'status'> & { id: string },
): Promise<DocumentRow> {
  return db
    .insertInto('identity_documents')
    .values({ ...d, status: 'submitted' })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function documentsOf(db: Db, requestIds: readonly string[]): Promise<DocumentRow[]> {
  if (requestIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('identity_documents')
    .selectAll()
    .where('request_id', 'in', requestIds)
    .orderBy('uploaded_at')
    .orderBy('id')
    .execute();
}

/** A document the caller may see (another account's: not found). */
export async function getDocument(db: Db, scope: Scope, id: string): Promise<DocumentRow> {
  let q = db.selectFrom('identity_documents').selectAll().where('id', '=', id);
  if (scope.kind === 'client') q = q.where('account_id', '=', scope.accountId);
  const d = await q.executeTakeFirst();
  if (!d) throw notFound('identity.document_not_found', 'No such document');
  return d;
}

/** Decides the documents sent and not yet decided on. */
export async function decideSubmittedDocuments(
  db: Db,
  requestId: string,
  status: 'accepted' | 'rejected',
): Promise<number> {
  const r = await db
    .updateTable('identity_documents')
    .set({ status })
    .where('request_id', '=', requestId)
    .where('status', '=', 'submitted')
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** How many documents a proof request holds (every upload, accepted, rejected or waiting). */
export async function countDocuments(db: Db, requestId: string): Promise<number> {
  const r = await db
    .selectFrom('identity_documents')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('request_id', '=', requestId)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}
