// R6.1: the provider asks for proof of identity (and/or of the sites hosted); 72 h to send it.
import type { MailTemplate } from '../render.ts';

export const identityProofRequested: MailTemplate = {
  name: 'identity.proof_requested',
  vars: ['name', 'what', 'note', 'dueAt', 'hours', 'identityUrl'],
  sample: {
    name: 'Camille Martin',
    what: "une pièce d'identité",
    note: 'Merci de joindre une pièce d’identité en cours de validité.',
    dueAt: '4 mars 2026 à 10:00 (UTC)',
    hours: 72,
    identityUrl: 'https://panel.example.net/client/identity',
  },
  subject: {
    fr: "Justificatif demandé : vous avez {{hours}} h pour l'envoyer",
    en: 'Proof requested: you have {{hours}} h to send it',
  },
  text: {
    fr: `Bonjour {{name}},

Conformément à l'article R6.1 des conditions générales, nous vous demandons {{what}}.

{{note}}

Vous avez jusqu'au {{dueAt}} ({{hours}} heures) pour déposer vos documents (PDF, JPEG ou
PNG) dans votre espace client :

  {{identityUrl}}

Sans justificatif validé à cette échéance, vos services seront suspendus automatiquement
jusqu'à sa validation.

L'équipe infogere
`,
    en: `Hello {{name}},

Under clause R6.1 of the terms of service, we ask you for {{what}}.

{{note}}

You have until {{dueAt}} ({{hours}} hours) to upload your documents (PDF, JPEG or PNG) in your
client area:

  {{identityUrl}}

Without an approved proof by then, your services will be suspended automatically until it is
approved.

The infogere team
`,
  },
};
