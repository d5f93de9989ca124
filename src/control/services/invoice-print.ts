// A printable invoice (R11.1: the term is on it), in French or English: a standalone HTML page
// the client prints or saves as PDF from the browser. Pure: the invoice in, the page out.
import { termText } from '../../domain/invoices.ts';
import { formatCents, formatRate } from '../../domain/money.ts';
import type { InvoiceWithLines } from '../repositories/invoices.ts';
import { CLIENT_TIME_ZONE } from '../mail/format.ts';
import { escapeHtml } from '../mail/render.ts';

const WORDS = {
  fr: {
    title: 'Facture',
    issued: 'Émise le',
    customer: 'Client',
    desc: 'Désignation',
    qty: 'Qté (mois)',
    unit: 'Prix unitaire HT',
    total: 'Total HT',
    net: 'Total HT',
    vat: 'TVA',
    gross: 'Total TTC',
    term: 'Durée',
    status: { issued: 'À payer', paid: 'Payée', void: 'Annulée' },
    print: 'Imprimer',
  },
  en: {
    title: 'Invoice',
    issued: 'Issued on',
    customer: 'Customer',
    desc: 'Description',
    qty: 'Qty (months)',
    unit: 'Unit price excl. VAT',
    total: 'Total excl. VAT',
    net: 'Total excl. VAT',
    vat: 'VAT',
    gross: 'Total incl. VAT',
    term: 'Term',
    status: { issued: 'Due', paid: 'Paid', void: 'Void' },
    print: 'Print',
  },
} as const;

/** A printable invoice (R11.1: the term is on it), in the caller's language. */
export function invoiceHtml(i: InvoiceWithLines, lang: 'fr' | 'en'): string {
  const e = escapeHtml;
  const L = WORDS[lang];
  const date = new Intl.DateTimeFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', {
    dateStyle: 'long',
    timeZone: CLIENT_TIME_ZONE,
  }).format(i.issued_at);
  const rows = i.lines
    .map(
      (l) =>
        `<tr><td>${e(l.description)}</td><td class="n">${l.quantity}</td><td class="n">${e(formatCents(l.unit_cents, lang))}</td><td class="n">${e(formatCents(l.total_cents, lang))}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><title>${L.title} ${e(i.number)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;color:#111}table{width:100%;border-collapse:collapse}td,th{padding:.4rem;border-bottom:1px solid #ccc;text-align:left}.n{text-align:right}.void{color:#b00;font-weight:bold}@media print{button{display:none}}</style>
</head><body>
<h1>${L.title} ${e(i.number)}</h1>
<p>${L.issued} ${e(date)} · <span class="${i.status === 'void' ? 'void' : ''}">${L.status[i.status]}</span></p>
<p>${L.customer} : ${e(i.customer_name)}</p>
<p><strong>${L.term} : ${e(termText(i.term_kind, i.term_months, lang))}</strong></p>
<table><thead><tr><th>${L.desc}</th><th class="n">${L.qty}</th><th class="n">${L.unit}</th><th class="n">${L.total}</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<table>
<tr><td>${L.net}</td><td class="n">${e(formatCents(i.net_cents, lang))}</td></tr>
<tr><td>${L.vat} ${e(formatRate(i.vat_rate_bp, lang))}</td><td class="n">${e(formatCents(i.vat_cents, lang))}</td></tr>
<tr><td><strong>${L.gross}</strong></td><td class="n"><strong>${e(formatCents(i.total_cents, lang))}</strong></td></tr>
</table>
<p><button onclick="window.print()">${L.print}</button></p>
</body></html>
`;
}
