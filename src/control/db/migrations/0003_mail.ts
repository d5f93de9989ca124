import type { Kysely } from 'kysely';

// Reserved for the mail module (issue 5); filled by that module.
export async function up(_db: Kysely<unknown>): Promise<void> {}
