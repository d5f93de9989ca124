// R3.12: the plan change is applied; the client is told the new configuration and the price
// its future renewals bill.
import type { MailTemplate } from '../render.ts';

export const vpsPlanChanged: MailTemplate = {
  name: 'vps.plan_changed',
  vars: ['name', 'hostname', 'plan', 'vcpus', 'memory', 'disk', 'price'],
  sample: {
    name: 'Camille Martin',
    hostname: 'web1',
    plan: 'VPS M',
    vcpus: '2',
    memory: '4096 MiB',
    disk: '80 GiB',
    price: '19,90 €',
  },
  subject: {
    fr: 'Votre VPS {{hostname}} est passé à l’offre {{plan}}',
    en: 'Your VPS {{hostname}} is now on the {{plan}} plan',
  },
  text: {
    fr: `Bonjour {{name}},

Le changement d'offre de votre VPS {{hostname}} est appliqué : {{plan}}, {{vcpus}} vCPU,
{{memory}} de mémoire, {{disk}} de disque. Si votre VPS était arrêté, la nouvelle configuration
prend effet à son prochain démarrage ; le système de fichiers est étendu automatiquement.

Les prochains renouvellements sont facturés au prix de la nouvelle offre : {{price}} HT par mois.

L'équipe infogere
`,
    en: `Hello {{name}},

The plan change of your VPS {{hostname}} is applied: {{plan}}, {{vcpus}} vCPU, {{memory}} of
memory, {{disk}} of disk. If your VPS was stopped, the new configuration takes effect at its next
start; the filesystem is extended automatically.

Future renewals are billed at the new plan's price: {{price}} excluding tax per month.

The infogere team
`,
  },
  html: {
    fr: `<p>Bonjour {{name}},</p>
<p>Le changement d'offre de votre VPS <strong>{{hostname}}</strong> est appliqué : <strong>{{plan}}</strong>, {{vcpus}} vCPU, {{memory}} de mémoire, {{disk}} de disque. Si votre VPS était arrêté, la nouvelle configuration prend effet à son prochain démarrage ; le système de fichiers est étendu automatiquement.</p>
<p>Les prochains renouvellements sont facturés au prix de la nouvelle offre : <strong>{{price}}</strong> HT par mois.</p>
<p>L'équipe infogere</p>
`,
    en: `<p>Hello {{name}},</p>
<p>The plan change of your VPS <strong>{{hostname}}</strong> is applied: <strong>{{plan}}</strong>, {{vcpus}} vCPU, {{memory}} of memory, {{disk}} of disk. If your VPS was stopped, the new configuration takes effect at its next start; the filesystem is extended automatically.</p>
<p>Future renewals are billed at the new plan's price: <strong>{{price}}</strong> excluding tax per month.</p>
<p>The infogere team</p>
`,
  },
};
