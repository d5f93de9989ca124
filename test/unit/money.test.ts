// Money: integer cents, VAT in basis points, exact rounding (never floats).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DomainError } from '../../src/domain/errors.ts';
import { checkCents, formatCents, formatRate, percentOf, times, totalsOf } from '../../src/domain/money.ts';

describe('money', () => {
  it('VAT is rounded half up on the net total, in integer cents', () => {
    assert.equal(percentOf(1000, 2000), 200);
    assert.equal(percentOf(599, 2000), 120); // 119.8 → 120
    assert.equal(percentOf(1, 2000), 0); // 0.2 → 0
    assert.equal(percentOf(3, 2000), 1); // 0.6 → 1
    assert.equal(percentOf(25, 2000), 5); // 5.0
    assert.equal(percentOf(1, 5000), 1); // 0.5 → 1 (half up)
    assert.equal(percentOf(999, 550), 55); // 54.945 → 55
    assert.equal(percentOf(1_000_000_000, 2000), 200_000_000);
  });
  it('totals: net + VAT = total, VAT computed once on the net', () => {
    assert.deepEqual(totalsOf([599, 599, 599], 2000), {
      netCents: 1797,
      vatRateBp: 2000,
      vatCents: 359,
      totalCents: 2156,
    });
    assert.deepEqual(totalsOf([7188], 2000), {
      netCents: 7188,
      vatRateBp: 2000,
      vatCents: 1438,
      totalCents: 8626,
    });
    assert.deepEqual(totalsOf([], 2000), { netCents: 0, vatRateBp: 2000, vatCents: 0, totalCents: 0 });
    // 0.1 + 0.2 in floats is not 0.3; in cents it is.
    assert.equal(totalsOf([10, 20], 0).totalCents, 30);
  });
  it('refuses fractions, negatives and amounts beyond the safe range', () => {
    for (const bad of [1.5, -1, NaN, Infinity, 2 ** 53])
      assert.throws(
        () => checkCents(bad),
        (e: DomainError) => e.kind === 'invalid_data',
      );
    assert.throws(
      () => times(600_000_000, 2),
      (e: DomainError) => e.code === 'money.too_large',
    );
    assert.throws(
      () => percentOf(100, 10_001),
      (e: DomainError) => e.code === 'validation.vatRateBp',
    );
    assert.equal(times(599, 36), 21564);
  });
  it('formats for people in French and English', () => {
    assert.equal(formatCents(215600, 'fr'), '2\u202f156,00\u00a0€');
    assert.equal(formatCents(215600, 'en'), '€2,156.00');
    assert.equal(formatCents(5, 'fr'), '0,05\u00a0€');
    assert.equal(formatRate(2000, 'fr'), '20\u00a0%');
    assert.equal(formatRate(550, 'en'), '5.5\u00a0%');
  });
});
