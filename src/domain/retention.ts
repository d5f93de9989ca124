// The retention schedule of the provider's own records (R12.4, R12.6, R6.2) as data: for each
// kind of record, the law that makes the provider keep it, how long, and from which event. The
// daily purge (services/retention.ts) deletes a record the day its period has run from its start
// event, and only then; termination keeps exactly what is listed here.
//
// Décret n° 2021-1362 du 20 octobre 2021 (taken under LCEN art. 6 II, replacing décret 2011-219):
// civil identity 5 years after the contract ends; the other data given at sign-up or account
// creation and payment data 1 year after the contract ends; technical data identifying the
// source of a connection (address and source port) 1 year from the connection.

export type RecordKind =
  'identity' | 'account' | 'connections' | 'ip_assignments' | 'invoices' | 'audit_and_notices' | 'log_store';

/** What starts a record's period. */
export type StartEvent =
  | 'contract_end' // the account's last contract ended (none active or suspended left)
  | 'connection' // the connection's own time
  | 'assignment_end' // the address left the VPS
  | 'fiscal_year_end' // 31 December of the invoice's year
  | 'record_time' // the row's own time
  | 'segment_day'; // the day a log segment holds (R6.2)

export interface Text {
  readonly fr: string;
  readonly en: string;
}

export interface RetentionRule {
  readonly kind: RecordKind;
  /** What the kind holds, in words. */
  readonly holds: Text;
  readonly basis: Text;
  readonly months: number;
  readonly start: StartEvent;
  /** `purged`: the daily purge deletes it at its end; `kept`: not purged by the product yet (said so). */
  readonly purge: 'purged' | 'kept';
}

const DECREE = 'Décret n° 2021-1362 du 20 octobre 2021';

export const RETENTION_SCHEDULE: readonly RetentionRule[] = Object.freeze([
  {
    kind: 'identity',
    holds: {
      fr: 'Identité civile : nom, prénom, adresse postale, téléphone, pièces d’identité',
      en: 'Civil identity: names, postal address, phone, identity documents',
    },
    basis: {
      fr: `${DECREE} (LCEN art. 6 II) : identité civile, 5 ans après la fin du contrat`,
      en: `${DECREE} (LCEN art. 6 II): civil identity, 5 years after the contract ends`,
    },
    months: 60,
    start: 'contract_end',
    purge: 'purged',
  },
  {
    kind: 'account',
    holds: {
      fr: 'Données de compte : adresses e-mail, noms d’utilisateur, inscription, jetons, sessions',
      en: 'Account data: email addresses, user names, sign-up, tokens, sessions',
    },
    basis: {
      fr: `${DECREE} : autres données fournies à la création du compte, 1 an après la fin du contrat`,
      en: `${DECREE}: other data given when the account was created, 1 year after the contract ends`,
    },
    months: 12,
    start: 'contract_end',
    purge: 'purged',
  },
  {
    kind: 'connections',
    holds: {
      fr: 'Connexions au panneau et à l’API : date, adresse IP et port source',
      en: 'Panel and API connections: time, IP address and source port',
    },
    basis: {
      fr: `${DECREE} : données techniques identifiant la source de la connexion, 1 an`,
      en: `${DECREE}: technical data identifying a connection’s source, 1 year`,
    },
    months: 12,
    start: 'connection',
    purge: 'purged',
  },
  {
    kind: 'ip_assignments',
    holds: {
      fr: 'Historique adresse IPv4 → VPS → client',
      en: 'History of IPv4 address → VPS → client',
    },
    basis: {
      fr: `${DECREE} : données techniques identifiant la source d’une connexion, 1 an après l’attribution`,
      en: `${DECREE}: technical data identifying a connection’s source, 1 year after the assignment`,
    },
    months: 12,
    start: 'assignment_end',
    purge: 'purged',
  },
  {
    kind: 'invoices',
    holds: {
      fr: 'Factures, commandes et paiements',
      en: 'Invoices, orders and payments',
    },
    basis: {
      fr: 'Code de commerce art. L123-22 : pièces comptables, 10 ans',
      en: 'French Commercial Code art. L123-22: accounting records, 10 years',
    },
    months: 120,
    start: 'fiscal_year_end',
    purge: 'kept',
  },
  {
    kind: 'audit_and_notices',
    holds: {
      fr: 'Journal d’audit et chaîne des notifications envoyées',
      en: 'Audit log and the chain of notices sent',
    },
    basis: {
      fr: 'Code civil art. 2224 : preuve pendant la prescription de 5 ans ; chaînes ancrées',
      en: 'French Civil Code art. 2224: proof during the 5-year limitation period; anchored chains',
    },
    months: 60,
    start: 'record_time',
    purge: 'kept',
  },
  {
    kind: 'log_store',
    holds: {
      fr: 'Journaux de connexion des VPS (service de conservation, si activé)',
      en: 'VPS connection logs (log store, when enabled)',
    },
    basis: {
      fr: 'R6.2 : le client, hébergeur (LCEN art. 6 II), conserve ses journaux 12 mois ; supprimés le lendemain',
      en: 'R6.2: the client, as host (LCEN art. 6 II), keeps its logs 12 months; deleted the day after',
    },
    months: 12,
    start: 'segment_day',
    purge: 'purged',
  },
]);

export function ruleOf(kind: RecordKind): RetentionRule {
  const r = RETENTION_SCHEDULE.find((x) => x.kind === kind);
  if (!r) throw new Error(`no retention rule for ${kind}`);
  return r;
}

/** `at` plus whole calendar months, in UTC, clamped at the month's end (31 Jan + 1 month = 28/29 Feb). */
export function addMonthsUtc(at: Date, months: number): Date {
  const y = at.getUTCFullYear();
  const m = at.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  const d = new Date(at.getTime());
  d.setUTCDate(1);
  d.setUTCFullYear(y, m, Math.min(at.getUTCDate(), lastDay));
  return d;
}

/** The end of a record's period: from then on it is purged (the daily job runs the day after at most). */
export function retentionEnd(kind: RecordKind, start: Date): Date {
  return addMonthsUtc(start, ruleOf(kind).months);
}

/** The latest start whose period has ended at `now`: records started at or before it are due. */
export function dueCutoff(kind: RecordKind, now: Date): Date {
  return addMonthsUtc(now, -ruleOf(kind).months);
}

/**
 * What a contract ending at `end` leaves kept, and until when at the earliest (R12.4): the kinds
 * whose period starts at the contract's end (a later contract of the account moves it).
 */
export function retainedAfterEnd(end: Date): { kind: RecordKind; until: string }[] {
  return RETENTION_SCHEDULE.filter((r) => r.start === 'contract_end').map((r) => ({
    kind: r.kind,
    until: retentionEnd(r.kind, end).toISOString(),
  }));
}
