// Authority notices (R12.6): a notice from an administrative, arbitral or judicial authority is
// recorded (authority, type, reference, date received, the scan of the document, the sanction
// it orders) and the ordered sanction (restriction, limitation or suspension) is applied at
// once through the sanctions module, linked to the notice. A withheld notice (the authority
// forbids telling the client) sends no email, so nothing of it enters the notices chain.
import type { Readable } from 'node:stream';
import { invalidData, notFound } from '../../domain/errors.ts';
import { authorityCase, type AuthorityRung } from '../../domain/sanctions.ts';
import {
  claimScanSlot,
  deleteAuthorityNotice,
  getAuthorityNotice,
  insertAuthorityNotice,
  listAuthorityNotices,
  releaseScanSlot,
  setNoticeScan,
  type AuthorityNoticeRow,
} from '../repositories/authority-notices.ts';
import { SYSTEM_SCOPE } from '../repositories/scope.ts';
import { getAccount } from '../repositories/users.ts';
import { findVps } from '../repositories/vps.ts';
import { createUploadsStore } from '../storage/uploads.ts';
import type { AuditService } from './audit.ts';
import type { AuditActor, ServiceContext } from './context.ts';
import { tooManyUploads, type SanctionView, type SanctionsService } from './sanctions.ts';
import type { Page, PageRequest } from '../repositories/pagination.ts';

export const MAX_SCAN_BYTES = 10 * 1024 * 1024;
/** Scans per notice: a replaced scan stays on disk as proof, so their number is capped. */
export const MAX_SCAN_UPLOADS = 5;

export interface NoticeInput {
  accountId?: string;
  vpsId?: string;
  authority: string;
  type: 'administrative' | 'arbitral' | 'judicial';
  reference: string;
  /** YYYY-MM-DD */
  receivedOn: string;
  sanctionOrdered: AuthorityRung;
  withheld: boolean;
  notes?: string;
  /** The ordered sanction's details. */
  protocol?: 'tcp' | 'udp' | 'icmp' | 'all';
  port?: number;
  direction?: 'in' | 'out' | 'both';
  plannedEnd?: Date;
  liftCondition?: string;
}

export interface NoticeView {
  id: string;
  accountId: string;
  vpsId: string | null;
  authority: string;
  type: 'administrative' | 'arbitral' | 'judicial';
  reference: string;
  receivedOn: string;
  sanctionOrdered: AuthorityRung;
  withheld: boolean;
  notes: string | null;
  scan: { name: string; contentType: string; size: number; sha256: string } | null;
  recordedBy: string;
  recordedAt: string;
}

const dayOf = (d: string | Date) =>
  typeof d === 'string'
    ? d.slice(0, 10)
    : `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;

export const noticeView = (n: AuthorityNoticeRow): NoticeView => ({
  id: n.id,
  accountId: n.account_id,
  vpsId: n.vps_id,
  authority: n.authority,
  type: n.type,
  reference: n.reference,
  receivedOn: dayOf(n.received_on),
  sanctionOrdered: n.sanction_ordered,
  withheld: n.withheld,
  notes: n.notes,
  scan:
    n.scan_path && n.scan_file_name && n.scan_content_type
      ? {
          name: n.scan_file_name,
          contentType: n.scan_content_type,
          size: n.scan_size ?? 0,
          sha256: n.scan_sha256 ?? '',
        }
      : null,
  recordedBy: n.recorded_by,
  recordedAt: n.recorded_at.toISOString(),
});

export function createAuthorityNoticesService(
  ctx: ServiceContext,
  audit: AuditService,
  sanctions: SanctionsService,
) {
  const { db, clock } = ctx;
  const uploads = createUploadsStore(ctx.config.dataDir);

  const getRow = (id: string) => getAuthorityNotice(db, id);

  const service = {
    /** Staff: records a notice and applies the sanction it orders at once (R12.6). */
    async record(actor: AuditActor, p: NoticeInput): Promise<{ notice: NoticeView; sanction: SanctionView }> {
      for (const [field, v] of [
        ['authority', p.authority],
        ['reference', p.reference],
      ] as const)
        if (v.trim().length < 2) throw invalidData(`validation.${field}`, `Give the ${field}`, { field });
      if (!/^\d{4}-\d{2}-\d{2}$/.test(p.receivedOn) || Number.isNaN(Date.parse(`${p.receivedOn}T00:00:00Z`)))
        throw invalidData('validation.receivedOn', 'The date received is YYYY-MM-DD', {
          field: 'receivedOn',
        });
      if (Date.parse(`${p.receivedOn}T00:00:00Z`) > clock.now().getTime())
        throw invalidData('validation.receivedOn', 'The date received is in the future', {
          field: 'receivedOn',
        });
      let accountId = p.accountId;
      if (p.vpsId) {
        const v = await findVps(db, p.vpsId);
        if (!v) throw notFound('vps.not_found', 'No such VPS');
        if (accountId && accountId !== v.account_id)
          throw invalidData('validation.vpsId', 'This VPS is not of that account', { field: 'vpsId' });
        accountId = v.account_id;
      }
      if (!accountId) throw invalidData('validation.target', 'Name a VPS or an account', { field: 'vpsId' });
      await getAccount(db, SYSTEM_SCOPE, accountId); // 404 account.not_found
      const now = clock.now();
      const notice = await insertAuthorityNotice(db, {
        account_id: accountId,
        vps_id: p.vpsId ?? null,
        authority: p.authority.trim(),
        type: p.type,
        reference: p.reference.trim(),
        received_on: p.receivedOn,
        sanction_ordered: p.sanctionOrdered,
        withheld: p.withheld,
        notes: p.notes?.trim() || null,
        recorded_by: actor.label,
        recorded_at: now,
      });
      await audit.record(
        actor,
        'authority_notice.record',
        { type: 'authority_notice', id: notice.id },
        {
          accountId,
          vpsId: p.vpsId ?? null,
          type: p.type,
          reference: notice.reference,
          sanctionOrdered: p.sanctionOrdered,
          withheld: p.withheld,
        },
      );
      const c = authorityCase();
      const suggested = await sanctions.suggest({
        accountId,
        ...(p.vpsId ? { vpsId: p.vpsId } : {}),
        breachKind: c.kind,
        severity: c.severity,
      });
      let sanction: SanctionView;
      try {
        sanction = await sanctions.apply(actor, {
          accountId,
          ...(p.vpsId ? { vpsId: p.vpsId } : {}),
          breachKind: c.kind,
          severity: c.severity,
          rung: p.sanctionOrdered,
          ...(suggested.rung !== p.sanctionOrdered
            ? { overrideReason: `ordered by ${p.authority.trim()} (${p.type}, ${notice.reference})` }
            : {}),
          reason: p.withheld
            ? `Order of a competent authority (${p.type})`
            : `Order of a competent authority: ${p.authority.trim()} (${p.type}), reference ${notice.reference}`,
          evidence: `Authority notice ${notice.id} received ${p.receivedOn}`,
          ...(p.protocol ? { protocol: p.protocol } : {}),
          ...(p.port !== undefined ? { port: p.port } : {}),
          ...(p.direction ? { direction: p.direction } : {}),
          ...(p.plannedEnd ? { plannedEnd: p.plannedEnd } : {}),
          liftCondition: p.liftCondition?.trim() || 'the authority lifts its order',
          withheld: p.withheld,
          noticeId: notice.id,
        });
      } catch (e) {
        // Nothing ordered could be applied: the notice is not kept half-done.
        await deleteAuthorityNotice(db, notice.id);
        await audit.record(
          actor,
          'authority_notice.discard',
          { type: 'authority_notice', id: notice.id },
          {
            error: (e as Error).message,
          },
        );
        throw e;
      }
      return { notice: noticeView(notice), sanction };
    },

    async list(page: PageRequest): Promise<Page<NoticeView & { sanctionsInForce: number }>> {
      const p = await listAuthorityNotices(db, page);
      return {
        items: p.items.map((r) => ({ ...noticeView(r), sanctionsInForce: r.sanctions_in_force })),
        nextCursor: p.nextCursor,
      };
    },

    async get(id: string): Promise<{ notice: NoticeView; sanctions: SanctionView[] }> {
      const n = await getRow(id);
      return { notice: noticeView(n), sanctions: await sanctions.list({ noticeId: id }) };
    },

    /** Staff: the scan of the document (PDF, JPEG or PNG by content). */
    async attachScan(
      actor: AuditActor,
      id: string,
      file: { stream: Readable; fileName: string | undefined },
    ) {
      const n = await getRow(id);
      // A slot taken atomically before the file is read, given back if the file is refused.
      if (!(await claimScanSlot(db, id, MAX_SCAN_UPLOADS))) {
        file.stream.resume();
        throw tooManyUploads(MAX_SCAN_UPLOADS, 'authority notice');
      }
      const stored = await uploads
        .store('authority-notices', n.account_id, file, { maxBytes: MAX_SCAN_BYTES })
        .catch(async (e: unknown) => {
          await releaseScanSlot(db, id);
          throw e;
        });
      await setNoticeScan(db, id, {
        scan_path: stored.relativePath,
        scan_file_name: stored.fileName,
        scan_content_type: stored.type,
        scan_size: stored.size,
        scan_sha256: stored.sha256,
      });
      await audit.record(
        actor,
        'authority_notice.scan',
        { type: 'authority_notice', id },
        { sha256: stored.sha256, size: stored.size },
      );
      return noticeView(await getRow(id));
    },

    async scanFile(id: string) {
      const n = await getRow(id);
      if (!n.scan_path) throw notFound('notice.no_scan', 'This notice has no scan');
      return {
        path: uploads.pathOf(n.scan_path),
        contentType: n.scan_content_type!,
        fileName: n.scan_file_name!,
        size: n.scan_size!,
      };
    },
  };
  return service;
}
export type AuthorityNoticesService = ReturnType<typeof createAuthorityNoticesService>;
