// Client identity (R6.1), as pure rules: what valid identity data is, when a proof request
// falls due, what state a request is in from its facts, and what a document's bytes say it is.
// The control plane (services/identity-proofs.ts, client-signup.ts) loads the facts, calls these, and persists.
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { invalidData } from './errors.ts';
import type { Terms } from './terms.ts';

/** What the provider asks the client to prove (R6.1: identity, and optionally the sites hosted). */
export const proofKinds = ['identity', 'sites', 'identity_and_sites'] as const;
export type ProofKind = (typeof proofKinds)[number];

/** Stored state of a proof request. A rejection keeps the request open (see requestPhase). */
export type RequestState = 'open' | 'approved' | 'cancelled';

/** What both sides see. */
export type RequestPhase =
  'awaiting_documents' | 'under_review' | 'rejected' | 'overdue' | 'approved' | 'cancelled';

/** R6.1: the client has the terms' deadline (72 h in the 2015-06-01 terms) from the request. */
export function proofDueAt(requestedAt: Date, terms: Terms): Date {
  return new Date(requestedAt.getTime() + terms.identityProofDeadlineMs);
}

/** Time left before the deadline, never negative. */
export function remainingMs(dueAt: Date, now: Date): number {
  return Math.max(0, dueAt.getTime() - now.getTime());
}

export interface RequestFacts {
  state: RequestState;
  dueAt: Date;
  /** Documents uploaded and not yet decided on. */
  documentsAwaitingReview: number;
  /** Whether the last staff decision on this request was a rejection. */
  lastDecisionRejected: boolean;
}

/**
 * The phase of a request at `now`. An open request past its deadline is overdue whatever
 * else is true (the services are suspended, R6.1); documents sent and not decided on are
 * under review; after a rejection with nothing new sent, it is rejected (the client may send
 * again while the request is open).
 */
export function requestPhase(f: RequestFacts, now: Date): RequestPhase {
  if (f.state === 'approved') return 'approved';
  if (f.state === 'cancelled') return 'cancelled';
  if (now.getTime() >= f.dueAt.getTime()) return 'overdue';
  if (f.documentsAwaitingReview > 0) return 'under_review';
  if (f.lastDecisionRejected) return 'rejected';
  return 'awaiting_documents';
}

/** R6.1: when the deadline falls due, the services are suspended unless the proof was approved (or the request withdrawn). */
export function suspendsWhenDue(state: RequestState): boolean {
  return state === 'open';
}

/** Whether the client may still upload: while the request is open, before and after the deadline. */
export function acceptsDocuments(state: RequestState): boolean {
  return state === 'open';
}

/** A client account's identity status, for the console's list. */
export type IdentityStatus = 'none' | 'requested' | 'overdue' | 'verified';

export function identityStatus(
  requests: readonly { state: RequestState; dueAt: Date }[],
  now: Date,
): IdentityStatus {
  const open = requests.filter((r) => r.state === 'open');
  if (open.some((r) => now.getTime() >= r.dueAt.getTime())) return 'overdue';
  if (open.length > 0) return 'requested';
  if (requests.some((r) => r.state === 'approved')) return 'verified';
  return 'none';
}

// ---------------------------------------------------------------------------------------
// Documents: the type is what the bytes say, not what the browser declared.

export const documentTypes = ['application/pdf', 'image/jpeg', 'image/png'] as const;
export type DocumentType = (typeof documentTypes)[number];

const startsWith = (bytes: Uint8Array, magic: readonly number[]) =>
  bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);

/** PDF, JPEG or PNG from the first bytes of a file; null for anything else. */
export function detectDocumentType(head: Uint8Array): DocumentType | null {
  if (startsWith(head, [0x25, 0x50, 0x44, 0x46, 0x2d])) return 'application/pdf'; // %PDF-
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  return null;
}

/** How many first bytes detectDocumentType needs. */
export const DOCUMENT_MAGIC_BYTES = 8;

/** A file name safe to show and to put in a Content-Disposition header. */
export function safeFileName(name: string | undefined, type: DocumentType): string {
  const ext = type === 'application/pdf' ? '.pdf' : type === 'image/png' ? '.png' : '.jpg';
  const base = (name ?? '')
    .replace(/^.*[\\/]/, '')
    .replace(/[^\p{L}\p{N}._ -]/gu, '_')
    .replace(/^[.\s]+/, '')
    .slice(0, 120)
    .trim();
  return base || `document${ext}`;
}

// ---------------------------------------------------------------------------------------
// Identity data (R6.1): last name, first name, organisation if any, postal address, phone, email.

export interface PostalAddress {
  line1: string;
  line2: string | null;
  postalCode: string;
  city: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
}

export interface IdentityData {
  lastName: string;
  firstName: string;
  organisation: string | null;
  address: PostalAddress;
  /** E.164, e.g. +33612345678. */
  phone: string;
  email: string;
}

export interface IdentityInput {
  lastName: string;
  firstName: string;
  organisation?: string | null | undefined;
  address: {
    line1: string;
    line2?: string | null | undefined;
    postalCode: string;
    city: string;
    country: string;
  };
  phone: string;
  email: string;
}

const bad = (field: string, message: string) => invalidData(`validation.${field}`, message, { field });

const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });
/** Codes ISO 3166 leaves to users (AA, QM–QZ, XA–XZ, ZZ); XK (Kosovo) is in common use and kept. */
const userAssigned = /^(AA|Q[M-Z]|X[A-JL-Z]|ZZ)$/;

/** An ISO 3166-1 alpha-2 country code, upper-cased; throws validation.<field>. */
export function checkCountry(country: string, field = 'address.country'): string {
  const c = country.trim().toUpperCase();
  const name = /^[A-Z]{2}$/.test(c) ? regionNames.of(c) : undefined;
  if (!name || name === c || name === 'Unknown Region' || userAssigned.test(c))
    throw bad(field, `"${country}" is not an ISO 3166-1 alpha-2 country code`);
  return c;
}

/** Postal code shapes of the countries we see most; elsewhere letters, digits, spaces and dashes. */
const postalPatterns: Record<string, RegExp> = {
  FR: /^\d{5}$/,
  MC: /^980\d{2}$/,
  DE: /^\d{5}$/,
  ES: /^\d{5}$/,
  IT: /^\d{5}$/,
  BE: /^\d{4}$/,
  CH: /^\d{4}$/,
  LU: /^(L-)?\d{4}$/,
  NL: /^\d{4} ?[A-Z]{2}$/,
  PT: /^\d{4}-\d{3}$/,
  GB: /^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$/,
  US: /^\d{5}(-\d{4})?$/,
  CA: /^[A-Z]\d[A-Z] ?\d[A-Z]\d$/,
};

export function checkPostalCode(code: string, country: string): string {
  const c = code.trim().toUpperCase().replace(/\s+/g, ' ');
  const pattern = postalPatterns[country] ?? /^[A-Z0-9][A-Z0-9 -]{1,11}$/;
  if (!pattern.test(c)) throw bad('address.postalCode', `"${code}" is not a postal code of ${country}`);
  return c;
}

/**
 * A phone number in E.164, parsed with the address's country as the default region (a
 * national number like 06 12 34 56 78 is read as French for a French address); refused when
 * the number is not a valid one for its country.
 */
export function normalizePhone(raw: string, defaultCountry: string): string {
  const n = parsePhoneNumberFromString(raw.trim(), defaultCountry as CountryCode);
  if (!n || !n.isValid()) throw bad('phone', `"${raw}" is not a valid phone number`);
  return n.number;
}

const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/;

export function checkEmailAddress(email: string, field = 'email'): string {
  const e = email.trim();
  if (!EMAIL.test(e) || e.length > 254) throw bad(field, 'Not a valid email address');
  return e;
}

function text(
  value: string | null | undefined,
  field: string,
  opts: { required: boolean; max: number },
): string | null {
  // Control characters have no place in a name or an address (and would break mail headers).
  const v = (value ?? '')
    .replace(/\p{Cc}/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (!v) {
    if (opts.required) throw bad(field, `${field} is required`);
    return null;
  }
  if (v.length > opts.max) throw bad(field, `${field} is longer than ${opts.max} characters`);
  return v;
}

/** R6.1: checks and normalises identity data; the first invalid field throws `validation.<field>`. */
export function validateIdentity(input: IdentityInput): IdentityData {
  const lastName = text(input.lastName, 'lastName', { required: true, max: 100 })!;
  const firstName = text(input.firstName, 'firstName', { required: true, max: 100 })!;
  const organisation = text(input.organisation, 'organisation', { required: false, max: 200 });
  const line1 = text(input.address.line1, 'address.line1', { required: true, max: 200 })!;
  const line2 = text(input.address.line2, 'address.line2', { required: false, max: 200 });
  const city = text(input.address.city, 'address.city', { required: true, max: 100 })!;
  const country = checkCountry(input.address.country);
  const postalCode = checkPostalCode(input.address.postalCode, country);
  const phone = normalizePhone(input.phone, country);
  const email = checkEmailAddress(input.email);
  return {
    lastName,
    firstName,
    organisation,
    address: { line1, line2, postalCode, city, country },
    phone,
    email,
  };
}

/** The account's display name when the client gave none: the organisation, else the person. */
export function defaultAccountName(d: Pick<IdentityData, 'firstName' | 'lastName' | 'organisation'>): string {
  return d.organisation ?? `${d.firstName} ${d.lastName}`;
}
