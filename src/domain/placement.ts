// Where a new VPS goes (R2.1, R2.2): disk is dedicated and never overcommitted; vCPU and RAM
// are shared within each host's overcommit ratios. Pure: the caller loads the hosts' loads.
export interface HostLoad {
  id: string;
  name: string;
  datacenterId: string;
  state: 'active' | 'draining' | 'down';
  cpuCores: number;
  memoryMiB: number;
  diskGiB: number;
  cpuOvercommit: number;
  ramOvercommit: number;
  vcpusPlaced: number;
  memoryMiBPlaced: number;
  diskGiBPlaced: number;
}

export interface VpsNeeds {
  datacenterId: string;
  vcpus: number;
  memoryMiB: number;
  diskGiB: number;
}

export type PlacementRefusal = {
  hostId: string;
  reason: 'not_active' | 'other_datacenter' | 'disk' | 'cpu' | 'memory';
};

export function fits(h: HostLoad, n: VpsNeeds): PlacementRefusal['reason'] | null {
  if (h.datacenterId !== n.datacenterId) return 'other_datacenter';
  if (h.state !== 'active') return 'not_active';
  if (h.diskGiBPlaced + n.diskGiB > h.diskGiB) return 'disk'; // R2.1: never overcommitted
  if (h.vcpusPlaced + n.vcpus > h.cpuCores * h.cpuOvercommit) return 'cpu'; // R2.2
  if (h.memoryMiBPlaced + n.memoryMiB > h.memoryMiB * h.ramOvercommit) return 'memory'; // R2.2
  return null;
}

/** The host with the most free disk among those that fit, or the reasons each was refused. */
export function choosePlacement(
  hosts: HostLoad[],
  n: VpsNeeds,
): { hostId: string } | { refused: PlacementRefusal[] } {
  const ok = hosts.filter((h) => fits(h, n) === null);
  if (ok.length === 0) return { refused: hosts.map((h) => ({ hostId: h.id, reason: fits(h, n)! })) };
  ok.sort(
    (a, b) => b.diskGiB - b.diskGiBPlaced - (a.diskGiB - a.diskGiBPlaced) || a.name.localeCompare(b.name),
  );
  return { hostId: ok[0]!.id };
}
