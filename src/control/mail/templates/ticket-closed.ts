// R4.3: a ticket without answer for the configured number of days is closed; a new ticket can
// be opened at any time.
import type { MailTemplate } from '../render.ts';

export const ticketClosed: MailTemplate = {
  name: 'ticket.closed',
  vars: ['name', 'number', 'subject', 'days', 'ticketUrl'],
  sample: {
    name: 'Camille Martin',
    number: '1042',
    subject: 'Installer PostgreSQL 16 sur web1',
    days: 7,
    ticketUrl: 'https://panel.example.test/client/tickets/5b0c',
  },
  subject: {
    fr: '[#{{number}}] fermé : {{subject}}',
    en: '[#{{number}}] closed: {{subject}}',
  },
  text: {
    fr: `Bonjour {{name}},

Sans réponse depuis {{days}} jours, le ticket n° {{number}} (« {{subject}} ») est fermé.
S'il reste quelque chose à faire, ouvrez un nouveau ticket depuis votre espace :
{{ticketUrl}}

L'équipe infogere
`,
    en: `Hello {{name}},

With no answer for {{days}} days, ticket #{{number}} ("{{subject}}") is closed.
If something remains to be done, open a new ticket from your panel:
{{ticketUrl}}

The infogere team
`,
  },
};
