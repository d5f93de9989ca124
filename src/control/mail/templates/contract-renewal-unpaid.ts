// R11.2, our rule for an unpaid renewal (docs/renewals.md): at the expiry the renewal invoice is
// still unpaid; the service goes on during the grace, and the client is told the date the
// contract ends if the invoice stays unpaid (R12.4: the VPS and its data are then deleted).
import type { MailTemplate } from '../render.ts';

export const contractRenewalUnpaid: MailTemplate = {
  name: 'contract.renewal_unpaid',
  vars: ['name', 'hostname', 'number', 'total', 'expiredAt', 'endsAt', 'invoiceUrl', 'contractUrl'],
  sample: {
    name: 'Camille Martin',
    hostname: 'web1',
    number: '2026-000124',
    total: '7,19 €',
    expiredAt: '30 avril 2026 à 12:00 (heure de Paris)',
    endsAt: '7 mai 2026 à 12:00 (heure de Paris)',
    invoiceUrl: 'https://panel.example.net/client/invoices/00000000-0000-0000-0000-000000000000',
    contractUrl: 'https://panel.example.net/client/contracts/00000000-0000-0000-0000-000000000000',
  },
  subject: {
    fr: 'Facture {{number}} impayée : votre VPS {{hostname}} prendra fin le {{endsAt}}',
    en: 'Invoice {{number}} unpaid: your VPS {{hostname}} will end on {{endsAt}}',
  },
  text: {
    fr: `Bonjour {{name}},

La facture {{number}} ({{total}} TTC) du renouvellement de votre serveur {{hostname}} n'était pas
réglée à l'échéance de votre abonnement, le {{expiredAt}}.

Le service continue jusqu'au {{endsAt}}.

Réglée d'ici là, la facture renouvelle votre abonnement sans interruption. Sinon, à cette
date, la facture est annulée, le contrat prend fin et le serveur est supprimé avec toutes ses
données (disques, sauvegardes, accès).

La facture : {{invoiceUrl}}
Votre contrat : {{contractUrl}}

L'équipe infogere
`,
    en: `Hello {{name}},

The invoice {{number}} ({{total}} incl. VAT) renewing your server {{hostname}} was not paid by
the expiry of your subscription, on {{expiredAt}}.

The service goes on until {{endsAt}}.

Paid by then, the invoice renews your subscription with no interruption. Otherwise, on that
date, the invoice is voided, the contract ends and the server is deleted with all its data
(disks, backups, access).

The invoice: {{invoiceUrl}}
Your contract: {{contractUrl}}

The infogere team
`,
  },
  html: {
    fr: `<p>Bonjour {{name}},</p>
<p>La facture <strong>{{number}}</strong> ({{total}} TTC) du renouvellement de votre serveur <strong>{{hostname}}</strong> n'était pas réglée à l'échéance de votre abonnement, le {{expiredAt}}.</p>
<p>Le service continue jusqu'au <strong>{{endsAt}}</strong>. Réglée d'ici là, la facture renouvelle votre abonnement sans interruption. Sinon, à cette date, la facture est annulée, le contrat prend fin et le serveur est supprimé avec toutes ses données (disques, sauvegardes, accès).</p>
<p>La facture : <a href="{{invoiceUrl}}">{{invoiceUrl}}</a><br>Votre contrat : <a href="{{contractUrl}}">{{contractUrl}}</a></p>
<p>L'équipe infogere</p>
`,
    en: `<p>Hello {{name}},</p>
<p>The invoice <strong>{{number}}</strong> ({{total}} incl. VAT) renewing your server <strong>{{hostname}}</strong> was not paid by the expiry of your subscription, on {{expiredAt}}.</p>
<p>The service goes on until <strong>{{endsAt}}</strong>. Paid by then, the invoice renews your subscription with no interruption. Otherwise, on that date, the invoice is voided, the contract ends and the server is deleted with all its data (disks, backups, access).</p>
<p>The invoice: <a href="{{invoiceUrl}}">{{invoiceUrl}}</a><br>Your contract: <a href="{{contractUrl}}">{{contractUrl}}</a></p>
<p>The infogere team</p>
`,
  },
};
