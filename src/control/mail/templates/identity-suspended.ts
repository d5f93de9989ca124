// R6.1: the deadline passed without an approved proof; the services are suspended.
import type { MailTemplate } from '../render.ts';

export const identitySuspended: MailTemplate = {
  name: 'identity.suspended',
  vars: ['name', 'dueAt', 'identityUrl'],
  sample: {
    name: 'Camille Martin',
    dueAt: '4 mars 2026 à 10:00 (UTC)',
    identityUrl: 'https://panel.example.net/client/identity',
  },
  subject: {
    fr: 'Vos services sont suspendus (justificatif non reçu)',
    en: 'Your services are suspended (proof not received)',
  },
  text: {
    fr: `Bonjour {{name}},

Le délai pour envoyer le justificatif demandé a expiré le {{dueAt}} sans justificatif validé.
Conformément à l'article R6.1 des conditions générales, vos services sont suspendus.

Vous pouvez toujours déposer vos documents dans votre espace client ; la suspension sera
levée dès leur validation :

  {{identityUrl}}

L'équipe infogere
`,
    en: `Hello {{name}},

The deadline to send the proof we asked for passed on {{dueAt}} without an approved proof.
Under clause R6.1 of the terms of service, your services are suspended.

You can still upload your documents in your client area; the suspension is lifted as soon as
they are approved:

  {{identityUrl}}

The infogere team
`,
  },
};
