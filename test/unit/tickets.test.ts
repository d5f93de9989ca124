// R4.3, R3.10: the ticket rules as pure functions — the status machine (reopen by reply, closed
// for good), the minutes' bounds, how new minutes split between the included time and accepted
// quotes, the billing month of the ledger (a month of the contract, 28 to 31 days, never 30),
// the balance sentence both sides read, auto-close, and the reply token's shape.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DAY } from '../../src/domain/clock.ts';
import { TERMS_2015_06_01 } from '../../src/domain/terms.ts';
import {
  balanceSentence,
  checkMinutes,
  consumesIncludedTime,
  editableBy,
  isAutomatic,
  isStale,
  minutesRequired,
  parseReplyToken,
  quoteCents,
  replyTokenOf,
  responseDeadlines,
  splitMinutes,
  staffSetStatus,
  statusAfterMessage,
  stripQuoted,
  supportBalance,
  supportMonth,
} from '../../src/domain/tickets.ts';

describe('R4.3 ticket status machine', () => {
  it('a client reply reopens a resolved ticket or one waiting for it; a new ticket stays new', () => {
    assert.equal(statusAfterMessage('resolved', 'client'), 'waiting_provider');
    assert.equal(statusAfterMessage('waiting_client', 'client'), 'waiting_provider');
    assert.equal(statusAfterMessage('new', 'client'), 'new');
  });
  it('a staff reply waits for the client unless staff choose; a note changes nothing', () => {
    assert.equal(statusAfterMessage('new', 'staff'), 'waiting_client');
    assert.equal(statusAfterMessage('open', 'staff', { staffStatus: 'resolved' }), 'resolved');
    assert.equal(statusAfterMessage('waiting_provider', 'staff', { internal: true }), 'waiting_provider');
  });
  it('closed is for good: no message, no status', () => {
    assert.throws(() => statusAfterMessage('closed', 'client'), { code: 'ticket.closed' });
    assert.throws(() => staffSetStatus('closed', 'open'), { code: 'ticket.bad_transition' });
    assert.throws(() => staffSetStatus('open', 'new'), { code: 'ticket.bad_transition' });
    assert.equal(staffSetStatus('resolved', 'open'), 'open');
  });
  it('timers follow the priority', () => {
    const at = new Date('2026-03-01T09:00:00Z');
    assert.equal(responseDeadlines('urgent', at).firstResponseDue.toISOString(), '2026-03-01T10:00:00.000Z');
    assert.equal(responseDeadlines('low', at).resolutionDue.toISOString(), '2026-03-08T09:00:00.000Z');
  });
  it('auto-close: waiting for the client or resolved, after the days without answer', () => {
    const last = new Date('2026-03-01T00:00:00Z');
    assert.equal(isStale('waiting_client', last, new Date(last.getTime() + 7 * DAY - 1), 7), false);
    assert.equal(isStale('waiting_client', last, new Date(last.getTime() + 7 * DAY), 7), true);
    assert.equal(isStale('waiting_provider', last, new Date(last.getTime() + 70 * DAY), 7), false);
  });
});

describe('R3.10 the support ledger', () => {
  it('minutes: whole, more than 0, at most 480', () => {
    assert.equal(checkMinutes(1), 1);
    assert.equal(checkMinutes(480), 480);
    for (const bad of [0, -5, 481, 1.5, Number.NaN, '12'])
      assert.throws(() => checkMinutes(bad), { code: 'validation.minutes' });
  });
  it('minutes are mandatory on admin requests; incident reports and provider-caused tickets never consume', () => {
    assert.equal(minutesRequired('admin_request'), true);
    assert.equal(minutesRequired('billing'), false);
    assert.equal(consumesIncludedTime('admin_request', false), true);
    assert.equal(consumesIncludedTime('admin_request', true), false);
    assert.equal(consumesIncludedTime('incident_report', false), false);
  });
  it('12 min used → 8 left; +10 → 8 included, 2 uncovered (a quote is needed); a quote covers them', () => {
    const month = supportMonth(new Date('2026-01-14T10:00:00Z'), new Date('2026-02-20T00:00:00Z'));
    const b = supportBalance(TERMS_2015_06_01.adminSupportMsPerMonth, 12, month);
    assert.equal(b.includedMinutes, 20);
    assert.equal(b.leftMinutes, 8);
    assert.deepEqual(splitMinutes(10, b.leftMinutes, 0), { included: 8, quoted: 0, uncovered: 2 });
    assert.deepEqual(splitMinutes(10, b.leftMinutes, 30), { included: 8, quoted: 2, uncovered: 0 });
    assert.deepEqual(splitMinutes(5, 0, 3), { included: 0, quoted: 3, uncovered: 2 });
  });
  it('the billing month is the contract’s: 28 or 31 days, not 30', () => {
    const anchor = new Date('2026-01-31T10:00:00Z');
    const feb = supportMonth(anchor, new Date('2026-02-27T00:00:00Z'));
    assert.equal(feb.start.toISOString(), '2026-01-31T10:00:00.000Z');
    assert.equal(
      feb.end.toISOString(),
      '2026-02-28T10:00:00.000Z',
      'clamped to February’s last day: 28 days',
    );
    const dec = supportMonth(new Date('2026-11-14T09:00:00Z'), new Date('2026-12-13T12:00:00Z'));
    assert.equal(dec.end.toISOString(), '2026-12-14T09:00:00.000Z');
    const jan = supportMonth(new Date('2026-11-14T09:00:00Z'), new Date('2026-12-14T09:00:00Z'));
    assert.equal(jan.start.toISOString(), '2026-12-14T09:00:00.000Z', 'a new month at the anchor’s day');
    assert.equal(jan.end.getTime() - jan.start.getTime(), 31 * DAY);
  });
  it('the sentence both sides read, FR and EN', () => {
    const month = { start: new Date('2026-11-14T09:00:00Z'), end: new Date('2026-12-14T09:00:00Z') };
    const b = supportBalance(TERMS_2015_06_01.adminSupportMsPerMonth, 12, month);
    assert.equal(balanceSentence(b, 'en'), '12 min used, 8 left this month, resets on 14 Dec');
    assert.equal(
      balanceSentence(b, 'fr'),
      '12 min utilisées, 8 restantes ce mois-ci, remise à zéro le 14 déc.',
    );
    assert.equal(supportBalance(TERMS_2015_06_01.adminSupportMsPerMonth, 25, month).leftMinutes, 0);
  });
  it('an entry is editable by its author on its day only', () => {
    const e = { authorId: 'a', createdAt: new Date('2026-03-01T23:00:00Z') };
    assert.equal(editableBy(e, 'a', new Date('2026-03-01T23:59:00Z')), true);
    assert.equal(editableBy(e, 'b', new Date('2026-03-01T23:59:00Z')), false);
    assert.equal(editableBy(e, 'a', new Date('2026-03-02T00:00:00Z')), false);
  });
  it('a quote is priced by the minute at the hourly rate', () => {
    assert.equal(quoteCents(30, 6000), 3000);
    assert.equal(quoteCents(7, 6000), 700);
    assert.equal(quoteCents(1, 6500), 108);
  });
});

describe('R4.3 reply tokens', () => {
  it('hold the ticket id and a MAC; anything else does not parse', () => {
    const id = '6f1c4a52-1234-4abc-8def-0123456789ab';
    const token = replyTokenOf(id, 'ab'.repeat(32));
    assert.equal(token.length, 56);
    assert.deepEqual(parseReplyToken(token.toUpperCase()), { ticketId: id, mac: 'ab'.repeat(12) });
    assert.equal(parseReplyToken('zz'), null);
    assert.equal(parseReplyToken(`${token}00`), null);
  });
});

describe('R4.3 mail in', () => {
  it('auto-replies, lists and bounces are recognised', () => {
    assert.equal(isAutomatic({ autoSubmitted: 'auto-replied' }), true);
    assert.equal(isAutomatic({ autoSubmitted: 'no', envelopeFrom: 'a@b.test' }), false);
    assert.equal(isAutomatic({ precedence: 'bulk', envelopeFrom: 'a@b.test' }), true);
    assert.equal(isAutomatic({ listId: '<x.lists.test>', envelopeFrom: 'a@b.test' }), true);
    assert.equal(isAutomatic({ envelopeFrom: '' }), true, 'a bounce');
    assert.equal(isAutomatic({ envelopeFrom: 'a@b.test' }), false);
  });
  it('quoted history and signatures are stripped (EN, FR, Outlook)', () => {
    assert.equal(stripQuoted('Thanks!\n\nOn Mon, 2 Mar 2026, X <x@y.test> wrote:\n> old'), 'Thanks!');
    assert.equal(
      stripQuoted('Merci\r\nLe lun. 2 mars 2026 à 10:00, X <x@y.test> a écrit :\r\n> vieux'),
      'Merci',
    );
    assert.equal(stripQuoted('Ok\n-----Original Message-----\nFrom: x@y.test\nold'), 'Ok');
    assert.equal(stripQuoted('Fine\n-- \nAlice, CTO'), 'Fine');
    assert.equal(stripQuoted('A\n> quoted\nB'), 'A\nB');
    assert.equal(stripQuoted('De : 9h à 10h, le serveur tombe'), 'De : 9h à 10h, le serveur tombe');
  });
});
