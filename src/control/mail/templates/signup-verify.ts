// Sent at sign-up (and on request): the one-time link that proves the client's email address
// (R6.1). The token is in the URL's fragment, which browsers never send to a server.
import type { MailTemplate } from '../render.ts';

export const signupVerify: MailTemplate = {
  name: 'clients.signup_verify',
  vars: ['name', 'email', 'verifyUrl', 'expiresAt'],
  // The link verifies the address by itself: kept sealed, never in the stored copy.
  secretVars: ['verifyUrl'],
  sample: {
    name: 'Camille Martin',
    email: 'camille@example.org',
    verifyUrl: 'https://panel.example.net/verify#token=q3Zb8oT0pXr1sY2v',
    expiresAt: '4 mars 2026 à 10:00 (UTC)',
  },
  subject: {
    fr: 'Confirmez votre adresse email',
    en: 'Confirm your email address',
  },
  text: {
    fr: `Bonjour {{name}},

Vous venez de créer un compte client infogere avec l'adresse {{email}}. Pour la confirmer,
ouvrez ce lien :

  {{verifyUrl}}

Le lien sert une seule fois et expire le {{expiresAt}}. Tant que l'adresse n'est pas
confirmée, vous pouvez vous connecter et compléter votre identité, mais pas commander.

Si vous n'êtes pas à l'origine de cette inscription, ignorez ce message.

L'équipe infogere
`,
    en: `Hello {{name}},

You have just created an infogere client account with the address {{email}}. To confirm it,
open this link:

  {{verifyUrl}}

The link works once and expires on {{expiresAt}}. Until the address is confirmed you can log
in and complete your identity, but not order.

If you did not sign up, ignore this message.

The infogere team
`,
  },
};
