// R12.5, R5.1: the sanction ladder as a table: kind and severity give a base rung, the same
// breach again within 12 months moves one rung up, and from the third serious case restoring
// may be refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  suggestSanction,
  windowStart,
  type BreachKind,
  type PastCase,
  type Rung,
  type Severity,
} from '../../src/domain/sanctions.ts';

const now = new Date('2026-03-31T10:00:00Z');
const ago = (days: number) => new Date(now.getTime() - days * 86_400_000);
const past = (kind: BreachKind, severity: Severity, days: number): PastCase => ({
  kind,
  severity,
  at: ago(days),
});

describe('the sanction ladder (R12.5)', () => {
  const table: [string, BreachKind, Severity, PastCase[], Rung][] = [
    ['first minor spam: restriction', 'spam', 'minor', [], 'restriction'],
    ['same spam twice: one rung up', 'spam', 'minor', [past('spam', 'minor', 30)], 'limitation'],
    [
      'spam a third time: suspension',
      'spam',
      'minor',
      [past('spam', 'minor', 30), past('spam', 'minor', 60)],
      'suspension',
    ],
    [
      'minor cases never reach termination',
      'spam',
      'minor',
      [
        past('spam', 'minor', 10),
        past('spam', 'minor', 20),
        past('spam', 'minor', 30),
        past('spam', 'minor', 40),
      ],
      'suspension',
    ],
    [
      'serious repeated: termination',
      'spam',
      'serious',
      [past('spam', 'serious', 10), past('spam', 'serious', 20), past('spam', 'serious', 30)],
      'termination',
    ],
    [
      'a case older than 12 months does not count',
      'spam',
      'minor',
      [past('spam', 'minor', 400)],
      'restriction',
    ],
    [
      'another kind does not count as recurrence',
      'spam',
      'minor',
      [past('proxy', 'minor', 10)],
      'restriction',
    ],
    ['proxy minor: warning', 'proxy', 'minor', [], 'warning'],
    ['proxy minor twice: restriction', 'proxy', 'minor', [past('proxy', 'minor', 10)], 'restriction'],
    ['intrusion serious: suspension', 'intrusion', 'serious', [], 'suspension'],
    [
      'non-security kinds skip isolation',
      'intrusion',
      'serious',
      [past('intrusion', 'serious', 5)],
      'termination',
    ],
    ['compromised: isolation (R6.4)', 'compromised', 'minor', [], 'isolation'],
    [
      'compromised twice, serious: termination',
      'compromised',
      'serious',
      [past('compromised', 'serious', 5)],
      'termination',
    ],
    ['security hole minor: warning', 'security_hole', 'minor', [], 'warning'],
    ['security hole serious: isolation', 'security_hole', 'serious', [], 'isolation'],
    ['unpaid: suspension (R6.5)', 'unpaid', 'minor', [], 'suspension'],
    ['card sharing critical: termination', 'card_sharing', 'critical', [], 'termination'],
    ['p2p serious: limitation', 'p2p_irc', 'serious', [], 'limitation'],
  ];
  for (const [name, kind, severity, history, rung] of table)
    it(name, () => assert.equal(suggestSanction({ kind, severity, now, history }).rung, rung));

  it('counts recurrences and names the reinstall for an isolation', () => {
    const d = suggestSanction({ kind: 'compromised', severity: 'serious', now, history: [] });
    assert.equal(d.reinstallNeeded, true);
    assert.equal(d.recurrences, 0);
    const s = suggestSanction({ kind: 'spam', severity: 'minor', now, history: [past('spam', 'minor', 1)] });
    assert.equal(s.recurrences, 1);
    assert.equal(s.reinstallNeeded, false);
    assert.deepEqual(s.restriction, { protocol: 'tcp', port: 25, direction: 'out' });
  });
});

describe('refusal to restore (R5.1)', () => {
  const table: [string, Severity, PastCase[], boolean][] = [
    ['a first serious case: restorable', 'serious', [], false],
    ['second serious case: restorable', 'serious', [past('spam', 'serious', 10)], false],
    [
      'third serious case in the window: may be refused',
      'critical',
      [past('spam', 'serious', 10), past('intrusion', 'critical', 20)],
      true,
    ],
    [
      'minor cases do not count',
      'minor',
      [past('spam', 'serious', 10), past('intrusion', 'critical', 20)],
      false,
    ],
    [
      'serious cases older than the window do not count',
      'serious',
      [past('spam', 'serious', 370), past('spam', 'serious', 20)],
      false,
    ],
  ];
  for (const [name, severity, history, refused] of table)
    it(name, () =>
      assert.equal(
        suggestSanction({ kind: 'spoofing', severity, now, history }).restoreMayBeRefused,
        refused,
      ),
    );
});

describe('the recurrence window', () => {
  it('is 12 calendar months, clamped at month ends', () => {
    assert.equal(windowStart(new Date('2026-03-31T10:00:00Z')).toISOString(), '2025-03-31T10:00:00.000Z');
    assert.equal(windowStart(new Date('2028-02-29T00:00:00Z')).toISOString(), '2027-02-28T00:00:00.000Z');
  });
});
