// OS templates: the images a VPS is installed from at order time and reinstalled from (R6.4).
// Staff register a template from an image's manifest (name, version, sha256), enable or disable
// it, and say which plans allow it; the order form offers a plan's enabled templates, and an
// order naming one the plan does not allow is refused with a clear error.
import { conflict, invalidData } from '../../domain/errors.ts';
import type { Db } from '../db/database.ts';
import {
  getOsTemplate,
  insertOsTemplate,
  listOsTemplates,
  planAllowsTemplate,
  setPlanTemplates,
  templatesOfPlan,
  updateOsTemplate,
  type OsTemplateRow,
} from '../repositories/os-templates.ts';
import { getPlan } from '../repositories/plans.ts';
import { inTransaction } from '../repositories/transactions.ts';
import type { AuditService } from './audit.ts';
import type { AuditActor, ServiceContext } from './context.ts';

export interface OsTemplateInput {
  code: string;
  name: string;
  image: string;
  imageVersion: string;
  sha256: string;
  enabled?: boolean;
}

const uniqueViolation = (e: unknown) => (e as { code?: string }).code === '23505';

function checkInput(t: OsTemplateInput): OsTemplateInput {
  const code = t.code.trim().toLowerCase();
  if (!/^[a-z0-9][a-z0-9.-]{1,39}$/.test(code))
    throw invalidData(
      'validation.code',
      'A template code is 2 to 40 lowercase letters, digits, dots or dashes',
      {
        field: 'code',
      },
    );
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(t.image))
    throw invalidData('validation.image', 'Not an image name (letters, digits, dots, dashes)', {
      field: 'image',
    });
  const sha256 = t.sha256.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(sha256))
    throw invalidData('validation.sha256', 'The sha256 is 64 hexadecimal digits (the image manifest’s)', {
      field: 'sha256',
    });
  if (!t.name.trim()) throw invalidData('validation.name', 'A template needs a name', { field: 'name' });
  if (!t.imageVersion.trim())
    throw invalidData('validation.imageVersion', 'A template needs its image version', {
      field: 'imageVersion',
    });
  return { ...t, code, sha256, name: t.name.trim(), imageVersion: t.imageVersion.trim() };
}

export function createOsTemplatesService(ctx: ServiceContext, audit: AuditService) {
  const db = ctx.db;
  const now = () => ctx.clock.now();
  return {
    /** Staff: every template, enabled or not. */
    list: () => listOsTemplates(db),
    /** The enabled templates a plan allows (the order form's choices; any logged-in user). */
    forPlan: async (planId: string) => {
      await getPlan(db, planId);
      return templatesOfPlan(db, planId, { enabledOnly: true });
    },

    async create(input: OsTemplateInput, actor: AuditActor): Promise<OsTemplateRow> {
      const t = checkInput(input);
      const at = now();
      const row = await insertOsTemplate(db, {
        code: t.code,
        name: t.name,
        image: t.image,
        image_version: t.imageVersion,
        sha256: t.sha256,
        enabled: t.enabled ?? true,
        created_at: at,
        updated_at: at,
      }).catch((e: unknown) => {
        if (uniqueViolation(e))
          throw conflict('os_template.code_taken', `A template with code ${t.code} exists`);
        throw e;
      });
      await audit.record(actor, 'os_template.create', { type: 'os_template', id: row.id }, { ...t });
      return row;
    },

    /** A new image version, a rename, or enabling/disabling: orders already placed keep their image. */
    async update(id: string, patch: Partial<OsTemplateInput>, actor: AuditActor): Promise<OsTemplateRow> {
      const row = await inTransaction(db, async (tx) => {
        const cur = await getOsTemplate(tx, id);
        const t = checkInput({
          code: patch.code ?? cur.code,
          name: patch.name ?? cur.name,
          image: patch.image ?? cur.image,
          imageVersion: patch.imageVersion ?? cur.image_version,
          sha256: patch.sha256 ?? cur.sha256,
          enabled: patch.enabled ?? cur.enabled,
        });
        return updateOsTemplate(tx, id, {
          code: t.code,
          name: t.name,
          image: t.image,
          image_version: t.imageVersion,
          sha256: t.sha256,
          enabled: t.enabled ?? cur.enabled,
          updated_at: now(),
        }).catch((e: unknown) => {
          if (uniqueViolation(e))
            throw conflict('os_template.code_taken', `A template with code ${t.code} exists`);
          throw e;
        });
      });
      await audit.record(actor, 'os_template.update', { type: 'os_template', id }, { ...patch });
      return row;
    },

    /** Replaces the templates a plan allows. */
    async setForPlan(planId: string, templateIds: readonly string[], actor: AuditActor) {
      await inTransaction(db, async (tx) => {
        await getPlan(tx, planId, { forUpdate: true });
        for (const t of templateIds) await getOsTemplate(tx, t);
        await setPlanTemplates(tx, planId, templateIds);
      });
      await audit.record(actor, 'plan.os_templates', { type: 'plan', id: planId }, { templateIds });
      return templatesOfPlan(db, planId);
    },

    /**
     * The order form's check, in the order's transaction: the template exists, is enabled and the
     * plan allows it; its image is what the VPS is installed from.
     */
    async checkAllowed(tx: Db, planId: string, templateId: string): Promise<OsTemplateRow> {
      const t = await getOsTemplate(tx, templateId);
      if (!t.enabled)
        throw conflict('os_template.disabled', `The system ${t.name} is no longer offered`, {
          field: 'osTemplateId',
        });
      if (!(await planAllowsTemplate(tx, planId, templateId)))
        throw conflict('os_template.not_allowed', `This plan does not offer the system ${t.name}`, {
          field: 'osTemplateId',
        });
      return t;
    },
  };
}
export type OsTemplatesService = ReturnType<typeof createOsTemplatesService>;

export function osTemplateOut(t: OsTemplateRow) {
  return {
    id: t.id,
    code: t.code,
    name: t.name,
    image: t.image,
    imageVersion: t.image_version,
    sha256: t.sha256,
    enabled: t.enabled,
  };
}
