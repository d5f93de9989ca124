// The client's notice of a sanction applied or lifted (R5.1: its nature and expected duration),
// and the words it is told in.
import type { Rung } from '../../domain/sanctions.ts';
import type { Db } from '../db/database.ts';
import type { SanctionParams } from '../db/tables/sanctions.ts';
import { mailDate } from '../mail/format.ts';
import { findRecipient } from '../mail/recipients.ts';
import type { SanctionRow } from '../repositories/sanctions.ts';
import { findVps } from '../repositories/vps.ts';
import type { MailService } from './mail.ts';

export const NATURE: Record<Rung, { fr: string; en: string }> = {
  warning: { fr: 'avertissement', en: 'warning' },
  restriction: {
    fr: 'restriction (ports ou protocoles bloqués)',
    en: 'restriction (ports or protocols blocked)',
  },
  limitation: { fr: 'limitation du débit', en: 'bandwidth limitation' },
  suspension: {
    fr: 'suspension (serveur mis en pause, réseau coupé)',
    en: 'suspension (server paused, network cut)',
  },
  isolation: {
    fr: 'isolement pour raison de sécurité (coupé d’Internet jusqu’à sa réinstallation)',
    en: 'isolation for security (cut off from the Internet until it is reinstalled)',
  },
  termination: { fr: 'résiliation du contrat', en: 'termination of the contract' },
};

/** What is blocked, in words (tcp/25 out). */
function restrictionWords(p: SanctionParams, lang: 'fr' | 'en'): string {
  const proto =
    p.protocol === 'all' ? (lang === 'fr' ? 'tout le trafic' : 'all traffic') : p.protocol!.toUpperCase();
  const port = p.port ? ` ${lang === 'fr' ? 'port' : 'port'} ${p.port}` : '';
  const dir =
    p.direction === 'in'
      ? lang === 'fr'
        ? 'entrant'
        : 'inbound'
      : p.direction === 'out'
        ? lang === 'fr'
          ? 'sortant'
          : 'outbound'
        : lang === 'fr'
          ? 'entrant et sortant'
          : 'inbound and outbound';
  return `${proto}${port} ${dir}`;
}

function natureOf(rung: Rung, p: SanctionParams, lang: 'fr' | 'en'): string {
  const n = NATURE[rung][lang];
  return rung === 'restriction' && p.protocol
    ? `${n} : ${restrictionWords(p, lang)}`.replace(' : ', lang === 'fr' ? ' : ' : ': ')
    : n;
}

function durationOf(
  m: { planned_end: Date | null; lift_condition: string | null; rung: Rung },
  lang: 'fr' | 'en',
): string {
  if (m.rung === 'termination') return lang === 'fr' ? 'définitive' : 'permanent';
  if (m.rung === 'warning') return lang === 'fr' ? 'sans effet sur le service' : 'no effect on the service';
  const parts: string[] = [];
  if (m.planned_end)
    parts.push(
      lang === 'fr' ? `jusqu'au ${mailDate(m.planned_end, lang)}` : `until ${mailDate(m.planned_end, lang)}`,
    );
  if (m.lift_condition)
    parts.push(lang === 'fr' ? `levée quand : ${m.lift_condition}` : `lifted when: ${m.lift_condition}`);
  return parts.join(lang === 'fr' ? ' ; ' : '; ');
}

function actionOf(rung: Rung, lang: 'fr' | 'en'): string {
  if (rung === 'isolation')
    return lang === 'fr'
      ? 'Une réinstallation de votre VPS est nécessaire : il reste coupé d’Internet jusqu’à ce qu’il soit réinstallé (article 6.4). Contactez le support pour la planifier.'
      : 'Your VPS needs a reinstall: it stays cut off from the Internet until it is reinstalled (article 6.4). Contact support to plan it.';
  if (rung === 'termination')
    return lang === 'fr'
      ? 'Le contrat est résilié pour manquement (article 12.3) ; un courriel séparé précise la suppression des données.'
      : 'The contract is terminated for breach (article 12.3); a separate email details the deletion of the data.';
  return lang === 'fr'
    ? 'Corrigez la cause indiquée ci-dessus et répondez à ce courriel ou ouvrez un ticket : le service est rétabli une fois le problème corrigé (article 5.1).'
    : 'Fix the cause given above and reply to this email or open a ticket: the service comes back once the problem is fixed (article 5.1).';
}
/** Mails the account's owner (in the caller's transaction, last: the outbox holds the notices chain's lock until commit). */
export async function mailSanctionNotice(
  tx: Db,
  mail: MailService,
  template: 'sanction.applied' | 'sanction.lifted',
  m: SanctionRow,
  reason: string,
): Promise<void> {
  const owner = await findRecipient(tx, m.account_id);
  if (!owner) return;
  const hostname = m.vps_id ? (await findVps(tx, m.vps_id))?.hostname : undefined;
  const lang = owner.language;
  const target = hostname
    ? lang === 'fr'
      ? `votre VPS ${hostname}`
      : `your VPS ${hostname}`
    : lang === 'fr'
      ? 'tous les VPS de votre compte'
      : 'every VPS of your account';
  const vars: Record<string, string> =
    template === 'sanction.applied'
      ? {
          name: owner.name,
          target,
          nature: natureOf(m.rung, m.params, lang),
          reason: m.reason,
          duration: durationOf(m, lang),
          action: actionOf(m.rung, lang),
        }
      : { name: owner.name, target, nature: natureOf(m.rung, m.params, lang) };
  // Last in the transaction: the mail module holds the notices chain's lock until commit.
  await mail.send(tx, {
    to: owner.to,
    template,
    language: lang,
    vars,
    accountId: m.account_id,
    reason,
  });
}
