// The service container: built once per platform (or per test), passed to routes and jobs.
import { createAuditService } from './audit.ts';
import { createAuthService } from './auth.ts';
import { createClientsService } from './clients.ts';
import { createMailService } from '../mail/index.ts';
import type { ServiceContext } from './context.ts';
import { createIdentityService } from './identity.ts';
import { createInfraService } from './infra.ts';

export function createServices(ctx: ServiceContext) {
  const audit = createAuditService(ctx);
  const mail = createMailService(ctx, audit);
  return {
    ctx,
    audit,
    auth: createAuthService(ctx, audit),
    mail,
    identity: createIdentityService(ctx, audit),
    infra: createInfraService(ctx, audit),
    clients: createClientsService(ctx, audit, mail),
  };
}
export type Services = ReturnType<typeof createServices>;
