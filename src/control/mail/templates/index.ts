// Every mail template of the platform: one file per template in this folder, one line here.
// (Templates are data; see ../render.ts. A golden test renders each in French and English.)
import type { MailTemplate } from '../render.ts';
import { accountWelcome } from './account.welcome.ts';

export const templates: MailTemplate[] = [
  accountWelcome,
  // Other modules: add your template's line here.
];
