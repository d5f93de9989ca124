// The effective-date rules of a termination (R12.1–R12.3) and the deletion's resumable steps (R12.4).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDomainError } from '../../src/domain/errors.ts';
import {
  checkCancellable,
  effectiveDateFor,
  proposeLetterEffectiveDate,
  remainingDeletionSteps,
} from '../../src/domain/terminations.ts';

const d = (s: string) => new Date(s);
const now = d('2026-03-10T12:00:00Z');
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return isDomainError(e) ? e.code : 'other';
  }
  return 'none';
};

describe('proposed effective date of a registered letter (R12.2)', () => {
  const cases: [string, { rx: string; req: string | null; paid: string }, string, string][] = [
    [
      'requested date after receipt',
      { rx: '2026-03-08T09:00:00Z', req: '2026-04-01T00:00:00Z', paid: '2026-05-01T00:00:00Z' },
      '2026-04-01T00:00:00.000Z',
      'requested',
    ],
    [
      'no date asked: end of the paid period',
      { rx: '2026-03-08T09:00:00Z', req: null, paid: '2026-03-31T10:00:00Z' },
      '2026-03-31T10:00:00.000Z',
      'paid_period_end',
    ],
    [
      'date before receipt: end of the paid period',
      { rx: '2026-03-08T09:00:00Z', req: '2026-03-01T00:00:00Z', paid: '2026-03-31T10:00:00Z' },
      '2026-03-31T10:00:00.000Z',
      'paid_period_end',
    ],
    [
      'date after receipt but already past: end of the paid period',
      { rx: '2026-03-01T09:00:00Z', req: '2026-03-05T00:00:00Z', paid: '2026-03-31T10:00:00Z' },
      '2026-03-31T10:00:00.000Z',
      'paid_period_end',
    ],
    [
      'paid period over: now',
      { rx: '2026-03-08T09:00:00Z', req: null, paid: '2026-03-09T00:00:00Z' },
      now.toISOString(),
      'now',
    ],
    [
      'requested date beyond the paid period: as the letter says',
      { rx: '2026-03-08T09:00:00Z', req: '2026-06-30T00:00:00Z', paid: '2026-03-31T10:00:00Z' },
      '2026-06-30T00:00:00.000Z',
      'requested',
    ],
  ];
  for (const [name, c, want, rule] of cases)
    it(name, () => {
      const r = proposeLetterEffectiveDate({
        letterReceivedAt: d(c.rx),
        requestedEffectiveAt: c.req ? d(c.req) : null,
        paidUntil: d(c.paid),
        now,
      });
      assert.equal(r.effectiveAt.toISOString(), want);
      assert.equal(r.rule, rule);
    });
  it('a letter received in the future is refused', () => {
    assert.equal(
      code(() =>
        proposeLetterEffectiveDate({
          letterReceivedAt: d('2026-03-11T00:00:00Z'),
          requestedEffectiveAt: null,
          paidUntil: d('2026-04-01T00:00:00Z'),
          now,
        }),
      ),
      'validation.letterReceivedAt',
    );
  });
});

describe('effective date by cause (R12.1 force majeure not in the past; R12.3 a breach takes effect now)', () => {
  it('a future date is kept for every cause', () => {
    for (const c of [
      'term_end',
      'client_letter',
      'force_majeure_client',
      'force_majeure_provider',
      'provider_breach',
    ] as const)
      assert.equal(
        effectiveDateFor(c, d('2026-04-01T00:00:00Z'), now).toISOString(),
        '2026-04-01T00:00:00.000Z',
      );
  });
  it('a past date is a conflict except for the immediate causes, which become now', () => {
    const past = d('2026-03-01T00:00:00Z');
    for (const c of ['client_letter', 'force_majeure_client', 'force_majeure_provider'] as const)
      assert.equal(
        code(() => effectiveDateFor(c, past, now)),
        'termination.date_past',
      );
    assert.equal(effectiveDateFor('provider_breach', past, now).getTime(), now.getTime());
    assert.equal(effectiveDateFor('term_end', past, now).getTime(), now.getTime());
  });
  it('"now" typed a few seconds ago is not in the past', () => {
    assert.equal(
      effectiveDateFor('force_majeure_client', new Date(now.getTime() - 5000), now).getTime(),
      now.getTime(),
    );
  });
});

describe('cancel and deletion steps', () => {
  it('only a scheduled termination before its date can be cancelled', () => {
    assert.equal(
      code(() => checkCancellable('scheduled', d('2026-04-01T00:00:00Z'), now)),
      'none',
    );
    assert.equal(
      code(() => checkCancellable('scheduled', now, now)),
      'termination.due',
    );
    assert.equal(
      code(() => checkCancellable('done', d('2026-04-01T00:00:00Z'), now)),
      'termination.not_scheduled',
    );
  });
  it('the deletion resumes after its last completed step', () => {
    assert.deepEqual(remainingDeletionSteps(null), [
      'vm',
      'network',
      'backups',
      'credentials',
      'address',
      'finish',
    ]);
    assert.deepEqual(remainingDeletionSteps('credentials'), ['address', 'finish']);
    assert.deepEqual(remainingDeletionSteps('finish'), []);
  });
});
