// Contract dates and state machine (R11.1, R11.2, R11.3): month arithmetic in UTC clamped at
// month ends, counted from an anchor; leap years; switch to subscription keeps the expiry as anchor.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  addMonths,
  billingCycleAt,
  canTransitionContract,
  contractStates,
  monthsBetween,
  nextRenewalAt,
  openContract,
  renew,
  renewalPeriod,
  resumeRenewal,
  stopRenewal,
  switchToSubscription,
  transitionContract,
  type ContractState,
} from '../../src/domain/contracts.ts';
import type { DomainError } from '../../src/domain/errors.ts';
import { cycleStart } from '../../src/domain/quota.ts';
import { CURRENT_TERMS } from '../../src/domain/terms.ts';

const d = (s: string) => new Date(s);
const iso = (x: Date | null) => x?.toISOString() ?? null;

describe('addMonths: calendar months in UTC, clamped at the month end', () => {
  const table: [string, number, string][] = [
    ['2026-01-31T10:00:00.000Z', 1, '2026-02-28T10:00:00.000Z'], // 31 Jan + 1 month = 28 Feb
    ['2028-01-31T10:00:00.000Z', 1, '2028-02-29T10:00:00.000Z'], // leap year: 29 Feb
    ['2026-01-31T10:00:00.000Z', 2, '2026-03-31T10:00:00.000Z'], // counted from the anchor, no drift
    ['2026-03-31T23:59:59.999Z', 1, '2026-04-30T23:59:59.999Z'],
    ['2026-01-15T00:00:00.000Z', 1, '2026-02-15T00:00:00.000Z'],
    ['2026-11-30T08:00:00.000Z', 3, '2027-02-28T08:00:00.000Z'], // across a year end
    ['2026-12-31T08:00:00.000Z', 2, '2027-02-28T08:00:00.000Z'],
    ['2027-12-31T08:00:00.000Z', 2, '2028-02-29T08:00:00.000Z'],
    ['2028-02-29T12:00:00.000Z', 12, '2029-02-28T12:00:00.000Z'], // leap day + 1 year
    ['2028-02-29T12:00:00.000Z', 48, '2032-02-29T12:00:00.000Z'],
    ['2026-05-31T00:00:00.000Z', -1, '2026-04-30T00:00:00.000Z'],
    ['2026-03-29T00:30:00.000Z', 1, '2026-04-29T00:30:00.000Z'], // DST week-end in Europe: UTC is unaffected
    ['2026-10-25T01:30:00.000Z', 1, '2026-11-25T01:30:00.000Z'],
    ['2026-01-31T10:00:00.000Z', 0, '2026-01-31T10:00:00.000Z'],
  ];
  for (const [from, n, to] of table)
    it(`${from} + ${n} month(s) = ${to}`, () => assert.equal(addMonths(d(from), n).toISOString(), to));

  it('agrees with the bandwidth quota cycles (same anchor arithmetic: R3.13)', () => {
    for (const anchor of ['2026-01-31T10:00:00Z', '2028-01-30T23:00:00Z', '2026-03-15T00:00:00Z'])
      for (let k = 0; k < 30; k++)
        assert.equal(addMonths(d(anchor), k).toISOString(), cycleStart(d(anchor), k).toISOString());
  });

  it('monthsBetween is the inverse: the largest k with from + k months ≤ to', () => {
    assert.equal(monthsBetween(d('2026-01-31T10:00:00Z'), d('2026-02-28T09:59:59Z')), 0);
    assert.equal(monthsBetween(d('2026-01-31T10:00:00Z'), d('2026-02-28T10:00:00Z')), 1);
    assert.equal(monthsBetween(d('2026-01-31T10:00:00Z'), d('2026-03-30T10:00:00Z')), 1);
    assert.equal(monthsBetween(d('2026-01-31T10:00:00Z'), d('2026-03-31T10:00:00Z')), 2);
    assert.equal(monthsBetween(d('2026-01-31T10:00:00Z'), d('2027-01-31T10:00:00Z')), 12);
  });

  it('billing cycles from the anchor: [start, end) holding the instant', () => {
    const c = billingCycleAt(d('2026-01-31T10:00:00Z'), d('2026-03-05T00:00:00Z'));
    assert.deepEqual(
      [c.index, iso(c.start), iso(c.end)],
      [1, '2026-02-28T10:00:00.000Z', '2026-03-31T10:00:00.000Z'],
    );
  });
});

describe('contract dates', () => {
  const start = d('2026-01-31T10:00:00Z');

  it('R11.1 fixed term of N months: expires at start + N months, billing anchor = start', () => {
    const c = openContract({ kind: 'fixed', termMonths: 12, start, terms: CURRENT_TERMS });
    assert.equal(iso(c.expiresAt), '2027-01-31T10:00:00.000Z');
    assert.equal(iso(c.billingAnchor), iso(start));
    assert.equal(c.renewalAnchor, null);
    assert.equal(nextRenewalAt(c), null, 'a fixed term does not renew');
    const one = openContract({ kind: 'fixed', termMonths: 1, start, terms: CURRENT_TERMS });
    assert.equal(iso(one.expiresAt), '2026-02-28T10:00:00.000Z');
  });

  it('R11.1 a term is 1 to 36 whole months', () => {
    for (const bad of [0, -1, 37, 1.5, NaN])
      assert.throws(
        () => openContract({ kind: 'fixed', termMonths: bad, start, terms: CURRENT_TERMS }),
        (e: DomainError) => e.code === 'validation.termMonths',
      );
  });

  it('R11.2 subscription: one month first, then renewed one month at a time from the anchor (no drift)', () => {
    let c = openContract({ kind: 'subscription', termMonths: null, start, terms: CURRENT_TERMS });
    assert.equal(iso(c.expiresAt), '2026-02-28T10:00:00.000Z');
    assert.equal(iso(nextRenewalAt(c)), '2026-02-28T10:00:00.000Z');
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      assert.deepEqual(
        [iso(renewalPeriod(c, CURRENT_TERMS).start), iso(renewalPeriod(c, CURRENT_TERMS).end)],
        [iso(c.expiresAt), iso(renew(c, CURRENT_TERMS).expiresAt)],
      );
      c = renew(c, CURRENT_TERMS);
      seen.push(iso(c.expiresAt)!);
    }
    assert.deepEqual(seen, [
      '2026-03-31T10:00:00.000Z',
      '2026-04-30T10:00:00.000Z',
      '2026-05-31T10:00:00.000Z',
      '2026-06-30T10:00:00.000Z',
    ]);
  });

  it('R11.2 a leap-year subscription started on 29 Feb renews on the 29th where it exists, else the month end', () => {
    let c = openContract({
      kind: 'subscription',
      termMonths: null,
      start: d('2028-02-29T00:00:00Z'),
      terms: CURRENT_TERMS,
    });
    const seen = [iso(c.expiresAt)];
    for (let i = 0; i < 12; i++) seen.push(iso((c = renew(c, CURRENT_TERMS)).expiresAt));
    assert.equal(seen[0], '2028-03-29T00:00:00.000Z');
    assert.equal(seen[11], '2029-02-28T00:00:00.000Z');
    assert.equal(seen[12], '2029-03-29T00:00:00.000Z');
  });

  it('R11.3 switching to subscription keeps the current expiry date as the renewal anchor', () => {
    const fixed = openContract({ kind: 'fixed', termMonths: 1, start, terms: CURRENT_TERMS });
    assert.equal(iso(fixed.expiresAt), '2026-02-28T10:00:00.000Z');
    const sub = switchToSubscription(fixed);
    assert.equal(sub.kind, 'subscription');
    assert.equal(iso(sub.renewalAnchor), '2026-02-28T10:00:00.000Z');
    assert.equal(iso(sub.expiresAt), '2026-02-28T10:00:00.000Z', 'the switch changes no paid date');
    assert.equal(iso(nextRenewalAt(sub)), '2026-02-28T10:00:00.000Z');
    assert.equal(
      iso(renew(sub, CURRENT_TERMS).expiresAt),
      '2026-03-28T10:00:00.000Z',
      'month by month from the expiry date',
    );
    assert.equal(iso(sub.billingAnchor), iso(start), 'the quota anchor does not move');
    assert.throws(
      () => switchToSubscription(sub),
      (e: DomainError) => e.code === 'contract.already_subscription' && e.kind === 'conflict',
    );
  });

  it('R11.3 a 12-month term switched mid-way renews from its end of term, not from the switch date', () => {
    const fixed = openContract({
      kind: 'fixed',
      termMonths: 12,
      start: d('2026-03-15T09:00:00Z'),
      terms: CURRENT_TERMS,
    });
    const sub = switchToSubscription(fixed);
    assert.equal(iso(nextRenewalAt(sub)), '2027-03-15T09:00:00.000Z');
    assert.equal(iso(renew(sub, CURRENT_TERMS).expiresAt), '2027-04-15T09:00:00.000Z');
  });

  it('R11.2 stopping the renewal: no next renewal, renew refused; a fixed term has none to stop', () => {
    const sub = openContract({ kind: 'subscription', termMonths: null, start, terms: CURRENT_TERMS });
    const stopped = stopRenewal(sub, d('2026-02-10T00:00:00Z'));
    assert.equal(nextRenewalAt(stopped), null);
    assert.throws(
      () => renew(stopped, CURRENT_TERMS),
      (e: DomainError) => e.code === 'contract.renewal_stopped',
    );
    assert.throws(
      () => stopRenewal(stopped, start),
      (e: DomainError) => e.code === 'contract.renewal_stopped',
    );
    const fixed = openContract({ kind: 'fixed', termMonths: 3, start, terms: CURRENT_TERMS });
    assert.throws(
      () => stopRenewal(fixed, start),
      (e: DomainError) => e.code === 'contract.not_subscription',
    );
    assert.throws(
      () => renew(fixed, CURRENT_TERMS),
      (e: DomainError) => e.code === 'contract.not_subscription',
    );
  });
});

describe('renewal dates, table (R11.2, R11.3): month ends, leap years, the switch keeps the expiry as anchor', () => {
  /** The expiries a contract goes through as it renews `n` times. */
  const expiries = (c: ReturnType<typeof openContract>, n: number): string[] => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(iso((c = renew(c, CURRENT_TERMS)).expiresAt)!);
    return out;
  };
  const sub = (start: string) =>
    openContract({ kind: 'subscription', termMonths: null, start: d(start), terms: CURRENT_TERMS });
  const fixed = (start: string, months: number) =>
    openContract({ kind: 'fixed', termMonths: months, start: d(start), terms: CURRENT_TERMS });

  const table: [string, ReturnType<typeof openContract>, string, string[]][] = [
    [
      'subscription started 31 Jan: the last day of each month, never drifting to the 28th',
      sub('2026-01-31T10:00:00Z'),
      '2026-02-28T10:00:00.000Z',
      [
        '2026-03-31T10:00:00.000Z',
        '2026-04-30T10:00:00.000Z',
        '2026-05-31T10:00:00.000Z',
        '2026-06-30T10:00:00.000Z',
      ],
    ],
    [
      'subscription started 30 Jan of a leap year: 29 Feb, then the 30th',
      sub('2028-01-30T08:00:00Z'),
      '2028-02-29T08:00:00.000Z',
      ['2028-03-30T08:00:00.000Z', '2028-04-30T08:00:00.000Z', '2028-05-30T08:00:00.000Z'],
    ],
    [
      'subscription across a year end',
      sub('2026-11-30T23:30:00Z'),
      '2026-12-30T23:30:00.000Z',
      ['2027-01-30T23:30:00.000Z', '2027-02-28T23:30:00.000Z', '2027-03-30T23:30:00.000Z'],
    ],
    [
      'fixed term ending 31 Mar switched mid-February: renews 30 Apr, 31 May, 30 Jun (R11.3)',
      switchToSubscription(fixed('2026-01-31T10:00:00Z', 2)),
      '2026-03-31T10:00:00.000Z',
      [
        '2026-04-30T10:00:00.000Z',
        '2026-05-31T10:00:00.000Z',
        '2026-06-30T10:00:00.000Z',
        '2026-07-31T10:00:00.000Z',
      ],
    ],
    [
      'fixed term ending 31 Jan 2028 switched: 29 Feb (leap), 31 Mar',
      switchToSubscription(fixed('2027-01-31T12:00:00Z', 12)),
      '2028-01-31T12:00:00.000Z',
      ['2028-02-29T12:00:00.000Z', '2028-03-31T12:00:00.000Z', '2028-04-30T12:00:00.000Z'],
    ],
    [
      'fixed term ending on a leap day (29 Feb 2028) switched: the 29th where it exists, 28 Feb the year after',
      switchToSubscription(fixed('2028-01-29T09:00:00Z', 1)),
      '2028-02-29T09:00:00.000Z',
      [
        '2028-03-29T09:00:00.000Z',
        '2028-04-29T09:00:00.000Z',
        '2028-05-29T09:00:00.000Z',
        '2028-06-29T09:00:00.000Z',
        '2028-07-29T09:00:00.000Z',
        '2028-08-29T09:00:00.000Z',
        '2028-09-29T09:00:00.000Z',
        '2028-10-29T09:00:00.000Z',
        '2028-11-29T09:00:00.000Z',
        '2028-12-29T09:00:00.000Z',
        '2029-01-29T09:00:00.000Z',
        '2029-02-28T09:00:00.000Z',
        '2029-03-29T09:00:00.000Z',
      ],
    ],
    [
      'expiry in the night Europe moves to summer time (29 Mar 2026, 01:00 UTC): UTC months, no hour lost',
      switchToSubscription(fixed('2026-01-29T01:30:00Z', 2)),
      '2026-03-29T01:30:00.000Z',
      ['2026-04-29T01:30:00.000Z', '2026-05-29T01:30:00.000Z'],
    ],
  ];
  for (const [what, c, expiry, next] of table)
    it(what, () => {
      assert.equal(iso(c.expiresAt), expiry);
      assert.equal(iso(nextRenewalAt(c)), expiry, 'the next renewal is the current expiry');
      assert.deepEqual(expiries(c, next.length), next);
    });

  it('R11.3 a switched contract renews exactly like a subscription started at its expiry', () => {
    for (const [start, months] of [
      ['2026-01-31T10:00:00Z', 2],
      ['2027-02-28T09:00:00Z', 12],
      ['2026-08-31T22:00:00Z', 6],
    ] as const) {
      const switched = switchToSubscription(fixed(start, months));
      const fromExpiry = sub(iso(switched.expiresAt)!);
      assert.deepEqual(expiries(switched, 13), [iso(fromExpiry.expiresAt), ...expiries(fromExpiry, 12)]);
      assert.equal(iso(switched.billingAnchor), iso(d(start)), 'the quota cycles keep their anchor');
    }
  });

  it('R11.2 resuming a stopped renewal keeps the anchor; only a stopped subscription resumes', () => {
    const s = sub('2026-01-31T10:00:00Z');
    const resumed = resumeRenewal(stopRenewal(s, d('2026-02-10T00:00:00Z')));
    assert.equal(resumed.renewalStoppedAt, null);
    assert.deepEqual(expiries(resumed, 2), expiries(s, 2));
    assert.throws(
      () => resumeRenewal(s),
      (e: DomainError) => e.code === 'contract.renewal_not_stopped',
    );
    assert.throws(
      () => resumeRenewal(fixed('2026-01-31T10:00:00Z', 3)),
      (e: DomainError) => e.code === 'contract.not_subscription',
    );
  });
});

describe('contract state machine', () => {
  const legal: [ContractState, ContractState][] = [
    ['active', 'suspended'],
    ['suspended', 'active'],
    ['active', 'ended'],
    ['active', 'terminated'],
    ['suspended', 'ended'],
    ['suspended', 'terminated'],
  ];
  it('allows exactly the legal transitions; anything else is a conflict', () => {
    for (const from of contractStates)
      for (const to of contractStates) {
        const ok = legal.some(([a, b]) => a === from && b === to);
        assert.equal(canTransitionContract(from, to), ok, `${from} → ${to}`);
        if (ok) assert.equal(transitionContract(from, to), to);
        else
          assert.throws(
            () => transitionContract(from, to),
            (e: DomainError) => e.kind === 'conflict' && e.code === 'contract.illegal_transition',
          );
      }
  });
  it('ended and terminated are final', () => {
    for (const to of contractStates) {
      assert.equal(canTransitionContract('ended', to), false);
      assert.equal(canTransitionContract('terminated', to), false);
    }
  });
});
