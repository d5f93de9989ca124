// OS templates and the plans that allow each (a small catalogue, like the plans: not paged).
import type { Insertable, Selectable, Updateable } from 'kysely';
import { notFound } from '../../domain/errors.ts';
import type { Db } from '../db/database.ts';
import type { OsTemplatesTable } from '../db/tables/os-templates.ts';

export type OsTemplateRow = Selectable<OsTemplatesTable>;

export function listOsTemplates(db: Db, opts: { enabledOnly?: boolean } = {}): Promise<OsTemplateRow[]> {
  let q = db.selectFrom('os_templates').selectAll().orderBy('code');
  if (opts.enabledOnly) q = q.where('enabled', '=', true);
  return q.execute();
}

export async function getOsTemplate(db: Db, id: string): Promise<OsTemplateRow> {
  const t = await db.selectFrom('os_templates').selectAll().where('id', '=', id).executeTakeFirst();
  if (!t) throw notFound('os_template.not_found', 'No such OS template');
  return t;
}

export function findOsTemplateByCode(db: Db, code: string): Promise<OsTemplateRow | undefined> {
  return db.selectFrom('os_templates').selectAll().where('code', '=', code).executeTakeFirst();
}

export function insertOsTemplate(db: Db, t: Insertable<OsTemplatesTable>): Promise<OsTemplateRow> {
  return db.insertInto('os_templates').values(t).returningAll().executeTakeFirstOrThrow();
}

export async function updateOsTemplate(
  db: Db,
  id: string,
  patch: Updateable<OsTemplatesTable>,
): Promise<OsTemplateRow> {
  const t = await db
    .updateTable('os_templates')
    .set(patch)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  if (!t) throw notFound('os_template.not_found', 'No such OS template');
  return t;
}

/** The enabled templates a plan allows (what its order form offers). */
export function templatesOfPlan(
  db: Db,
  planId: string,
  opts: { enabledOnly?: boolean } = {},
): Promise<OsTemplateRow[]> {
  let q = db
    .selectFrom('plan_os_templates as p')
    .innerJoin('os_templates as t', 't.id', 'p.os_template_id')
    .selectAll('t')
    .where('p.plan_id', '=', planId)
    .orderBy('t.code');
  if (opts.enabledOnly) q = q.where('t.enabled', '=', true);
  return q.execute();
}

/** Replaces the templates a plan allows. */
export async function setPlanTemplates(
  db: Db,
  planId: string,
  templateIds: readonly string[],
): Promise<void> {
  await db.deleteFrom('plan_os_templates').where('plan_id', '=', planId).execute();
  if (templateIds.length)
    await db
      .insertInto('plan_os_templates')
      .values([...new Set(templateIds)].map((t) => ({ plan_id: planId, os_template_id: t })))
      .execute();
}

export async function planAllowsTemplate(db: Db, planId: string, templateId: string): Promise<boolean> {
  const r = await db
    .selectFrom('plan_os_templates')
    .select('plan_id')
    .where('plan_id', '=', planId)
    .where('os_template_id', '=', templateId)
    .executeTakeFirst();
  return r !== undefined;
}
