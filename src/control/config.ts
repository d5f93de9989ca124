// Configuration: INFOGERE_* environment variables (and an optional JSON file named by
// INFOGERE_CONFIG_FILE, which the environment overrides), parsed once at start into a frozen,
// typed object. A wrong value stops the start with a message naming the setting.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { parseWarningDays } from '../domain/renewals.ts';

type Kind =
  | { type: 'string'; default: string | undefined }
  | { type: 'int'; default: number; min: number; max: number }
  | { type: 'number'; default: number; min: number; max: number }
  | { type: 'bool'; default: boolean }
  | { type: 'url'; default: string | undefined; protocols: string[] }
  | { type: 'enum'; default: string; values: readonly string[] }
  | { type: 'days'; default: readonly number[] }
  | { type: 'addresses'; default: '' };

interface Setting {
  env: string;
  kind: Kind;
  help: string;
}

const settings = {
  dataDir: {
    env: 'INFOGERE_DATA_DIR',
    kind: { type: 'string', default: 'var' },
    help: 'Where the platform keeps its files (database, disks, uploads, secrets).',
  },
  httpHost: {
    env: 'INFOGERE_HTTP_HOST',
    kind: { type: 'string', default: '127.0.0.1' },
    help: 'Address the HTTP server listens on.',
  },
  httpPort: {
    env: 'INFOGERE_HTTP_PORT',
    kind: { type: 'int', default: 8080, min: 0, max: 65535 },
    help: 'Port of the HTTP server (panel and API).',
  },
  publicUrl: {
    env: 'INFOGERE_PUBLIC_URL',
    kind: { type: 'url', default: undefined, protocols: ['http:', 'https:'] },
    help: 'URL clients use to reach the panel (links in emails). Default: http://HOST:PORT.',
  },
  databaseUrl: {
    env: 'DATABASE_URL',
    kind: { type: 'url', default: undefined, protocols: ['postgres:', 'postgresql:'] },
    help: 'External PostgreSQL. Unset: the platform starts its own (embedded).',
  },
  embeddedPgPort: {
    env: 'INFOGERE_EMBEDDED_PG_PORT',
    kind: { type: 'int', default: 54329, min: 1, max: 65535 },
    help: 'Port of the embedded PostgreSQL (127.0.0.1 only).',
  },
  trustedProxies: {
    env: 'INFOGERE_TRUSTED_PROXIES',
    kind: { type: 'addresses', default: '' },
    help: 'Comma-separated addresses or CIDRs of the reverse proxies in front of the platform (e.g. 127.0.0.1,10.0.0.0/8). A request from one of them is taken to come from the client address in its X-Forwarded-For header (login throttling, sign-up limit, audit). Unset: the header is ignored and the connecting address is the client’s.',
  },
  logLevel: {
    env: 'INFOGERE_LOG_LEVEL',
    kind: {
      type: 'enum',
      default: 'info',
      values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    },
    help: 'Log level.',
  },
  logFormat: {
    env: 'INFOGERE_LOG_FORMAT',
    kind: { type: 'enum', default: 'auto', values: ['auto', 'pretty', 'json'] },
    help: 'Log lines: pretty (one readable line per request or event) or json (one JSON object per line, for log collectors). auto: pretty when standard output is a terminal, json otherwise.',
  },
  sessionIdleMinutes: {
    env: 'INFOGERE_SESSION_IDLE_MINUTES',
    kind: { type: 'int', default: 30, min: 1, max: 1440 },
    help: 'A session unused this long ends.',
  },
  sessionAbsoluteHours: {
    env: 'INFOGERE_SESSION_ABSOLUTE_HOURS',
    kind: { type: 'int', default: 12, min: 1, max: 168 },
    help: 'A session ends this long after login, used or not.',
  },
  cookieSecure: {
    env: 'INFOGERE_COOKIE_SECURE',
    kind: { type: 'enum', default: 'auto', values: ['auto', 'true', 'false'] },
    help: 'Secure flag on the session cookie; auto = when the public URL is https.',
  },
  loginMaxFailuresPerAccount: {
    env: 'INFOGERE_LOGIN_MAX_FAILURES_PER_ACCOUNT',
    kind: { type: 'int', default: 5, min: 1, max: 1000 },
    help: 'Failed logins on one account from one address within the window before that address is refused for it. Past it from all addresses together, an address that has failed waits a delay doubling from 1 s, an address with no failure is not delayed (no hard lock of an account), and the owner is mailed once per window.',
  },
  loginMaxFailuresPerAddress: {
    env: 'INFOGERE_LOGIN_MAX_FAILURES_PER_ADDRESS',
    kind: { type: 'int', default: 20, min: 1, max: 10000 },
    help: 'Failed logins from one address (on any accounts) within the window before it is refused.',
  },
  loginWindowMinutes: {
    env: 'INFOGERE_LOGIN_WINDOW_MINUTES',
    kind: { type: 'int', default: 15, min: 1, max: 1440 },
    help: 'Window for counting failed logins (and the longest delay).',
  },
  masterKey: {
    env: 'INFOGERE_MASTER_KEY',
    kind: { type: 'string', default: undefined },
    help: 'Base64 32-byte key encrypting stored secrets. Unset: generated once in DATA_DIR/secrets/master.key.',
  },
  smtpUrl: {
    env: 'INFOGERE_SMTP_URL',
    kind: { type: 'url', default: undefined, protocols: ['smtp:', 'smtps:'] },
    help: 'SMTP relay. Unset: mail stays in the outbox, readable in the provider console.',
  },
  mailFrom: {
    env: 'INFOGERE_MAIL_FROM',
    kind: { type: 'string', default: 'infogere <noreply@infogere.invalid>' },
    help: 'Sender of the platform’s emails.',
  },
  supportHourlyRateCents: {
    env: 'INFOGERE_SUPPORT_HOURLY_RATE_CENTS',
    kind: { type: 'int', default: 6000, min: 1, max: 10_000_000 },
    help: 'R3.10: hourly rate (cents, before VAT) of support work beyond the included minutes, quoted to the client before it is done.',
  },
  ticketAutoCloseDays: {
    env: 'INFOGERE_TICKET_AUTO_CLOSE_DAYS',
    kind: { type: 'int', default: 7, min: 1, max: 365 },
    help: 'A ticket waiting for the client, or resolved, with no answer for this many days is closed.',
  },
  supportSmtpPort: {
    env: 'INFOGERE_SUPPORT_SMTP_PORT',
    kind: { type: 'int', default: 0, min: 0, max: 65535 },
    help: 'Port of the inbound SMTP listener receiving replies to tickets (support+<token>@domain). 0: no listener.',
  },
  supportSmtpHost: {
    env: 'INFOGERE_SUPPORT_SMTP_HOST',
    kind: { type: 'string', default: '127.0.0.1' },
    help: 'Address the inbound SMTP listener binds to (loopback by default: put the MX relay in front).',
  },
  supportMailDomain: {
    env: 'INFOGERE_SUPPORT_MAIL_DOMAIN',
    kind: { type: 'string', default: undefined },
    help: 'Domain of the support reply addresses (support+<token>@DOMAIN). Default: the domain of INFOGERE_MAIL_FROM.',
  },
  trafficIntervalSeconds: {
    env: 'INFOGERE_TRAFFIC_INTERVAL_SECONDS',
    kind: { type: 'int', default: 10, min: 1, max: 3600 },
    help: 'How often the VPS ports’ traffic counters are read and stored (R3.13).',
  },
  spamSampleSeconds: {
    env: 'INFOGERE_SPAM_SAMPLE_SECONDS',
    kind: { type: 'int', default: 3, min: 1, max: 60 },
    help: 'How often the hosts’ port-25 statistics are read and the anti-spam rules checked (R7.1: a few seconds behind the traffic).',
  },
  ddosIntervalMs: {
    env: 'INFOGERE_DDOS_INTERVAL_MS',
    kind: { type: 'int', default: 1000, min: 0, max: 60000 },
    help: 'How often each host’s per-address counters are read for DDoS detection (R9.1); 0 turns the sampler off.',
  },
  schedulerTickSeconds: {
    env: 'INFOGERE_SCHEDULER_TICK_SECONDS',
    kind: { type: 'int', default: 30, min: 1, max: 3600 },
    help: 'How often due deadlines are looked for.',
  },
  autoValidateOnPayment: {
    env: 'INFOGERE_AUTO_VALIDATE_ON_PAYMENT',
    kind: { type: 'bool', default: false },
    help: 'Validate an order as soon as its invoice is paid (staff validate by hand otherwise); validation opens the contract and starts provisioning.',
  },
  paymentWebhookSecret: {
    env: 'INFOGERE_PAYMENT_WEBHOOK_SECRET',
    kind: { type: 'string', default: undefined },
    help: 'Shared secret of the payment webhook (HMAC-SHA256 of the raw body, header x-infogere-signature: sha256=<hex>). Unset: the webhook refuses every call.',
  },
  ipQuarantineDays: {
    env: 'INFOGERE_IP_QUARANTINE_DAYS',
    kind: { type: 'int', default: 30, min: 0, max: 3650 },
    help: 'Days a released IPv4 waits before it can be given to another VPS (R3.2, R12.4).',
  },
  imagesDir: {
    env: 'INFOGERE_IMAGES_DIR',
    kind: { type: 'string', default: undefined },
    help: 'Guest images (scripts/guest-image/build.sh writes var/images). Default: DATA_DIR/images.',
  },
  agentAccel: {
    env: 'INFOGERE_AGENT_ACCEL',
    kind: { type: 'enum', default: 'auto', values: ['auto', 'kvm', 'tcg'] },
    help: 'QEMU accelerator: auto = KVM when a real boot probe succeeds, else TCG.',
  },
  agentBridge: {
    env: 'INFOGERE_AGENT_BRIDGE',
    kind: { type: 'string', default: 'igbr0' },
    help: 'The host bridge the VPS taps join.',
  },
  agentUplink: {
    env: 'INFOGERE_AGENT_UPLINK',
    kind: { type: 'string', default: undefined },
    help: 'Bridge port towards the provider network (outbound shaping happens on it, R3.13).',
  },
  agentUplinkMbps: {
    env: 'INFOGERE_AGENT_UPLINK_MBPS',
    kind: { type: 'int', default: 10000, min: 1, max: 400000 },
    help: 'Capacity of the uplink, Mbit/s.',
  },
  agentManagement: {
    env: 'INFOGERE_AGENT_MANAGEMENT',
    kind: { type: 'string', default: '' },
    help: 'Comma-separated IPv4 addresses/CIDRs an isolated VPS may still reach (R5.1, R6.4).',
  },
  agentNetns: {
    env: 'INFOGERE_AGENT_NETNS',
    kind: { type: 'string', default: undefined },
    help: 'Run VMs and their network in this network namespace (tests).',
  },
  labNetns: {
    env: 'INFOGERE_LAB_NETNS',
    kind: { type: 'string', default: 'infogere-lab' },
    help: 'The network namespace of a lab host enrolled by the first-run setup (created when missing; docs/first-run.md).',
  },
  agentVmUidBase: {
    env: 'INFOGERE_AGENT_VM_UID_BASE',
    kind: { type: 'int', default: 2_000_000_000, min: 65_536, max: 2_147_418_111 },
    help: 'R3.3: each VM’s QEMU runs as a uid of its own, BASE+1 … BASE+65535, never root (BASE runs the KVM probe); no account of the machine may fall in the range (docs/hypervisor.md).',
  },
  agentConsoleLogBytes: {
    env: 'INFOGERE_AGENT_CONSOLE_LOG_BYTES',
    kind: { type: 'int', default: 1_048_576, min: 4_096, max: 1_073_741_824 },
    help: 'Cap of a VM’s serial console log, bytes: at the cap it is rotated to console.log.1, so a VM’s console takes at most twice this.',
  },
  vpsNameservers: {
    env: 'INFOGERE_VPS_NAMESERVERS',
    kind: { type: 'string', default: '' },
    help: 'Comma-separated resolvers written into each VPS’s network config.',
  },
  cpuOvercommit: {
    env: 'INFOGERE_CPU_OVERCOMMIT',
    kind: { type: 'number', default: 4, min: 1, max: 64 },
    help: 'Default host vCPU overcommit ratio (R2.2).',
  },
  ramOvercommit: {
    env: 'INFOGERE_RAM_OVERCOMMIT',
    kind: { type: 'number', default: 1.5, min: 1, max: 8 },
    help: 'Default host RAM overcommit ratio (R2.2).',
  },
  termWarningDays: {
    env: 'INFOGERE_TERM_WARNING_DAYS',
    kind: { type: 'days', default: [14, 3] },
    help: 'Days before the end of a contract that does not renew (fixed term, stopped subscription) when the client is warned by email, comma-separated (R11.1, R11.2); none: no warning.',
  },
  renewalInvoiceDaysAhead: {
    env: 'INFOGERE_RENEWAL_INVOICE_DAYS_AHEAD',
    kind: { type: 'int', default: 7, min: 0, max: 28 },
    help: 'Days before a subscription’s expiry when the invoice of its next month is issued and emailed (R11.2).',
  },
  renewalGraceDays: {
    env: 'INFOGERE_RENEWAL_GRACE_DAYS',
    kind: { type: 'int', default: 7, min: 0, max: 60 },
    help: 'Days an unpaid renewal keeps the service running after the expiry; still unpaid then, the invoice is voided and the contract ends (docs/renewals.md).',
  },
  syslogHost: {
    env: 'INFOGERE_SYSLOG_HOST',
    kind: { type: 'string', default: '0.0.0.0' },
    help: 'R6.2 log store: address the syslog receiver listens on (the provider network the VPSs reach).',
  },
  syslogPublicHost: {
    env: 'INFOGERE_SYSLOG_PUBLIC_HOST',
    kind: { type: 'string', default: undefined },
    help: 'R6.2 log store: the address clients put in their syslog configuration. Unset: INFOGERE_SYSLOG_HOST.',
  },
  syslogTlsPort: {
    env: 'INFOGERE_SYSLOG_TLS_PORT',
    kind: { type: 'int', default: 0, min: 0, max: 65535 },
    help: 'R6.2 log store: port of the syslog receiver over TLS (RFC 5425, usually 6514); 0: the receiver is off.',
  },
  syslogTcpPort: {
    env: 'INFOGERE_SYSLOG_TCP_PORT',
    kind: { type: 'int', default: 0, min: 0, max: 65535 },
    help: 'R6.2 log store: optional plain TCP port (octet counting, as over TLS); 0: off.',
  },
  syslogUdpPort: {
    env: 'INFOGERE_SYSLOG_UDP_PORT',
    kind: { type: 'int', default: 0, min: 0, max: 65535 },
    help: 'R6.2 log store: optional UDP port (one message per datagram; busybox syslogd -R); 0: off.',
  },
  syslogTlsCert: {
    env: 'INFOGERE_SYSLOG_TLS_CERT',
    kind: { type: 'string', default: undefined },
    help: 'PEM certificate of the syslog receiver. Unset: a self-signed one is made under the data directory (syslog-tls/).',
  },
  syslogTlsKey: {
    env: 'INFOGERE_SYSLOG_TLS_KEY',
    kind: { type: 'string', default: undefined },
    help: 'PEM private key of INFOGERE_SYSLOG_TLS_CERT.',
  },
  logStoreQuotaMib: {
    env: 'INFOGERE_LOG_STORE_QUOTA_MIB',
    kind: { type: 'int', default: 1024, min: 1, max: 10485760 },
    help: 'R6.2 log store: stored (compressed) MiB per VPS over its 12 months; the client is warned at 80 %, lines beyond 100 % are dropped and counted.',
  },
} satisfies Record<string, Setting>;

type Settings = typeof settings;
type ValueOf<K extends Kind> = K extends { type: 'int' | 'number' }
  ? number
  : K extends { type: 'days' }
    ? readonly number[]
    : K extends { type: 'addresses' }
      ? readonly string[]
      : K extends { type: 'bool' }
        ? boolean
        : K extends { default: string }
          ? string
          : string | undefined;

export type Config = {
  readonly [P in keyof Settings]: ValueOf<Settings[P]['kind']>;
} & { readonly root: string };

export class ConfigError extends Error {
  readonly setting: string;
  constructor(setting: string, message: string) {
    super(`${setting}: ${message}`);
    this.name = 'ConfigError';
    this.setting = setting;
  }
}

function parseValue(s: Setting, raw: string): unknown {
  const k = s.kind;
  switch (k.type) {
    case 'string':
      return raw;
    case 'int':
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n) || (k.type === 'int' && !Number.isInteger(n)))
        throw new ConfigError(
          s.env,
          `expected ${k.type === 'int' ? 'a whole number' : 'a number'}, got "${raw}"`,
        );
      if (n < k.min || n > k.max)
        throw new ConfigError(s.env, `must be between ${k.min} and ${k.max}, got ${n}`);
      return n;
    }
    case 'bool':
      if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
      if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
      throw new ConfigError(s.env, `expected true or false, got "${raw}"`);
    case 'url': {
      let u: URL;
      try {
        u = new URL(raw);
      } catch {
        throw new ConfigError(s.env, `not a valid URL`);
      }
      if (!k.protocols.includes(u.protocol))
        throw new ConfigError(s.env, `expected a ${k.protocols.join(' or ')} URL, got ${u.protocol}`);
      return raw;
    }
    case 'enum':
      if (!k.values.includes(raw))
        throw new ConfigError(s.env, `expected one of ${k.values.join(', ')}, got "${raw}"`);
      return raw;
    case 'addresses':
      return Object.freeze(parseAddresses(s.env, raw));
    case 'days':
      try {
        return Object.freeze(parseWarningDays(raw));
      } catch (e) {
        throw new ConfigError(s.env, `expected comma-separated days, e.g. "14,3": ${(e as Error).message}`);
      }
  }
}

/** `a.b.c.d`, `a.b.c.d/n`, an IPv6 address or `v6/n`: anything else stops the start. */
function parseAddresses(env: string, raw: string): string[] {
  const out: string[] = [];
  for (const part of raw.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const [address = '', prefix, extra] = item.split('/');
    const version = isIP(address);
    const max = version === 4 ? 32 : 128;
    const prefixOk =
      prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) >= 0 && Number(prefix) <= max);
    if (version === 0 || extra !== undefined || !prefixOk)
      throw new ConfigError(env, `expected comma-separated IP addresses or CIDRs, got "${item}"`);
    out.push(item);
  }
  return out;
}

/**
 * Builds the configuration from an environment (process.env by default) and the optional file.
 * `root` is the directory relative paths are resolved against.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  root = process.cwd(),
): Config {
  let file: Record<string, unknown> = {};
  const fileName = env.INFOGERE_CONFIG_FILE;
  if (fileName) {
    try {
      file = JSON.parse(readFileSync(path.resolve(root, fileName), 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError('INFOGERE_CONFIG_FILE', `cannot read ${fileName}: ${(e as Error).message}`);
    }
    if (typeof file !== 'object' || file === null || Array.isArray(file))
      throw new ConfigError('INFOGERE_CONFIG_FILE', 'must hold a JSON object of SETTING: value');
  }
  const known = new Set<string>(Object.values(settings).map((s) => s.env));
  known.add('INFOGERE_CONFIG_FILE');
  for (const name of [...Object.keys(env), ...Object.keys(file)]) {
    // A typo must not silently fall back to a default. Test-only variables never use the prefix.
    if (name.startsWith('INFOGERE_') && !known.has(name))
      throw new ConfigError(name, 'unknown setting (see docs/configuration.md)');
  }
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(settings) as [keyof Settings, Setting][]) {
    const fromEnv = env[s.env];
    const fromFile = file[s.env];
    const raw =
      fromEnv !== undefined && fromEnv !== ''
        ? fromEnv
        : fromFile !== undefined
          ? String(fromFile)
          : undefined;
    out[key] = raw === undefined ? (s.kind.type === 'addresses' ? [] : s.kind.default) : parseValue(s, raw);
  }
  out.dataDir = path.resolve(root, out.dataDir as string);
  out.imagesDir = out.imagesDir
    ? path.resolve(root, out.imagesDir as string)
    : path.join(out.dataDir as string, 'images');
  out.root = root;
  if (!out.publicUrl) {
    const host = out.httpHost === '0.0.0.0' || out.httpHost === '::' ? '127.0.0.1' : (out.httpHost as string);
    out.publicUrl = `http://${host.includes(':') ? `[${host}]` : host}:${out.httpPort as number}`;
  }
  if (out.masterKey !== undefined && Buffer.from(out.masterKey as string, 'base64').length !== 32)
    throw new ConfigError('INFOGERE_MASTER_KEY', 'must be 32 bytes, base64-encoded');
  return Object.freeze(out) as Config;
}

export function cookieIsSecure(c: Config): boolean {
  return c.cookieSecure === 'auto' ? (c.publicUrl ?? '').startsWith('https:') : c.cookieSecure === 'true';
}

/** A comma-separated setting (nameservers, management addresses…) as its list of items. */
export function splitList(s: string | undefined): string[] {
  return (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}

/** The settings table, for docs and `infogere config`. */
export function describeSettings(): { env: string; default: unknown; help: string }[] {
  return Object.values(settings as Record<string, Setting>).map((s) => ({
    env: s.env,
    default: s.kind.default,
    help: s.help,
  }));
}

/** docs/configuration.md, generated from the settings table (a test keeps the file current). */
export function settingsMarkdown(): string {
  const rows = describeSettings().map(
    (s) =>
      `| \`${s.env}\` | ${s.default === undefined ? '(unset)' : `\`${String(s.default)}\``} | ${s.help} |`,
  );
  return [
    '# Configuration',
    '',
    'Generated from `src/control/config.ts` (`node src/cli/main.ts config --markdown`); a test fails when it is stale.',
    '',
    'Environment variables, or a JSON object of the same names in the file named by `INFOGERE_CONFIG_FILE`',
    '(the environment wins). Read once at start; a wrong value, or an unknown `INFOGERE_*` name, stops',
    'the start with a message naming the setting.',
    '',
    '| setting | default | what |',
    '|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
