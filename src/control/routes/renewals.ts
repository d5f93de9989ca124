// Term and renewal (R11.1, R11.2, R11.3): a contract's term or renewal as its
// client and staff see it, the switch to subscription (client: its own contract; staff: any),
// stopping and resuming the tacit renewal (the client), and the console's renewals due.
// Instants are UTC ISO strings; `timeZone` says where to show them (Europe/Paris by default).
import { Type } from 'typebox';
import { auditActorOf, principalOf } from '../http/access.ts';
import type { App } from '../http/types.ts';
import type { Services } from '../services/index.ts';
import { authErrors, IdParams } from './schemas.ts';

const Str = Type.String;
const NullStr = Type.Union([Type.String(), Type.Null()]);
const Kind = Type.Union([Type.Literal('fixed'), Type.Literal('subscription')]);
const ContractState = Type.Union([
  Type.Literal('active'),
  Type.Literal('suspended'),
  Type.Literal('ended'),
  Type.Literal('terminated'),
]);
const InvoiceStatus = Type.Union([Type.Literal('issued'), Type.Literal('paid'), Type.Literal('void')]);
const Action = Type.Union([
  Type.Literal('switch_to_subscription'),
  Type.Literal('stop_renewal'),
  Type.Literal('resume_renewal'),
]);

const RenewalSchema = Type.Object(
  {
    contractId: Str(),
    accountId: Str(),
    vpsId: Str(),
    hostname: Str(),
    kind: Kind,
    termMonths: Type.Union([Type.Integer(), Type.Null()]),
    state: ContractState,
    startedAt: Str(),
    expiresAt: Str({ description: 'End of the term (fixed) or of the paid month (subscription), UTC' }),
    timeZone: Str({ description: 'The time zone the client reads dates in (IANA name)' }),
    renews: Type.Boolean({ description: 'A subscription whose tacit renewal runs (R11.2)' }),
    nextRenewalAt: NullStr,
    endsAt: Type.Union([Str(), Type.Null()], {
      description: 'When the contract ends at its expiry (fixed term, or renewal stopped)',
    }),
    renewalStoppedAt: NullStr,
    monthlyPriceCents: Type.Integer(),
    vatRateBp: Type.Integer(),
    renewalInvoice: Type.Union([
      Type.Object({
        id: Str(),
        number: Str(),
        status: InvoiceStatus,
        totalCents: Type.Integer(),
        issuedAt: Str(),
        periodStart: Str(),
        periodEnd: Str(),
      }),
      Type.Null(),
    ]),
    renewalInvoiceAt: Type.Union([Str(), Type.Null()], {
      description: 'When the next renewal invoice will be issued (not issued yet)',
    }),
    graceEndsAt: Type.Union([Str(), Type.Null()], {
      description: 'Renewal unpaid at the expiry: the contract ends then unless paid',
    }),
    nextWarningAt: NullStr,
    warningsSent: Type.Array(Type.Object({ daysBefore: Type.Integer(), sentAt: Str() })),
    termination: Type.Union([Type.Object({ cause: Str(), state: Str(), effectiveAt: Str() }), Type.Null()]),
    actions: Type.Array(Action, { description: 'What the caller may do now' }),
  },
  { $id: 'ContractRenewal' },
);

const RenewalDueSchema = Type.Object(
  {
    contractId: Str(),
    accountId: Str(),
    accountName: Str(),
    vpsId: Str(),
    hostname: Str(),
    kind: Kind,
    termMonths: Type.Union([Type.Integer(), Type.Null()]),
    state: ContractState,
    expiresAt: Str(),
    outcome: Type.Union([Type.Literal('renews'), Type.Literal('ends'), Type.Literal('unpaid')], {
      description:
        'renews: a subscription renewing; ends: ends at its expiry; unpaid: past its expiry, in grace',
    }),
    renewalStoppedAt: NullStr,
    monthlyPriceCents: Type.Integer(),
    graceEndsAt: NullStr,
    renewalInvoice: Type.Union([
      Type.Object({ id: Str(), number: Str(), status: InvoiceStatus, totalCents: Type.Integer() }),
      Type.Null(),
    ]),
  },
  { $id: 'RenewalDue' },
);

export function renewalRoutes(app: App, s: Services): void {
  const r = s.renewals;
  app.get(
    '/v1/contracts/:id/renewal',
    {
      config: { access: 'any' },
      schema: {
        tags: ['contracts'],
        summary: 'A contract’s term or renewal: dates, renewal invoice, warnings, allowed actions',
        params: IdParams,
        response: { 200: RenewalSchema, ...authErrors },
      },
    },
    async (req) => r.view(principalOf(req).scope, req.params.id),
  );
  app.post(
    '/v1/contracts/:id/switch-to-subscription',
    {
      config: { access: 'client_or_admin' },
      schema: {
        tags: ['contracts'],
        summary:
          'R11.3: a fixed term becomes a monthly subscription, renewed from its current expiry (409 contract.already_subscription)',
        params: IdParams,
        response: { 200: RenewalSchema, ...authErrors },
      },
    },
    async (req) => r.switchToSubscription(principalOf(req).scope, req.params.id, auditActorOf(req)),
  );
  app.post(
    '/v1/contracts/:id/stop-renewal',
    {
      config: { access: 'client' },
      schema: {
        tags: ['contracts'],
        summary: 'R11.2: stop the tacit renewal; the contract ends at its current expiry',
        params: IdParams,
        response: { 200: RenewalSchema, ...authErrors },
      },
    },
    async (req) => r.stopRenewal(principalOf(req).scope, req.params.id, auditActorOf(req)),
  );
  app.post(
    '/v1/contracts/:id/resume-renewal',
    {
      config: { access: 'client' },
      schema: {
        tags: ['contracts'],
        summary: 'R11.2: resume a stopped renewal, before the expiry',
        params: IdParams,
        response: { 200: RenewalSchema, ...authErrors },
      },
    },
    async (req) => r.resumeRenewal(principalOf(req).scope, req.params.id, auditActorOf(req)),
  );
  app.get(
    '/v1/admin/renewals',
    {
      config: { access: 'staff' },
      schema: {
        tags: ['contracts'],
        summary: 'Renewals due: running contracts expiring within `days` (and past their expiry, in grace)',
        querystring: Type.Object(
          { days: Type.Optional(Type.Integer({ minimum: 1, maximum: 366, default: 30 })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ now: Str(), timeZone: Str(), contracts: Type.Array(RenewalDueSchema) }),
          ...authErrors,
        },
      },
    },
    async (req) => r.due(req.query.days ?? 30),
  );
}
