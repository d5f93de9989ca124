// Sent when a client account is created: where to log in. (No password in any mail.)
import type { MailTemplate } from '../render.ts';

export const accountWelcome: MailTemplate = {
  name: 'account.welcome',
  vars: ['name', 'email', 'loginUrl'],
  sample: {
    name: 'Camille Martin',
    email: 'camille@example.org',
    loginUrl: 'https://panel.example.net/login',
  },
  subject: {
    fr: 'Bienvenue chez infogere, {{name}}',
    en: 'Welcome to infogere, {{name}}',
  },
  text: {
    fr: `Bonjour {{name}},

Votre compte client infogere est ouvert. Vous vous connectez à votre espace avec l'adresse
{{email}} :

  {{loginUrl}}

Depuis cet espace, vous commandez et suivez vos serveurs privés virtuels, vos factures et
vos demandes d'assistance.

Si vous n'êtes pas à l'origine de cette inscription, répondez simplement à ce message.

L'équipe infogere
`,
    en: `Hello {{name}},

Your infogere client account is open. You log in to your area with the address {{email}}:

  {{loginUrl}}

From there you order and follow your virtual private servers, your invoices and your
support requests.

If you did not sign up, simply reply to this message.

The infogere team
`,
  },
  html: {
    fr: `<p>Bonjour {{name}},</p>
<p>Votre compte client infogere est ouvert. Vous vous connectez à votre espace avec l'adresse <strong>{{email}}</strong> :</p>
<p><a href="{{loginUrl}}">{{loginUrl}}</a></p>
<p>Depuis cet espace, vous commandez et suivez vos serveurs privés virtuels, vos factures et vos demandes d'assistance.</p>
<p>Si vous n'êtes pas à l'origine de cette inscription, répondez simplement à ce message.</p>
<p>L'équipe infogere</p>
`,
    en: `<p>Hello {{name}},</p>
<p>Your infogere client account is open. You log in to your area with the address <strong>{{email}}</strong>:</p>
<p><a href="{{loginUrl}}">{{loginUrl}}</a></p>
<p>From there you order and follow your virtual private servers, your invoices and your support requests.</p>
<p>If you did not sign up, simply reply to this message.</p>
<p>The infogere team</p>
`,
  },
};
