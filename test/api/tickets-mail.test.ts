// R4.3: replies by email through a real SMTP client (nodemailer) to the inbound listener on
// loopback (smtp-server + mailparser): a reply lands on the right ticket by its signed address,
// quoted history stripped, once however often it is handed over; an unknown sender, a forged
// address and a ticket closed for good get a polite refusal and nothing is stored; an
// auto-reply is ignored (nothing stored, nothing sent); other mailboxes are refused at RCPT TO.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import pino from 'pino';
import { startSupportSmtp, type SupportSmtp } from '../../src/control/support-smtp.ts';
import { login, makeClient, makeStaff, testApp, type Session, type TestApp } from '../helpers/app.ts';
import { requests } from '../helpers/requests.ts';

let t: TestApp;
let smtp: SupportSmtp;
let alice: Session;
let staff: Session;
let ticket = '';
let replyTo = '';
const { get, post } = requests(() => t);

function send(mail: SendMailOptions) {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: smtp.port,
    secure: false,
    ignoreTLS: true,
  });
  return transport.sendMail(mail).finally(() => transport.close());
}

const messages = async () =>
  t.database.db
    .selectFrom('ticket_messages')
    .selectAll()
    .where('ticket_id', '=', ticket)
    .orderBy('created_at')
    .execute();
const refusals = async () =>
  t.database.db
    .selectFrom('mail_outbox')
    .select(['to_address', 'body_text'])
    .where('template', '=', 'ticket.mail_refused')
    .execute();

before(async () => {
  t = await testApp();
  smtp = await startSupportSmtp(t.services.ctx.config, t.services.ticketInbound, pino({ level: 'silent' }), {
    port: 0,
  });
  const c = await makeClient(t, 'alice@example.test');
  alice = await login(t, c.email);
  const s = await makeStaff(t, 'support');
  staff = await login(t, s.email, { totpSecret: s.totpSecret });
  const r = await post('/v1/tickets', alice, {
    kind: 'billing',
    subject: 'Invoice 2026-000001',
    body: 'Is VAT included?',
  });
  assert.equal(r.statusCode, 201, r.body);
  ticket = (JSON.parse(r.body) as { id: string }).id;
  replyTo = t.services.tickets.replyAddress(ticket);
  t.clock.advance(60_000);
  const a = await post(`/v1/admin/tickets/${ticket}/messages`, staff, { body: 'Yes, 20 % VAT is included.' });
  assert.equal(a.statusCode, 201, a.body);
});
after(async () => {
  await smtp?.close();
  await t?.close();
});

describe('R4.3 replies by email to the inbound SMTP listener', () => {
  it('R4.3 the ticket’s mails carry its signed reply address', async () => {
    const rows = await t.database.db
      .withTables<{ mail_outbox: { reply_to: string | null } }>()
      .selectFrom('mail_outbox')
      .select(['reply_to', 'template'])
      .where('template', 'in', ['ticket.opened', 'ticket.reply'])
      .execute();
    assert.equal(rows.length, 2);
    assert.ok(rows.every((r) => r.reply_to === replyTo));
    assert.match(replyTo, /^support\+[0-9a-f]{56}@infogere\.invalid$/);
  });

  it('R4.3 a reply from the client lands on its ticket, quoted history stripped, stored once', async () => {
    t.clock.advance(60_000);
    const mail = {
      from: 'Alice <alice@example.test>',
      to: replyTo,
      subject: 'Re: [#1] Invoice 2026-000001',
      messageId: '<reply-1@example.test>',
      text: 'Thanks! And for the next one?\n\nOn Mon, 2 Mar 2026 at 10:00, infogere <noreply@infogere.invalid> wrote:\n> Yes, 20 % VAT is included.\n',
    };
    await send(mail);
    let m = await messages();
    assert.equal(m.length, 3);
    assert.equal(m[2]!.body, 'Thanks! And for the next one?');
    assert.equal(m[2]!.via, 'email');
    assert.equal(m[2]!.author_kind, 'client');
    const view = JSON.parse((await get(`/v1/tickets/${ticket}`, alice)).body) as { status: string };
    assert.equal(view.status, 'waiting_provider', 'reopened for the provider');
    // The sender's server hands the same mail over again: one message.
    await send(mail);
    m = await messages();
    assert.equal(m.length, 3);
  });

  it('R4.3 an unknown sender: nothing stored, one polite refusal', async () => {
    const before = (await messages()).length;
    const ticketsBefore = await t.database.db.selectFrom('tickets').select('id').execute();
    await send({ from: 'mallory@example.test', to: replyTo, subject: 'Hello', text: 'Let me in' });
    assert.equal((await messages()).length, before);
    assert.equal(
      (await t.database.db.selectFrom('tickets').select('id').execute()).length,
      ticketsBefore.length,
    );
    const r = await refusals();
    assert.deepEqual(
      r.map((x) => x.to_address),
      ['mallory@example.test'],
    );
    assert.match(r[0]!.body_text, /not one of this ticket's client users/);
  });

  it('R4.3 an auto-reply is ignored: nothing stored, nothing sent', async () => {
    const before = (await messages()).length;
    const refusalsBefore = (await refusals()).length;
    await send({
      from: 'alice@example.test',
      to: replyTo,
      subject: 'Out of office',
      text: 'I am away until Monday.',
      headers: { 'Auto-Submitted': 'auto-replied' },
    });
    await send({
      from: 'stranger@example.test',
      to: replyTo,
      subject: 'Absent',
      text: 'Away',
      headers: { Precedence: 'bulk' },
    });
    assert.equal((await messages()).length, before);
    assert.equal((await refusals()).length, refusalsBefore);
  });

  it('R4.3 a forged or altered reply address is refused (never matched by subject)', async () => {
    const before = (await messages()).length;
    const forged = replyTo.replace(/([0-9a-f])@/, (_m, c: string) => `${c === '0' ? '1' : '0'}@`);
    await send({
      from: 'alice@example.test',
      to: forged,
      subject: `Re: [#1] Invoice 2026-000001`,
      text: 'Hi',
    });
    assert.equal((await messages()).length, before);
    const r = await refusals();
    assert.match(r.at(-1)!.body_text, /reply address is not valid/);
  });

  it('R4.3 other mailboxes are refused at RCPT TO', async () => {
    await assert.rejects(
      send({ from: 'alice@example.test', to: 'root@infogere.invalid', subject: 'x', text: 'y' }),
      (e: Error & { responseCode?: number }) => e.responseCode === 550,
    );
  });

  it('R4.3 a reply to a ticket closed for good: a polite refusal, nothing stored', async () => {
    const c = await post(`/v1/admin/tickets/${ticket}/status`, staff, { status: 'closed' });
    assert.equal(c.statusCode, 200, c.body);
    const before = (await messages()).length;
    await send({ from: 'alice@example.test', to: replyTo, subject: 'Re: again', text: 'One more thing' });
    assert.equal((await messages()).length, before);
    assert.match((await refusals()).at(-1)!.body_text, /closed for good/);
  });
});
