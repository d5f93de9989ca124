// R4.3: a ticket was opened for the client (by itself, by staff or by the platform): its number,
// what it says, and how to answer (reply to this mail: the reply address is the ticket's).
import type { MailTemplate } from '../render.ts';

export const ticketOpened: MailTemplate = {
  name: 'ticket.opened',
  vars: ['name', 'number', 'subject', 'body', 'ticketUrl'],
  sample: {
    name: 'Camille Martin',
    number: '1042',
    subject: 'Installer PostgreSQL 16 sur web1',
    body: 'Bonjour,\nPourriez-vous installer PostgreSQL 16 sur web1 ?\nMerci',
    ticketUrl: 'https://panel.example.test/client/tickets/5b0c',
  },
  subject: {
    fr: '[#{{number}}] {{subject}}',
    en: '[#{{number}}] {{subject}}',
  },
  text: {
    fr: `Bonjour {{name}},

Le ticket n° {{number}} est ouvert : « {{subject}} ».

{{body}}

Pour répondre, répondez simplement à ce message, ou écrivez depuis votre espace :
{{ticketUrl}}

L'équipe infogere
`,
    en: `Hello {{name}},

Ticket #{{number}} is open: "{{subject}}".

{{body}}

To answer, simply reply to this message, or write from your panel:
{{ticketUrl}}

The infogere team
`,
  },
};
