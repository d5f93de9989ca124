// Commerce, the catalogue: plans, where each is sold, and the terms version in force. A plan
// edit changes no order, invoice or contract: they keep the facts and price of their time (R11.1).
import { conflict, invalidData } from '../../domain/errors.ts';
import { checkCents, checkVatRate } from '../../domain/money.ts';
import { CURRENT_TERMS } from '../../domain/terms.ts';
import type { Db } from '../db/database.ts';
import { getDatacenter } from '../repositories/datacenters.ts';
import {
  getPlan,
  getPlanWithDatacenters,
  insertPlan,
  listPlans,
  setPlanDatacenters,
  updatePlan,
} from '../repositories/plans.ts';
import { inTransaction } from '../repositories/transactions.ts';
import { uniqueViolation, type CommerceKit, type PlanInput } from './commerce-kit.ts';
import type { AuditActor } from './context.ts';

function checkPlanInput(p: PlanInput) {
  const code = p.code.trim().toUpperCase();
  if (!/^[A-Z0-9-]{2,32}$/.test(code))
    throw invalidData('validation.code', 'A plan code is 2 to 32 letters, digits or dashes', {
      field: 'code',
    });
  if (!p.name.trim()) throw invalidData('validation.name', 'A plan needs a name', { field: 'name' });
  checkCents(p.monthlyPriceCents, 'monthlyPriceCents');
  checkVatRate(p.vatRateBp);
  return { code, name: p.name.trim() };
}

async function checkDatacenters(db: Db, ids: readonly string[]) {
  for (const id of ids) await getDatacenter(db, id);
}

export function createCommerceCatalogue(kit: CommerceKit) {
  const { db, now, auditAfter } = kit;
  return {
    /** What is sold, where, and under which terms (every logged-in user). */
    async catalogue() {
      return { termsVersion: CURRENT_TERMS.version, plans: await listPlans(db, { activeOnly: true }) };
    },
    listPlans: () => listPlans(db),
    getPlan: (id: string) => getPlanWithDatacenters(db, id),

    async createPlan(p: PlanInput, actor: AuditActor) {
      const { code, name } = checkPlanInput(p);
      const plan = await inTransaction(db, async (tx) => {
        await checkDatacenters(tx, p.datacenterIds);
        const at = now();
        const plan = await insertPlan(tx, {
          code,
          name,
          vcpus: p.vcpus,
          memory_mib: p.memoryMiB,
          disk_gib: p.diskGiB,
          monthly_price_cents: p.monthlyPriceCents,
          vat_rate_bp: p.vatRateBp,
          active: p.active ?? true,
          created_at: at,
          updated_at: at,
        }).catch((e: unknown) => {
          if (uniqueViolation(e)) throw conflict('plan.code_taken', `A plan with code ${code} exists`);
          throw e;
        });
        await setPlanDatacenters(tx, plan.id, p.datacenterIds);
        return plan;
      });
      await auditAfter(
        actor,
        'plan.create',
        { type: 'plan', id: plan.id },
        { code, priceCents: p.monthlyPriceCents, datacenters: p.datacenterIds },
      );
      return getPlanWithDatacenters(db, plan.id);
    },

    /** A plan edit changes no order, invoice or contract: they keep the facts and price of their time. */
    async updatePlan(id: string, p: Partial<PlanInput>, actor: AuditActor) {
      await inTransaction(db, async (tx) => {
        const cur = await getPlan(tx, id, { forUpdate: true });
        const merged: PlanInput = {
          code: p.code ?? cur.code,
          name: p.name ?? cur.name,
          vcpus: p.vcpus ?? cur.vcpus,
          memoryMiB: p.memoryMiB ?? cur.memory_mib,
          diskGiB: p.diskGiB ?? cur.disk_gib,
          monthlyPriceCents: p.monthlyPriceCents ?? cur.monthly_price_cents,
          vatRateBp: p.vatRateBp ?? cur.vat_rate_bp,
          active: p.active ?? cur.active,
          datacenterIds: p.datacenterIds ?? [],
        };
        const { code, name } = checkPlanInput(merged);
        await updatePlan(tx, id, {
          code,
          name,
          vcpus: merged.vcpus,
          memory_mib: merged.memoryMiB,
          disk_gib: merged.diskGiB,
          monthly_price_cents: merged.monthlyPriceCents,
          vat_rate_bp: merged.vatRateBp,
          active: merged.active ?? true,
          updated_at: now(),
        }).catch((e: unknown) => {
          if (uniqueViolation(e)) throw conflict('plan.code_taken', `A plan with code ${code} exists`);
          throw e;
        });
        if (p.datacenterIds) {
          await checkDatacenters(tx, p.datacenterIds);
          await setPlanDatacenters(tx, id, p.datacenterIds);
        }
      });
      await auditAfter(actor, 'plan.update', { type: 'plan', id }, { ...p });
      return getPlanWithDatacenters(db, id);
    },
  };
}
