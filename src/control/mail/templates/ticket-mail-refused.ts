// R4.3: a mail to the support address that we do not attach (a sender we do not know, a reply
// address that is not valid, a ticket closed for good): a polite answer, and nothing stored
// (never a ticket for a stranger). The French text carries the English one too: we do not know
// a stranger's language.
import type { MailTemplate } from '../render.ts';

export const ticketMailRefused: MailTemplate = {
  name: 'ticket.mail_refused',
  vars: ['subject', 'reasonFr', 'reasonEn', 'panelUrl'],
  sample: {
    subject: 'Re: [#1042] Installer PostgreSQL 16',
    reasonFr: "l'adresse d'envoi n'est pas celle d'un utilisateur du client de ce ticket",
    reasonEn: "the sending address is not one of this ticket's client users",
    panelUrl: 'https://panel.example.test',
  },
  subject: {
    fr: 'Message non distribué : {{subject}}',
    en: 'Message not delivered: {{subject}}',
  },
  text: {
    fr: `Bonjour,

Nous n'avons pas rattaché votre message « {{subject}} » à un ticket : {{reasonFr}}.
Votre message n'a pas été conservé. Les clients peuvent écrire depuis leur espace :
{{panelUrl}}

--
We did not attach your message "{{subject}}" to a ticket: {{reasonEn}}.
Your message was not kept. Clients can write from their panel: {{panelUrl}}

L'équipe infogere
`,
    en: `Hello,

We did not attach your message "{{subject}}" to a ticket: {{reasonEn}}.
Your message was not kept. Clients can write from their panel:
{{panelUrl}}

The infogere team
`,
  },
};
