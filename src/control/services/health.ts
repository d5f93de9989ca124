// Liveness (`/healthz`): whether the platform's database answers.
import { pingDatabase } from '../repositories/health.ts';
import type { ServiceContext } from './context.ts';

export function createHealthService(ctx: ServiceContext) {
  return {
    /** True when the database answers now; false (never a throw) when it does not. */
    async databaseAnswers(): Promise<boolean> {
      return pingDatabase(ctx.db).then(
        () => true,
        () => false,
      );
    },
  };
}
export type HealthService = ReturnType<typeof createHealthService>;
