// R6.1: the documents sent do not prove what was asked; the client may send others until the deadline.
import type { MailTemplate } from '../render.ts';

export const identityProofRejected: MailTemplate = {
  name: 'identity.proof_rejected',
  vars: ['name', 'reason', 'dueAt', 'identityUrl'],
  sample: {
    name: 'Camille Martin',
    reason: 'Le document est illisible.',
    dueAt: '4 mars 2026 à 10:00 (UTC)',
    identityUrl: 'https://panel.example.net/client/identity',
  },
  subject: {
    fr: 'Justificatif refusé : merci d’en envoyer un autre',
    en: 'Proof refused: please send another one',
  },
  text: {
    fr: `Bonjour {{name}},

Les documents envoyés ne nous permettent pas de valider votre demande (article R6.1) :

  {{reason}}

Vous pouvez en déposer d'autres dans votre espace client jusqu'au {{dueAt}} :

  {{identityUrl}}

Sans justificatif validé à cette échéance, vos services seront suspendus automatiquement.

L'équipe infogere
`,
    en: `Hello {{name}},

The documents you sent do not let us approve the request (clause R6.1):

  {{reason}}

You may upload others in your client area until {{dueAt}}:

  {{identityUrl}}

Without an approved proof by then, your services will be suspended automatically.

The infogere team
`,
  },
};
