// The order state machine and the order's input rules (issue 5; R11.1, R11.2, R3.4).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../../src/domain/errors.ts';
import {
  canTransitionOrder,
  checkHostname,
  checkOrderTerm,
  checkUnixUsername,
  deriveUnixUsername,
  monthsBilled,
  orderActions,
  orderLine,
  orderStates,
  transitionOrder,
  type OrderState,
} from '../../src/domain/orders.ts';
import { CURRENT_TERMS } from '../../src/domain/terms.ts';

const code = (c: string) => (e: unknown) => e instanceof DomainError && e.code === c;

describe('order state machine', () => {
  const legal: [OrderState, OrderState][] = [
    ['awaiting_payment', 'paid'],
    ['awaiting_payment', 'cancelled'],
    ['paid', 'validated'],
  ];
  it('allows exactly awaiting_payment → paid → validated and awaiting_payment → cancelled', () => {
    for (const from of orderStates)
      for (const to of orderStates) {
        const ok = legal.some(([a, b]) => a === from && b === to);
        assert.equal(canTransitionOrder(from, to), ok, `${from} → ${to}`);
        if (ok) assert.equal(transitionOrder(from, to), to);
        else
          assert.throws(
            () => transitionOrder(from, to),
            (e: DomainError) => e.kind === 'conflict',
            `${from} → ${to}`,
          );
      }
  });
  it('each refusal has a precise code', () => {
    assert.throws(() => transitionOrder('awaiting_payment', 'validated'), code('order.unpaid'));
    assert.throws(() => transitionOrder('paid', 'paid'), code('order.already_paid'));
    assert.throws(() => transitionOrder('cancelled', 'paid'), code('order.cancelled'));
    assert.throws(() => transitionOrder('paid', 'cancelled'), code('order.not_cancellable'));
    assert.throws(() => transitionOrder('validated', 'cancelled'), code('order.not_cancellable'));
    assert.throws(() => transitionOrder('validated', 'validated'), code('order.illegal_transition'));
    assert.throws(() => transitionOrder('cancelled', 'validated'), code('order.illegal_transition'));
  });
  it('the panel offers only legal actions, and only the caller’s role’s (docs/security.md)', () => {
    assert.deepEqual(orderActions('awaiting_payment', 'client'), ['cancel']);
    assert.deepEqual(orderActions('awaiting_payment', 'admin'), ['pay', 'cancel']);
    assert.deepEqual(orderActions('awaiting_payment', 'support'), []);
    assert.deepEqual(orderActions('paid', 'admin'), ['validate']);
    assert.deepEqual(orderActions('paid', 'support'), ['validate']);
    assert.deepEqual(orderActions('paid', 'client'), []);
    assert.deepEqual(orderActions('validated', 'admin'), []);
    assert.deepEqual(orderActions('cancelled', 'support'), []);
  });
});

describe('order input', () => {
  it('R11.1 a fixed term needs 1..36 months; R11.2 a subscription has none', () => {
    assert.deepEqual(checkOrderTerm('fixed', 12), { kind: 'fixed', months: 12 });
    assert.deepEqual(checkOrderTerm('subscription', null), { kind: 'subscription' });
    assert.deepEqual(checkOrderTerm('subscription', undefined), { kind: 'subscription' });
    assert.throws(() => checkOrderTerm('fixed', null), code('validation.termMonths'));
    assert.throws(() => checkOrderTerm('fixed', 0), code('validation.termMonths'));
    assert.throws(() => checkOrderTerm('fixed', 37), code('validation.termMonths'));
    assert.throws(() => checkOrderTerm('subscription', 3), code('validation.termMonths'));
  });
  it('R11.1 the first invoice bills the whole term; R11.2 a subscription its first month', () => {
    assert.equal(monthsBilled({ kind: 'fixed', months: 12 }, CURRENT_TERMS), 12);
    assert.equal(monthsBilled({ kind: 'subscription' }, CURRENT_TERMS), 1);
    const l = orderLine(
      { code: 'S', name: 'VPS S', vcpus: 1, memoryMiB: 1024, diskGiB: 20, monthlyPriceCents: 599 },
      12,
      'web1',
    );
    assert.deepEqual([l.quantity, l.unitCents, l.totalCents], [12, 599, 7188]);
    assert.match(l.description, /VPS S/);
  });
  it('hostnames: lowercase letters, digits, dashes', () => {
    assert.equal(checkHostname(' Web-1 '), 'web-1');
    for (const bad of ['', '1web', 'web_1', 'web.example', 'a'.repeat(64), 'web-'])
      assert.throws(() => checkHostname(bad), code('validation.hostname'), bad);
  });
  it('R3.4 the client account is a valid Unix name and never root or a system account', () => {
    assert.equal(checkUnixUsername('camille'), 'camille');
    assert.equal(checkUnixUsername('_deploy-1'), '_deploy-1');
    for (const bad of [
      'root',
      'daemon',
      'sshd',
      'systemd-foo',
      'Camille',
      '1abc',
      'a'.repeat(33),
      'ca mille',
      '',
    ])
      assert.throws(() => checkUnixUsername(bad), code('validation.username'), bad);
  });
  it('R3.4 a user name derived from the email is valid and never root', () => {
    assert.equal(deriveUnixUsername('Jean.Dupont+vps@example.org'), 'jeandupont');
    assert.equal(deriveUnixUsername('élodie@example.org'), 'elodie');
    assert.equal(deriveUnixUsername('root@example.org'), 'client');
    assert.equal(deriveUnixUsername('123@example.org'), 'client');
    assert.equal(deriveUnixUsername('42abc@example.org'), 'abc');
    for (const e of ['Jean.Dupont+vps@example.org', 'x'.repeat(80) + '@e.org', 'admin@e.org', '--@e.org'])
      assert.doesNotThrow(() => checkUnixUsername(deriveUnixUsername(e)), e);
  });
});
