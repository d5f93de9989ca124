// R7.2, R7.4: spam identified from the VPS's port-25 statistics: the client is told that port
// 25 is blocked, for how long at least, the statistics (numbers only, never any mail, R7.6),
// what to do, and what the unblock request will do (R7.3, R7.5).
import type { MailTemplate } from '../render.ts';

export const spamBlocked: MailTemplate = {
  name: 'spam.blocked',
  vars: ['name', 'hostname', 'rung', 'duration', 'minUntil', 'stats', 'nextStep'],
  sample: {
    name: 'Camille Martin',
    hostname: 'web1',
    rung: '1',
    duration: '1 hour',
    minUntil: '2026-04-01 10:00 UTC',
    stats:
      '- New port-25 connections (last minute): 4\n- Distinct destination servers (last hour): 12\n- Messages analysed (last 10 minutes): 40\n- of which scored as spam: 30',
    nextStep: 'The port is unblocked as soon as you ask.',
  },
  subject: {
    fr: 'Envoi de spam détecté depuis votre VPS {{hostname}} : port 25 bloqué',
    en: 'Spam detected from your VPS {{hostname}}: port 25 blocked',
  },
  text: {
    fr: `Bonjour {{name}},

Nos contrôles automatiques du trafic sortant vers le port 25 (SMTP) ont identifié un envoi de
spam depuis votre VPS {{hostname}}. Comme le prévoit le contrat (article 7.2), le port 25
sortant de ce VPS est bloqué ; le reste du trafic n'est pas touché.

Il s'agit du blocage n° {{rung}} sur 12 mois glissants. Il dure au moins {{duration}}, jusqu'au
{{minUntil}} ; chaque nouvelle identification bloque plus longtemps (article 7.4).

Les statistiques qui ont déclenché le blocage (nous ne gardons aucun message, seulement ces
chiffres) :
{{stats}}

Que faire : cherchez la cause (compte de messagerie compromis, formulaire ou script
détourné, logiciel malveillant), corrigez-la, puis demandez le déblocage depuis votre espace
client, page du VPS, rubrique « Port 25 ». {{nextStep}}

L'équipe infogere
`,
    en: `Hello {{name}},

Our automatic checks of outbound traffic to port 25 (SMTP) identified spam sent from your VPS
{{hostname}}. As the contract provides (article 7.2), outbound port 25 of this VPS is blocked;
the rest of its traffic is untouched.

This is block number {{rung}} over a rolling 12 months. It lasts at least {{duration}}, until
{{minUntil}}; each new identification blocks for longer (article 7.4).

The statistics that caused the block (we keep no message, only these numbers):
{{stats}}

What to do: find the cause (a compromised mail account, a misused form or script, malware),
fix it, then ask for the unblock from your client area, on the VPS's page, under "Port 25".
{{nextStep}}

The infogere team
`,
  },
  html: {
    fr: `<p>Bonjour {{name}},</p>
<p>Nos contrôles automatiques du trafic sortant vers le port 25 (SMTP) ont identifié un envoi de spam depuis votre VPS <strong>{{hostname}}</strong>. Comme le prévoit le contrat (article 7.2), le port 25 sortant de ce VPS est bloqué ; le reste du trafic n'est pas touché.</p>
<p>Il s'agit du blocage n° {{rung}} sur 12 mois glissants. Il dure au moins <strong>{{duration}}</strong>, jusqu'au <strong>{{minUntil}}</strong> ; chaque nouvelle identification bloque plus longtemps (article 7.4).</p>
<p>Les statistiques qui ont déclenché le blocage (nous ne gardons aucun message, seulement ces chiffres) :</p>
<pre>{{stats}}</pre>
<p>Que faire : cherchez la cause (compte de messagerie compromis, formulaire ou script détourné, logiciel malveillant), corrigez-la, puis demandez le déblocage depuis votre espace client, page du VPS, rubrique « Port 25 ». {{nextStep}}</p>
<p>L'équipe infogere</p>
`,
    en: `<p>Hello {{name}},</p>
<p>Our automatic checks of outbound traffic to port 25 (SMTP) identified spam sent from your VPS <strong>{{hostname}}</strong>. As the contract provides (article 7.2), outbound port 25 of this VPS is blocked; the rest of its traffic is untouched.</p>
<p>This is block number {{rung}} over a rolling 12 months. It lasts at least <strong>{{duration}}</strong>, until <strong>{{minUntil}}</strong>; each new identification blocks for longer (article 7.4).</p>
<p>The statistics that caused the block (we keep no message, only these numbers):</p>
<pre>{{stats}}</pre>
<p>What to do: find the cause (a compromised mail account, a misused form or script, malware), fix it, then ask for the unblock from your client area, on the VPS's page, under "Port 25". {{nextStep}}</p>
<p>The infogere team</p>
`,
  },
};
