// R12.1–R12.3: the client is told that its contract will end (or has ended, for a breach), why,
// and that at the effective date its VPS is deleted with all its data (R12.4).
import type { MailTemplate } from '../render.ts';

export const contractTerminationScheduled: MailTemplate = {
  name: 'contract.termination_scheduled',
  vars: ['name', 'hostname', 'cause', 'effectiveAt', 'reason'],
  sample: {
    name: 'Camille Martin',
    hostname: 'web1',
    cause: 'votre lettre recommandée reçue le 2 mars 2026',
    effectiveAt: '31 mars 2026 à 10:00 (UTC)',
    reason: 'Résiliation demandée par le client',
  },
  subject: {
    fr: 'Résiliation de votre contrat pour le VPS {{hostname}}',
    en: 'Termination of your contract for the VPS {{hostname}}',
  },
  text: {
    fr: `Bonjour {{name}},

Nous avons enregistré la résiliation du contrat de votre VPS {{hostname}}.

  Motif :            {{cause}}
  Détail :           {{reason}}
  Date d'effet :     {{effectiveAt}}

À cette date, le VPS sera supprimé avec toutes ses données (disque, sauvegardes, codes
d'accès) et son adresse IPv4 rendue. Pensez à récupérer vos données avant cette date.

L'équipe infogere
`,
    en: `Hello {{name}},

We have recorded the termination of the contract of your VPS {{hostname}}.

  Cause:            {{cause}}
  Details:          {{reason}}
  Effective date:   {{effectiveAt}}

On that date the VPS will be deleted with all its data (disk, backups, access codes) and its
IPv4 address given back. Please retrieve your data before that date.

The infogere team
`,
  },
};
