// The OpenAPI document without a running server or database: used to generate the panel's
// typed API client (scripts/gen-api-client.ts). The pool never connects: no route is called.
import pino from 'pino';
import { systemClock } from '../domain/clock.ts';
import { buildApp } from './app.ts';
import { loadConfig } from './config.ts';
import { createDb } from './db/database.ts';
import { localAgents } from './hosts/agents.ts';
import { SecretBox } from './security/secretbox.ts';
import { createServices } from './services/index.ts';

export async function openApiDocument(): Promise<Record<string, unknown>> {
  const config = loadConfig({}, process.cwd());
  const { db } = createDb('postgres://unused@127.0.0.1:1/unused');
  const services = createServices({
    db,
    queue: { send: () => Promise.reject(new Error('no job queue')) },
    agents: localAgents(config, systemClock, pino({ level: 'silent' })),
    clock: systemClock,
    config,
    secrets: new SecretBox(Buffer.alloc(32)),
    log: pino({ level: 'silent' }),
  });
  const app = await buildApp(services, { webDir: '/nonexistent' });
  await app.ready();
  const doc = app.swagger() as unknown as Record<string, unknown>;
  await app.close();
  await db.destroy();
  return doc;
}
