// R3.14, R5.1, R6.4, R12.5: a measure on the client's VPS (or account): its nature, the
// reason, its expected duration or the condition to lift it, and what the client must do
// (R6.4: a reinstall for an isolation). Not sent when staff withhold it (authority orders).
import type { MailTemplate } from '../render.ts';

export const sanctionApplied: MailTemplate = {
  name: 'sanction.applied',
  vars: ['name', 'target', 'nature', 'reason', 'duration', 'action'],
  sample: {
    name: 'Camille Martin',
    target: 'votre VPS web1',
    nature: 'restriction (ports ou protocoles bloqués) : TCP port 25 sortant',
    reason: 'Envoi de spam constaté depuis le serveur (rapport Spamhaus du 3 mars)',
    duration: "jusqu'au 2026-03-10 09:00 UTC",
    action:
      'Corrigez la cause indiquée ci-dessus et répondez à ce courriel ou ouvrez un ticket : le service est rétabli une fois le problème corrigé (article 5.1).',
  },
  subject: {
    fr: 'Mesure appliquée à {{target}} : {{nature}}',
    en: 'Measure applied to {{target}}: {{nature}}',
  },
  text: {
    fr: `Bonjour {{name}},

Pour protéger l'infrastructure et le respect du contrat (articles 3.14, 5.1 et 12.5), nous
avons appliqué une mesure à {{target}}.

Nature : {{nature}}
Motif : {{reason}}
Durée prévue : {{duration}}

{{action}}

Les mesures en vigueur sont affichées sur la page de votre VPS dans votre espace client.

L'équipe infogere
`,
    en: `Hello {{name}},

To protect the infrastructure and the terms of the contract (articles 3.14, 5.1 and 12.5),
we have applied a measure to {{target}}.

Nature: {{nature}}
Reason: {{reason}}
Expected duration: {{duration}}

{{action}}

The measures in force are shown on your VPS's page in your client area.

The infogere team
`,
  },
  html: {
    fr: `<p>Bonjour {{name}},</p>
<p>Pour protéger l'infrastructure et le respect du contrat (articles 3.14, 5.1 et 12.5), nous avons appliqué une mesure à {{target}}.</p>
<ul><li>Nature : <strong>{{nature}}</strong></li><li>Motif : {{reason}}</li><li>Durée prévue : <strong>{{duration}}</strong></li></ul>
<p>{{action}}</p>
<p>Les mesures en vigueur sont affichées sur la page de votre VPS dans votre espace client.</p>
<p>L'équipe infogere</p>
`,
    en: `<p>Hello {{name}},</p>
<p>To protect the infrastructure and the terms of the contract (articles 3.14, 5.1 and 12.5), we have applied a measure to {{target}}.</p>
<ul><li>Nature: <strong>{{nature}}</strong></li><li>Reason: {{reason}}</li><li>Expected duration: <strong>{{duration}}</strong></li></ul>
<p>{{action}}</p>
<p>The measures in force are shown on your VPS's page in your client area.</p>
<p>The infogere team</p>
`,
  },
};
