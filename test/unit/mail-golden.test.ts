// Golden mail templates: every registered template (src/control/mail/templates/index.ts, plus
// test.hello, registered here only) rendered in French and English with the sample values it
// declares, compared with test/golden/mail/<template>.<lang>.txt. UPDATE_GOLDEN=1 rewrites them
// (review the diff before committing): what the client reads is reviewed like code (R3.1 and
// every notice).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { renderTemplate, TemplateRegistry, type MailTemplate } from '../../src/control/mail/render.ts';
import { templates } from '../../src/control/mail/templates/index.ts';

const update = process.env.UPDATE_GOLDEN === '1';
const dir = path.join(import.meta.dirname, '..', 'golden', 'mail');

export const testHello: MailTemplate = {
  name: 'test.hello',
  vars: ['name', 'count'],
  sample: { name: 'Zoé <Lefèvre> & fils', count: 3 },
  subject: { fr: 'Bonjour {{name}}', en: 'Hello {{name}}' },
  text: {
    fr: 'Bonjour {{name}},\n\nVous avez {{count}} messages.\n',
    en: 'Hello {{name}},\n\nYou have {{count}} messages.\n',
  },
  html: {
    fr: '<p>Bonjour {{name}}, vous avez {{count}} messages.</p>\n',
    en: '<p>Hello {{name}}, you have {{count}} messages.</p>\n',
  },
};

function golden(name: string, actual: string): void {
  const file = path.join(dir, name);
  if (update || !existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, actual);
    if (!update) assert.fail(`${file} was missing: written, review it and rerun`);
  }
  assert.equal(actual, readFileSync(file, 'utf8'));
}

const registry = new TemplateRegistry();
for (const t of templates) registry.register(t);
registry.register(testHello);

describe('mail templates, golden, in French and English', () => {
  for (const t of registry.all()) {
    for (const lang of ['fr', 'en'] as const) {
      it(`${t.name} (${lang})`, () => {
        assert.ok(t.sample, `${t.name} declares no sample values (MailTemplate.sample)`);
        const r = renderTemplate(t, lang, t.sample);
        assert.doesNotMatch(r.subject + r.text + (r.html ?? ''), /\{\{|\}\}/, 'every placeholder is filled');
        golden(
          `${t.name}.${lang}.txt`,
          `Subject: ${r.subject}\n\n--- text ---\n${r.text}${r.html === null ? '' : `\n--- html ---\n${r.html}`}`,
        );
      });
    }
  }
});
