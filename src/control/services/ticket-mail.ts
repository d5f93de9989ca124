// Ticket mails (R4.3): every message the client should read goes through the outbox (FR/EN
// templates), threaded under the ticket's first mail (In-Reply-To/References), with the ticket's
// signed reply address as Reply-To: `support+<ticket id><HMAC>@<domain>` (the MAC under a key
// derived from the master key, SecretBox.mac), so a reply is matched by that address, never by
// its subject. Internal notes are never mailed.
import { parseReplyToken, replyTokenOf } from '../../domain/tickets.ts';
import type { Db } from '../db/database.ts';
import { findRecipient } from '../mail/recipients.ts';
import { activeUserContact } from '../repositories/recipients.ts';
import { SYSTEM_SCOPE } from '../repositories/scope.ts';
import type { TicketRow } from '../repositories/tickets.ts';
import { getAccount } from '../repositories/users.ts';
import type { ServiceContext } from './context.ts';
import { messageIdDomain, type MailService } from './mail.ts';
import type { BalanceView } from './support-ledger.ts';

const MAC_PURPOSE = 'ticket-reply-address';

export function createTicketMail(ctx: ServiceContext, mail: MailService) {
  const domain = ctx.config.supportMailDomain ?? messageIdDomain(ctx.config.mailFrom);
  const macOf = (ticketId: string) => ctx.secrets.mac(MAC_PURPOSE, ticketId.toLowerCase());
  const replyAddress = (ticketId: string) => `support+${replyTokenOf(ticketId, macOf(ticketId))}@${domain}`;
  const clientUrl = (t: TicketRow) => `${ctx.config.publicUrl}/client/tickets/${t.id}`;

  /** The client told about its ticket: who opened it when it was a client user, else the account's contact. */
  async function toClient(
    tx: Db,
    t: TicketRow,
    template: string,
    vars: Record<string, string | number>,
    reason: string,
  ) {
    const to = await findRecipient(tx, t.account_id, {
      userId: t.opened_by_kind === 'client' ? t.opened_by : null,
    });
    if (!to) return null;
    const r = await mail.send(tx, {
      to: to.to,
      template,
      language: to.language,
      vars: { name: to.name, number: t.number, subject: t.subject, ticketUrl: clientUrl(t), ...vars },
      accountId: t.account_id,
      reason,
      replyTo: replyAddress(t.id),
      ...(t.thread_message_id ? { inReplyTo: t.thread_message_id } : {}),
    });
    return { ...r, language: to.language };
  }

  return {
    replyAddress,

    /** The ticket a reply address names, when its MAC is right; null otherwise (forged, altered, another domain). */
    ticketOfAddress(address: string): string | null {
      const m = /^support\+([0-9a-fA-F]+)@(.+)$/.exec(address.trim());
      if (!m || m[2]!.toLowerCase() !== domain.toLowerCase()) return null;
      const parsed = parseReplyToken(m[1]!);
      if (!parsed) return null;
      const expected = replyTokenOf(parsed.ticketId, macOf(parsed.ticketId)).slice(32);
      // Constant-time enough for a 96-bit tag compared once per mail; both are hex of equal length.
      let diff = 0;
      for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ parsed.mac.charCodeAt(i);
      return diff === 0 ? parsed.ticketId : null;
    },

    /** The ticket is open: the client gets its number and first message; returns the thread's Message-ID. */
    async opened(tx: Db, t: TicketRow, body: string): Promise<string | null> {
      const r = await toClient(tx, t, 'ticket.opened', { body }, 'R4.3 ticket opened');
      return r?.messageId ?? null;
    },

    /** A staff or platform message: mailed with the month's balance on an admin request (R3.10). */
    async reply(tx: Db, t: TicketRow, body: string, balance: BalanceView | null) {
      const to = await findRecipient(tx, t.account_id, {
        userId: t.opened_by_kind === 'client' ? t.opened_by : null,
      });
      const lang = to?.language ?? 'fr';
      const none =
        lang === 'fr'
          ? 'non décompté (incident ou demande hors temps inclus)'
          : 'not counted (incident or request outside the included time)';
      await toClient(
        tx,
        t,
        'ticket.reply',
        { body, balance: balance ? balance.text[lang] : none },
        'R4.3 answer on a ticket',
      );
    },

    /** The client answered: the assignee, if any, is told. */
    async clientReplied(tx: Db, t: TicketRow, body: string) {
      if (!t.assignee_id) return;
      const staff = await activeUserContact(tx, t.assignee_id);
      if (!staff) return;
      const account = await getAccount(tx, SYSTEM_SCOPE, t.account_id).catch(() => undefined);
      await mail.send(tx, {
        to: staff.to,
        template: 'ticket.client_replied',
        language: staff.language,
        vars: {
          number: t.number,
          subject: t.subject,
          account: account?.name ?? '',
          body,
          ticketUrl: `${ctx.config.publicUrl}/console/tickets/${t.id}`,
        },
        accountId: null,
        reason: 'R4.3 the client answered an assigned ticket',
      });
    },

    async closed(tx: Db, t: TicketRow, days: number) {
      await toClient(tx, t, 'ticket.closed', { days }, 'R4.3 ticket closed without answer');
    },

    /** A polite refusal (a stranger, a bad reply address, a ticket closed for good); nothing else is stored. */
    async refused(to: string, subject: string, why: 'unknown_address' | 'unknown_sender' | 'closed') {
      const reasons = {
        unknown_address: {
          fr: "l'adresse de réponse n'est pas valable (elle ne désigne aucun ticket)",
          en: 'the reply address is not valid (it names no ticket)',
        },
        unknown_sender: {
          fr: "l'adresse d'envoi n'est pas celle d'un utilisateur du client de ce ticket",
          en: "the sending address is not one of this ticket's client users",
        },
        closed: {
          fr: 'ce ticket est fermé définitivement : ouvrez-en un nouveau depuis votre espace',
          en: 'this ticket is closed for good: open a new one from your panel',
        },
      }[why];
      await mail.send(ctx.db, {
        to,
        template: 'ticket.mail_refused',
        language: 'fr',
        vars: {
          subject: subject.slice(0, 150) || '(sans objet)',
          reasonFr: reasons.fr,
          reasonEn: reasons.en,
          panelUrl: ctx.config.publicUrl ?? '',
        },
        accountId: null,
        reason: `R4.3 inbound mail refused (${why})`,
      });
    },
  };
}
