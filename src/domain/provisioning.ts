// The provisioning workflow's steps, in order, with the share of the work each closes (the
// percent the client sees). Every step is idempotent: the workflow resumes at the first step
// not done, after a crash or a retry.
export const provisioningSteps = [
  { step: 'place', percent: 5 }, // a host with room (R2.1, R2.2)
  { step: 'address', percent: 10 }, // the fixed IPv4 from the datacenter's pools (R3.2)
  { step: 'credentials', percent: 15 }, // root's random password (R3.4), the client's initial one
  { step: 'network', percent: 25 }, // tap, anti-spoofing, filtering, shaping (R6.3, R3.11, R3.13)
  { step: 'disk', percent: 45 }, // dedicated disk + config drive (R2.1)
  { step: 'boot', percent: 60 },
  { step: 'guest_agent', percent: 80 },
  { step: 'accounts', percent: 90 }, // the client's non-root account checked in the guest (R3.4)
  { step: 'access_codes', percent: 100 }, // the email with the one-time link (R3.1)
] as const;

export type ProvisioningStep = (typeof provisioningSteps)[number]['step'];

export function stepIndex(step: string | null): number {
  if (step === null) return -1;
  return provisioningSteps.findIndex((s) => s.step === step);
}

/** The steps still to run after `done` (the last completed one). */
export function remainingSteps(done: string | null): ProvisioningStep[] {
  return provisioningSteps.slice(stepIndex(done) + 1).map((s) => s.step);
}

export function percentAfter(step: ProvisioningStep): number {
  return provisioningSteps.find((s) => s.step === step)!.percent;
}

/** The lowest free slot number on a host (1..65000), given the ones taken. */
export function firstFreeSlot(taken: readonly number[]): number {
  const set = new Set(taken);
  for (let s = 1; s <= 65000; s++) if (!set.has(s)) return s;
  throw new Error('no free network slot on this host');
}
