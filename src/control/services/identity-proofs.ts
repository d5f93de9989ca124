// Identity data and proofs of identity (R6.1): the client's identity record; staff ask for a
// proof, due within the terms' deadline (72 h), scheduled as a row; the client sends documents
// (the uploads store); staff approve, refuse or withdraw; a request still open at its deadline
// suspends the account (cause identity_proof_overdue), and its approval lifts that suspension.
import type { Readable } from 'node:stream';
import { HOUR } from '../../domain/clock.ts';
import { conflict, DomainError, invalidData } from '../../domain/errors.ts';
import {
  acceptsDocuments,
  proofDueAt,
  requestPhase,
  suspendsWhenDue,
  validateIdentity,
  type IdentityInput,
  type ProofKind,
} from '../../domain/identity.ts';
import { CURRENT_TERMS } from '../../domain/terms.ts';
import type { Db } from '../db/database.ts';
import type { Deadline, Language } from '../db/schema.ts';
import { mailDate } from '../mail/format.ts';
import { recipientOf } from '../mail/recipients.ts';
import {
  findIdentity,
  hasActiveSuspension,
  insertSuspension,
  liftSuspensions,
  upsertIdentity,
  type IdentityRow,
  type SuspensionRow,
} from '../repositories/clients.ts';
import { cancelDeadline, scheduleDeadline } from '../repositories/deadlines.ts';
import {
  countDocuments,
  decideRequest,
  decideSubmittedDocuments,
  documentsOf,
  getDocument,
  getRequest,
  insertDocument,
  insertRequest,
  listOpenRequests,
  listRequestsOf,
  type DocumentRow,
  type RequestRow,
} from '../repositories/identity.ts';
import { SYSTEM_SCOPE, type Scope } from '../repositories/scope.ts';
import { getAccount } from '../repositories/users.ts';
import { createUploadsStore, type UploadErrorCodes } from '../storage/uploads.ts';
import type { AuditService } from './audit.ts';
import type { Principal } from './auth.ts';
import { SYSTEM_ACTOR, type AuditActor, type ServiceContext } from './context.ts';
import type { MailService } from './mail.ts';
import type { Suspensions } from './suspensions.ts';

/** The deadline kind acted on by the scheduler (jobs/registry.ts). */
export const PROOF_DUE = 'identity.proof_due';
const REQUEST_SUBJECT = 'identity_request';
/** The suspension cause of R6.1. */
export const IDENTITY_OVERDUE = 'identity_proof_overdue';

/** Largest document accepted (bytes). */
export const MAX_DOCUMENT_BYTES = 10 * 1024 * 1024;
/** Documents per proof request (R6.1): enough to send and resend a few; staff open a new request beyond. */
export const MAX_DOCUMENTS_PER_REQUEST = 10;

const tooManyDocuments = () =>
  new DomainError(
    'invalid_data',
    'identity.too_many_documents',
    `A proof request takes at most ${MAX_DOCUMENTS_PER_REQUEST} documents; ask the provider for a new request`,
    { field: 'file' },
  );

/** R6.1: identity documents keep their own error codes (the panel words them). */
const IDENTITY_UPLOAD_ERRORS: UploadErrorCodes = {
  tooLarge: 'identity.document_too_large',
  empty: 'identity.document_empty',
  type: 'identity.document_type',
};

export interface DocumentView {
  id: string;
  requestId: string;
  fileName: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  uploadedAt: string;
  status: DocumentRow['status'];
}

export interface RequestView {
  id: string;
  accountId: string;
  kind: ProofKind;
  note: string;
  requestedAt: string;
  dueAt: string;
  termsVersion: string;
  state: RequestRow['state'];
  phase: ReturnType<typeof requestPhase>;
  lastDecision: RequestRow['last_decision'];
  decidedAt: string | null;
  decisionReason: string | null;
  documents: DocumentView[];
}

export interface IdentityView {
  lastName: string;
  firstName: string;
  organisation: string | null;
  address: { line1: string; line2: string | null; postalCode: string; city: string; country: string };
  phone: string;
  email: string;
  updatedAt: string;
}

export const identityView = (r: IdentityRow): IdentityView => ({
  lastName: r.last_name,
  firstName: r.first_name,
  organisation: r.organisation,
  address: {
    line1: r.address_line1,
    line2: r.address_line2,
    postalCode: r.postal_code,
    city: r.city,
    country: r.country,
  },
  phone: r.phone,
  email: r.email,
  updatedAt: r.updated_at.toISOString(),
});

const documentView = (d: DocumentRow): DocumentView => ({
  id: d.id,
  requestId: d.request_id,
  fileName: d.file_name,
  contentType: d.content_type,
  sizeBytes: d.size_bytes,
  sha256: d.sha256,
  uploadedAt: d.uploaded_at.toISOString(),
  status: d.status,
});

function requestView(r: RequestRow, docs: DocumentRow[], now: Date): RequestView {
  const mine = docs.filter((d) => d.request_id === r.id);
  return {
    id: r.id,
    accountId: r.account_id,
    kind: r.kind,
    note: r.note,
    requestedAt: r.requested_at.toISOString(),
    dueAt: r.due_at.toISOString(),
    termsVersion: r.terms_version,
    state: r.state,
    phase: requestPhase(
      {
        state: r.state,
        dueAt: r.due_at,
        documentsAwaitingReview: mine.filter((d) => d.status === 'submitted').length,
        lastDecisionRejected: r.last_decision === 'rejected',
      },
      now,
    ),
    lastDecision: r.last_decision,
    decidedAt: r.decided_at?.toISOString() ?? null,
    decisionReason: r.decision_reason,
    documents: mine.map(documentView),
  };
}

const proofWhat: Record<ProofKind, Record<Language, string>> = {
  identity: { fr: "un justificatif d'identité", en: 'a proof of identity' },
  sites: {
    fr: 'un justificatif concernant les sites que vous hébergez',
    en: 'a proof concerning the sites you host',
  },
  identity_and_sites: {
    fr: "un justificatif d'identité et un justificatif concernant les sites que vous hébergez",
    en: 'a proof of identity and a proof concerning the sites you host',
  },
};

export function createIdentityProofs(
  ctx: ServiceContext,
  audit: AuditService,
  mail: MailService,
  suspensions: Suspensions,
) {
  const uploads = createUploadsStore(ctx.config.dataDir);
  const url = (p: string) => new URL(p, ctx.config.publicUrl).toString();

  async function viewsOf(db: Db, requests: RequestRow[], now: Date): Promise<RequestView[]> {
    const docs = await documentsOf(
      db,
      requests.map((r) => r.id),
    );
    return requests.map((r) => requestView(r, docs, now));
  }

  /** Staff decision on an open request, in one transaction; the deadline is locked first (same order as the scheduler). */
  async function closeRequest(
    id: string,
    decision: 'approved' | 'cancelled',
    reason: string | null,
    actor: AuditActor,
  ): Promise<{ request: RequestRow; lifted: SuspensionRow[] }> {
    const now = ctx.clock.now();
    const r = await ctx.db.transaction().execute(async (tx) => {
      await cancelDeadline(tx, PROOF_DUE, REQUEST_SUBJECT, id, now);
      const req = await getRequest(tx, SYSTEM_SCOPE, id, { lock: true });
      if (req.state !== 'open')
        throw conflict('identity.request_closed', `This request is already ${req.state}`);
      if (decision === 'approved') {
        const accepted = await decideSubmittedDocuments(tx, id, 'accepted');
        if (accepted === 0)
          throw conflict('identity.no_documents', 'No document waits for review: nothing to approve');
      }
      const request = await decideRequest(tx, id, {
        state: decision,
        decision,
        at: now,
        by: actor.userId,
        reason,
      });
      // R6.1: approval (or withdrawal) lifts the suspension the overdue request caused.
      const lifted = await liftSuspensions(
        tx,
        { accountId: req.account_id, cause: IDENTITY_OVERDUE, referenceId: id },
        {
          at: now,
          by: actor.label,
          reason: decision === 'approved' ? 'identity proof approved' : 'identity request withdrawn',
        },
      );
      if (decision === 'approved') {
        const to = await recipientOf(tx, req.account_id);
        const stillSuspended = await hasActiveSuspension(tx, req.account_id);
        const liftedText =
          lifted.length === 0
            ? to.language === 'fr'
              ? 'Aucune autre action n’est nécessaire de votre part.'
              : 'Nothing more is needed from you.'
            : stillSuspended
              ? to.language === 'fr'
                ? 'La suspension liée à cette demande est levée ; une autre suspension reste en cours sur votre compte.'
                : 'The suspension this request caused is lifted; another suspension remains on your account.'
              : to.language === 'fr'
                ? 'La suspension de vos services est levée.'
                : 'The suspension of your services is lifted.';
        await mail.send(tx, {
          to: to.to,
          template: 'identity.proof_approved',
          language: to.language,
          vars: { name: to.name, lifted: liftedText },
          accountId: req.account_id,
          reason: 'R6.1 proof of identity approved',
        });
      }
      return { request, lifted };
    });
    await audit.record(
      actor,
      decision === 'approved' ? 'identity.approve' : 'identity.cancel',
      { type: 'identity_request', id },
      {
        accountId: r.request.account_id,
        reason,
      },
    );
    await suspensions.recordChanges(actor, r.lifted, false);
    return r;
  }

  return {
    /** Request views with their documents (the console's client detail). */
    viewsOf,

    // ----- identity data (R6.1) ----------------------------------------------------------

    async getIdentity(scope: Scope, accountId: string): Promise<IdentityView | null> {
      const r = await findIdentity(ctx.db, scope, accountId);
      return r ? identityView(r) : null;
    },

    async updateIdentity(p: Principal, input: IdentityInput, ip: string): Promise<IdentityView> {
      const accountId = p.user.account_id!;
      const d = validateIdentity(input);
      const row = await upsertIdentity(ctx.db, accountId, d, ctx.clock.now());
      await audit.record(
        { userId: p.user.id, label: p.user.email, ip },
        'identity.update',
        { type: 'account', id: accountId },
        {
          country: d.address.country,
        },
      );
      return identityView(row);
    },

    // ----- proof requests (R6.1) ---------------------------------------------------------

    /**
     * R6.1: staff ask for proof. The deadline comes from the terms in force (72 h), is stored
     * with their version, scheduled as a row, and the client is emailed, all in one transaction.
     */
    async requestProof(
      accountId: string,
      p: { kind: ProofKind; note: string },
      actor: AuditActor,
    ): Promise<RequestView> {
      const now = ctx.clock.now();
      const note = p.note.trim();
      if (note.length > 2000)
        throw invalidData('validation.note', 'The note is longer than 2000 characters', { field: 'note' });
      const request = await ctx.db.transaction().execute(async (tx) => {
        await getAccount(tx, SYSTEM_SCOPE, accountId);
        const dueAt = proofDueAt(now, CURRENT_TERMS);
        const r = await insertRequest(tx, {
          accountId,
          kind: p.kind,
          note,
          requestedBy: actor.userId,
          at: now,
          dueAt,
          termsVersion: CURRENT_TERMS.version,
        });
        await scheduleDeadline(
          tx,
          { kind: PROOF_DUE, subjectType: REQUEST_SUBJECT, subjectId: r.id, dueAt, payload: { accountId } },
          now,
        );
        const to = await recipientOf(tx, accountId);
        await mail.send(tx, {
          to: to.to,
          template: 'identity.proof_requested',
          language: to.language,
          vars: {
            name: to.name,
            what: proofWhat[p.kind][to.language],
            note: note || (to.language === 'fr' ? '(pas de précision)' : '(no further detail)'),
            dueAt: mailDate(dueAt, to.language),
            hours: Math.round(CURRENT_TERMS.identityProofDeadlineMs / HOUR),
            identityUrl: url('/client/identity'),
          },
          accountId,
          reason: 'R6.1 proof of identity requested',
        });
        return r;
      });
      await audit.record(
        actor,
        'identity.request',
        { type: 'identity_request', id: request.id },
        {
          accountId,
          kind: p.kind,
          dueAt: request.due_at.toISOString(),
          termsVersion: request.terms_version,
        },
      );
      return requestView(request, [], now);
    },

    async listRequests(scope: Scope, accountId: string): Promise<{ now: string; requests: RequestView[] }> {
      const now = ctx.clock.now();
      const rows = await listRequestsOf(ctx.db, scope, accountId);
      return { now: now.toISOString(), requests: await viewsOf(ctx.db, rows, now) };
    },

    async getRequest(scope: Scope, id: string): Promise<{ now: string; request: RequestView }> {
      const now = ctx.clock.now();
      const r = await getRequest(ctx.db, scope, id);
      const [view] = await viewsOf(ctx.db, [r], now);
      return { now: now.toISOString(), request: view! };
    },

    /** Staff: open requests of every account, soonest deadline first. */
    async openRequests() {
      const now = ctx.clock.now();
      const rows = await listOpenRequests(ctx.db);
      const views = await viewsOf(ctx.db, rows, now);
      return {
        now: now.toISOString(),
        requests: views.map((v, i) => ({ ...v, accountName: rows[i]!.account_name })),
      };
    },

    /**
     * A document for an open request (before or after the deadline: sending it late still
     * lets staff approve and lift the suspension). Size and type (magic bytes, not the
     * declared type) are checked while it streams to a temporary file next to its final
     * place; a refused upload leaves nothing on disk or in the database.
     */
    async uploadDocument(
      p: Principal,
      requestId: string,
      file: { stream: Readable; fileName: string | undefined },
      ip: string,
    ): Promise<DocumentView> {
      const scope = p.scope;
      const req = await getRequest(ctx.db, scope, requestId);
      if (!acceptsDocuments(req.state)) {
        file.stream.resume();
        throw conflict('identity.request_closed', `This request is already ${req.state}`);
      }
      // Refused before the file is read when full already; counted again under the request's
      // lock below, so uploads at once cannot pass the cap together.
      if ((await countDocuments(ctx.db, requestId)) >= MAX_DOCUMENTS_PER_REQUEST) {
        file.stream.resume();
        throw tooManyDocuments();
      }
      const stored = await uploads.store('identity', req.account_id, file, {
        maxBytes: MAX_DOCUMENT_BYTES,
        errors: IDENTITY_UPLOAD_ERRORS,
      });
      const { id, type, size } = stored;
      try {
        const now = ctx.clock.now();
        const row = await ctx.db.transaction().execute(async (tx) => {
          const locked = await getRequest(tx, scope, requestId, { lock: true });
          if (!acceptsDocuments(locked.state))
            throw conflict('identity.request_closed', `This request is already ${locked.state}`);
          if ((await countDocuments(tx, requestId)) >= MAX_DOCUMENTS_PER_REQUEST) throw tooManyDocuments();
          return insertDocument(tx, {
            id,
            request_id: requestId,
            account_id: req.account_id,
            file_name: stored.fileName,
            content_type: type,
            size_bytes: size,
            sha256: stored.sha256,
            storage_path: stored.relativePath,
            uploaded_by: p.user.id,
            uploaded_at: now,
          });
        });
        await audit.record(
          { userId: p.user.id, label: p.user.email, ip },
          'identity.document_upload',
          { type: 'identity_document', id: row.id },
          {
            requestId,
            sha256: row.sha256,
            size,
            contentType: type,
          },
        );
        return documentView(row);
      } catch (e) {
        await uploads.remove(stored.path);
        throw e;
      }
    },

    /** A document's file, for its account and staff only (another account: not found). */
    async documentFile(scope: Scope, id: string): Promise<{ path: string; row: DocumentRow }> {
      const row = await getDocument(ctx.db, scope, id);
      return { path: uploads.pathOf(row.storage_path), row };
    },

    /** R6.1: staff approve the documents sent; the deadline is cancelled and a suspension it caused lifted. */
    async approve(id: string, note: string | null, actor: AuditActor) {
      return (await closeRequest(id, 'approved', note?.trim() || null, actor)).request;
    },

    /** Staff withdraw a request: no suspension will follow; one it caused is lifted. */
    async cancel(id: string, reason: string, actor: AuditActor) {
      return (await closeRequest(id, 'cancelled', reason.trim(), actor)).request;
    },

    /**
     * Staff refuse the documents sent (with a reason, emailed): the request stays open and the
     * deadline keeps running unchanged; the client may send other documents until then (and
     * after it, to have a suspension lifted).
     */
    async reject(id: string, reason: string, actor: AuditActor) {
      const why = reason.trim();
      if (!why) throw invalidData('validation.reason', 'A rejection states its reason', { field: 'reason' });
      const now = ctx.clock.now();
      const request = await ctx.db.transaction().execute(async (tx) => {
        const req = await getRequest(tx, SYSTEM_SCOPE, id, { lock: true });
        if (req.state !== 'open')
          throw conflict('identity.request_closed', `This request is already ${req.state}`);
        const rejected = await decideSubmittedDocuments(tx, id, 'rejected');
        if (rejected === 0)
          throw conflict('identity.no_documents', 'No document waits for review: nothing to reject');
        const r = await decideRequest(tx, id, {
          state: 'open',
          decision: 'rejected',
          at: now,
          by: actor.userId,
          reason: why,
        });
        const to = await recipientOf(tx, req.account_id);
        await mail.send(tx, {
          to: to.to,
          template: 'identity.proof_rejected',
          language: to.language,
          vars: {
            name: to.name,
            reason: why,
            dueAt: mailDate(req.due_at, to.language),
            identityUrl: url('/client/identity'),
          },
          accountId: req.account_id,
          reason: 'R6.1 proof of identity refused',
        });
        return r;
      });
      await audit.record(
        actor,
        'identity.reject',
        { type: 'identity_request', id },
        { accountId: request.account_id, reason: why },
      );
      return request;
    },

    /**
     * R6.1: the scheduler's handler for `identity.proof_due`. The deadline passed: an open
     * request suspends the account (cause identity_proof_overdue) and the client is told.
     * Runs in its own transaction (the scheduler holds the deadline row meanwhile; approval
     * locks that row before the request, so the two never wait on each other in a cycle) and
     * is idempotent: a retried deadline finds the suspension already there.
     */
    async onProofDue(d: Deadline, now: Date): Promise<void> {
      const r = await ctx.db.transaction().execute(async (tx) => {
        const req = await getRequest(tx, SYSTEM_SCOPE, d.subject_id, { lock: true }).catch((e: unknown) => {
          if (e instanceof DomainError && e.code === 'identity.request_not_found') return null;
          throw e;
        });
        if (!req || !suspendsWhenDue(req.state)) return null;
        const row = await insertSuspension(tx, {
          accountId: req.account_id,
          cause: IDENTITY_OVERDUE,
          referenceId: req.id,
          reason: `R6.1: no approved proof by ${req.due_at.toISOString()} (request ${req.id})`,
          at: now,
        });
        if (!row) return null;
        const to = await recipientOf(tx, req.account_id);
        await mail.send(tx, {
          to: to.to,
          template: 'identity.suspended',
          language: to.language,
          vars: {
            name: to.name,
            dueAt: mailDate(req.due_at, to.language),
            identityUrl: url('/client/identity'),
          },
          accountId: req.account_id,
          reason: 'R6.1 services suspended: proof of identity not received in time',
        });
        return row;
      });
      if (r) await suspensions.recordChanges(SYSTEM_ACTOR, [r], true);
    },
  };
}

export type IdentityProofs = ReturnType<typeof createIdentityProofs>;
