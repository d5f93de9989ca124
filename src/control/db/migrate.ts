// Versioned migrations, run at start. Listed explicitly (no directory scan) so the set is
// part of the code and type-checked.
import { sql, type Kysely } from 'kysely';
import { Migrator, type Migration } from 'kysely/migration';
import * as m0001 from './migrations/0001_foundation.ts';
import * as m0002 from './migrations/0002_infra.ts';
import * as m0003 from './migrations/0003_mail.ts';
import * as m0004 from './migrations/0004_clients.ts';
import * as m0005 from './migrations/0005_commerce.ts';
import * as m0006traffic from './migrations/0006_traffic.ts';
import * as m0007renewals from './migrations/0007_renewals.ts';
import * as m0008planChanges from './migrations/0008_plan_changes.ts';
import * as m0009measures from './migrations/0009_measures.ts';
import * as m0010terminations from './migrations/0010_terminations.ts';
import * as m0011authHardening from './migrations/0011_auth_hardening.ts';
import * as m0012mailSecrets from './migrations/0012_mail_secrets.ts';
import * as m0014holdsAndOwners from './migrations/0014_holds_and_owners.ts';
import * as m0015vpsPower from './migrations/0015_vps_power.ts';
import * as m0016sanctionsVocabulary from './migrations/0016_sanctions_vocabulary.ts';
import * as m0019hostNetns from './migrations/0019_host_netns.ts';
import * as m0021listIndexes from './migrations/0021_list_indexes.ts';
import * as m0100tickets from './migrations/0100_tickets.ts';
import * as m0130osTemplates from './migrations/0130_os_templates.ts';
import * as m0150legalRecords from './migrations/0150_legal_records.ts';
import * as m0170spam from './migrations/0170_spam.ts';
import * as m0120backups from './migrations/0120_backups.ts';
import * as m0151logStore from './migrations/0151_log_store.ts';
import * as m0140ddos from './migrations/0140_ddos.ts';

export const migrations: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_infra': m0002,
  '0003_mail': m0003,
  '0004_clients': m0004,
  '0005_commerce': m0005,
  '0006_traffic': m0006traffic,
  '0007_renewals': m0007renewals,
  '0008_plan_changes': m0008planChanges,
  '0009_measures': m0009measures,
  '0010_terminations': m0010terminations,
  '0011_auth_hardening': m0011authHardening,
  '0012_mail_secrets': m0012mailSecrets,
  '0014_holds_and_owners': m0014holdsAndOwners,
  '0015_vps_power': m0015vpsPower,
  '0016_sanctions_vocabulary': m0016sanctionsVocabulary,
  '0019_host_netns': m0019hostNetns,
  '0021_list_indexes': m0021listIndexes,
  '0100_tickets': m0100tickets,
  '0130_os_templates': m0130osTemplates,
  '0150_legal_records': m0150legalRecords,
  '0170_spam': m0170spam,
  '0120_backups': m0120backups,
  '0151_log_store': m0151logStore,
  '0140_ddos': m0140ddos,
};

// Migrations renamed after some databases applied them under the old name (two were numbered
// 0006): the old name is rewritten to the new one before migrating, so nothing runs twice and
// the migrator does not find an applied migration missing from the list.
export const renamedMigrations: Readonly<Record<string, string>> = {
  '0006_vps_power': '0015_vps_power',
};

async function applyRenames(db: Kysely<unknown>): Promise<void> {
  const exists = await sql<{ t: string | null }>`SELECT to_regclass('kysely_migration')::text AS t`.execute(
    db,
  );
  if (!exists.rows[0]?.t) return;
  for (const [from, to] of Object.entries(renamedMigrations))
    await sql`UPDATE kysely_migration SET name = ${to} WHERE name = ${from}`.execute(db);
}

export async function migrateToLatest(db: Kysely<unknown>): Promise<string[]> {
  await applyRenames(db);
  // Modules are developed side by side: a migration merged later may sort before one already
  // applied. They are independent, so each missing one is applied whatever its place.
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    allowUnorderedMigrations: true,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(`migration ${failed ?? '?'} failed: ${(error as Error).message}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
