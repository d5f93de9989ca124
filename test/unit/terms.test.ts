import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DAY, HOUR, MINUTE } from '../../src/domain/clock.ts';
import {
  CURRENT_TERMS,
  TERMS_2015_06_01,
  allowedDowntimeMs,
  termsFor,
  termsVersions,
} from '../../src/domain/terms.ts';
import { DomainError } from '../../src/domain/errors.ts';

describe('terms 2015-06-01 (the table of ../shared/CONTRACT.md)', () => {
  const t = TERMS_2015_06_01;
  it('R3.6 backups every 24 h, kept 15 days', () => {
    assert.equal(t.backupIntervalMs, 24 * HOUR);
    assert.equal(t.backupRetentionMs, 15 * DAY);
  });
  it('R3.7 two restore requests a month; R3.10 twenty minutes of support', () => {
    assert.equal(t.restoreRequestsPerMonth, 2);
    assert.equal(t.adminSupportMsPerMonth, 20 * MINUTE);
  });
  it('R3.12 plan change within 48 h; R6.1 identity proof within 72 h', () => {
    assert.equal(t.planChangeDeadlineMs, 48 * HOUR);
    assert.equal(t.identityProofDeadlineMs, 72 * HOUR);
  });
  it('R3.13 100 Mbit/s, 10 TB = 10^13 bytes, then 1 Mbit/s', () => {
    assert.equal(t.guaranteedBandwidthBitsPerSecond, 100_000_000);
    assert.equal(t.outboundQuotaBytes, 10_000_000_000_000n);
    assert.equal(t.bandwidthAfterQuotaBitsPerSecond, 1_000_000);
  });
  it('R6.2 logs 12 months; R7.5 refusable from the 3rd block; R9.3 26 h mitigation; R11.2 one month', () => {
    assert.equal(t.connectionLogRetentionMonths, 12);
    assert.equal(t.smtpUnblockRefusableFromBlock, 3);
    assert.equal(t.ddosMitigationMinimumMs, 26 * HOUR);
    assert.equal(t.subscriptionPeriodMonths, 1);
  });
  it('R10 99.50 %: about 3 h 36 min of downtime in a 30-day month', () => {
    assert.equal(t.availabilityTarget, 0.995);
    assert.equal(allowedDowntimeMs(t, 30 * DAY), 3 * HOUR + 36 * MINUTE);
  });
  it('is frozen, current, and found by version; an unknown version is not_found', () => {
    assert.ok(Object.isFrozen(t));
    assert.equal(CURRENT_TERMS.version, '2015-06-01');
    assert.equal(termsFor('2015-06-01'), t);
    assert.deepEqual(termsVersions(), ['2015-06-01']);
    assert.throws(
      () => termsFor('1999-01-01'),
      (e: unknown) =>
        e instanceof DomainError && e.kind === 'not_found' && e.code === 'terms.unknown_version',
    );
  });
});
