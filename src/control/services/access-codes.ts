// R3.1: the one-time link that reveals a VPS's initial password. Single use, 72 h; the sealed
// password is erased when revealed, so the platform no longer holds it. The guest forces a
// change at first login.
import { HOUR } from '../../domain/clock.ts';
import { conflict, notFound } from '../../domain/errors.ts';
import type { Db } from '../db/database.ts';
import { accessLinkForUpdate, insertAccessLink, markAccessLinkUsed } from '../repositories/access-links.ts';
import { SYSTEM_SCOPE } from '../repositories/scope.ts';
import { inTransaction } from '../repositories/transactions.ts';
import { getVps, updateVps } from '../repositories/vps.ts';
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
      await insertAccessLink(db, {
        vps_id: vpsId,
        token_hash: tokenHash(token),
        created_at: now,
        expires_at: expiresAt,
      });
      return { url: `${ctx.config.publicUrl}/access#token=${encodeURIComponent(token)}`, expiresAt };
    },

    /** Reveals the password once. Reused → 409 access.link_used; expired → 409 access.link_expired. */
    async reveal(token: string, ip: string) {
      return inTransaction(ctx.db, async (tx) => {
        const link = await accessLinkForUpdate(tx, tokenHash(token));
        if (!link) throw notFound('access.link_unknown', 'This link is not valid');
        if (link.used_at)
          throw conflict(
            'access.link_used',
            'This link has already been used: ask support for a new password',
          );
        if (link.expires_at.getTime() <= ctx.clock.now().getTime())
          throw conflict('access.link_expired', 'This link has expired: ask support for a new password');
        const vps = await getVps(tx, SYSTEM_SCOPE, link.vps_id);
        if (!vps.initial_password_enc)
          throw conflict(
            'access.password_gone',
            'The initial password is no longer held: ask support for a new one',
          );
        const password = ctx.secrets.open(vps.initial_password_enc);
        await markAccessLinkUsed(tx, link.id, ctx.clock.now(), ip);
        // Erased once revealed: the platform no longer holds the client's password.
        await updateVps(tx, vps.id, { initial_password_enc: null });
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
