// Mail templates and the outbox's pure rules (issue 5 item 6, R3.1; every notice).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { messageIdDomain, retryDelayMs, MAX_ATTEMPTS } from '../../src/control/services/mail.ts';
import {
  checkTemplate,
  escapeHtml,
  fillSecrets,
  markersIn,
  renderForStorage,
  renderTemplate,
  TemplateRegistry,
  type MailTemplate,
} from '../../src/control/mail/render.ts';
import { templates } from '../../src/control/mail/templates/index.ts';
import { csvCell, noticesCsv } from '../../src/control/routes/mail.ts';
import { contentHash } from '../../src/control/repositories/notices.ts';

const base: MailTemplate = {
  name: 'test.hello',
  vars: ['name'],
  subject: { fr: 'Bonjour {{name}}', en: 'Hello {{ name }}' },
  text: { fr: 'Bonjour {{name}}', en: 'Hello {{name}}' },
  html: { fr: '<b>{{name}}</b>', en: '<b>{{name}}</b>' },
};

describe('templates', () => {
  it('fills {{var}} (spaces allowed), escapes it in HTML only, and keeps the subject on one line', () => {
    const r = renderTemplate(base, 'en', { name: 'A <b> & "c"\r\nBcc: x@y' });
    assert.equal(r.subject, 'Hello A <b> & "c" Bcc: x@y');
    assert.equal(r.text, 'Hello A <b> & "c"\r\nBcc: x@y');
    assert.equal(r.html, '<b>A &lt;b&gt; &amp; &quot;c&quot;\r\nBcc: x@y</b>');
    assert.equal(renderTemplate(base, 'fr', { name: 7 }).subject, 'Bonjour 7');
    assert.equal(renderTemplate({ ...base, html: undefined }, 'fr', { name: 'x' }).html, null);
  });

  it('a missing variable is refused with mail.unknown_template (no half-filled mail)', () => {
    assert.throws(() => renderTemplate(base, 'fr', {}), {
      code: 'mail.unknown_template',
      kind: 'invalid_data',
      message: /needs name/,
    });
  });

  it('a template is checked when registered: name, both languages, declared variables, samples, duplicates', () => {
    assert.throws(() => checkTemplate({ ...base, name: 'Hello' }), /module\.what/);
    assert.throws(() => checkTemplate({ ...base, text: { fr: 'x', en: '' } }), /text\.en is empty/);
    assert.throws(
      () => checkTemplate({ ...base, text: { fr: '{{other}}', en: 'x' } }),
      /uses \{\{other\}\}, not in vars/,
    );
    assert.throws(() => checkTemplate({ ...base, sample: {} }), /sample lacks name/);
    const reg = new TemplateRegistry();
    reg.register(base);
    assert.throws(() => reg.register(base), /registered twice/);
    assert.throws(() => reg.get('no.such'), { code: 'mail.unknown_template' });
  });

  it('escapeHtml', () =>
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;'));
});

describe('one-time secrets in templates (R3.1, R6.1)', () => {
  const withLink: MailTemplate = {
    name: 'test.link',
    vars: ['name', 'url'],
    secretVars: ['url'],
    subject: { fr: 'Lien pour {{name}}', en: 'Link for {{name}}' },
    text: { fr: '{{name}} : {{url}}', en: '{{name}}: {{url}}' },
    html: { fr: '<a href="{{url}}">{{name}}</a>', en: '<a href="{{url}}">{{name}}</a>' },
  };
  const url = 'https://p.example/verify#token=abc&x=<1>';

  it('the stored copy has the marker where the secret was; filling it gives back exactly what renderTemplate renders (HTML escaped)', () => {
    const { redacted, secrets } = renderForStorage(withLink, 'en', { name: 'Ana', url });
    assert.equal(redacted.text, 'Ana: ⟦withheld:url⟧');
    assert.equal(redacted.html, '<a href="⟦withheld:url⟧">Ana</a>');
    assert.deepEqual(secrets, { url });
    assert.deepEqual(markersIn(redacted), ['url']);
    assert.deepEqual(fillSecrets(redacted, secrets), renderTemplate(withLink, 'en', { name: 'Ana', url }));
    assert.throws(() => fillSecrets(redacted, {}), /needs the secret url/);
  });

  it('another value cannot forge a marker (its brackets become plain ones), nor carry a token-like link', () => {
    const { redacted } = renderForStorage(withLink, 'fr', { name: '⟦withheld:url⟧', url });
    assert.equal(redacted.text, '[withheld:url] : ⟦withheld:url⟧');
    assert.deepEqual(markersIn(redacted), ['url']);
    assert.throws(() => renderForStorage(withLink, 'fr', { name: 'https://x.example/?token=1', url }), {
      code: 'mail.secret_in_clear',
    });
  });

  it('a secret must be declared, may not be in the subject, and templates may not use the marker brackets', () => {
    assert.throws(() => checkTemplate({ ...withLink, secretVars: ['nope'] }), /secret nope is not in vars/);
    assert.throws(
      () => checkTemplate({ ...withLink, subject: { fr: '{{url}}', en: 'x' } }),
      /may not be in the subject/,
    );
    assert.throws(() => checkTemplate({ ...base, text: { fr: '⟦x⟧', en: 'x' } }), /marker brackets/);
  });

  it('every template whose sample holds a one-time link declares it secret (sign-up verification, access codes)', () => {
    const secretOnes = templates.filter((t) => (t.secretVars ?? []).length > 0).map((t) => t.name);
    assert.deepEqual(secretOnes.sort(), ['clients.signup_verify', 'vps.access_codes']);
    for (const t of templates) {
      const stored = renderForStorage(t, 'fr', t.sample!);
      assert.doesNotMatch(`${stored.redacted.text}${stored.redacted.html ?? ''}`, /token=/, t.name);
    }
  });
});

describe('outbox rules', () => {
  it('backoff: 1 min, 2, 4, … capped at 1 h', () => {
    const minutes = Array.from({ length: MAX_ATTEMPTS }, (_, i) => retryDelayMs(i + 1) / 60_000);
    assert.deepEqual(minutes.slice(0, 8), [1, 2, 4, 8, 16, 32, 60, 60]);
  });

  it('the Message-ID domain is the sender’s', () => {
    assert.equal(messageIdDomain('infogere <noreply@Mail.Example.net>'), 'mail.example.net');
    assert.equal(messageIdDomain('ops@example.org'), 'example.org');
    assert.equal(messageIdDomain('no address'), 'infogere.invalid');
  });

  it('the content hash changes with any part of the mail', () => {
    const a = contentHash({ subject: 's', text: 't', html: null });
    assert.equal(a, contentHash({ subject: 's', text: 't', html: null }));
    assert.notEqual(a, contentHash({ subject: 's', text: 't ', html: null }));
    assert.notEqual(a, contentHash({ subject: 's', text: 't', html: '' }));
  });

  it('CSV cells are quoted per RFC 4180 and formulas are defused', () => {
    assert.equal(csvCell('plain'), 'plain');
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
    assert.equal(csvCell(null), '');
    const csv = noticesCsv([]);
    assert.equal(csv.split('\r\n')[0]!.split(',').length, 15);
  });
});
