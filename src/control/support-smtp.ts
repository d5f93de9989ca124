// The inbound SMTP listener of the support desk (R4.3): receives replies to tickets (npm
// `smtp-server`), parses them (npm `mailparser`) and hands them to services.ticketInbound, which
// attaches them by the signed reply address or refuses them politely. Bound to loopback by
// default (INFOGERE_SUPPORT_SMTP_HOST): the provider's MX relays to it; no AUTH, no STARTTLS
// here. Recipients outside `support+…@<domain>` are refused at RCPT TO, so nothing else is
// accepted; messages are capped in size. Started and stopped by platform.ts.
import { simpleParser, type AddressObject } from 'mailparser';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { messageIdDomain } from './services/mail.ts';
import type { InboundMail, TicketInbound } from './services/ticket-inbound.ts';

/** Largest message accepted (replies are text; attachments go through the panel). */
export const MAX_INBOUND_BYTES = 10 * 1024 * 1024;

export interface SupportSmtp {
  readonly port: number;
  close(): Promise<void>;
}

const firstAddress = (a: AddressObject | AddressObject[] | undefined): string => {
  const list = Array.isArray(a) ? a : a ? [a] : [];
  return list.flatMap((x) => x.value).find((v) => v.address)?.address ?? '';
};

const header = (h: Map<string, unknown>, name: string): string | undefined => {
  const v = h.get(name);
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string'
    ? v
    : typeof v === 'object' && 'value' in v
      ? String(v.value)
      : String(v as string);
};

export async function startSupportSmtp(
  config: Config,
  inbound: TicketInbound,
  log: Logger,
  opts: { port?: number } = {},
): Promise<SupportSmtp> {
  const domain = (config.supportMailDomain ?? messageIdDomain(config.mailFrom)).toLowerCase();
  const server = new SMTPServer({
    name: domain,
    banner: 'infogere support',
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    size: MAX_INBOUND_BYTES,
    logger: false,
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      const a = address.address.toLowerCase();
      if (!a.endsWith(`@${domain}`) || !a.startsWith('support+')) {
        callback(Object.assign(new Error('No such mailbox here'), { responseCode: 550 }));
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      simpleParser(stream, { skipHtmlToText: false, skipTextLinks: true })
        .then(async (parsed) => {
          if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded)
            throw Object.assign(new Error('Message too large'), { responseCode: 552 });
          const h = parsed.headers;
          const mail: InboundMail = {
            envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            recipients: session.envelope.rcptTo.map((r) => r.address),
            from: firstAddress(parsed.from),
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            messageId: parsed.messageId ?? null,
            autoSubmitted: header(h, 'auto-submitted'),
            precedence: header(h, 'precedence'),
            autoReply: h.has('x-autoreply') || h.has('x-autorespond'),
            listId: header(h, 'list-id'),
          };
          const outcome = await inbound.receive(mail);
          log.info(
            { outcome: outcome.result, why: 'why' in outcome ? outcome.why : undefined },
            'support mail received',
          );
          callback();
        })
        .catch((err: unknown) => {
          const e = err as Error & { responseCode?: number };
          if (!e.responseCode) log.error({ err }, 'support mail not handled: the sender will retry');
          // A temporary failure (451) makes the sender's server retry; nothing was stored.
          callback(
            Object.assign(new Error(e.responseCode ? e.message : 'Try again later'), {
              responseCode: e.responseCode ?? 451,
            }),
          );
        });
    },
  });
  server.on('error', (err) => log.error({ err }, 'support SMTP listener error'));
  const port = opts.port ?? config.supportSmtpPort;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, config.supportSmtpHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = (server.server.address() as { port: number }).port;
  log.info({ host: config.supportSmtpHost, port: actual, domain }, 'support SMTP listener up');
  return {
    port: actual,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
