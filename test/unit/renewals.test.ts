// Term and renewal over time (R11.1, R11.2, R11.3), pure rules: the warning points before a
// contract that does not renew ends (planned ahead, sent once, late ticks send one mail), the
// date the renewal invoice is issued, the grace of an unpaid renewal, what a contract allows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openContract, stopRenewal, switchToSubscription } from '../../src/domain/contracts.ts';
import type { DomainError } from '../../src/domain/errors.ts';
import {
  checkResume,
  checkStop,
  checkSwitch,
  dueTermWarning,
  endsAtExpiry,
  graceEndsAt,
  nextTermWarning,
  parseWarningDays,
  renewalActions,
  renewalInvoiceAt,
  termWarnings,
} from '../../src/domain/renewals.ts';
import { CURRENT_TERMS } from '../../src/domain/terms.ts';
import { ConfigError, loadConfig } from '../../src/control/config.ts';

const d = (s: string) => new Date(s);
const iso = (x: Date | null | undefined) => x?.toISOString() ?? null;
const fixed = (start: string, months: number) =>
  openContract({ kind: 'fixed', termMonths: months, start: d(start), terms: CURRENT_TERMS });
const sub = (start: string) =>
  openContract({ kind: 'subscription', termMonths: null, start: d(start), terms: CURRENT_TERMS });

describe('INFOGERE_TERM_WARNING_DAYS', () => {
  const ok: [string, number[]][] = [
    ['14,3', [14, 3]],
    ['3,14', [14, 3]],
    [' 30 , 7,1 ', [30, 7, 1]],
    ['', []],
    ['none', []],
    ['5', [5]],
  ];
  for (const [text, days] of ok)
    it(`"${text}" → ${JSON.stringify(days)}`, () => assert.deepEqual(parseWarningDays(text), days));
  for (const bad of ['0', '-1', '1.5', 'x', '3,3', '366', '7;3'])
    it(`"${bad}" is refused`, () => assert.throws(() => parseWarningDays(bad), RangeError));
  it('is a setting: default 14,3; read once; a wrong value names the setting', () => {
    const base = { INFOGERE_DATA_DIR: '/tmp/x' };
    assert.deepEqual(loadConfig(base).termWarningDays, [14, 3]);
    assert.deepEqual(
      loadConfig({ ...base, INFOGERE_TERM_WARNING_DAYS: '30,7,1' }).termWarningDays,
      [30, 7, 1],
    );
    assert.deepEqual(
      loadConfig({ ...base, INFOGERE_RENEWAL_INVOICE_DAYS_AHEAD: '10' }).renewalInvoiceDaysAhead,
      10,
    );
    assert.deepEqual(loadConfig(base).renewalGraceDays, 7);
    assert.throws(
      () => loadConfig({ ...base, INFOGERE_TERM_WARNING_DAYS: '14,zero' }),
      (e: ConfigError) => e instanceof ConfigError && e.setting === 'INFOGERE_TERM_WARNING_DAYS',
    );
    assert.throws(() => loadConfig({ ...base, INFOGERE_RENEWAL_GRACE_DAYS: '61' }), ConfigError);
  });
});

describe('warnings before the end of a contract that does not renew (R11.1)', () => {
  it('are 24-hour days counted back from the expiry in UTC, soonest first, daylight saving or not', () => {
    // 31 Mar 2026 09:00 UTC; Europe moves to summer time on 29 Mar: the instants stay 14 × 24 h and 3 × 24 h before.
    assert.deepEqual(
      termWarnings(d('2026-03-31T09:00:00Z'), [3, 14]).map((w) => [w.daysBefore, iso(w.at)]),
      [
        [14, '2026-03-17T09:00:00.000Z'],
        [3, '2026-03-28T09:00:00.000Z'],
      ],
    );
    // Across a month end and a leap day.
    assert.deepEqual(
      termWarnings(d('2028-03-02T10:00:00Z'), [14, 3]).map((w) => iso(w.at)),
      ['2028-02-17T10:00:00.000Z', '2028-02-28T10:00:00.000Z'],
    );
  });

  // A 2-month fixed term from 31 Jan 10:00: ends 31 Mar 10:00.
  const c = fixed('2026-01-31T10:00:00Z', 2);
  const table: [string, string, number[], [number, string] | null][] = [
    ['at the start: the 14-day point', '2026-01-31T10:00:00Z', [], [14, '2026-03-17T10:00:00.000Z']],
    ['just before the 14-day point', '2026-03-17T09:59:59Z', [], [14, '2026-03-17T10:00:00.000Z']],
    ['the 14-day point sent: the 3-day point', '2026-03-17T10:00:00Z', [14], [3, '2026-03-28T10:00:00.000Z']],
    [
      'planned late (a switch back, a stop): past points are not sent',
      '2026-03-20T00:00:00Z',
      [],
      [3, '2026-03-28T10:00:00.000Z'],
    ],
    ['both sent: none', '2026-03-29T00:00:00Z', [14, 3], null],
    ['after the 3-day point: none left', '2026-03-29T00:00:00Z', [], null],
    ['at the expiry: none', '2026-03-31T10:00:00Z', [], null],
  ];
  for (const [what, now, sent, want] of table)
    it(`next: ${what}`, () => {
      const w = nextTermWarning(c, [14, 3], d(now), sent);
      assert.deepEqual(w ? [w.daysBefore, iso(w.at)] : null, want);
    });

  const late: [string, string, number[], number | null][] = [
    ['on time', '2026-03-17T10:00:00Z', [], 14],
    ['a tick after the 3-day point too (platform down): only the 3-day one', '2026-03-29T00:00:00Z', [], 3],
    ['already sent: nothing', '2026-03-17T12:00:00Z', [14], null],
    ['after the expiry: nothing', '2026-03-31T10:00:01Z', [], null],
    ['before any point: nothing', '2026-03-01T00:00:00Z', [], null],
  ];
  for (const [what, now, sent, want] of late)
    it(`due: ${what}`, () =>
      assert.equal(dueTermWarning(c, [14, 3], d(now), sent)?.daysBefore ?? null, want));

  it('a renewing subscription gets no end warning; a stopped one does; a switched term no longer does', () => {
    const s = sub('2026-03-15T08:00:00Z');
    assert.equal(endsAtExpiry(s), false);
    assert.equal(nextTermWarning(s, [14, 3], d('2026-03-16T00:00:00Z'), []), null);
    const stopped = stopRenewal(s, d('2026-03-20T00:00:00Z'));
    assert.equal(endsAtExpiry(stopped), true);
    const w = nextTermWarning(stopped, [14, 3], d('2026-03-20T00:00:00Z'), []);
    assert.deepEqual([w?.daysBefore, iso(w?.at)], [14, '2026-04-01T08:00:00.000Z']); // it expires 15 Apr
    assert.equal(nextTermWarning(switchToSubscription(c), [14, 3], d('2026-02-01T00:00:00Z'), []), null);
    assert.equal(nextTermWarning(c, [], d('2026-02-01T00:00:00Z'), []), null, 'no warning configured');
  });
});

describe('the renewal invoice and the grace (R11.2)', () => {
  it('is issued the settings’ days before the expiry; none for a fixed term or a stopped subscription', () => {
    const s = sub('2026-01-31T10:00:00Z'); // expires 28 Feb 10:00
    assert.equal(iso(renewalInvoiceAt(s, 7)), '2026-02-21T10:00:00.000Z');
    assert.equal(iso(renewalInvoiceAt(s, 0)), '2026-02-28T10:00:00.000Z');
    const switched = switchToSubscription(fixed('2026-01-31T10:00:00Z', 2)); // expires 31 Mar
    assert.equal(iso(renewalInvoiceAt(switched, 7)), '2026-03-24T10:00:00.000Z');
    assert.equal(renewalInvoiceAt(fixed('2026-01-31T10:00:00Z', 2), 7), null);
    assert.equal(renewalInvoiceAt(stopRenewal(s, d('2026-02-01T00:00:00Z')), 7), null);
  });

  it('the grace runs whole days after the expiry', () => {
    assert.equal(iso(graceEndsAt(d('2026-02-28T10:00:00Z'), 7)), '2026-03-07T10:00:00.000Z');
    assert.equal(iso(graceEndsAt(d('2028-02-28T10:00:00Z'), 1)), '2028-02-29T10:00:00.000Z');
    assert.equal(iso(graceEndsAt(d('2026-02-28T10:00:00Z'), 0)), '2026-02-28T10:00:00.000Z');
  });
});

describe('what a contract allows (switch R11.3, stop and resume R11.2)', () => {
  const now = d('2026-02-15T00:00:00Z');
  const f = fixed('2026-01-31T10:00:00Z', 2);
  const s = sub('2026-01-31T10:00:00Z');
  const stopped = stopRenewal(s, d('2026-02-10T00:00:00Z'));
  const table: [string, Parameters<typeof renewalActions>, string[]][] = [
    ['a running fixed term: switch', ['active', f, now], ['switch_to_subscription']],
    [
      'a suspended fixed term may switch too (the contract still runs)',
      ['suspended', f, now],
      ['switch_to_subscription'],
    ],
    ['a renewing subscription: stop', ['active', s, now], ['stop_renewal']],
    ['a stopped subscription before its expiry: resume', ['active', stopped, now], ['resume_renewal']],
    ['a stopped subscription at its expiry: nothing', ['active', stopped, d('2026-02-28T10:00:00Z')], []],
    ['a fixed term past its expiry: nothing', ['active', f, d('2026-03-31T10:00:00Z')], []],
    ['an ended contract: nothing', ['ended', f, now], []],
    ['a terminated subscription: nothing', ['terminated', s, now], []],
  ];
  for (const [what, args, want] of table) it(what, () => assert.deepEqual(renewalActions(...args), want));

  it('refusals carry stable codes (409)', () => {
    const code = (fn: () => void) => {
      try {
        fn();
        return null;
      } catch (e) {
        assert.equal((e as DomainError).kind, 'conflict');
        return (e as DomainError).code;
      }
    };
    assert.equal(
      code(() => checkSwitch('active', s, now)),
      'contract.already_subscription',
    );
    assert.equal(
      code(() => checkSwitch('active', f, d('2026-03-31T10:00:00Z'))),
      'contract.expired',
    );
    assert.equal(
      code(() => checkSwitch('ended', f, now)),
      'contract.not_running',
    );
    assert.equal(
      code(() => checkStop('active', f)),
      'contract.not_subscription',
    );
    assert.equal(
      code(() => checkStop('active', stopped)),
      'contract.renewal_stopped',
    );
    assert.equal(
      code(() => checkResume('active', s, now)),
      'contract.renewal_not_stopped',
    );
    assert.equal(
      code(() => checkResume('active', stopped, d('2026-03-01T00:00:00Z'))),
      'contract.expired',
    );
    assert.equal(
      code(() => checkStop('active', s)),
      null,
    );
  });
});
