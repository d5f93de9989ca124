// Sent to the owner of an account that sees repeated failed logins (docs/security.md): at most once per
// throttle window. The account is not locked (an attacker must not be able to lock it); the
// addresses that keep failing are slowed down instead. The owner is told and told what to check.
import type { MailTemplate } from '../render.ts';

export const authLoginFailures: MailTemplate = {
  name: 'auth.login_failures',
  vars: ['name', 'email', 'failures', 'minutes', 'at'],
  sample: {
    name: 'Camille Martin',
    email: 'camille@example.org',
    failures: 5,
    minutes: 15,
    at: '4 mars 2026 à 10:00 (heure de Paris)',
  },
  subject: {
    fr: 'Tentatives de connexion échouées sur votre compte',
    en: 'Failed login attempts on your account',
  },
  text: {
    fr: `Bonjour {{name}},

Nous avons compté {{failures}} tentatives de connexion échouées sur votre compte {{email}}
au cours des {{minutes}} dernières minutes (la dernière le {{at}}).

Si c'était vous, il n'y a rien à faire. Sinon, quelqu'un essaie peut-être de deviner votre
mot de passe. Votre compte n'est pas bloqué : vous pouvez toujours vous connecter, et les
adresses d'où viennent ces échecs sont ralenties. Vérifiez que votre mot de passe est long et
qu'il ne sert nulle part ailleurs, et activez la double authentification (page « Compte et
sécurité ») si ce n'est pas déjà fait.

Vous ne recevrez pas d'autre message à ce sujet avant {{minutes}} minutes.

L'équipe infogere
`,
    en: `Hello {{name}},

We counted {{failures}} failed login attempts on your account {{email}} in the last
{{minutes}} minutes (the latest on {{at}}).

If it was you, there is nothing to do. If not, someone may be trying to guess your password.
Your account is not locked: you can still log in, and the addresses these failures come from
are slowed down. Make sure your password is long and used nowhere else, and turn on two-factor
authentication (page "Account & security") if it is not on yet.

You will not get another message about this for {{minutes}} minutes.

The infogere team
`,
  },
};
