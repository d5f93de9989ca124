// What every service gets: the database, the clock, configuration, the secret box, a logger.
import type { Logger } from 'pino';
import type { Clock } from '../../domain/clock.ts';
import type { Config } from '../config.ts';
import type { Db } from '../db/database.ts';
import type { SecretBox } from '../security/secretbox.ts';

export interface ServiceContext {
  readonly db: Db;
  readonly clock: Clock;
  readonly config: Config;
  readonly secrets: SecretBox;
  readonly log: Logger;
}

/** Who did something, for the audit log. */
export interface AuditActor {
  readonly userId: string | null;
  readonly label: string;
  readonly ip: string | null;
}

export const SYSTEM_ACTOR: AuditActor = Object.freeze({ userId: null, label: 'system', ip: null });
