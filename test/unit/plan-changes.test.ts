// Plan changes (R3.12): proration to the day over the current billing cycle (month ends, leap
// years, fixed terms paid ahead), disk shrink refused, deadline status, reboot need.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DomainError } from '../../src/domain/errors.ts';
import {
  checkPlanChange,
  deadlineStatus,
  needsReboot,
  planChangeDueAt,
  prorate,
} from '../../src/domain/plan-changes.ts';
import { CURRENT_TERMS } from '../../src/domain/terms.ts';

const d = (s: string) => new Date(s);

describe('R3.12 prorate: (new − old) × remaining days / days in the cycle, half up, + whole months paid ahead', () => {
  // [anchor, paidThrough, at, old, new, cycleDays, remaining, fullMonths, amount]
  const table: [string, string, string, number, number, number, number, number, number][] = [
    // 30-day cycle (1 Apr → 1 May), 10 days left (the day in progress counts): 1000 × 10/30 = 333.33 → 333
    ['2026-03-01T09:00:00Z', '2026-05-01T09:00:00Z', '2026-04-21T09:00:00Z', 1000, 2000, 30, 10, 0, 333],
    // same instant + 1 minute: still 10 days (ceil)… 9 days 23:59 → 10
    ['2026-03-01T09:00:00Z', '2026-05-01T09:00:00Z', '2026-04-21T09:01:00Z', 1000, 2000, 30, 10, 0, 333],
    // half up: 15 of 30 days of 1 cent… 1 × 15 / 30 = 0.5 → 1
    ['2026-03-01T09:00:00Z', '2026-05-01T09:00:00Z', '2026-04-16T09:00:00Z', 1000, 1001, 30, 15, 0, 1],
    // February, not leap: 28 days (anchor the 31st: 31 Jan → 28 Feb → 31 Mar is counted from the anchor)
    ['2026-01-31T10:00:00Z', '2026-02-28T10:00:00Z', '2026-02-14T10:00:00Z', 500, 1900, 28, 14, 0, 700],
    // the cycle 28 Feb → 31 Mar of an anchor on the 31st: 31 days
    ['2026-01-31T10:00:00Z', '2026-03-31T10:00:00Z', '2026-03-30T10:00:00Z', 0, 3100, 31, 1, 0, 100],
    // leap year: February 2028 has 29 days
    ['2028-01-29T00:00:00Z', '2028-02-29T00:00:00Z', '2028-02-01T00:00:00Z', 1000, 3900, 31, 28, 0, 2619],
    ['2028-01-31T00:00:00Z', '2028-02-29T00:00:00Z', '2028-02-28T12:00:00Z', 1000, 3900, 29, 1, 0, 100],
    // across a year end: 31 Dec cycle (31 Dec → 31 Jan), 31 days, first day: whole month
    ['2026-12-31T08:00:00Z', '2027-01-31T08:00:00Z', '2026-12-31T08:00:00Z', 999, 1999, 31, 31, 0, 1000],
    // fixed term paid ahead: 12 months from 15 Jan; on 1 Mar, 14 days left of 15 Feb → 15 Mar (28 days) + 10 whole months
    ['2026-01-15T00:00:00Z', '2027-01-15T00:00:00Z', '2026-03-01T00:00:00Z', 1000, 1500, 28, 14, 10, 5250],
    // cheaper plan: zero, never a credit note
    ['2026-03-01T09:00:00Z', '2026-05-01T09:00:00Z', '2026-04-21T09:00:00Z', 2000, 1000, 30, 10, 0, 0],
    // same price: zero
    ['2026-03-01T09:00:00Z', '2026-05-01T09:00:00Z', '2026-04-21T09:00:00Z', 2000, 2000, 30, 10, 0, 0],
    // past the paid-through date (a contract waiting for its renewal): nothing left to prorate
    ['2026-03-01T09:00:00Z', '2026-04-01T09:00:00Z', '2026-04-02T09:00:00Z', 1000, 2000, 30, 0, 0, 0],
  ];
  for (const [anchor, paid, at, o, n, cycleDays, remaining, fullMonths, amount] of table)
    it(`${at}: ${o} → ${n} (anchor ${anchor}) = ${amount}`, () => {
      const p = prorate({
        oldMonthlyCents: o,
        newMonthlyCents: n,
        billingAnchor: d(anchor),
        paidThrough: d(paid),
        at: d(at),
      });
      assert.deepEqual(
        [p.cycleDays, p.remainingDays, p.fullMonths, p.amountCents],
        [cycleDays, remaining, fullMonths, amount],
      );
    });

  it('DST week-end in Europe changes nothing (UTC days)', () => {
    const p = prorate({
      oldMonthlyCents: 0,
      newMonthlyCents: 3100,
      billingAnchor: d('2026-03-01T00:30:00Z'),
      paidThrough: d('2026-04-01T00:30:00Z'),
      at: d('2026-03-29T00:30:00Z'),
    });
    assert.equal(p.cycleDays, 31);
    assert.equal(p.remainingDays, 3);
    assert.equal(p.amountCents, 300);
  });

  it('refuses amounts that are not cents', () => {
    assert.throws(() =>
      prorate({
        oldMonthlyCents: 10.5,
        newMonthlyCents: 20,
        billingAnchor: d('2026-03-01T00:00:00Z'),
        paidThrough: d('2026-04-01T00:00:00Z'),
        at: d('2026-03-02T00:00:00Z'),
      }),
    );
  });
});

describe('R3.12 checkPlanChange: the disk only grows', () => {
  const s = (planId: string, diskGiB: number) => ({
    planId,
    vcpus: 1,
    memoryMiB: 1024,
    diskGiB,
    monthlyPriceCents: 500,
  });
  it('refuses a smaller disk (409 plan_change.disk_shrink) and the same plan', () => {
    assert.throws(
      () => checkPlanChange(s('a', 20), s('b', 10)),
      (e: DomainError) => e.code === 'plan_change.disk_shrink' && e.kind === 'conflict',
    );
    assert.throws(
      () => checkPlanChange(s('a', 20), s('a', 40)),
      (e: DomainError) => e.code === 'plan_change.same_plan',
    );
  });
  it('accepts the same or a bigger disk', () => {
    checkPlanChange(s('a', 20), s('b', 20));
    checkPlanChange(s('a', 20), s('b', 40));
  });
});

describe('R3.12 deadline: payment + 48 h from the terms; status seen by both sides', () => {
  const paid = d('2026-03-01T09:00:00Z');
  const due = planChangeDueAt(paid, CURRENT_TERMS);
  it('is 48 h after the payment', () => assert.equal(due.toISOString(), '2026-03-03T09:00:00.000Z'));
  const table: [string, 'paid' | 'applied' | 'awaiting_payment', string | null, string][] = [
    ['2026-03-01T10:00:00Z', 'paid', null, 'on_time'],
    ['2026-03-02T21:00:00Z', 'paid', null, 'near'],
    ['2026-03-03T09:00:00Z', 'paid', null, 'near'],
    ['2026-03-03T09:00:01Z', 'paid', null, 'late'],
    ['2026-03-04T00:00:00Z', 'applied', '2026-03-02T00:00:00Z', 'done'],
    ['2026-03-04T00:00:00Z', 'applied', '2026-03-03T10:00:00Z', 'done_late'],
    ['2026-03-04T00:00:00Z', 'awaiting_payment', null, 'none'],
  ];
  for (const [now, state, appliedAt, want] of table)
    it(`${state} at ${now} → ${want}`, () =>
      assert.equal(
        deadlineStatus(
          {
            state,
            dueAt: state === 'awaiting_payment' ? null : due,
            appliedAt: appliedAt ? d(appliedAt) : null,
          },
          d(now),
        ),
        want,
      ));
});

describe('needsReboot: a running VPS with something waiting for the next start', () => {
  it('live everywhere: no reboot', () =>
    assert.equal(needsReboot(true, { vcpus: 'live', memoryMiB: 'live', diskGiB: 'live' }), false));
  it('vCPUs at next start: reboot', () =>
    assert.equal(needsReboot(true, { vcpus: 'next_start', memoryMiB: 'unchanged' }), true));
  it('a stopped VPS takes it at its next start: no reboot', () =>
    assert.equal(needsReboot(false, { vcpus: 'next_start' }), false));
});
