// R3.13: past the outbound quota of its billing cycle, the VPS is limited until the cycle
// ends; the client is told how much was sent, the limit, and when full speed comes back.
import type { MailTemplate } from '../render.ts';

export const trafficThrottled: MailTemplate = {
  name: 'traffic.throttled',
  vars: ['name', 'hostname', 'usedBytes', 'quotaBytes', 'rate', 'until'],
  sample: {
    name: 'Camille Martin',
    hostname: 'web1',
    usedBytes: '10.02 TB',
    quotaBytes: '10.00 TB',
    rate: '1 Mbit/s',
    until: '2026-04-01 09:00 UTC',
  },
  subject: {
    fr: 'Votre VPS {{hostname}} a dépassé son quota de trafic : débit limité',
    en: 'Your VPS {{hostname}} went over its traffic quota: bandwidth limited',
  },
  text: {
    fr: `Bonjour {{name}},

Votre VPS {{hostname}} a envoyé {{usedBytes}} depuis le début de la période de facturation en
cours, au-delà du quota de {{quotaBytes}} prévu par le contrat (trafic sortant, compté au
port du commutateur).

Comme le prévoit le contrat (article 3.13), son débit est limité à {{rate}} jusqu'à la fin de
la période, le {{until}}. Le débit garanti est rétabli automatiquement à cette date.

Vous suivez la consommation de votre VPS dans votre espace client.

L'équipe infogere
`,
    en: `Hello {{name}},

Your VPS {{hostname}} has sent {{usedBytes}} since the start of the current billing cycle,
above the {{quotaBytes}} quota of the contract (outbound traffic, counted at the switch
port).

As the contract provides (article 3.13), its bandwidth is limited to {{rate}} until the end of
the cycle, on {{until}}. The guaranteed bandwidth comes back automatically then.

You can follow your VPS's traffic in your client area.

The infogere team
`,
  },
  html: {
    fr: `<p>Bonjour {{name}},</p>
<p>Votre VPS <strong>{{hostname}}</strong> a envoyé <strong>{{usedBytes}}</strong> depuis le début de la période de facturation en cours, au-delà du quota de {{quotaBytes}} prévu par le contrat (trafic sortant, compté au port du commutateur).</p>
<p>Comme le prévoit le contrat (article 3.13), son débit est limité à <strong>{{rate}}</strong> jusqu'à la fin de la période, le <strong>{{until}}</strong>. Le débit garanti est rétabli automatiquement à cette date.</p>
<p>Vous suivez la consommation de votre VPS dans votre espace client.</p>
<p>L'équipe infogere</p>
`,
    en: `<p>Hello {{name}},</p>
<p>Your VPS <strong>{{hostname}}</strong> has sent <strong>{{usedBytes}}</strong> since the start of the current billing cycle, above the {{quotaBytes}} quota of the contract (outbound traffic, counted at the switch port).</p>
<p>As the contract provides (article 3.13), its bandwidth is limited to <strong>{{rate}}</strong> until the end of the cycle, on <strong>{{until}}</strong>. The guaranteed bandwidth comes back automatically then.</p>
<p>You can follow your VPS's traffic in your client area.</p>
<p>The infogere team</p>
`,
  },
};
