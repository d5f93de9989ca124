// R3.10: the work asked for exceeds the included support time: a quote the client accepts (or
// not) in its panel before the work is done.
import type { MailTemplate } from '../render.ts';

export const ticketQuote: MailTemplate = {
  name: 'ticket.quote',
  vars: ['name', 'number', 'subject', 'minutes', 'amount', 'description', 'ticketUrl'],
  sample: {
    name: 'Camille Martin',
    number: '1042',
    subject: 'Migrer la base de données',
    minutes: 60,
    amount: '72,00 € TTC',
    description: 'Migration de la base MySQL vers PostgreSQL 16',
    ticketUrl: 'https://panel.example.test/client/tickets/5b0c',
  },
  subject: {
    fr: 'Devis pour le ticket n° {{number}} : {{subject}}',
    en: 'Quote for ticket #{{number}}: {{subject}}',
  },
  text: {
    fr: `Bonjour {{name}},

Votre demande dépasse le temps de support inclus ce mois-ci. Nous vous proposons :

{{description}}
Durée : {{minutes}} min — montant : {{amount}}

Rien ne sera fait ni facturé sans votre accord : acceptez ou refusez le devis dans votre espace :
{{ticketUrl}}

L'équipe infogere
`,
    en: `Hello {{name}},

Your request goes beyond the support time included this month. We propose:

{{description}}
Time: {{minutes}} min — amount: {{amount}}

Nothing is done or billed without your agreement: accept or decline the quote in your panel:
{{ticketUrl}}

The infogere team
`,
  },
};
