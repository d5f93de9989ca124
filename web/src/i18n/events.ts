// A VPS's history as sentences ("Disque réservé (45 %)", "Reboot requested") instead of its
// raw event kinds and details: pure, over the translation function, so it is unit-tested
// (test/unit/event-sentences.test.ts) without a browser. What a sentence does not say (a
// staff-only reason, the problem code a client reads, who did it) stays in the details.
import { fr, type MessageKey } from './fr.ts';

type Translate = (key: MessageKey, vars?: Record<string, string | number>) => string;

export interface EventText {
  sentence: string;
  /** The details' keys the sentence already says (not repeated beside it). */
  said: readonly string[];
}

/** Keys never shown: internal ids and machine detail. */
export const HIDDEN_DETAIL_KEYS: ReadonlySet<string> = new Set([
  'actionId',
  'changeId',
  'ownerId',
  'rungs',
  'at',
  'endedBy',
]);

function known(key: string): key is MessageKey {
  return Object.hasOwn(fr, key);
}

export function eventText(t: Translate, kind: string, d: Record<string, unknown>): EventText {
  const str = (k: string) => (typeof d[k] === 'string' ? (d[k] as string) : undefined);
  switch (kind) {
    case 'state': {
      const to = str('to');
      if (to === 'pending' && !str('from')) return { sentence: t('event.created'), said: ['to'] };
      const stateKey = `vps.state.${to ?? ''}`;
      return {
        sentence: t('event.state', { state: known(stateKey) ? t(stateKey) : (to ?? '?') }),
        said: ['from', 'to'],
      };
    }
    case 'provision': {
      const key = `event.provision.${str('step') ?? ''}`;
      if (!known(key)) break;
      const sentence = t(key);
      return typeof d.percent === 'number'
        ? {
            sentence: t('event.provisionPercent', { sentence, percent: d.percent }),
            said: ['step', 'percent'],
          }
        : { sentence, said: ['step'] };
    }
    case 'provision_error':
      return { sentence: t('event.provisionError'), said: [] };
    case 'power': {
      const actionKey = `event.action.${str('action') ?? ''}`;
      const phaseKey = `event.power.${str('phase') ?? ''}`;
      if (!known(actionKey) || !known(phaseKey)) break;
      return { sentence: t(phaseKey, { action: t(actionKey) }), said: ['action', 'phase'] };
    }
    case 'suspension': {
      const key = `event.suspension.${str('phase') ?? ''}`;
      if (!known(key)) break;
      return { sentence: t(key), said: ['phase'] };
    }
    case 'plan_change': {
      const key = `event.planChange.${str('phase') ?? ''}`;
      if (!known(key)) break;
      return { sentence: t(key), said: ['phase'] };
    }
    default: {
      const key = `event.${kind}`;
      if (kind.startsWith('vm.') && known(key)) return { sentence: t(key), said: [] };
    }
  }
  return { sentence: kind, said: [] };
}
