// R3.1: the one-time link that reveals a VPS's initial password. Single use, 72 h; the sealed
// password is erased when revealed, so the platform no longer holds it. The guest forces a
// change at first login.
import { HOUR } from '../../domain/clock.ts';
import { conflict, notFound } from '../../domain/errors.ts';
import type { Db } from '../db/database.ts';
import { newToken, tokenHash } from '../security/tokens.ts';
import type { AuditService } from './audit.ts';
import type { ServiceContext } from './context.ts';

export const ACCESS_LINK_LIFETIME_MS = 72 * HOUR;

export function createAccessCodesService(ctx: ServiceContext, audit: AuditService) {
  return {
    /**
     * A new link for the VPS (in the caller's transaction); the token is in the returned URL only,
     * in its fragment (never sent by the browser, so never in a server's or proxy's logs).
     */
    async createLink(db: Db, vpsId: string): Promise<{ url: string; expiresAt: Date }> {
      const token = newToken();
      const now = ctx.clock.now();
      const expiresAt = new Date(now.getTime() + ACCESS_LINK_LIFETIME_MS);
      await db
        .insertInto('access_links')
        .values({ vps_id: vpsId, token_hash: tokenHash(token), created_at: now, expires_at: expiresAt })
        .execute();
      return { url: `${ctx.config.publicUrl}/access#token=${encodeURIComponent(token)}`, expiresAt };
    },

    /** Reveals the password once. Reused → 409 access.link_used; expired → 409 access.link_expired. */
    async reveal(token: string, ip: string) {
      return ctx.db.transaction().execute(async (tx) => {
        const link = await tx
          .selectFrom('access_links')
          .selectAll()
          .where('token_hash', '=', tokenHash(token))
          .forUpdate()
          .executeTakeFirst();
        if (!link) throw notFound('access.link_unknown', 'This link is not valid');
        if (link.used_at)
          throw conflict(
            'access.link_used',
            'This link has already been used: ask support for a new password',
          );
        if (link.expires_at.getTime() <= ctx.clock.now().getTime())
          throw conflict('access.link_expired', 'This link has expired: ask support for a new password');
        const vps = await tx
          .selectFrom('vps')
          .select(['id', 'account_id', 'hostname', 'ipv4', 'client_username', 'initial_password_enc'])
          .where('id', '=', link.vps_id)
          .executeTakeFirstOrThrow();
        if (!vps.initial_password_enc)
          throw conflict(
            'access.password_gone',
            'The initial password is no longer held: ask support for a new one',
          );
        const password = ctx.secrets.open(vps.initial_password_enc);
        await tx
          .updateTable('access_links')
          .set({ used_at: ctx.clock.now(), used_ip: ip })
          .where('id', '=', link.id)
          .execute();
        await tx.updateTable('vps').set({ initial_password_enc: null }).where('id', '=', vps.id).execute();
        await audit.record({ userId: null, label: 'access-link', ip }, 'vps.access_codes_revealed', {
          type: 'vps',
          id: vps.id,
        });
        return {
          hostname: vps.hostname,
          ipv4: vps.ipv4 ? vps.ipv4.split('/')[0]! : null,
          username: vps.client_username,
          password,
        };
      });
    },
  };
}
export type AccessCodesService = ReturnType<typeof createAccessCodesService>;
