// R5.1: the measure on the client's VPS (or account) is lifted; the service is back.
import type { MailTemplate } from '../render.ts';

export const sanctionLifted: MailTemplate = {
  name: 'sanction.lifted',
  vars: ['name', 'target', 'nature'],
  sample: {
    name: 'Camille Martin',
    target: 'votre VPS web1',
    nature: 'suspension (serveur mis en pause, réseau coupé)',
  },
  subject: {
    fr: 'Mesure levée sur {{target}}',
    en: 'Measure lifted on {{target}}',
  },
  text: {
    fr: `Bonjour {{name}},

La mesure appliquée à {{target}} ({{nature}}) est levée : le service est rétabli.

L'équipe infogere
`,
    en: `Hello {{name}},

The measure applied to {{target}} ({{nature}}) is lifted: the service is back.

The infogere team
`,
  },
  html: {
    fr: `<p>Bonjour {{name}},</p>
<p>La mesure appliquée à {{target}} ({{nature}}) est levée : le service est rétabli.</p>
<p>L'équipe infogere</p>
`,
    en: `<p>Hello {{name}},</p>
<p>The measure applied to {{target}} ({{nature}}) is lifted: the service is back.</p>
<p>The infogere team</p>
`,
  },
};
