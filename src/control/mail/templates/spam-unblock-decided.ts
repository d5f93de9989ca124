// R7.3, R7.5: from the 3rd port-25 block, staff decide on the unblock request: the client is
// told that the port is open again, or that the request is refused and why.
import type { MailTemplate } from '../render.ts';

export const spamUnblocked: MailTemplate = {
  name: 'spam.unblocked',
  vars: ['name', 'hostname'],
  sample: { name: 'Camille Martin', hostname: 'web1' },
  subject: {
    fr: 'Port 25 débloqué sur votre VPS {{hostname}}',
    en: 'Port 25 unblocked on your VPS {{hostname}}',
  },
  text: {
    fr: `Bonjour {{name}},

Notre équipe a accepté votre demande : le port 25 sortant de votre VPS {{hostname}} est de
nouveau ouvert. Une nouvelle identification de spam le bloquerait plus longtemps (article 7.4).

L'équipe infogere
`,
    en: `Hello {{name}},

Our staff accepted your request: outbound port 25 of your VPS {{hostname}} is open again. A
new spam identification would block it for longer (article 7.4).

The infogere team
`,
  },
  html: {
    fr: `<p>Bonjour {{name}},</p>
<p>Notre équipe a accepté votre demande : le port 25 sortant de votre VPS <strong>{{hostname}}</strong> est de nouveau ouvert. Une nouvelle identification de spam le bloquerait plus longtemps (article 7.4).</p>
<p>L'équipe infogere</p>
`,
    en: `<p>Hello {{name}},</p>
<p>Our staff accepted your request: outbound port 25 of your VPS <strong>{{hostname}}</strong> is open again. A new spam identification would block it for longer (article 7.4).</p>
<p>The infogere team</p>
`,
  },
};

export const spamUnblockRefused: MailTemplate = {
  name: 'spam.unblock_refused',
  vars: ['name', 'hostname', 'reason'],
  sample: { name: 'Camille Martin', hostname: 'web1', reason: 'Third block in two months.' },
  subject: {
    fr: 'Déblocage du port 25 refusé pour votre VPS {{hostname}}',
    en: 'Port 25 unblock refused for your VPS {{hostname}}',
  },
  text: {
    fr: `Bonjour {{name}},

À partir du 3e blocage, le contrat permet de refuser le déblocage du port 25 (article 7.5).
Notre équipe a refusé votre demande pour le VPS {{hostname}} :

{{reason}}

Le port 25 sortant reste bloqué ; le reste du trafic n'est pas touché. Pour en discuter,
ouvrez un ticket depuis votre espace client.

L'équipe infogere
`,
    en: `Hello {{name}},

From the 3rd block on, the contract allows a port-25 unblock to be refused (article 7.5). Our
staff refused your request for the VPS {{hostname}}:

{{reason}}

Outbound port 25 stays blocked; the rest of the traffic is untouched. To discuss it, open a
ticket from your client area.

The infogere team
`,
  },
  html: {
    fr: `<p>Bonjour {{name}},</p>
<p>À partir du 3e blocage, le contrat permet de refuser le déblocage du port 25 (article 7.5). Notre équipe a refusé votre demande pour le VPS <strong>{{hostname}}</strong> :</p>
<blockquote>{{reason}}</blockquote>
<p>Le port 25 sortant reste bloqué ; le reste du trafic n'est pas touché. Pour en discuter, ouvrez un ticket depuis votre espace client.</p>
<p>L'équipe infogere</p>
`,
    en: `<p>Hello {{name}},</p>
<p>From the 3rd block on, the contract allows a port-25 unblock to be refused (article 7.5). Our staff refused your request for the VPS <strong>{{hostname}}</strong>:</p>
<blockquote>{{reason}}</blockquote>
<p>Outbound port 25 stays blocked; the rest of the traffic is untouched. To discuss it, open a ticket from your client area.</p>
<p>The infogere team</p>
`,
  },
};
