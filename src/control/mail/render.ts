// Mail templates are data: a name, a subject and a text body in French and English (an HTML
// body optionally), and the variables they use. `{{name}}` is replaced by the variable's
// value, HTML-escaped in HTML bodies. A template that uses a variable it does not declare is
// refused when it is registered; a send that lacks a declared variable is refused (no mail
// half-filled ever leaves).
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
  /** Values for the golden test (test/golden/mail/<name>.<lang>.txt); realistic, not real. */
  sample?: MailVars;
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string | null;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}/g;
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
}

function fill(s: string, vars: MailVars, escape: (x: string) => string): string {
  return s.replace(PLACEHOLDER, (_, name: string) => escape(String(vars[name])));
}

/** Renders a template in a language; every declared variable must be given. */
export function renderTemplate(t: MailTemplate, language: MailLanguage, vars: MailVars): RenderedMail {
  const missing = t.vars.filter((v) => vars[v] === undefined || vars[v] === null);
  if (missing.length)
    throw invalidData('mail.unknown_template', `Mail template ${t.name} needs ${missing.join(', ')}`, {
      template: t.name,
      missing,
    });
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
