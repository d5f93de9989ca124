// R3.1: when the provider validates an order, the access codes go to the client by email,
// securely: hostname, IPv4, user name and a one-time link to reveal the initial password
// (never the password itself in the mail), which must be changed at first login.
import type { MailTemplate } from '../render.ts';

export const vpsAccessCodes: MailTemplate = {
  name: 'vps.access_codes',
  vars: ['name', 'hostname', 'ipv4', 'username', 'revealUrl', 'expiresAt'],
  // The link reveals the password by itself: kept sealed, never in the stored copy.
  secretVars: ['revealUrl'],
  sample: {
    name: 'Camille Martin',
    hostname: 'web1',
    ipv4: '203.0.113.10',
    username: 'camille',
    revealUrl: 'https://panel.example.net/access#token=q3Zb8oT0pXr1sY2v',
    expiresAt: '4 mars 2026 à 10:00 (UTC)',
  },
  subject: {
    fr: 'Votre VPS {{hostname}} est prêt : vos codes d’accès',
    en: 'Your VPS {{hostname}} is ready: your access codes',
  },
  text: {
    fr: `Bonjour {{name}},

Votre VPS infogéré est en service.

  Nom d'hôte :      {{hostname}}
  Adresse IPv4 :    {{ipv4}}
  Utilisateur SSH : {{username}}

Votre mot de passe initial ne figure pas dans ce message. Pour l'afficher, ouvrez ce lien
(une seule fois, avant le {{expiresAt}}) :

  {{revealUrl}}

Connectez-vous ensuite avec : ssh {{username}}@{{ipv4}}
Vous devrez changer ce mot de passe à la première connexion.

Le VPS est infogéré : nous en restons l'unique administrateur (root). Pour toute tâche
d'administration, ouvrez un ticket depuis votre espace client.

L'équipe infogere
`,
    en: `Hello {{name}},

Your managed VPS is up.

  Hostname:      {{hostname}}
  IPv4 address:  {{ipv4}}
  SSH user:      {{username}}

Your initial password is not in this message. To see it, open this link (once, before
{{expiresAt}}):

  {{revealUrl}}

Then log in with: ssh {{username}}@{{ipv4}}
You will have to change this password at first login.

The VPS is managed: we remain its only administrator (root). For any administration task,
open a ticket from your client area.

The infogere team
`,
  },
};
