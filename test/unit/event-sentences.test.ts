// A VPS's history in sentences, FR and EN (web/src/i18n/events.ts): every provisioning step,
// power action and phase, plan change phase and VM event has its sentence; nothing raw
// (`step: network · percent: 25`) is left for a known event.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { provisioningSteps } from '../../src/domain/provisioning.ts';
import type { VmEventType } from '../../src/agent/driver.ts';
import { en } from '../../web/src/i18n/en.ts';
import { eventText } from '../../web/src/i18n/events.ts';
import { fr, type MessageKey } from '../../web/src/i18n/fr.ts';

const translate =
  (messages: Record<MessageKey, string>) => (key: MessageKey, vars?: Record<string, string | number>) =>
    messages[key].replace(/\{(\w+)\}/g, (whole, name: string) =>
      vars && name in vars ? String(vars[name]) : whole,
    );
const tFr = translate(fr);
const tEn = translate(en);

describe('VPS history sentences', () => {
  it('provisioning steps read as sentences with their percent, in French and English', () => {
    assert.deepEqual(eventText(tFr, 'provision', { step: 'network', percent: 25 }), {
      sentence: 'Réseau configuré (25 %)',
      said: ['step', 'percent'],
    });
    assert.equal(
      eventText(tFr, 'provision', { step: 'disk', percent: 45 }).sentence,
      'Disque réservé (45 %)',
    );
    assert.equal(eventText(tEn, 'provision', { step: 'disk', percent: 45 }).sentence, 'Disk reserved (45 %)');
    for (const { step, percent } of provisioningSteps)
      for (const t of [tFr, tEn]) {
        const s = eventText(t, 'provision', { step, percent }).sentence;
        assert.ok(s !== 'provision' && s.endsWith(`(${percent} %)`) && !s.includes('{'), `${step}: ${s}`);
      }
  });

  it('states, power actions, suspensions, plan changes and VM events each have a sentence', () => {
    assert.equal(
      eventText(tFr, 'state', { to: 'pending' }).sentence,
      'VPS créé, en attente de mise en service',
    );
    assert.equal(eventText(tFr, 'state', { from: 'starting', to: 'running' }).sentence, 'État : En marche');
    assert.equal(eventText(tEn, 'state', { from: 'starting', to: 'running' }).sentence, 'State: Running');
    assert.equal(
      eventText(tFr, 'power', { action: 'reboot', phase: 'requested', by: 'provider' }).sentence,
      'Redémarrage : demande enregistrée',
    );
    assert.equal(
      eventText(tEn, 'power', { action: 'poweroff', phase: 'failed' }).sentence,
      'Power off did not complete',
    );
    for (const action of ['start', 'stop', 'reboot', 'poweroff'])
      for (const phase of ['requested', 'done', 'failed'])
        assert.notEqual(eventText(tEn, 'power', { action, phase }).sentence, 'power', `${action} ${phase}`);
    for (const phase of ['start', 'end'])
      assert.notEqual(eventText(tFr, 'suspension', { phase }).sentence, 'suspension');
    for (const phase of ['ordered', 'paid', 'requoted', 'resized', 'applied', 'failed', 'cancelled'])
      assert.notEqual(eventText(tFr, 'plan_change', { phase }).sentence, 'plan_change', phase);
    // Every type the driver emits (the Record makes a new type a type error until listed here).
    const vmTypes: Record<VmEventType, true> = {
      started: true,
      stopped: true,
      crashed: true,
      guest_agent_up: true,
      guest_ready: true,
      paused: true,
      resumed: true,
    };
    for (const type of Object.keys(vmTypes)) {
      for (const t of [tFr, tEn])
        assert.notEqual(eventText(t, `vm.${type}`, {}).sentence, `vm.${type}`, type);
    }
    assert.equal(
      eventText(tFr, 'provision_error', { problem: 'provision_failed' }).sentence,
      'Incident pendant la mise en service',
    );
  });

  it('an event the panel does not know yet keeps its kind (nothing invented)', () => {
    assert.deepEqual(eventText(tFr, 'backup.done', { size: 3 }), { sentence: 'backup.done', said: [] });
    assert.deepEqual(eventText(tFr, 'provision', { step: 'future_step' }), {
      sentence: 'provision',
      said: [],
    });
  });
});
