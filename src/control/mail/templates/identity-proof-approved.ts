// R6.1: the proof is approved; a suspension it caused is lifted.
import type { MailTemplate } from '../render.ts';

export const identityProofApproved: MailTemplate = {
  name: 'identity.proof_approved',
  vars: ['name', 'lifted'],
  sample: { name: 'Camille Martin', lifted: 'La suspension de vos services est levée.' },
  subject: {
    fr: 'Justificatif validé',
    en: 'Proof approved',
  },
  text: {
    fr: `Bonjour {{name}},

Nous avons validé les justificatifs que vous avez envoyés (article R6.1). Merci.

{{lifted}}

L'équipe infogere
`,
    en: `Hello {{name}},

We have approved the documents you sent (clause R6.1). Thank you.

{{lifted}}

The infogere team
`,
  },
};
