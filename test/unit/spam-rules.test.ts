// Anti-spam rules, ladder and unblock decisions as pure functions (R7.2, R7.4, R7.5).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DAY, HOUR, MINUTE } from '../../src/domain/clock.ts';
import { DomainError } from '../../src/domain/errors.ts';
import {
  DEFAULT_SPAM_RULES,
  blockDurationMs,
  crossedRule,
  ladderWindowStart,
  unblockOutcome,
  validateSpamRules,
  type SpamRule,
  type SpamStats,
} from '../../src/domain/spam.ts';
import { TERMS_2015_06_01 } from '../../src/domain/terms.ts';

const t = TERMS_2015_06_01;
const quiet: SpamStats = {
  smtpConnectionsPerMinute: 0,
  smtpDestinationsPerHour: 0,
  messages10min: 0,
  recipients10min: 0,
  spamMessages10min: 0,
  encryptedSessions10min: 0,
  maxScore10min: 0,
  meanScore10min: 0,
};

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DomainError, String(e));
    return e.code;
  }
  assert.fail('no error');
};

describe('anti-spam rules (R7.2)', () => {
  it('the default rules are valid', () => validateSpamRules(DEFAULT_SPAM_RULES));

  it('a rule with an unknown signal, a bad threshold, a duplicated id or a ratio without minMessages is refused', () => {
    const ok = DEFAULT_SPAM_RULES[0]!;
    assert.equal(
      code(() => validateSpamRules([{ ...ok, signal: 'bounces_per_hour' } as unknown as SpamRule])),
      'spam.rule_signal',
    );
    assert.equal(
      code(() => validateSpamRules([{ ...ok, threshold: 0 }])),
      'spam.rule_threshold',
    );
    assert.equal(
      code(() => validateSpamRules([ok, ok])),
      'spam.rule_id',
    );
    assert.equal(
      code(() => validateSpamRules([{ id: 'r', signal: 'spam_ratio_10min', threshold: 0.5, reason: 'why' }])),
      'spam.rule_min_messages',
    );
    assert.equal(
      code(() =>
        validateSpamRules([
          { id: 'r', signal: 'spam_ratio_10min', threshold: 2, minMessages: 5, reason: 'why' },
        ]),
      ),
      'spam.rule_threshold',
    );
  });

  it('quiet traffic crosses no rule; each signal crosses its rule at the threshold', () => {
    assert.equal(crossedRule(DEFAULT_SPAM_RULES, quiet), null);
    assert.equal(
      crossedRule(DEFAULT_SPAM_RULES, { ...quiet, spamMessages10min: 9, messages10min: 100 }),
      null,
    );
    assert.equal(
      crossedRule(DEFAULT_SPAM_RULES, { ...quiet, spamMessages10min: 10, messages10min: 100 })?.rule.id,
      'spam-scored',
    );
    assert.equal(
      crossedRule(DEFAULT_SPAM_RULES, { ...quiet, smtpDestinationsPerHour: 500 })?.rule.id,
      'destination-burst',
    );
    assert.equal(
      crossedRule(DEFAULT_SPAM_RULES, { ...quiet, smtpConnectionsPerMinute: 300 })?.rule.id,
      'connection-burst',
    );
  });

  it('a ratio rule waits for its minimum number of messages', () => {
    const rules: SpamRule[] = [
      { id: 'ratio', signal: 'spam_ratio_10min', threshold: 0.5, minMessages: 4, reason: 'test' },
    ];
    assert.equal(crossedRule(rules, { ...quiet, messages10min: 3, spamMessages10min: 3 }), null);
    const hit = crossedRule(rules, { ...quiet, messages10min: 4, spamMessages10min: 2 });
    assert.equal(hit?.observed, 0.5);
  });
});

describe('escalation and unblock (R7.4, R7.5)', () => {
  it('R7.4: each block of the window lasts longer: 1 h, 24 h, 7 days, then doubling', () => {
    const d = [1, 2, 3, 4, 5].map((n) => blockDurationMs(t, n));
    assert.deepEqual(d, [HOUR, 24 * HOUR, 7 * DAY, 14 * DAY, 28 * DAY]);
    for (let i = 1; i < d.length; i++) assert.ok(d[i]! > d[i - 1]!);
  });

  it('R7.4: the window is 12 rolling months', () => {
    assert.equal(
      ladderWindowStart(t, new Date('2026-03-15T10:00:00Z')).toISOString(),
      '2025-03-15T10:00:00.000Z',
    );
  });

  it('R7.3, R7.5: blocks 1 and 2 lift on request after their minimum, the 3rd goes to staff', () => {
    const now = new Date('2026-01-01T12:00:00Z');
    const due = new Date(now.getTime() - MINUTE);
    assert.equal(unblockOutcome(t, { state: 'in_force', rung: 1, minUntil: due }, now), 'lift');
    assert.equal(unblockOutcome(t, { state: 'in_force', rung: 2, minUntil: due }, now), 'lift');
    assert.equal(unblockOutcome(t, { state: 'in_force', rung: 3, minUntil: due }, now), 'to_staff');
  });

  it('an unblock before the minimum says how long is left; a pending, refused or lifted block is a conflict', () => {
    const now = new Date('2026-01-01T12:00:00Z');
    const later = new Date(now.getTime() + HOUR + 5 * MINUTE);
    try {
      unblockOutcome(t, { state: 'in_force', rung: 1, minUntil: later }, now);
      assert.fail('no error');
    } catch (e) {
      assert.ok(e instanceof DomainError);
      assert.equal(e.code, 'spam.too_early');
      assert.match(e.message, /1 h 5 min/);
    }
    const due = new Date(now.getTime() - 1);
    assert.equal(
      code(() => unblockOutcome(t, { state: 'unblock_requested', rung: 3, minUntil: due }, now)),
      'spam.unblock_pending',
    );
    assert.equal(
      code(() => unblockOutcome(t, { state: 'refused', rung: 3, minUntil: due }, now)),
      'spam.unblock_refused',
    );
    assert.equal(
      code(() => unblockOutcome(t, { state: 'lifted', rung: 1, minUntil: due }, now)),
      'spam.not_blocked',
    );
  });
});
