// R3.10: the client accepted a quote: its invoice is issued through the usual invoicing.
import type { MailTemplate } from '../render.ts';

export const ticketQuoteInvoiced: MailTemplate = {
  name: 'ticket.quote_invoiced',
  vars: ['name', 'number', 'invoiceNumber', 'amount', 'invoiceUrl'],
  sample: {
    name: 'Camille Martin',
    number: '1042',
    invoiceNumber: '2026-000123',
    amount: '72,00 €',
    invoiceUrl: 'https://panel.example.test/client/invoices/77aa',
  },
  subject: {
    fr: 'Facture {{invoiceNumber}} : devis accepté (ticket n° {{number}})',
    en: 'Invoice {{invoiceNumber}}: quote accepted (ticket #{{number}})',
  },
  text: {
    fr: `Bonjour {{name}},

Vous avez accepté le devis du ticket n° {{number}}. La facture {{invoiceNumber}} ({{amount}}) est émise :
{{invoiceUrl}}

L'équipe infogere
`,
    en: `Hello {{name}},

You accepted the quote of ticket #{{number}}. Invoice {{invoiceNumber}} ({{amount}}) is issued:
{{invoiceUrl}}

The infogere team
`,
  },
};
