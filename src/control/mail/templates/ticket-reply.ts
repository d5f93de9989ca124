// R4.3, R3.10: the provider answered a ticket; the client's support balance for the month is
// shown with each answer on an admin request ("12 min used, 8 left this month, resets on …").
import type { MailTemplate } from '../render.ts';

export const ticketReply: MailTemplate = {
  name: 'ticket.reply',
  vars: ['name', 'number', 'subject', 'body', 'balance', 'ticketUrl'],
  sample: {
    name: 'Camille Martin',
    number: '1042',
    subject: 'Installer PostgreSQL 16 sur web1',
    body: 'Bonjour,\nPostgreSQL 16 est installé et démarré.\nBonne journée',
    balance: '12 min utilisées, 8 restantes ce mois-ci, remise à zéro le 14 déc.',
    ticketUrl: 'https://panel.example.test/client/tickets/5b0c',
  },
  subject: {
    fr: 'Re: [#{{number}}] {{subject}}',
    en: 'Re: [#{{number}}] {{subject}}',
  },
  text: {
    fr: `Bonjour {{name}},

{{body}}

Temps de support : {{balance}}

Pour répondre, répondez simplement à ce message, ou écrivez depuis votre espace :
{{ticketUrl}}

L'équipe infogere
`,
    en: `Hello {{name}},

{{body}}

Support time: {{balance}}

To answer, simply reply to this message, or write from your panel:
{{ticketUrl}}

The infogere team
`,
  },
};
