// R6.1 as pure rules: the proof deadline from the terms, request phases, document types by
// their bytes, identity data (phone in E.164, ISO 3166-1 country, postal code).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HOUR, MINUTE } from '../../src/domain/clock.ts';
import { DomainError } from '../../src/domain/errors.ts';
import {
  checkCountry,
  detectDocumentType,
  identityStatus,
  normalizePhone,
  proofDueAt,
  remainingMs,
  requestPhase,
  safeFileName,
  suspendsWhenDue,
  validateIdentity,
  type RequestFacts,
} from '../../src/domain/identity.ts';
import { CURRENT_TERMS, TERMS_2015_06_01 } from '../../src/domain/terms.ts';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DomainError);
    return e.code;
  }
  assert.fail('no error');
};

describe('R6.1 proof deadline', () => {
  it('is 72 h after the request under the 2015-06-01 terms, taken from the terms', () => {
    const at = new Date('2026-03-01T09:00:00Z');
    assert.equal(proofDueAt(at, TERMS_2015_06_01).toISOString(), '2026-03-04T09:00:00.000Z');
    assert.equal(
      proofDueAt(at, { ...CURRENT_TERMS, identityProofDeadlineMs: 24 * HOUR }).toISOString(),
      '2026-03-02T09:00:00.000Z',
    );
  });

  it('counts down to zero and never below', () => {
    const due = new Date('2026-03-04T09:00:00Z');
    assert.equal(remainingMs(due, new Date('2026-03-04T08:00:00Z')), HOUR);
    assert.equal(remainingMs(due, new Date('2026-03-05T08:00:00Z')), 0);
  });

  it('an open request past its deadline is overdue and suspends; an approved or withdrawn one does not', () => {
    const dueAt = new Date('2026-03-04T09:00:00Z');
    const f: RequestFacts = { state: 'open', dueAt, documentsAwaitingReview: 0, lastDecisionRejected: false };
    const before = new Date(dueAt.getTime() - MINUTE);
    assert.equal(requestPhase(f, before), 'awaiting_documents');
    assert.equal(requestPhase({ ...f, documentsAwaitingReview: 1 }, before), 'under_review');
    assert.equal(requestPhase({ ...f, lastDecisionRejected: true }, before), 'rejected');
    assert.equal(
      requestPhase({ ...f, lastDecisionRejected: true, documentsAwaitingReview: 2 }, before),
      'under_review',
    );
    assert.equal(requestPhase(f, dueAt), 'overdue');
    assert.equal(requestPhase({ ...f, documentsAwaitingReview: 1 }, dueAt), 'overdue');
    assert.equal(requestPhase({ ...f, state: 'approved' }, dueAt), 'approved');
    assert.equal(requestPhase({ ...f, state: 'cancelled' }, dueAt), 'cancelled');
    assert.equal(suspendsWhenDue('open'), true);
    assert.equal(suspendsWhenDue('approved'), false);
    assert.equal(suspendsWhenDue('cancelled'), false);
  });

  it("an account's identity status comes from its requests", () => {
    const now = new Date('2026-03-04T09:00:00Z');
    const past = new Date(now.getTime() - 1);
    const future = new Date(now.getTime() + HOUR);
    assert.equal(identityStatus([], now), 'none');
    assert.equal(identityStatus([{ state: 'open', dueAt: future }], now), 'requested');
    assert.equal(
      identityStatus(
        [
          { state: 'open', dueAt: past },
          { state: 'approved', dueAt: past },
        ],
        now,
      ),
      'overdue',
    );
    assert.equal(identityStatus([{ state: 'approved', dueAt: past }], now), 'verified');
    assert.equal(identityStatus([{ state: 'cancelled', dueAt: past }], now), 'none');
  });
});

describe('R6.1 documents: the type is what the bytes say', () => {
  it('recognises PDF, JPEG and PNG by their magic bytes, nothing else', () => {
    assert.equal(detectDocumentType(new TextEncoder().encode('%PDF-1.7\n')), 'application/pdf');
    assert.equal(detectDocumentType(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0x10])), 'image/jpeg');
    assert.equal(
      detectDocumentType(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0])),
      'image/png',
    );
    assert.equal(detectDocumentType(new TextEncoder().encode('MZ\x90\x00 not a pdf')), null);
    assert.equal(detectDocumentType(new TextEncoder().encode('<html>%PDF-')), null);
    assert.equal(detectDocumentType(new Uint8Array([0x89, 0x50])), null);
  });

  it('keeps a file name safe to show (no path, no control or quote characters)', () => {
    assert.equal(safeFileName('C:\\Users\\x\\carte identité.pdf', 'application/pdf'), 'carte identité.pdf');
    assert.equal(safeFileName('../../etc/passwd"\r\n.png', 'image/png'), 'passwd___.png');
    assert.equal(safeFileName(undefined, 'image/jpeg'), 'document.jpg');
    assert.equal(safeFileName('...', 'application/pdf'), 'document.pdf');
  });
});

describe('R6.1 identity data', () => {
  const valid = {
    lastName: ' Martin ',
    firstName: 'Camille',
    organisation: '',
    address: { line1: '12 rue de la Paix', postalCode: '75002', city: 'Paris', country: 'fr' },
    phone: '06 12 34 56 78',
    email: 'camille@example.org',
  };

  it('stores the phone in E.164, reading national numbers in the address country', () => {
    const d = validateIdentity(valid);
    assert.equal(d.phone, '+33612345678');
    assert.equal(d.address.country, 'FR');
    assert.equal(d.lastName, 'Martin');
    assert.equal(d.organisation, null);
    assert.equal(normalizePhone('0470 12 34 56', 'BE'), '+32470123456');
    assert.equal(normalizePhone('+1 415 555 2671', 'FR'), '+14155552671');
  });

  it('refuses an invalid phone, country, postal code, missing name or email with validation.<field>', () => {
    assert.equal(
      code(() => validateIdentity({ ...valid, phone: '0612' })),
      'validation.phone',
    );
    assert.equal(
      code(() => validateIdentity({ ...valid, phone: 'call me' })),
      'validation.phone',
    );
    assert.equal(
      code(() => validateIdentity({ ...valid, address: { ...valid.address, country: 'XX' } })),
      'validation.address.country',
    );
    assert.equal(
      code(() => validateIdentity({ ...valid, address: { ...valid.address, country: 'ZZ' } })),
      'validation.address.country',
    );
    assert.equal(
      code(() => validateIdentity({ ...valid, address: { ...valid.address, postalCode: '7500' } })),
      'validation.address.postalCode',
    );
    assert.equal(
      code(() => validateIdentity({ ...valid, address: { ...valid.address, line1: '  ' } })),
      'validation.address.line1',
    );
    assert.equal(
      code(() => validateIdentity({ ...valid, lastName: '' })),
      'validation.lastName',
    );
    assert.equal(
      code(() => validateIdentity({ ...valid, email: 'nope' })),
      'validation.email',
    );
    assert.equal(
      code(() => checkCountry('FRA')),
      'validation.address.country',
    );
    assert.equal(checkCountry('be'), 'BE');
  });
});
