// Host-wide network settings (one bridge per host). The per-VPS part is VpsNetPolicy
// (src/domain/net-policy.ts).

export interface HostNetConfig {
  /** Network namespace everything lives in; unset in production (the host's namespace). */
  readonly netns?: string;
  /** nftables table (family bridge). */
  readonly table: string;
  readonly bridge: string;
  /**
   * The bridge port towards the provider's network. Outbound shaping (R3.13) is done on its
   * egress with one HTB class per VPS under one host class; without an uplink there is no
   * outbound shaping (inbound shaping on the taps still applies).
   */
  readonly uplink?: string;
  /** Capacity of the uplink (the host class's rate). */
  readonly uplinkBitsPerSecond: number;
  /**
   * R5.1, R6.4: the provider's management path, IPv4 addresses or CIDRs an isolated VPS may
   * still exchange traffic with.
   */
  readonly management: readonly string[];
}

export const DEFAULT_TABLE = 'infogere';
