// R4.3: the client answered a ticket assigned to a staff member: the assignee is told.
import type { MailTemplate } from '../render.ts';

export const ticketClientReplied: MailTemplate = {
  name: 'ticket.client_replied',
  vars: ['number', 'subject', 'account', 'body', 'ticketUrl'],
  sample: {
    number: '1042',
    subject: 'Installer PostgreSQL 16 sur web1',
    account: 'Martin SARL',
    body: 'Merci, pouvez-vous aussi activer les sauvegardes ?',
    ticketUrl: 'https://panel.example.test/console/tickets/5b0c',
  },
  subject: {
    fr: '[#{{number}}] réponse du client : {{subject}}',
    en: '[#{{number}}] client answered: {{subject}}',
  },
  text: {
    fr: `{{account}} a répondu au ticket n° {{number}} :

{{body}}

{{ticketUrl}}
`,
    en: `{{account}} answered ticket #{{number}}:

{{body}}

{{ticketUrl}}
`,
  },
};
