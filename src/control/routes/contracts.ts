// Contracts (R11.1, R11.2): what an order opened, read by its client and staff; from a VPS to
// its contract. Scoped by account in the service (another account's contract is 404). Term
// and renewal actions: routes/renewals.ts.
import { Type } from 'typebox';
import { principalOf } from '../http/access.ts';
import type { App } from '../http/types.ts';
import { contractOut } from '../services/commerce-views.ts';
import type { Services } from '../services/index.ts';
import { ContractSchema } from './commerce-schemas.ts';
import { authErrors, IdParams, Uuid } from './schemas.ts';

const AccountQuery = Type.Object({ accountId: Type.Optional(Uuid) }, { additionalProperties: false });

export function contractRoutes(app: App, s: Services): void {
  const c = s.commerce;
  app.get(
    '/v1/contracts',
    {
      config: { access: 'any' },
      schema: {
        tags: ['commerce'],
        summary: 'Contracts (clients: their own)',
        querystring: AccountQuery,
        response: { 200: Type.Array(ContractSchema), ...authErrors },
      },
    },
    async (req) => (await c.listContracts(principalOf(req).scope, req.query)).map(contractOut),
  );
  app.get(
    '/v1/contracts/:id',
    {
      config: { access: 'any' },
      schema: {
        tags: ['commerce'],
        summary: 'A contract',
        params: IdParams,
        response: { 200: ContractSchema, ...authErrors },
      },
    },
    async (req) => contractOut(await c.getContract(principalOf(req).scope, req.params.id)),
  );
  app.get(
    '/v1/vps/:id/contract',
    {
      config: { access: 'any' },
      schema: {
        tags: ['commerce'],
        summary: 'The contract a VPS is delivered under',
        params: IdParams,
        response: { 200: ContractSchema, ...authErrors },
      },
    },
    async (req) => contractOut(await c.contractOfVps(principalOf(req).scope, req.params.id)),
  );
}
