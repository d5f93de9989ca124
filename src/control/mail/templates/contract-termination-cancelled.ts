// The client was told of a termination (contract.termination_scheduled); when staff cancel it
// before its date, the client is told too: the contract and the VPS go on.
import type { MailTemplate } from '../render.ts';

export const contractTerminationCancelled: MailTemplate = {
  name: 'contract.termination_cancelled',
  vars: ['name', 'hostname', 'effectiveAt', 'reason'],
  sample: {
    name: 'Camille Martin',
    hostname: 'web1',
    effectiveAt: '31 mars 2026 à 10:00 (UTC)',
    reason: 'Lettre de résiliation retirée par le client',
  },
  subject: {
    fr: 'Résiliation annulée : votre VPS {{hostname}} continue',
    en: 'Termination cancelled: your VPS {{hostname}} goes on',
  },
  text: {
    fr: `Bonjour {{name}},

La résiliation du contrat de votre VPS {{hostname}}, prévue le {{effectiveAt}}, est annulée.

  Raison : {{reason}}

Votre contrat se poursuit et le VPS ne sera pas supprimé.

L'équipe infogere
`,
    en: `Hello {{name}},

The termination of the contract of your VPS {{hostname}}, due on {{effectiveAt}}, is cancelled.

  Reason: {{reason}}

Your contract goes on and the VPS will not be deleted.

The infogere team
`,
  },
};
