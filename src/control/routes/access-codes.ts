import { Type } from 'typebox';
import type { App } from '../http/types.ts';
import type { Services } from '../services/index.ts';
import { ErrorSchema } from './schemas.ts';

export function accessCodeRoutes(app: App, s: Services): void {
  // Public: the token is the secret. A POST, so mail scanners that follow links (GET) never
  // spend the single use.
  app.post(
    '/v1/access-codes/reveal',
    {
      config: { access: 'public' },
      schema: {
        tags: ['vps'],
        summary: 'Reveal a VPS’s initial password with the one-time link from the email (R3.1)',
        body: Type.Object(
          { token: Type.String({ minLength: 20, maxLength: 200 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            hostname: Type.String(),
            ipv4: Type.Union([Type.String(), Type.Null()]),
            username: Type.String(),
            password: Type.String(),
          }),
          400: ErrorSchema,
          404: ErrorSchema,
          409: ErrorSchema,
        },
      },
    },
    async (req, reply) => {
      void reply.header('cache-control', 'no-store');
      return s.accessCodes.reveal(req.body.token, req.ip);
    },
  );
}
