// R11.1 (and R11.2 when the client stopped the renewal): the contract ends at its expiry; the
// client is warned at the points the provider set (INFOGERE_TERM_WARNING_DAYS, "14,3" by
// default), with the date in its time zone, what the end means (R12.4: the VPS and its data are
// deleted), and how to keep the service (switch to subscription, R11.3, or resume the renewal).
import type { MailTemplate } from '../render.ts';

export const contractTermEnding: MailTemplate = {
  name: 'contract.term_ending',
  vars: ['name', 'hostname', 'plan', 'endsAt', 'daysLeft', 'howToKeep', 'contractUrl'],
  sample: {
    name: 'Camille Martin',
    hostname: 'web1',
    plan: 'VPS S',
    endsAt: '31 mars 2026 à 12:00 (heure de Paris)',
    daysLeft: 14,
    howToKeep:
      'Pour le conserver, passez-le en abonnement mensuel : il sera alors renouvelé chaque mois à partir de cette date.',
    contractUrl: 'https://panel.example.net/client/contracts/00000000-0000-0000-0000-000000000000',
  },
  subject: {
    fr: 'Votre VPS {{hostname}} : le contrat prend fin le {{endsAt}}',
    en: 'Your VPS {{hostname}}: the contract ends on {{endsAt}}',
  },
  text: {
    fr: `Bonjour {{name}},

Le contrat de votre serveur {{hostname}} (offre {{plan}}) prend fin dans {{daysLeft}} jour(s) :

  le {{endsAt}}

À cette date, le service s'arrête : le serveur est supprimé avec toutes ses données (disques,
sauvegardes, accès) et son adresse IP est rendue. Pensez à récupérer vos données avant.

{{howToKeep}}

Votre contrat, sa date de fin et les choix possibles :

  {{contractUrl}}

L'équipe infogere
`,
    en: `Hello {{name}},

The contract of your server {{hostname}} ({{plan}} plan) ends in {{daysLeft}} day(s):

  on {{endsAt}}

On that date the service stops: the server is deleted with all its data (disks, backups,
access) and its IP address is released. Remember to retrieve your data before then.

{{howToKeep}}

Your contract, its end date and your choices:

  {{contractUrl}}

The infogere team
`,
  },
  html: {
    fr: `<p>Bonjour {{name}},</p>
<p>Le contrat de votre serveur <strong>{{hostname}}</strong> (offre {{plan}}) prend fin dans {{daysLeft}} jour(s), le <strong>{{endsAt}}</strong>.</p>
<p>À cette date, le service s'arrête : le serveur est supprimé avec toutes ses données (disques, sauvegardes, accès) et son adresse IP est rendue. Pensez à récupérer vos données avant.</p>
<p>{{howToKeep}}</p>
<p>Votre contrat, sa date de fin et les choix possibles : <a href="{{contractUrl}}">{{contractUrl}}</a></p>
<p>L'équipe infogere</p>
`,
    en: `<p>Hello {{name}},</p>
<p>The contract of your server <strong>{{hostname}}</strong> ({{plan}} plan) ends in {{daysLeft}} day(s), on <strong>{{endsAt}}</strong>.</p>
<p>On that date the service stops: the server is deleted with all its data (disks, backups, access) and its IP address is released. Remember to retrieve your data before then.</p>
<p>{{howToKeep}}</p>
<p>Your contract, its end date and your choices: <a href="{{contractUrl}}">{{contractUrl}}</a></p>
<p>The infogere team</p>
`,
  },
};
