// R3.12: a plan change that cannot be applied live needs a restart of the VPS; the client is
// told beforehand, with the instant of the restart and the change's deadline.
import type { MailTemplate } from '../render.ts';

export const vpsPlanChangeReboot: MailTemplate = {
  name: 'vps.plan_change_reboot',
  vars: ['name', 'hostname', 'plan', 'rebootAt', 'dueAt'],
  sample: {
    name: 'Camille Martin',
    hostname: 'web1',
    plan: 'VPS M',
    rebootAt: '2026-03-02 10:15 UTC',
    dueAt: '2026-03-03 10:00 UTC',
  },
  subject: {
    fr: 'Votre VPS {{hostname}} redémarrera le {{rebootAt}} pour son changement d’offre',
    en: 'Your VPS {{hostname}} will restart on {{rebootAt}} for its plan change',
  },
  text: {
    fr: `Bonjour {{name}},

Le changement de votre VPS {{hostname}} vers l'offre {{plan}} est en cours. Une partie de la
nouvelle configuration ne peut pas s'appliquer à chaud : votre VPS sera redémarré le
{{rebootAt}}.

Pendant le redémarrage, votre VPS sera indisponible quelques instants. Enregistrez votre travail
d'ici là. Le disque agrandi est étendu automatiquement au démarrage.

Comme le prévoit le contrat (article 3.12), le changement sera appliqué au plus tard le
{{dueAt}}.

L'équipe infogere
`,
    en: `Hello {{name}},

The change of your VPS {{hostname}} to the {{plan}} plan is under way. Part of the new
configuration cannot be applied live: your VPS will restart on {{rebootAt}}.

During the restart your VPS will be unavailable for a short while. Save your work before then.
A grown disk is extended automatically at boot.

As the contract provides (article 3.12), the change will be applied by {{dueAt}} at the latest.

The infogere team
`,
  },
  html: {
    fr: `<p>Bonjour {{name}},</p>
<p>Le changement de votre VPS <strong>{{hostname}}</strong> vers l'offre <strong>{{plan}}</strong> est en cours. Une partie de la nouvelle configuration ne peut pas s'appliquer à chaud : votre VPS sera redémarré le <strong>{{rebootAt}}</strong>.</p>
<p>Pendant le redémarrage, votre VPS sera indisponible quelques instants. Enregistrez votre travail d'ici là. Le disque agrandi est étendu automatiquement au démarrage.</p>
<p>Comme le prévoit le contrat (article 3.12), le changement sera appliqué au plus tard le {{dueAt}}.</p>
<p>L'équipe infogere</p>
`,
    en: `<p>Hello {{name}},</p>
<p>The change of your VPS <strong>{{hostname}}</strong> to the <strong>{{plan}}</strong> plan is under way. Part of the new configuration cannot be applied live: your VPS will restart on <strong>{{rebootAt}}</strong>.</p>
<p>During the restart your VPS will be unavailable for a short while. Save your work before then. A grown disk is extended automatically at boot.</p>
<p>As the contract provides (article 3.12), the change will be applied by {{dueAt}} at the latest.</p>
<p>The infogere team</p>
`,
  },
};
