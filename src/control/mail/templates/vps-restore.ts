// R3.7: a whole-disk restore of the client's VPS: told before the VM stops, and after (restored
// and running again, or failed with the previous disk kept).
import type { MailTemplate } from '../render.ts';

const sample = {
  name: 'Camille Martin',
  hostname: 'web1',
  backupDate: '3 mars 2026 à 02:14 (heure de Paris)',
};

export const vpsRestoreStarted: MailTemplate = {
  name: 'vps.restore_started',
  vars: ['name', 'hostname', 'backupDate'],
  sample,
  subject: {
    fr: 'Restauration de votre VPS {{hostname}} : elle commence',
    en: 'Restore of your VPS {{hostname}}: starting',
  },
  text: {
    fr: `Bonjour {{name}},

La restauration de votre VPS {{hostname}} depuis la sauvegarde du {{backupDate}} commence : le
VPS s'arrête, son disque entier est réécrit depuis la sauvegarde, puis il redémarre. Tout ce qui
a été écrit sur le disque après cette sauvegarde sera perdu. Nous vous écrirons à la fin.

L'équipe infogere
`,
    en: `Hello {{name}},

The restore of your VPS {{hostname}} from the backup of {{backupDate}} is starting: the VPS
stops, its whole disk is rewritten from the backup, then it starts again. Anything written to the
disk after that backup will be lost. We will write to you when it is over.

The infogere team
`,
  },
  html: {
    fr: `<p>Bonjour {{name}},</p>
<p>La restauration de votre VPS <strong>{{hostname}}</strong> depuis la sauvegarde du <strong>{{backupDate}}</strong> commence : le VPS s'arrête, son disque entier est réécrit depuis la sauvegarde, puis il redémarre. Tout ce qui a été écrit sur le disque après cette sauvegarde sera perdu. Nous vous écrirons à la fin.</p>
<p>L'équipe infogere</p>
`,
    en: `<p>Hello {{name}},</p>
<p>The restore of your VPS <strong>{{hostname}}</strong> from the backup of <strong>{{backupDate}}</strong> is starting: the VPS stops, its whole disk is rewritten from the backup, then it starts again. Anything written to the disk after that backup will be lost. We will write to you when it is over.</p>
<p>The infogere team</p>
`,
  },
};

export const vpsRestoreDone: MailTemplate = {
  name: 'vps.restore_done',
  vars: ['name', 'hostname', 'backupDate'],
  sample,
  subject: {
    fr: 'Votre VPS {{hostname}} est restauré',
    en: 'Your VPS {{hostname}} is restored',
  },
  text: {
    fr: `Bonjour {{name}},

Le disque de votre VPS {{hostname}} a été restauré depuis la sauvegarde du {{backupDate}},
vérifié, et le VPS a redémarré.

L'équipe infogere
`,
    en: `Hello {{name}},

The disk of your VPS {{hostname}} was restored from the backup of {{backupDate}}, checked, and
the VPS has started again.

The infogere team
`,
  },
  html: {
    fr: `<p>Bonjour {{name}},</p>
<p>Le disque de votre VPS <strong>{{hostname}}</strong> a été restauré depuis la sauvegarde du <strong>{{backupDate}}</strong>, vérifié, et le VPS a redémarré.</p>
<p>L'équipe infogere</p>
`,
    en: `<p>Hello {{name}},</p>
<p>The disk of your VPS <strong>{{hostname}}</strong> was restored from the backup of <strong>{{backupDate}}</strong>, checked, and the VPS has started again.</p>
<p>The infogere team</p>
`,
  },
};

export const vpsRestoreFailed: MailTemplate = {
  name: 'vps.restore_failed',
  vars: ['name', 'hostname', 'backupDate'],
  sample,
  subject: {
    fr: 'Restauration de votre VPS {{hostname}} : échec, disque inchangé',
    en: 'Restore of your VPS {{hostname}}: failed, disk unchanged',
  },
  text: {
    fr: `Bonjour {{name}},

La restauration de votre VPS {{hostname}} depuis la sauvegarde du {{backupDate}} a échoué. Le
disque d'avant est conservé tel quel et le VPS a été redémarré s'il tournait. Notre équipe est
prévenue ; cette demande ne vous est pas décomptée si nous devons la refaire.

L'équipe infogere
`,
    en: `Hello {{name}},

The restore of your VPS {{hostname}} from the backup of {{backupDate}} failed. The previous disk
is kept as it was and the VPS was started again if it was running. Our team is told; if we have
to run it again, it is not counted against you.

The infogere team
`,
  },
  html: {
    fr: `<p>Bonjour {{name}},</p>
<p>La restauration de votre VPS <strong>{{hostname}}</strong> depuis la sauvegarde du <strong>{{backupDate}}</strong> a échoué. Le disque d'avant est conservé tel quel et le VPS a été redémarré s'il tournait. Notre équipe est prévenue ; cette demande ne vous est pas décomptée si nous devons la refaire.</p>
<p>L'équipe infogere</p>
`,
    en: `<p>Hello {{name}},</p>
<p>The restore of your VPS <strong>{{hostname}}</strong> from the backup of <strong>{{backupDate}}</strong> failed. The previous disk is kept as it was and the VPS was started again if it was running. Our team is told; if we have to run it again, it is not counted against you.</p>
<p>The infogere team</p>
`,
  },
};
