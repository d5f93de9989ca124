// R12.4: the final email: the contract has ended and the VPS was deleted with all its data.
import type { MailTemplate } from '../render.ts';

export const contractTerminated: MailTemplate = {
  name: 'contract.terminated',
  vars: ['name', 'hostname', 'cause', 'deletedAt'],
  sample: {
    name: 'Camille Martin',
    hostname: 'web1',
    cause: 'votre lettre recommandée reçue le 2 mars 2026',
    deletedAt: '31 mars 2026 à 10:02 (UTC)',
  },
  subject: {
    fr: 'Votre contrat est terminé : le VPS {{hostname}} a été supprimé',
    en: 'Your contract has ended: the VPS {{hostname}} was deleted',
  },
  text: {
    fr: `Bonjour {{name}},

Le contrat de votre VPS {{hostname}} est terminé ({{cause}}).

Le {{deletedAt}}, le VPS a été supprimé avec toutes ses données : la machine virtuelle, son
disque (effacé), ses sauvegardes et ses codes d'accès. Son adresse IPv4 a été retirée.
Ces données ne peuvent plus être récupérées.

Merci de votre confiance.

L'équipe infogere
`,
    en: `Hello {{name}},

The contract of your VPS {{hostname}} has ended ({{cause}}).

On {{deletedAt}} the VPS was deleted with all its data: the virtual machine, its disk (wiped),
its backups and its access codes. Its IPv4 address was withdrawn. This data can no longer be
recovered.

Thank you for your trust.

The infogere team
`,
  },
};
