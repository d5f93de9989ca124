// What a client may read of the provider's records. Staff keep the detail (who did it, the
// driver's answer, the raw error with its command line and host paths); a client reads a role
// ("provider") instead of a staff member's email and a plain message or a problem code instead
// of an error. Everything a client reads of a VPS's history goes through here.

/** The name clients read for anyone of the provider's side (staff, the platform itself). */
export const PROVIDER = 'provider';

/**
 * Who did it, as a client reads it: a user of its own account keeps its email (the client knows
 * its colleagues); anyone else — staff, "system", a webhook — is the provider.
 */
export function actorForClient(label: string, ownEmails: ReadonlySet<string>): string {
  return ownEmails.has(label.toLowerCase()) ? label : PROVIDER;
}

/** A plain sentence for a failure a client is told about (the detail stays with staff). */
export const CLIENT_FAILURE_MESSAGE =
  'This did not work; the provider has been alerted and is looking into it.';

/** Keys of a VPS event's details a client may read, whatever the kind: states, steps, phases, ids. */
const SAFE_DETAIL_KEYS = new Set([
  'from',
  'to',
  'step',
  'percent',
  'action',
  'phase',
  'changeId',
  'plan',
  'amountCents',
  'dueAt',
  'at',
  'owner',
]);

/** The problem a client is shown instead of an error, by event kind (the panel words it). */
function problemOf(kind: string, details: Record<string, unknown>): string | null {
  if (kind === 'provision_error') return 'provision_failed';
  if (kind === 'vm.crashed') return 'vm_crashed';
  if (details.phase === 'failed') return kind === 'plan_change' ? 'plan_change_failed' : `${kind}_failed`;
  return null;
}

/**
 * A VPS event's details as a client reads them: only the safe keys, `by` as a role, and a
 * `problem` code where staff read an error (R5.1 tells the nature of an interruption, never the
 * platform's internals).
 */
export function clientEventDetails(
  kind: string,
  details: Record<string, unknown>,
  ownEmails: ReadonlySet<string>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(details))
    if (SAFE_DETAIL_KEYS.has(k) && (v === null || ['string', 'number', 'boolean'].includes(typeof v)))
      out[k] = v;
  if (typeof details.by === 'string') out.by = actorForClient(details.by, ownEmails);
  const problem = problemOf(kind, details);
  if (problem) out.problem = problem;
  return out;
}
