// Replies to tickets by email (R4.3), as the inbound SMTP listener (support-smtp.ts) hands them
// over, parsed. A mail is attached to a ticket only through the ticket's signed reply address
// (`support+<ticket id><HMAC>@domain`, services/ticket-mail.ts), never by its subject, and only
// when its sender is an active user of the ticket's account; the quoted history is stripped.
// Auto-replies and loops are ignored (nothing stored, nothing sent); a stranger, a forged or
// altered address, or a ticket closed for good gets one polite mail back and nothing is stored.
// The same mail handed over twice is stored once (its Message-ID per ticket).
import { isAutomatic, stripQuoted } from '../../domain/tickets.ts';
import { isDomainError } from '../../domain/errors.ts';
import { SYSTEM_SCOPE } from '../repositories/scope.ts';
import { clientUserByEmail, getTicket, hasMailMessage } from '../repositories/tickets.ts';
import type { ServiceContext } from './context.ts';
import type { TicketsService } from './tickets.ts';

/** What the listener extracts of a mail. */
export interface InboundMail {
  /** MAIL FROM (empty for a bounce). */
  envelopeFrom: string;
  /** RCPT TO addresses. */
  recipients: string[];
  /** The From header's address. */
  from: string;
  subject: string;
  text: string;
  messageId: string | null;
  autoSubmitted?: string | undefined;
  precedence?: string | undefined;
  autoReply?: boolean | undefined;
  listId?: string | undefined;
}

export type InboundOutcome =
  | { result: 'stored'; ticketId: string; messageId: string }
  | { result: 'duplicate'; ticketId: string }
  | { result: 'ignored'; why: 'automatic' | 'loop' | 'empty' }
  | { result: 'refused'; why: 'unknown_address' | 'unknown_sender' | 'closed' };

const addressOf = (s: string) => (/<([^>]+)>/.exec(s)?.[1] ?? s).trim().toLowerCase();

export function createTicketInbound(ctx: ServiceContext, tickets: TicketsService) {
  const ownAddress = addressOf(ctx.config.mailFrom);

  async function refuse(to: string, subject: string, why: 'unknown_address' | 'unknown_sender' | 'closed') {
    await tickets.mail.refused(to, subject, why);
    ctx.log.info({ why }, 'inbound support mail refused: nothing stored');
    return { result: 'refused', why } as const;
  }

  return {
    async receive(m: InboundMail): Promise<InboundOutcome> {
      const from = addressOf(m.from || m.envelopeFrom);
      if (
        isAutomatic({
          autoSubmitted: m.autoSubmitted,
          precedence: m.precedence,
          autoReply: m.autoReply,
          listId: m.listId,
          envelopeFrom: m.envelopeFrom,
        })
      )
        return { result: 'ignored', why: 'automatic' };
      // Our own mail coming back (a relay's loop): never answered.
      if (from === ownAddress || from.startsWith('support+')) return { result: 'ignored', why: 'loop' };
      const ticketId =
        m.recipients.map((r) => tickets.mail.ticketOfAddress(addressOf(r))).find(Boolean) ?? null;
      if (!ticketId) return refuse(from, m.subject, 'unknown_address');
      const ticket = await getTicket(ctx.db, SYSTEM_SCOPE, ticketId).catch(() => null);
      if (!ticket) return refuse(from, m.subject, 'unknown_address');
      const user = await clientUserByEmail(ctx.db, ticket.account_id, from);
      if (!user) return refuse(from, m.subject, 'unknown_sender');
      if (m.messageId && (await hasMailMessage(ctx.db, ticket.id, m.messageId)))
        return { result: 'duplicate', ticketId: ticket.id };
      const body = stripQuoted(m.text);
      if (!body) return { result: 'ignored', why: 'empty' };
      try {
        const msg = await tickets.clientReply(
          { userId: user.id, label: user.email, ip: null },
          { kind: 'client', userId: user.id, accountId: ticket.account_id },
          ticket.id,
          { body: body.slice(0, 100_000), via: 'email', mailMessageId: m.messageId },
        );
        return { result: 'stored', ticketId: ticket.id, messageId: msg.id };
      } catch (e) {
        if (isDomainError(e) && e.code === 'ticket.closed') return refuse(from, m.subject, 'closed');
        // The same mail delivered twice at once: the unique index kept one.
        if ((e as { code?: string }).code === '23505') return { result: 'duplicate', ticketId: ticket.id };
        throw e;
      }
    },
  };
}
export type TicketInbound = ReturnType<typeof createTicketInbound>;
