// Mail templates are data: a name, a subject and a text body in French and English (an HTML
// body optionally), and the variables they use. `{{name}}` is replaced by the variable's
// value, HTML-escaped in HTML bodies. A template that uses a variable it does not declare is
// refused when it is registered; a send that lacks a declared variable is refused (no mail
// half-filled ever leaves).
//
// One-time secrets (R3.1 access codes, R6.1 sign-up verification): a template lists the
// variables whose values grant something by themselves (a one-time link) in `secretVars`. The
// copy the platform keeps has each of them replaced by a marker, ⟦withheld:name⟧; the values
// go apart (sealed, src/control/services/mail.ts) and are put back only into the message handed
// to the relay (`fillSecrets`). No other value may hold the marker's brackets (they become
// plain ones), so a marker is always the template's own.
import { invalidData } from '../../domain/errors.ts';

export type MailLanguage = 'fr' | 'en';
export type MailVars = Record<string, string | number>;
export type InBoth = { fr: string; en: string };

export interface MailTemplate {
  /** `module.what`, e.g. `vps.access_codes`. */
  name: string;
  subject: InBoth;
  text: InBoth;
  html?: InBoth;
  /** Every variable the template uses. */
  vars: string[];
  /**
   * Variables holding a one-time secret (a link that verifies or reveals by itself): never
   * stored in clear, only in the bodies (not the subject). See the module comment.
   */
  secretVars?: string[];
  /** Values for the golden test (test/golden/mail/<name>.<lang>.txt); realistic, not real. */
  sample?: MailVars;
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string | null;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}/g;
const MARKER_OPEN = '\u27e6'; // ⟦
const MARKER_CLOSE = '\u27e7'; // ⟧
const MARKER = /\u27e6withheld:([A-Za-z_][A-Za-z0-9_.]*)\u27e7/g;
/** What the stored copy holds in place of the secret variable `name`. */
export const secretMarker = (name: string) => `${MARKER_OPEN}withheld:${name}${MARKER_CLOSE}`;
/** A value that looks like a one-time link: only a secret variable may carry one. */
const TOKEN_IN_URL = /[?#&]token=/i;
const NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

function placeholders(s: string): string[] {
  return [...s.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/** Checks a template's shape; throws an Error (a programming mistake, caught at start). */
export function checkTemplate(t: MailTemplate): void {
  if (!NAME.test(t.name)) throw new Error(`mail template name "${t.name}" must look like module.what`);
  const declared = new Set(t.vars);
  const parts: [string, InBoth | undefined][] = [
    ['subject', t.subject],
    ['text', t.text],
    ['html', t.html],
  ];
  for (const [part, both] of parts) {
    if (!both) continue;
    for (const lang of ['fr', 'en'] as const) {
      const s = both[lang];
      if (typeof s !== 'string' || s.trim() === '')
        throw new Error(`mail template ${t.name}: ${part}.${lang} is empty`);
      for (const v of placeholders(s))
        if (!declared.has(v))
          throw new Error(`mail template ${t.name}: ${part}.${lang} uses {{${v}}}, not in vars`);
    }
  }
  if (t.sample)
    for (const v of t.vars)
      if (!(v in t.sample)) throw new Error(`mail template ${t.name}: sample lacks ${v}`);
  for (const v of t.secretVars ?? []) {
    if (!declared.has(v)) throw new Error(`mail template ${t.name}: secret ${v} is not in vars`);
    for (const lang of ['fr', 'en'] as const)
      if (placeholders(t.subject[lang]).includes(v))
        throw new Error(`mail template ${t.name}: the secret ${v} may not be in the subject`);
  }
  for (const [part, both] of parts)
    for (const lang of ['fr', 'en'] as const)
      if (both && (both[lang].includes(MARKER_OPEN) || both[lang].includes(MARKER_CLOSE)))
        throw new Error(`mail template ${t.name}: ${part}.${lang} uses the marker brackets ⟦ ⟧`);
}

function fill(s: string, vars: MailVars, escape: (x: string) => string): string {
  return s.replace(PLACEHOLDER, (_, name: string) => escape(String(vars[name])));
}

function checkVars(t: MailTemplate, vars: MailVars): void {
  const missing = t.vars.filter((v) => vars[v] === undefined || vars[v] === null);
  if (missing.length)
    throw invalidData('mail.unknown_template', `Mail template ${t.name} needs ${missing.join(', ')}`, {
      template: t.name,
      missing,
    });
}

function renderWith(t: MailTemplate, language: MailLanguage, vars: MailVars): RenderedMail {
  const same = (x: string) => x;
  return {
    // One line: a value cannot add headers (nodemailer encodes the subject; newlines are folded here).
    subject: fill(t.subject[language], vars, same)
      .replace(/[\r\n]+/g, ' ')
      .trim(),
    text: fill(t.text[language], vars, same),
    html: t.html ? fill(t.html[language], vars, escapeHtml) : null,
  };
}

/** Renders a template in a language, secrets included (what the client receives); every declared variable must be given. */
export function renderTemplate(t: MailTemplate, language: MailLanguage, vars: MailVars): RenderedMail {
  checkVars(t, vars);
  return renderWith(t, language, vars);
}

export interface StoredMail {
  /** The copy the platform keeps: each secret variable is its marker. */
  redacted: RenderedMail;
  /** The secret variables' values, to seal; empty when the template has none. */
  secrets: Record<string, string>;
}

/**
 * Renders the copy to keep and sets the secrets apart. A value of a non-secret variable that
 * looks like a one-time link (`?token=`, `#token=`) is refused: it would be stored in clear.
 */
export function renderForStorage(t: MailTemplate, language: MailLanguage, vars: MailVars): StoredMail {
  checkVars(t, vars);
  const secretNames = new Set(t.secretVars ?? []);
  const kept: MailVars = {};
  const secrets: Record<string, string> = {};
  for (const [name, value] of Object.entries(vars)) {
    if (secretNames.has(name)) {
      secrets[name] = String(value);
      kept[name] = secretMarker(name);
      continue;
    }
    if (typeof value === 'string' && TOKEN_IN_URL.test(value))
      throw invalidData(
        'mail.secret_in_clear',
        `Mail template ${t.name}: ${name} looks like a one-time link; declare it in secretVars`,
        { template: t.name, variable: name },
      );
    kept[name] =
      typeof value === 'string' ? value.replaceAll(MARKER_OPEN, '[').replaceAll(MARKER_CLOSE, ']') : value;
  }
  return { redacted: renderWith(t, language, kept), secrets };
}

/** The message for the relay: each marker of the stored copy replaced by its secret (HTML-escaped in HTML). */
export function fillSecrets(stored: RenderedMail, secrets: Record<string, string>): RenderedMail {
  const put = (s: string, escape: (x: string) => string) =>
    s.replace(MARKER, (_, name: string) => {
      const v = secrets[name];
      if (v === undefined) throw new Error(`the stored mail needs the secret ${name}, not sealed with it`);
      return escape(v);
    });
  return {
    subject: stored.subject,
    text: put(stored.text, (x) => x),
    html: stored.html === null ? null : put(stored.html, escapeHtml),
  };
}

/** The secret variables a stored copy still has markers for. */
export function markersIn(stored: RenderedMail): string[] {
  const all = `${stored.text}\n${stored.html ?? ''}`;
  return [...new Set([...all.matchAll(MARKER)].map((m) => m[1]!))];
}

/** The templates a mail service knows. */
export class TemplateRegistry {
  readonly #byName = new Map<string, MailTemplate>();

  register(t: MailTemplate): void {
    checkTemplate(t);
    if (this.#byName.has(t.name)) throw new Error(`mail template ${t.name} is registered twice`);
    this.#byName.set(t.name, Object.freeze({ ...t }));
  }

  get(name: string): MailTemplate {
    const t = this.#byName.get(name);
    if (!t) throw invalidData('mail.unknown_template', `No mail template named ${name}`, { template: name });
    return t;
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  all(): MailTemplate[] {
    return [...this.#byName.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  }
}
