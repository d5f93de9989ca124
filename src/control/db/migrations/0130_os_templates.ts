import { sql, type Kysely } from 'kysely';

// OS templates (R6.4's reinstall and the order form choose one): an image built by the project
// (scripts/guest-image/…) under a name every host has, its version and sha256 as its manifest
// says; the plans that allow each; and the template an order chose (copied like the plan's
// facts: a later template edit changes no order).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE os_templates (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      code text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9][a-z0-9.-]{1,39}$'),
      name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
      image text NOT NULL CHECK (image ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
      image_version text NOT NULL CHECK (length(image_version) BETWEEN 1 AND 100),
      sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
      enabled boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL
    )`.execute(db);
  await sql`
    CREATE TABLE plan_os_templates (
      plan_id uuid NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
      os_template_id uuid NOT NULL REFERENCES os_templates(id),
      PRIMARY KEY (plan_id, os_template_id)
    )`.execute(db);
  await sql`CREATE INDEX plan_os_templates_by_template ON plan_os_templates (os_template_id)`.execute(db);
  await sql`ALTER TABLE orders ADD COLUMN os_template_id uuid REFERENCES os_templates(id)`.execute(db);
  await sql`ALTER TABLE orders ADD COLUMN os_image text`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE orders DROP COLUMN os_image`.execute(db);
  await sql`ALTER TABLE orders DROP COLUMN os_template_id`.execute(db);
  await sql`DROP TABLE plan_os_templates`.execute(db);
  await sql`DROP TABLE os_templates`.execute(db);
}
