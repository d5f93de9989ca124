// R4.3: a mail to the support address from an address we do not know, or to a reply address
// that is not valid: a polite answer, and nothing stored (never a ticket for a stranger). The
// French text carries the English one too: we do not know the sender's language.
import type { MailTemplate } from '../render.ts';

export const ticketMailRefused: MailTemplate = {
  name: 'ticket.mail_refused',
  vars: ['subject', 'panelUrl'],
  sample: { subject: 'Re: [#1042] Installer PostgreSQL 16', panelUrl: 'https://panel.example.test' },
  subject: {
    fr: 'Message non distribué : {{subject}}',
    en: 'Message not delivered: {{subject}}',
  },
  text: {
    fr: `Bonjour,

Nous n'avons pas pu rattacher votre message « {{subject}} » à un ticket : l'adresse d'envoi
n'est pas celle d'un client de ce ticket, ou l'adresse de réponse n'est pas valable.
Votre message n'a pas été conservé. Les clients peuvent écrire depuis leur espace :
{{panelUrl}}

--
We could not attach your message "{{subject}}" to a ticket: the sending address is not one
of this ticket's client, or the reply address is not valid. Your message was not kept.
Clients can write from their panel: {{panelUrl}}

L'équipe infogere
`,
    en: `Hello,

We could not attach your message "{{subject}}" to a ticket: the sending address is not one
of this ticket's client, or the reply address is not valid. Your message was not kept.
Clients can write from their panel:
{{panelUrl}}

The infogere team
`,
  },
};
