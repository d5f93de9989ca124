// R3.12 with R11.2: an unpaid invoice is voided (its number stays used) and replaced by another
// for the same service: a renewal invoice issued again at the price of a plan change just paid,
// or a plan change's invoice issued again with the month a renewal paid meanwhile added. The
// client is told which invoice to pay now, and that a payment of the old one is refused.
import type { MailTemplate } from '../render.ts';

export const invoiceReissued: MailTemplate = {
  name: 'invoice.reissued',
  vars: [
    'name',
    'hostname',
    'plan',
    'oldNumber',
    'number',
    'total',
    'periodStart',
    'periodEnd',
    'why',
    'invoiceUrl',
  ],
  sample: {
    name: 'Camille Martin',
    hostname: 'web1',
    plan: 'VPS M',
    oldNumber: '2026-000124',
    number: '2026-000131',
    total: '12,00 €',
    periodStart: '30 avril 2026 à 12:00 (heure de Paris)',
    periodEnd: '31 mai 2026 à 12:00 (heure de Paris)',
    why: 'votre changement d’offre est réglé, le mois suivant est donc facturé au prix de la nouvelle offre',
    invoiceUrl: 'https://panel.example.net/client/invoices/00000000-0000-0000-0000-000000000000',
  },
  subject: {
    fr: 'Facture {{number}} : elle remplace la facture {{oldNumber}} ({{hostname}})',
    en: 'Invoice {{number}} replaces invoice {{oldNumber}} ({{hostname}})',
  },
  text: {
    fr: `Bonjour {{name}},

La facture {{oldNumber}} de votre serveur {{hostname}} est annulée et remplacée par la
facture {{number}} : {{why}}.

  Facture :  {{number}}
  Offre :    {{plan}}
  Montant :  {{total}} TTC
  Période :  du {{periodStart}}
             au {{periodEnd}}

Ne réglez plus la facture {{oldNumber}} : un paiement de celle-ci serait refusé. La nouvelle
facture est consultable et imprimable dans votre espace :

  {{invoiceUrl}}

L'équipe infogere
`,
    en: `Hello {{name}},

Invoice {{oldNumber}} for your server {{hostname}} is cancelled and replaced by
invoice {{number}}: {{why}}.

  Invoice:   {{number}}
  Plan:      {{plan}}
  Amount:    {{total}} incl. VAT
  Period:    from {{periodStart}}
             to {{periodEnd}}

Do not pay invoice {{oldNumber}} any more: a payment of it would be refused. You can view and
print the new invoice in your area:

  {{invoiceUrl}}

The infogere team
`,
  },
  html: {
    fr: `<p>Bonjour {{name}},</p>
<p>La facture {{oldNumber}} de votre serveur <strong>{{hostname}}</strong> est annulée et remplacée par la facture <strong>{{number}}</strong> : {{why}}.</p>
<table>
<tr><td>Facture</td><td><strong>{{number}}</strong></td></tr>
<tr><td>Offre</td><td>{{plan}}</td></tr>
<tr><td>Montant</td><td>{{total}} TTC</td></tr>
<tr><td>Période</td><td>du {{periodStart}} au {{periodEnd}}</td></tr>
</table>
<p>Ne réglez plus la facture {{oldNumber}} : un paiement de celle-ci serait refusé. La nouvelle facture est consultable et imprimable dans votre espace : <a href="{{invoiceUrl}}">{{invoiceUrl}}</a></p>
<p>L'équipe infogere</p>
`,
    en: `<p>Hello {{name}},</p>
<p>Invoice {{oldNumber}} for your server <strong>{{hostname}}</strong> is cancelled and replaced by invoice <strong>{{number}}</strong>: {{why}}.</p>
<table>
<tr><td>Invoice</td><td><strong>{{number}}</strong></td></tr>
<tr><td>Plan</td><td>{{plan}}</td></tr>
<tr><td>Amount</td><td>{{total}} incl. VAT</td></tr>
<tr><td>Period</td><td>from {{periodStart}} to {{periodEnd}}</td></tr>
</table>
<p>Do not pay invoice {{oldNumber}} any more: a payment of it would be refused. You can view and print the new invoice in your area: <a href="{{invoiceUrl}}">{{invoiceUrl}}</a></p>
<p>The infogere team</p>
`,
  },
};
