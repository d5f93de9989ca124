// Invoice numbering format, status machine and what an invoice says about the term (R11.1, R11.2).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../../src/domain/errors.ts';
import {
  formatInvoiceNumber,
  invoiceYear,
  parseInvoiceNumber,
  termText,
  transitionInvoice,
} from '../../src/domain/invoices.ts';

const code = (c: string) => (e: unknown) => e instanceof DomainError && e.code === c && e.kind === 'conflict';

describe('invoices', () => {
  it('numbers are YYYY-NNNNNN per UTC year', () => {
    assert.equal(formatInvoiceNumber(2026, 123), '2026-000123');
    assert.equal(formatInvoiceNumber(2026, 1_234_567), '2026-1234567');
    assert.deepEqual(parseInvoiceNumber('2026-000123'), { year: 2026, seq: 123 });
    assert.equal(parseInvoiceNumber('2026-12'), null);
    assert.throws(() => formatInvoiceNumber(2026, 0));
    assert.equal(invoiceYear(new Date('2026-12-31T23:59:59Z')), 2026);
    assert.equal(invoiceYear(new Date('2027-01-01T00:00:00Z')), 2027);
  });
  it('issued → paid | void; paid and void are final', () => {
    assert.equal(transitionInvoice('issued', 'paid'), 'paid');
    assert.equal(transitionInvoice('issued', 'void'), 'void');
    assert.throws(() => transitionInvoice('paid', 'paid'), code('invoice.already_paid'));
    assert.throws(() => transitionInvoice('void', 'paid'), code('invoice.void'));
    assert.throws(() => transitionInvoice('paid', 'void'), code('invoice.paid'));
    assert.throws(() => transitionInvoice('void', 'issued'), code('invoice.illegal_transition'));
  });
  it('R11.1 the term is shown; R11.2 or the monthly subscription', () => {
    assert.equal(termText('fixed', 12, 'fr'), 'Durée ferme : 12 mois');
    assert.equal(termText('fixed', 1, 'en'), 'Fixed term: 1 month');
    assert.equal(termText('fixed', 24, 'en'), 'Fixed term: 24 months');
    assert.match(termText('subscription', null, 'fr'), /tacite reconduction/);
    assert.match(termText('subscription', null, 'en'), /renewed monthly/);
  });
});
