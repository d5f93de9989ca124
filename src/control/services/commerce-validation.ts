// Commerce, validation (R11.1, R11.2; R2.3 starts here): a paid order is validated, its
// contract opened under the terms in force and its VPS requested, in the caller's transaction
// (staff's validation, or the paying one when validation is automatic).
import { openContract } from '../../domain/contracts.ts';
import { transitionOrder } from '../../domain/orders.ts';
import { CURRENT_TERMS } from '../../domain/terms.ts';
import type { Db } from '../db/database.ts';
import { insertContract, type ContractRow } from '../repositories/contracts.ts';
import { updateOrder, type OrderRow } from '../repositories/orders.ts';
import type { CommerceKit } from './commerce-kit.ts';

/** Validation, inside the caller's transaction (the order row is locked by the caller). */
export async function validateInTx(
  kit: CommerceKit,
  tx: Db,
  order: OrderRow,
  by: string,
): Promise<{ order: OrderRow; contract: ContractRow }> {
  transitionOrder(order.state, 'validated');
  const at = kit.now();
  // R11.1 / R11.2: the contract's dates, from the validation instant, under the terms in force.
  const times = openContract({
    kind: order.kind,
    termMonths: order.term_months,
    start: at,
    terms: CURRENT_TERMS,
  });
  // R2.3 starts here: the VPS is requested and its provisioning job queued in this transaction.
  const vps = await kit.deps.infra.requestVps(tx, {
    accountId: order.account_id,
    datacenterId: order.datacenter_id,
    hostname: order.hostname,
    vcpus: order.vcpus,
    memoryMiB: order.memory_mib,
    diskGiB: order.disk_gib,
    billingAnchor: times.billingAnchor,
    clientUsername: order.client_username,
    ...(order.os_image ? { image: order.os_image } : {}),
  });
  const contract = await insertContract(tx, {
    account_id: order.account_id,
    order_id: order.id,
    vps_id: vps.id,
    plan_id: order.plan_id,
    datacenter_id: order.datacenter_id,
    terms_version: CURRENT_TERMS.version,
    kind: times.kind,
    term_months: times.termMonths,
    started_at: times.startedAt,
    billing_anchor: times.billingAnchor,
    renewal_anchor: times.renewalAnchor,
    periods: times.periods,
    expires_at: times.expiresAt,
    renewal_stopped_at: null,
    monthly_price_cents: order.monthly_price_cents,
    vat_rate_bp: order.vat_rate_bp,
    state: 'active',
    state_changed_at: at,
    ended_at: null,
    created_at: at,
  });
  for (const listener of kit.contractOpenedListeners) await listener(tx, contract);
  const updated = await updateOrder(tx, order.id, {
    state: 'validated',
    state_changed_at: at,
    validated_at: at,
    validated_by: by,
  });
  return { order: updated, contract };
}
