// R11.2: a subscription renews tacitly one month at a time; the invoice of the next month is
// issued ahead of the expiry (INFOGERE_RENEWAL_INVOICE_DAYS_AHEAD, 7 days by default) and
// emailed: its number, total, the month it covers, the date to pay by, and what follows if it
// stays unpaid (the grace, then the end of the contract: docs/renewals.md).
import type { MailTemplate } from '../render.ts';

export const contractRenewalInvoice: MailTemplate = {
  name: 'contract.renewal_invoice',
  vars: [
    'name',
    'hostname',
    'plan',
    'number',
    'total',
    'periodStart',
    'periodEnd',
    'payBy',
    'graceEnd',
    'invoiceUrl',
    'contractUrl',
  ],
  sample: {
    name: 'Camille Martin',
    hostname: 'web1',
    plan: 'VPS S',
    number: '2026-000124',
    total: '7,19 €',
    periodStart: '30 avril 2026 à 12:00 (heure de Paris)',
    periodEnd: '31 mai 2026 à 12:00 (heure de Paris)',
    payBy: '30 avril 2026 à 12:00 (heure de Paris)',
    graceEnd: '7 mai 2026 à 12:00 (heure de Paris)',
    invoiceUrl: 'https://panel.example.net/client/invoices/00000000-0000-0000-0000-000000000000',
    contractUrl: 'https://panel.example.net/client/contracts/00000000-0000-0000-0000-000000000000',
  },
  subject: {
    fr: 'Facture {{number}} : renouvellement de votre VPS {{hostname}}',
    en: 'Invoice {{number}}: renewal of your VPS {{hostname}}',
  },
  text: {
    fr: `Bonjour {{name}},

Votre abonnement au serveur {{hostname}} (offre {{plan}}) se renouvelle par tacite reconduction
pour un mois :

  Facture :  {{number}}
  Montant :  {{total}} TTC
  Période :  du {{periodStart}}
             au {{periodEnd}}
  À régler avant le {{payBy}}

La facture est consultable et imprimable dans votre espace :

  {{invoiceUrl}}

Sans paiement à cette date, le service continue jusqu'au {{graceEnd}} ;
s'il n'est toujours pas réglé, le contrat prend fin et le serveur est supprimé avec ses données.

Pour ne pas renouveler, arrêtez le renouvellement avant cette date :

  {{contractUrl}}

L'équipe infogere
`,
    en: `Hello {{name}},

Your subscription for the server {{hostname}} ({{plan}} plan) renews tacitly for one month:

  Invoice:   {{number}}
  Amount:    {{total}} incl. VAT
  Period:    from {{periodStart}}
             to {{periodEnd}}
  Pay before {{payBy}}

You can view and print the invoice in your area:

  {{invoiceUrl}}

If it is not paid by then, the service goes on until {{graceEnd}};
still unpaid then, the contract ends and the server is deleted with its data.

Not renewing? Stop the renewal before that date:

  {{contractUrl}}

The infogere team
`,
  },
  html: {
    fr: `<p>Bonjour {{name}},</p>
<p>Votre abonnement au serveur <strong>{{hostname}}</strong> (offre {{plan}}) se renouvelle par tacite reconduction pour un mois :</p>
<table>
<tr><td>Facture</td><td><strong>{{number}}</strong></td></tr>
<tr><td>Montant</td><td>{{total}} TTC</td></tr>
<tr><td>Période</td><td>du {{periodStart}} au {{periodEnd}}</td></tr>
<tr><td>À régler avant le</td><td><strong>{{payBy}}</strong></td></tr>
</table>
<p>La facture est consultable et imprimable dans votre espace : <a href="{{invoiceUrl}}">{{invoiceUrl}}</a></p>
<p>Sans paiement à cette date, le service continue jusqu'au {{graceEnd}} ; s'il n'est toujours pas réglé, le contrat prend fin et le serveur est supprimé avec ses données.</p>
<p>Pour ne pas renouveler, arrêtez le renouvellement avant cette date : <a href="{{contractUrl}}">{{contractUrl}}</a></p>
<p>L'équipe infogere</p>
`,
    en: `<p>Hello {{name}},</p>
<p>Your subscription for the server <strong>{{hostname}}</strong> ({{plan}} plan) renews tacitly for one month:</p>
<table>
<tr><td>Invoice</td><td><strong>{{number}}</strong></td></tr>
<tr><td>Amount</td><td>{{total}} incl. VAT</td></tr>
<tr><td>Period</td><td>from {{periodStart}} to {{periodEnd}}</td></tr>
<tr><td>Pay before</td><td><strong>{{payBy}}</strong></td></tr>
</table>
<p>You can view and print the invoice in your area: <a href="{{invoiceUrl}}">{{invoiceUrl}}</a></p>
<p>If it is not paid by then, the service goes on until {{graceEnd}}; still unpaid then, the contract ends and the server is deleted with its data.</p>
<p>Not renewing? Stop the renewal before that date: <a href="{{contractUrl}}">{{contractUrl}}</a></p>
<p>The infogere team</p>
`,
  },
};
