// The support desk through the API (R4.3, R3.10): a client opens and answers its tickets, staff
// work the queue, answer with minutes, write internal notes; the included 20 minutes per billing
// month of the contract (moved clock: a 31-day month proves it is not 30 days), the overage that
// needs a quote the client accepts before an invoice line; attachments typed by content; bad
// input refused with nothing stored.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { DAY, HOUR } from '../../src/domain/clock.ts';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import { login, makeClient, makeStaff, testApp, type Session, type TestApp } from '../helpers/app.ts';
import { requests } from '../helpers/requests.ts';

let t: TestApp;
let admin: Session;
let adminId = '';
let support: Session;
let supportEmail = '';
let supportTotp = '';
let adminEmail = '';
let adminTotp = '';
let alice: Session;
let aliceEmail = '';
let aliceAccount = '';
let bob: Session;
let bobVps = '';
let vps = '';

const { get, post, patch } = requests(() => t);
type Json = Record<string, unknown> & { id: string };

function ok(r: { statusCode: number; body: string }, what: string, status = 200): Json {
  assert.equal(r.statusCode, status, `${what}: ${r.body}`);
  return JSON.parse(r.body || 'null') as Json;
}

/** A client with a validated order: a contract and a VPS (no VM: the provisioning job is only recorded). */
async function clientWithVps(planId: string, dcId: string, email: string) {
  const c = await makeClient(t, email);
  const s = await login(t, c.email);
  const placed = ok(
    await post('/v1/orders', s, {
      planId,
      datacenterId: dcId,
      kind: 'fixed',
      termMonths: 12,
      hostname: 'web1',
    }),
    'order',
    201,
  ) as unknown as { order: { id: string }; invoice: { id: string; totalCents: number } };
  ok(
    await post(`/v1/admin/invoices/${placed.invoice.id}/payments`, admin, {
      method: 'transfer',
      reference: `VIR-${email}`,
      amountCents: placed.invoice.totalCents,
    }),
    'payment',
    201,
  );
  ok(await post(`/v1/admin/orders/${placed.order.id}/validate`, admin, {}), 'validate');
  const order = ok(await get(`/v1/orders/${placed.order.id}`, s), 'order') as unknown as { vpsId: string };
  return { session: s, account: c.account.id, vps: order.vpsId, email: c.email };
}

async function relogin() {
  admin = await login(t, adminEmail, { totpSecret: adminTotp });
  support = await login(t, supportEmail, { totpSecret: supportTotp });
  alice = await login(t, aliceEmail);
  bob = await login(t, 'bob@example.test');
}

before(async () => {
  t = await testApp();
  const a = await makeStaff(t, 'admin');
  adminEmail = a.email;
  adminTotp = a.totpSecret;
  adminId = a.user.id;
  admin = await login(t, a.email, { totpSecret: a.totpSecret });
  const sp = await makeStaff(t, 'support');
  supportEmail = sp.email;
  supportTotp = sp.totpSecret;
  support = await login(t, sp.email, { totpSecret: sp.totpSecret });
  const dc = await t.services.infra.createDatacenter(
    { code: 'PAR1', name: 'Paris 1', city: 'Paris', country: 'FR', region: 'FR-IDF' },
    SYSTEM_ACTOR,
  );
  const plan = ok(
    await post('/v1/admin/plans', admin, {
      code: 'S1',
      name: 'VPS S',
      vcpus: 1,
      memoryMiB: 1024,
      diskGiB: 20,
      monthlyPriceCents: 599,
      vatRateBp: 2000,
      datacenterIds: [dc.id],
    }),
    'plan',
    201,
  );
  const al = await clientWithVps(plan.id, dc.id, 'alice@example.test');
  alice = al.session;
  aliceEmail = al.email;
  aliceAccount = al.account;
  vps = al.vps;
  const bo = await clientWithVps(plan.id, dc.id, 'bob@example.test');
  bob = bo.session;
  bobVps = bo.vps;
});
after(async () => t?.close());
// Each step a minute after the last, as at a real desk (messages and entries keep their order).
beforeEach(() => {
  t?.clock.advance(60_000);
});

const PDF = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(500), Buffer.from('\n%%EOF\n')]);
const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), randomBytes(500)]);

function upload(url: string, s: Session, content: Buffer, fileName: string) {
  const boundary = `----infogere${randomBytes(8).toString('hex')}`;
  const payload = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    content,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return t.app.inject({
    method: 'POST',
    url,
    payload,
    headers: {
      'content-type': `multipart/form-data; boundary=${boundary}`,
      cookie: s.cookie,
      'x-csrf-token': s.csrf,
    },
  });
}

/** The outbox with the columns the mail module adds (typed apart from the foundation's table). */
const outbox = () =>
  t.database.db.withTables<{
    mail_outbox: { reply_to: string | null; in_reply_to: string | null; template: string; body_text: string };
  }>();

const count = async (table: 'tickets' | 'ticket_messages' | 'ticket_time_entries' | 'ticket_attachments') =>
  Number(
    (
      await t.database.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('R4.3 tickets: opened by the client, answered by staff, scoped to the account', () => {
  let ticket = '';

  it('R4.3 a client opens an admin request on its VPS; another account’s VPS is 404 and nothing is stored', async () => {
    const before = await count('tickets');
    const foreign = await post('/v1/tickets', alice, {
      kind: 'admin_request',
      subject: 'Install nginx',
      body: 'Please',
      vpsId: bobVps,
    });
    assert.equal(foreign.statusCode, 404, foreign.body);
    const noVps = await post('/v1/tickets', alice, { kind: 'admin_request', subject: 'x', body: 'y' });
    assert.equal(noVps.statusCode, 400, noVps.body);
    assert.equal(JSON.parse(noVps.body).code, 'ticket.vps_required');
    assert.equal(await count('tickets'), before);

    const r = ok(
      await post('/v1/tickets', alice, {
        kind: 'admin_request',
        subject: 'Install PostgreSQL 16',
        body: 'Could you install PostgreSQL 16 on web1?',
        vpsId: vps,
      }),
      'open',
      201,
    );
    ticket = r.id;
    assert.equal(r.status, 'new');
    assert.equal((r.balance as { leftMinutes: number }).leftMinutes, 20);
    const list = ok(await get('/v1/tickets', alice), 'list') as unknown as { items: { id: string }[] };
    assert.deepEqual(
      list.items.map((x) => x.id),
      [ticket],
    );
    // The client got its acknowledgment, threaded and with the signed reply address.
    const mail = await outbox()
      .selectFrom('mail_outbox')
      .select(['template', 'reply_to', 'message_id'])
      .where('template', '=', 'ticket.opened')
      .executeTakeFirstOrThrow();
    assert.match(mail.reply_to ?? '', /^support\+[0-9a-f]{56}@/);
  });

  it('R4.3 another client gets 404 on the ticket, its answer and its attachments', async () => {
    for (const r of [
      await get(`/v1/tickets/${ticket}`, bob),
      await post(`/v1/tickets/${ticket}/messages`, bob, { body: 'hi' }),
      await upload(`/v1/tickets/${ticket}/attachments`, bob, PDF, 'a.pdf'),
    ])
      assert.equal(r.statusCode, 404, r.body);
    const list = ok(await get('/v1/tickets', bob), 'list') as unknown as { items: unknown[] };
    assert.equal(list.items.length, 0);
  });

  it('R3.10 a staff reply on an admin request without minutes, or with 0 or 481, is refused and nothing is stored', async () => {
    const before = await count('ticket_messages');
    const none = await post(`/v1/admin/tickets/${ticket}/messages`, support, { body: 'Done' });
    assert.equal(none.statusCode, 400, none.body);
    assert.equal(JSON.parse(none.body).code, 'ticket.minutes_required');
    for (const minutes of [0, 481, 2.5]) {
      const r = await post(`/v1/admin/tickets/${ticket}/messages`, support, { body: 'Done', minutes });
      assert.equal(r.statusCode, 400, `${minutes}: ${r.body}`);
    }
    assert.equal(await count('ticket_messages'), before);
  });

  it('R3.10 staff answer with 12 minutes: the client reads 12 used, 8 left, and when it resets', async () => {
    const r = ok(
      await post(`/v1/admin/tickets/${ticket}/messages`, support, {
        body: 'PostgreSQL 16 is installed.',
        minutes: 12,
      }),
      'reply',
      201,
    );
    assert.equal(r.status, 'waiting_client');
    const view = ok(await get(`/v1/tickets/${ticket}`, alice), 'view') as unknown as {
      balance: {
        usedMinutes: number;
        leftMinutes: number;
        resetsAt: string;
        text: { fr: string; en: string };
      };
      timeEntries: { minutes: number }[];
      messages: { author: string; body: string }[];
    };
    assert.equal(view.balance.usedMinutes, 12);
    assert.equal(view.balance.leftMinutes, 8);
    assert.equal(view.balance.text.en, '12 min used, 8 left this month, resets on 1 Apr');
    assert.equal(view.balance.text.fr, '12 min utilisées, 8 restantes ce mois-ci, remise à zéro le 1 avr.');
    assert.deepEqual(
      view.timeEntries.map((e) => e.minutes),
      [12],
    );
    // The provider is a role to the client, never a staff member.
    assert.equal(view.messages.find((m) => m.body.startsWith('PostgreSQL 16 is'))!.author, 'provider');
    assert.ok(!JSON.stringify(view).includes(supportEmail));
    // The answer was mailed with the balance.
    const mail = await outbox()
      .selectFrom('mail_outbox')
      .select(['body_text', 'in_reply_to'])
      .where('template', '=', 'ticket.reply')
      .executeTakeFirstOrThrow();
    assert.match(mail.body_text, /8 left this month|8 restantes/);
    assert.ok(mail.in_reply_to, 'threaded under the first mail');
  });

  it('R3.10 a 10-minute answer exceeds the 8 left: 409 with the overage, nothing stored; a quote accepted lets it through and bills it', async () => {
    const before = await count('ticket_messages');
    const over = await post(`/v1/admin/tickets/${ticket}/messages`, support, {
      body: 'More work',
      minutes: 10,
    });
    assert.equal(over.statusCode, 409, over.body);
    const err = JSON.parse(over.body) as { code: string; message: string };
    assert.equal(err.code, 'ticket.overage_needs_quote');
    assert.match(err.message, /8 min left/);
    assert.equal(await count('ticket_messages'), before);

    const quote = ok(
      await post(`/v1/admin/tickets/${ticket}/quotes`, support, {
        minutes: 30,
        description: 'Tune PostgreSQL',
      }),
      'quote',
      201,
    );
    assert.equal(quote.netCents, 3000, '30 min at the default 60.00/h');
    // Not accepted yet: still refused.
    assert.equal(
      (await post(`/v1/admin/tickets/${ticket}/messages`, support, { body: 'More work', minutes: 10 }))
        .statusCode,
      409,
    );
    // Another client cannot accept it; the client does, explicitly.
    assert.equal((await post(`/v1/tickets/${ticket}/quotes/${quote.id}/accept`, bob, {})).statusCode, 404);
    const accepted = ok(await post(`/v1/tickets/${ticket}/quotes/${quote.id}/accept`, alice, {}), 'accept');
    assert.equal(accepted.status, 'accepted');
    const invoice = await t.database.db
      .selectFrom('invoices')
      .selectAll()
      .where('id', '=', accepted.invoiceId as string)
      .executeTakeFirstOrThrow();
    assert.equal(invoice.net_cents, 3000);
    assert.equal(invoice.account_id, aliceAccount);
    const again = await post(`/v1/tickets/${ticket}/quotes/${quote.id}/accept`, alice, {});
    assert.equal(again.statusCode, 409, 'decided once');

    const r = ok(
      await post(`/v1/admin/tickets/${ticket}/messages`, support, { body: 'More work done', minutes: 10 }),
      'reply',
      201,
    ) as unknown as {
      timeEntries: { includedMinutes: number; quotedMinutes: number }[];
      balance: { leftMinutes: number };
    };
    assert.deepEqual(
      r.timeEntries.map((e) => [e.includedMinutes, e.quotedMinutes]),
      [
        [12, 0],
        [8, 2],
      ],
    );
    assert.equal(r.balance.leftMinutes, 0);
  });

  it('R3.10 an entry is corrected by its author the same day only (audited)', async () => {
    const view = ok(await get(`/v1/admin/tickets/${ticket}`, admin), 'view') as unknown as {
      timeEntries: { id: string }[];
    };
    const first = view.timeEntries[0]!.id;
    const other = await patch(`/v1/admin/tickets/${ticket}/time/${first}`, admin, { minutes: 11 });
    assert.equal(other.statusCode, 403, other.body);
    const fixed = ok(
      await patch(`/v1/admin/tickets/${ticket}/time/${first}`, support, { minutes: 11 }),
      'edit',
    );
    assert.equal(fixed.minutes, 11);
    assert.equal(fixed.includedMinutes, 11);
    const audit = await t.database.db
      .selectFrom('audit_log')
      .select('details')
      .where('action', '=', 'ticket.time_edit')
      .executeTakeFirstOrThrow();
    assert.deepEqual(
      {
        before: (audit.details as { before: number }).before,
        after: (audit.details as { after: number }).after,
      },
      { before: 12, after: 11 },
    );
  });

  it('R3.10 the next billing month resets the balance: 31 days after the anchor, not 30', async () => {
    const start = t.clock.now();
    t.clock.advance(30 * DAY - 2 * HOUR);
    await relogin();
    let b = ok(await get(`/v1/vps/${vps}/support-balance`, alice), 'balance');
    assert.equal(b.usedMinutes, 19, `still March after 30 days (${start.toISOString()})`);
    t.clock.advance(DAY + 3 * HOUR);
    await relogin();
    b = ok(await get(`/v1/vps/${vps}/support-balance`, alice), 'balance');
    assert.equal(b.usedMinutes, 0);
    assert.equal(b.leftMinutes, 20);
    assert.match(String(b.resetsAt), /^2026-05-01T09:/, 'the anchor’s day and time, a month later');
    // The other client's VPS balance is not this client's to read.
    assert.equal((await get(`/v1/vps/${bobVps}/support-balance`, alice)).statusCode, 404);
  });

  it('R4.3 internal notes are staff-only: not shown to the client, not mailed', async () => {
    const mailsBefore = await t.database.db.selectFrom('mail_outbox').select('id').execute();
    ok(
      await post(`/v1/admin/tickets/${ticket}/messages`, support, {
        body: 'Secret: the client forgot the swap',
        internal: true,
        minutes: 1,
      }),
      'note',
      201,
    );
    const view = await get(`/v1/tickets/${ticket}`, alice);
    assert.ok(!view.body.includes('forgot the swap'));
    const mailsAfter = await t.database.db.selectFrom('mail_outbox').select('id').execute();
    assert.equal(mailsAfter.length, mailsBefore.length);
  });

  it('R4.3 the client’s reply reopens a resolved ticket; a closed one refuses replies', async () => {
    ok(await post(`/v1/admin/tickets/${ticket}/status`, support, { status: 'resolved' }), 'resolve');
    const r = ok(
      await post(`/v1/tickets/${ticket}/messages`, alice, { body: 'It stopped again' }),
      'reply',
      201,
    );
    assert.equal(r.status, 'waiting_provider');
    ok(await post(`/v1/admin/tickets/${ticket}/status`, support, { status: 'closed' }), 'close');
    const closed = await post(`/v1/tickets/${ticket}/messages`, alice, { body: 'Hello?' });
    assert.equal(closed.statusCode, 409);
    assert.equal(JSON.parse(closed.body).code, 'ticket.closed');
    const bad = await post(`/v1/admin/tickets/${ticket}/status`, support, { status: 'open' });
    assert.equal(bad.statusCode, 409);
  });

  it('R4.3 attachments: a PDF is kept, an executable and an oversize file are refused', async () => {
    const t2 = ok(
      await post('/v1/tickets', alice, {
        kind: 'billing',
        subject: 'Invoice question',
        body: 'See attached',
      }),
      'open',
      201,
    );
    const a = ok(await upload(`/v1/tickets/${t2.id}/attachments`, alice, PDF, 'scan.pdf'), 'pdf', 201);
    assert.equal(a.contentType, 'application/pdf');
    const exe = await upload(`/v1/tickets/${t2.id}/attachments`, alice, ELF, 'scan.pdf');
    assert.equal(exe.statusCode, 400, exe.body);
    const big = await upload(
      `/v1/tickets/${t2.id}/attachments`,
      alice,
      Buffer.concat([PDF, Buffer.alloc(10 * 1024 * 1024)]),
      'big.pdf',
    );
    assert.equal(big.statusCode, 413, big.body);
    const file = await get(`/v1/tickets/${t2.id}/attachments/${a.id}`, alice);
    assert.equal(file.statusCode, 200);
    assert.equal(file.rawPayload.length, PDF.length);
    assert.equal((await get(`/v1/tickets/${t2.id}/attachments/${a.id}`, bob)).statusCode, 404);
    const rows = await t.database.db
      .selectFrom('ticket_attachments')
      .select('id')
      .where('ticket_id', '=', t2.id)
      .execute();
    assert.equal(rows.length, 1);
  });
});

describe('R4.3 the staff queue', () => {
  it('filters unassigned, mine, waiting, breaching, and searches subjects and messages', async () => {
    const open = (subject: string, body: string, kind = 'incident_report') =>
      post('/v1/tickets', alice, { kind, subject, body, vpsId: vps, priority: 'urgent' }).then((r) =>
        ok(r, 'open', 201),
      );
    const a = await open('Disk full', 'The partition /var is full');
    const b = await open('Network down', 'No ping from the office since 9:00');
    const q = async (query: string) =>
      (
        ok(await get(`/v1/admin/tickets?${query}`, support), query) as unknown as { items: { id: string }[] }
      ).items.map((x) => x.id);
    assert.ok((await q('filter=unassigned')).includes(a.id));
    ok(await post(`/v1/admin/tickets/${a.id}/assign`, admin, { assigneeId: adminId }), 'assign');
    assert.ok(!(await q('filter=unassigned')).includes(a.id));
    const mine = (
      ok(await get('/v1/admin/tickets?filter=mine', admin), 'mine') as unknown as { items: { id: string }[] }
    ).items;
    assert.deepEqual(
      mine.map((x) => x.id),
      [a.id],
    );
    assert.ok((await q('filter=waiting')).includes(b.id));
    assert.ok(!(await q('filter=breaching')).includes(b.id), 'not late yet');
    t.clock.advance(2 * HOUR);
    await relogin();
    assert.ok((await q('filter=breaching')).includes(b.id), 'urgent, unanswered after 2 h');
    assert.deepEqual(await q('filter=all&q=ping office'), [b.id]);
    assert.deepEqual(await q('filter=all&q=partition'), [a.id]);
    // Clients cannot read the queue.
    assert.equal((await get('/v1/admin/tickets', alice)).statusCode, 403);
  });

  it('R4.3 R3.10 an incident report records minutes that never consume the included time', async () => {
    const r = ok(
      await post('/v1/tickets', alice, {
        kind: 'incident_report',
        subject: 'Down',
        body: 'web1 is down',
        vpsId: vps,
      }),
      'open',
      201,
    );
    const before = ok(await get(`/v1/vps/${vps}/support-balance`, alice), 'balance');
    ok(
      await post(`/v1/admin/tickets/${r.id}/messages`, support, { body: 'Fixed', minutes: 45 }),
      'reply',
      201,
    );
    const after = ok(await get(`/v1/vps/${vps}/support-balance`, alice), 'balance');
    assert.equal(after.usedMinutes, before.usedMinutes);
  });

  it('R3.8 R4.1 the platform opens a provider-caused ticket linked to its record; staff find it by incident', async () => {
    const incidentId = '6f1c4a52-0000-4000-8000-000000000001';
    const row = await t.services.tickets.openForPlatform(t.database.db, {
      accountId: aliceAccount,
      vpsId: vps,
      kind: 'admin_request',
      subject: 'Host incident on your VPS',
      body: 'Your VPS host stopped answering; we are on it.',
      source: 'incident',
      incidentId,
    });
    assert.equal(row.provider_caused, true);
    const items = (
      ok(await get(`/v1/admin/tickets?filter=all&incidentId=${incidentId}`, support), 'queue') as unknown as {
        items: { id: string; providerCaused: boolean }[];
      }
    ).items;
    assert.deepEqual(
      items.map((x) => [x.id, x.providerCaused]),
      [[row.id, true]],
    );
    const before = ok(await get(`/v1/vps/${vps}/support-balance`, alice), 'balance');
    ok(
      await post(`/v1/admin/tickets/${row.id}/messages`, support, { body: 'Host back', minutes: 30 }),
      'reply',
      201,
    );
    const after = ok(await get(`/v1/vps/${vps}/support-balance`, alice), 'balance');
    assert.equal(after.usedMinutes, before.usedMinutes, 'provider-caused: never the client’s minutes');
  });

  it('R4.3 tickets waiting for the client are closed after the configured days without answer', async () => {
    const r = ok(
      await post('/v1/tickets', alice, { kind: 'billing', subject: 'Refund?', body: 'Can I get a refund?' }),
      'open',
      201,
    );
    ok(await post(`/v1/admin/tickets/${r.id}/messages`, support, { body: 'Which invoice?' }), 'reply', 201);
    t.clock.advance(6 * DAY);
    assert.equal(await t.services.tickets.closeStale(), 0);
    t.clock.advance(DAY);
    assert.ok((await t.services.tickets.closeStale()) >= 1);
    await relogin();
    const v = ok(await get(`/v1/tickets/${r.id}`, alice), 'view');
    assert.equal(v.status, 'closed');
  });

  it('canned replies: staff add and list them', async () => {
    ok(
      await post('/v1/admin/canned-replies', support, { title: 'Hello', language: 'en', body: 'Hello, …' }),
      'add',
      201,
    );
    const list = ok(await get('/v1/admin/canned-replies', support), 'list') as unknown as {
      items: { title: string }[];
    };
    assert.deepEqual(
      list.items.map((c) => c.title),
      ['Hello'],
    );
  });

  it('R3.10 the per-client ledger history lists every entry with its author', async () => {
    const h = ok(
      await get(`/v1/admin/accounts/${aliceAccount}/support-ledger`, support),
      'ledger',
    ) as unknown as {
      items: { minutes: number; author: string }[];
    };
    assert.ok(h.items.length >= 4);
    assert.ok(h.items.every((e) => e.author === supportEmail));
  });
});
