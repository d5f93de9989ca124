import type { Kysely } from 'kysely';

// First-run setup: this machine enrolled as a lab host runs its VMs and their network in a
// private network namespace (docs/first-run.md); null = the machine's own network.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('hosts').addColumn('netns', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('hosts').dropColumn('netns').execute();
}
