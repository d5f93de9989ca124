// An order's invoice is issued: its number, total and the term (R11.1: the term ordered is
// shown; R11.2: or the monthly subscription). No payment details beyond the total.
import type { MailTemplate } from '../render.ts';

export const invoiceIssued: MailTemplate = {
  name: 'invoice.issued',
  vars: ['name', 'number', 'total', 'term', 'hostname', 'plan', 'invoiceUrl'],
  sample: {
    name: 'Camille Martin',
    number: '2026-000123',
    total: '72,00 €',
    term: 'Durée ferme : 12 mois',
    hostname: 'web1',
    plan: 'VPS S',
    invoiceUrl: 'https://panel.example.net/client/invoices/00000000-0000-0000-0000-000000000000',
  },
  subject: {
    fr: 'Facture {{number}} : votre commande {{plan}} ({{hostname}})',
    en: 'Invoice {{number}}: your {{plan}} order ({{hostname}})',
  },
  text: {
    fr: `Bonjour {{name}},

Merci pour votre commande du serveur {{hostname}} (offre {{plan}}).

  Facture :  {{number}}
  Montant :  {{total}} TTC
  {{term}}

La facture est consultable et imprimable dans votre espace :

  {{invoiceUrl}}

Dès réception du paiement et validation de la commande, votre serveur est créé et ses codes
d'accès vous sont envoyés par courriel.

L'équipe infogere
`,
    en: `Hello {{name}},

Thank you for ordering the server {{hostname}} ({{plan}} plan).

  Invoice:   {{number}}
  Amount:    {{total}} incl. VAT
  {{term}}

You can view and print the invoice in your area:

  {{invoiceUrl}}

Once the payment is received and the order validated, your server is created and its access
codes are sent to you by email.

The infogere team
`,
  },
  html: {
    fr: `<p>Bonjour {{name}},</p>
<p>Merci pour votre commande du serveur <strong>{{hostname}}</strong> (offre {{plan}}).</p>
<table>
<tr><td>Facture</td><td><strong>{{number}}</strong></td></tr>
<tr><td>Montant</td><td>{{total}} TTC</td></tr>
<tr><td colspan="2">{{term}}</td></tr>
</table>
<p>La facture est consultable et imprimable dans votre espace : <a href="{{invoiceUrl}}">{{invoiceUrl}}</a></p>
<p>Dès réception du paiement et validation de la commande, votre serveur est créé et ses codes d'accès vous sont envoyés par courriel.</p>
<p>L'équipe infogere</p>
`,
    en: `<p>Hello {{name}},</p>
<p>Thank you for ordering the server <strong>{{hostname}}</strong> ({{plan}} plan).</p>
<table>
<tr><td>Invoice</td><td><strong>{{number}}</strong></td></tr>
<tr><td>Amount</td><td>{{total}} incl. VAT</td></tr>
<tr><td colspan="2">{{term}}</td></tr>
</table>
<p>You can view and print the invoice in your area: <a href="{{invoiceUrl}}">{{invoiceUrl}}</a></p>
<p>Once the payment is received and the order validated, your server is created and its access codes are sent to you by email.</p>
<p>The infogere team</p>
`,
  },
};
