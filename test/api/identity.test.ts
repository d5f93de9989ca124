// Issue 5, R6.1: proof of identity. A request sets a deadline of 72 h from the terms; past it
// without approval the account is suspended automatically (clock moved, scheduler ticked);
// approval lifts it; approval before the deadline cancels it; deadlines survive a restart.
// Documents: size and type (magic bytes) checked, stored outside the database, served only
// to the account and staff; a refused upload leaves nothing behind.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { HOUR, MINUTE } from '../../src/domain/clock.ts';
import { CURRENT_TERMS } from '../../src/domain/terms.ts';
import { createScheduler } from '../../src/control/jobs/registry.ts';
import { createServices } from '../../src/control/services/index.ts';
import { MAX_DOCUMENTS_PER_REQUEST } from '../../src/control/services/identity-proofs.ts';
import type { SuspensionChange } from '../../src/control/services/suspensions.ts';
import { login, makeClient, makeStaff, testApp, type Session, type TestApp } from '../helpers/app.ts';
import { requests } from '../helpers/requests.ts';

let t: TestApp;
let staff: Session;
const changes: SuspensionChange[] = [];
before(async () => {
  t = await testApp();
  t.services.clients.onSuspensionChange((c) => void changes.push(c));
});
after(async () => t?.close());

const { get, post } = requests(() => t);

async function staffSession(): Promise<Session> {
  const a = await makeStaff(t, 'support');
  return login(t, a.email, { totpSecret: a.totpSecret });
}

/** Sessions end after 30 min idle: long clock moves log in again. */
async function client() {
  const c = await makeClient(t);
  return { ...c, session: await login(t, c.email) };
}

function multipart(content: Buffer, fileName = 'id.pdf', declared = 'application/pdf') {
  const boundary = `----infogere${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: ${declared}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return {
    payload: Buffer.concat([head, content, tail]),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

const PDF = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(2000), Buffer.from('\n%%EOF\n')]);
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(500)]);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(500)]);

function upload(requestId: string, s: Session, content: Buffer, fileName?: string, declared?: string) {
  const m = multipart(content, fileName, declared);
  return t.app.inject({
    method: 'POST',
    url: `/v1/identity/requests/${requestId}/documents`,
    payload: m.payload,
    headers: { ...m.headers, cookie: s.cookie, 'x-csrf-token': s.csrf },
  });
}

async function requestProof(
  accountId: string,
  body: object = { kind: 'identity', note: 'Carte d’identité recto verso' },
) {
  staff = await staffSession();
  const r = await post(`/v1/admin/clients/${accountId}/identity/requests`, staff, body);
  assert.equal(r.statusCode, 201, r.body);
  return r.json() as { id: string; dueAt: string; requestedAt: string; termsVersion: string; phase: string };
}

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true }).catch(() => [] as string[])).map(String);
}

describe('R6.1 proof request and its 72 h deadline', () => {
  it('a request sets a deadline 72 h from the terms (version stored), a deadline row, and emails the client; both sides see it', async () => {
    const c = await client();
    const r = await requestProof(c.account.id);
    assert.equal(
      new Date(r.dueAt).getTime() - new Date(r.requestedAt).getTime(),
      CURRENT_TERMS.identityProofDeadlineMs,
    );
    assert.equal(new Date(r.dueAt).getTime() - t.clock.now().getTime(), 72 * HOUR);
    assert.equal(r.termsVersion, CURRENT_TERMS.version);
    assert.equal(r.phase, 'awaiting_documents');
    const deadline = await t.database.db
      .selectFrom('deadlines')
      .selectAll()
      .where('subject_id', '=', r.id)
      .executeTakeFirstOrThrow();
    assert.equal(deadline.kind, 'identity.proof_due');
    assert.equal(deadline.status, 'pending');
    assert.equal(deadline.due_at.toISOString(), r.dueAt);
    const mail = await t.database.db
      .selectFrom('mail_outbox')
      .selectAll()
      .where('account_id', '=', c.account.id)
      .where('template', '=', 'identity.proof_requested')
      .execute();
    assert.equal(mail.length, 1);
    assert.equal(mail[0]!.to_address, c.email);
    assert.match(mail[0]!.body_text, /R6\.1/);
    assert.match(mail[0]!.body_text, /72 heures/);
    // The client sees the same deadline and the server's time, for its countdown.
    const mine = await get('/v1/identity/requests', c.session);
    assert.equal(mine.statusCode, 200);
    assert.equal(mine.json().now, t.clock.now().toISOString());
    assert.equal(mine.json().requests[0].dueAt, r.dueAt);
    const open = await get('/v1/admin/identity/requests', staff);
    assert.ok(
      open.json().requests.some((x: { id: string; dueAt: string }) => x.id === r.id && x.dueAt === r.dueAt),
    );
  });

  it('R6.1: clock moved past 72 h without approval, the tick suspends the account; approval lifts it', async () => {
    const c = await client();
    const r = await requestProof(c.account.id);
    changes.length = 0;
    t.clock.advance(72 * HOUR - MINUTE);
    await t.scheduler.tick();
    assert.equal(await t.services.clients.isSuspended(t.database.db, c.account.id), false);
    t.clock.advance(MINUTE);
    await t.scheduler.tick();
    assert.equal(await t.services.clients.isSuspended(t.database.db, c.account.id), true);
    const [s] = await t.services.clients.activeSuspensions(c.account.id);
    assert.equal(s!.cause, 'identity_proof_overdue');
    assert.equal(s!.reference_id, r.id);
    const mine = () => changes.filter((x) => x.accountId === c.account.id);
    assert.deepEqual(mine(), [
      {
        accountId: c.account.id,
        suspended: true,
        cause: 'identity_proof_overdue',
        referenceId: r.id,
        suspensionId: s!.id,
      },
    ]);
    // The client is told, and the audit log has it.
    const told = await t.database.db
      .selectFrom('mail_outbox')
      .select('template')
      .where('account_id', '=', c.account.id)
      .where('template', '=', 'identity.suspended')
      .execute();
    assert.equal(told.length, 1);
    const audit = await t.database.db
      .selectFrom('audit_log')
      .select('action')
      .where('target_id', '=', c.account.id)
      .execute();
    assert.ok(audit.some((a) => a.action === 'account.suspend'));
    // Another tick does nothing more.
    await t.scheduler.tick();
    assert.equal((await t.services.clients.activeSuspensions(c.account.id)).length, 1);

    // Both sides see it overdue; the client can still send its proof.
    const session = await login(t, c.email);
    const standing = (await get('/v1/account/standing', session)).json();
    assert.equal(standing.suspended, true);
    assert.equal(standing.identityStatus, 'overdue');
    assert.equal((await get(`/v1/identity/requests/${r.id}`, session)).json().request.phase, 'overdue');
    assert.equal((await upload(r.id, session, PDF)).statusCode, 201);

    changes.length = 0;
    staff = await staffSession();
    const ok = await post(`/v1/admin/identity/requests/${r.id}/approve`, staff, { note: 'Conforme' });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.json().request.phase, 'approved');
    assert.equal(ok.json().request.documents[0].status, 'accepted');
    assert.equal(await t.services.clients.isSuspended(t.database.db, c.account.id), false);
    assert.deepEqual(mine(), [
      {
        accountId: c.account.id,
        suspended: false,
        cause: 'identity_proof_overdue',
        referenceId: r.id,
        suspensionId: s!.id,
      },
    ]);
    const lifted = (await get(`/v1/admin/clients/${c.account.id}`, staff)).json();
    assert.equal(lifted.suspended, false);
    assert.equal(lifted.identityStatus, 'verified');
    assert.ok(lifted.suspensions[0].liftedAt);
    const audit2 = await t.database.db
      .selectFrom('audit_log')
      .select('action')
      .where('target_id', 'in', [c.account.id, r.id])
      .execute();
    assert.ok(audit2.some((a) => a.action === 'account.suspension_lift'));
    assert.ok(audit2.some((a) => a.action === 'identity.approve'));
    const approvedMail = await t.database.db
      .selectFrom('mail_outbox')
      .select('body_text')
      .where('account_id', '=', c.account.id)
      .where('template', '=', 'identity.proof_approved')
      .executeTakeFirstOrThrow();
    assert.match(approvedMail.body_text, /suspension de vos services est levée/);
  });

  it('R6.1: approval before the deadline cancels it: nothing happens when the clock passes 72 h', async () => {
    const c = await client();
    const r = await requestProof(c.account.id);
    assert.equal((await upload(r.id, c.session, PNG, 'passport.png', 'image/png')).statusCode, 201);
    const ok = await post(`/v1/admin/identity/requests/${r.id}/approve`, staff, {});
    assert.equal(ok.statusCode, 200, ok.body);
    const d = await t.database.db
      .selectFrom('deadlines')
      .selectAll()
      .where('subject_id', '=', r.id)
      .executeTakeFirstOrThrow();
    assert.equal(d.status, 'cancelled');
    t.clock.advance(73 * HOUR);
    await t.scheduler.tick();
    assert.equal(await t.services.clients.isSuspended(t.database.db, c.account.id), false);
    const again = await post(`/v1/admin/identity/requests/${r.id}/approve`, await staffSession(), {});
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().code, 'identity.request_closed');
  });

  it('R6.1: the deadline survives a restart: new services and a new scheduler over the same database act on it', async () => {
    const c = await client();
    const r = await requestProof(c.account.id);
    // "Restart": a fresh service container and scheduler, as the platform builds them.
    const services = createServices({ ...t.services.ctx });
    const seen: SuspensionChange[] = [];
    services.clients.onSuspensionChange((x) => void seen.push(x));
    const scheduler = createScheduler(services, pino({ level: 'silent' }));
    t.clock.advance(72 * HOUR);
    await scheduler.tick();
    assert.equal(await services.clients.isSuspended(t.database.db, c.account.id), true);
    assert.deepEqual(
      seen.filter((x) => x.accountId === c.account.id).map((x) => [x.accountId, x.suspended, x.referenceId]),
      [[c.account.id, true, r.id]],
    );
  });

  it('reject keeps the request open with the same deadline; the client uploads again; withdrawal lifts nothing it did not cause', async () => {
    const c = await client();
    const r = await requestProof(c.account.id, { kind: 'identity_and_sites', note: '' });
    const none = await post(`/v1/admin/identity/requests/${r.id}/reject`, staff, { reason: 'Illisible' });
    assert.equal(none.statusCode, 409);
    assert.equal(none.json().code, 'identity.no_documents');
    assert.equal(
      (await post(`/v1/admin/identity/requests/${r.id}/approve`, staff, {})).json().code,
      'identity.no_documents',
    );
    assert.equal((await upload(r.id, c.session, JPEG, 'scan.jpg', 'image/jpeg')).statusCode, 201);
    assert.equal(
      (await get(`/v1/identity/requests/${r.id}`, c.session)).json().request.phase,
      'under_review',
    );
    const rej = await post(`/v1/admin/identity/requests/${r.id}/reject`, staff, {
      reason: 'Document illisible',
    });
    assert.equal(rej.statusCode, 200, rej.body);
    assert.equal(rej.json().request.phase, 'rejected');
    assert.equal(rej.json().request.state, 'open');
    assert.equal(rej.json().request.dueAt, r.dueAt);
    assert.equal(rej.json().request.documents[0].status, 'rejected');
    const mail = await t.database.db
      .selectFrom('mail_outbox')
      .select('body_text')
      .where('account_id', '=', c.account.id)
      .where('template', '=', 'identity.proof_rejected')
      .executeTakeFirstOrThrow();
    assert.match(mail.body_text, /Document illisible/);
    assert.equal((await upload(r.id, c.session, PDF)).statusCode, 201);
    assert.equal(
      (await get(`/v1/identity/requests/${r.id}`, c.session)).json().request.phase,
      'under_review',
    );
    const cancel = await post(`/v1/admin/identity/requests/${r.id}/cancel`, staff, {
      reason: 'Demande faite par erreur',
    });
    assert.equal(cancel.statusCode, 200);
    assert.equal(cancel.json().request.phase, 'cancelled');
    assert.equal((await upload(r.id, c.session, PDF)).json().code, 'identity.request_closed');
    t.clock.advance(73 * HOUR);
    await t.scheduler.tick();
    assert.equal(await t.services.clients.isSuspended(t.database.db, c.account.id), false);
  });
});

describe('R6.1 documents', () => {
  it('an accepted upload is stored outside the database with its sha256; the account and staff download it, byte for byte', async () => {
    const c = await client();
    const r = await requestProof(c.account.id);
    const up = await upload(r.id, c.session, PDF, '../../carte <identité>.pdf', 'application/octet-stream');
    assert.equal(up.statusCode, 201, up.body);
    const doc = up.json();
    assert.equal(doc.contentType, 'application/pdf');
    assert.equal(doc.sizeBytes, PDF.length);
    assert.equal(doc.sha256, createHash('sha256').update(PDF).digest('hex'));
    assert.equal(doc.fileName, 'carte _identité_.pdf');
    const row = await t.database.db
      .selectFrom('identity_documents')
      .selectAll()
      .where('id', '=', doc.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.storage_path, path.join('uploads', 'identity', c.account.id, doc.id));
    assert.deepEqual(await readFile(path.join(t.dataDir, row.storage_path)), PDF);

    const mine = await get(`/v1/identity/documents/${doc.id}/content`, c.session);
    assert.equal(mine.statusCode, 200);
    assert.equal(mine.headers['content-type'], 'application/pdf');
    assert.equal(mine.headers['x-content-type-options'], 'nosniff');
    assert.match(String(mine.headers['content-disposition']), /^attachment/);
    assert.deepEqual(mine.rawPayload, PDF);
    assert.deepEqual((await get(`/v1/identity/documents/${doc.id}/content`, staff)).rawPayload, PDF);
  });

  it('tenancy: another client gets 404 on the request, its upload and the document, like a missing one', async () => {
    const a = await client();
    const b = await client();
    const r = await requestProof(a.account.id);
    const doc = (await upload(r.id, a.session, PDF)).json();
    const missing = '00000000-0000-4000-8000-000000000000';
    const req = await get(`/v1/identity/requests/${r.id}`, b.session);
    assert.equal(req.statusCode, 404);
    assert.equal(req.json().code, 'identity.request_not_found');
    assert.deepEqual((await get(`/v1/identity/requests/${missing}`, b.session)).json(), req.json());
    assert.equal((await get('/v1/identity/requests', b.session)).json().requests.length, 0);
    const up = await upload(r.id, b.session, PDF);
    assert.equal(up.statusCode, 404);
    assert.equal(up.json().code, 'identity.request_not_found');
    const dl = await get(`/v1/identity/documents/${doc.id}/content`, b.session);
    assert.equal(dl.statusCode, 404);
    assert.equal(dl.json().code, 'identity.document_not_found');
    assert.equal((await get(`/v1/identity/documents/${doc.id}/content`)).statusCode, 401);
    // Clients cannot decide: 403.
    for (const verb of ['approve', 'reject', 'cancel'])
      assert.equal(
        (await post(`/v1/admin/identity/requests/${r.id}/${verb}`, a.session, { reason: 'x' })).statusCode,
        403,
      );
  });

  it('an oversized upload is 413 identity.document_too_large and leaves nothing on disk or in the database', async () => {
    const c = await client();
    const r = await requestProof(c.account.id);
    const big = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(10 * 1024 * 1024)]);
    const res = await upload(r.id, c.session, big);
    assert.equal(res.statusCode, 413, res.body);
    assert.equal(res.json().code, 'identity.document_too_large');
    assert.deepEqual(await filesUnder(path.join(t.dataDir, 'uploads', 'identity', c.account.id)), []);
    assert.equal(
      (
        await t.database.db
          .selectFrom('identity_documents')
          .selectAll()
          .where('request_id', '=', r.id)
          .execute()
      ).length,
      0,
    );
    // Just under the limit (and over Fastify's 1 MiB JSON body limit) is fine.
    const ok = await upload(
      r.id,
      c.session,
      Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(10 * 1024 * 1024 - 9)]),
    );
    assert.equal(ok.statusCode, 201, ok.body);
  });

  it('R6.1 uploads per request are capped: past the cap, even sent at once, 413 identity.too_many_documents and nothing more stored', async () => {
    const c = await client();
    const r = await requestProof(c.account.id);
    for (let i = 0; i < MAX_DOCUMENTS_PER_REQUEST - 2; i++) {
      const up = await upload(r.id, c.session, PDF);
      assert.equal(up.statusCode, 201, up.body);
    }
    // Five at once for the last two places: exactly two get in.
    const racing = await Promise.all(Array.from({ length: 5 }, () => upload(r.id, c.session, PDF)));
    assert.deepEqual(
      racing.map((x) => x.statusCode).sort(),
      [201, 201, 413, 413, 413],
      racing.map((x) => x.body).join('\n'),
    );
    for (const x of racing.filter((y) => y.statusCode === 413))
      assert.equal(x.json().code, 'identity.too_many_documents');
    const late = await upload(r.id, c.session, PNG, 'id.png', 'image/png');
    assert.equal(late.statusCode, 413, late.body);
    const rows = await t.database.db
      .selectFrom('identity_documents')
      .select('id')
      .where('request_id', '=', r.id)
      .execute();
    assert.equal(rows.length, MAX_DOCUMENTS_PER_REQUEST);
    assert.equal(
      (await filesUnder(path.join(t.dataDir, 'uploads', 'identity', c.account.id))).length,
      MAX_DOCUMENTS_PER_REQUEST,
      'no file kept beyond the cap',
    );
  });

  it('a wrong type by its bytes (whatever the declared type), an empty file or no file is 400, and nothing is stored', async () => {
    const c = await client();
    const r = await requestProof(c.account.id);
    const exe = Buffer.concat([Buffer.from('MZ\x90\x00'), randomBytes(300)]);
    const wrong = await upload(r.id, c.session, exe, 'id.pdf', 'application/pdf');
    assert.equal(wrong.statusCode, 400);
    assert.equal(wrong.json().code, 'identity.document_type');
    const html = await upload(
      r.id,
      c.session,
      Buffer.from('<html><script>alert(1)</script>'),
      'id.png',
      'image/png',
    );
    assert.equal(html.json().code, 'identity.document_type');
    const empty = await upload(r.id, c.session, Buffer.alloc(0));
    assert.equal(empty.statusCode, 400);
    assert.equal(empty.json().code, 'identity.document_empty');
    const json = await post(`/v1/identity/requests/${r.id}/documents`, c.session, { file: 'x' });
    assert.ok(json.statusCode >= 400 && json.statusCode < 500, json.body);
    assert.deepEqual(await filesUnder(path.join(t.dataDir, 'uploads', 'identity', c.account.id)), []);
    assert.equal(
      (
        await t.database.db
          .selectFrom('identity_documents')
          .selectAll()
          .where('request_id', '=', r.id)
          .execute()
      ).length,
      0,
    );
  });
});
