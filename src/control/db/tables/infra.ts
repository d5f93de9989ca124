// Tables of the infra module: datacenters, IP pools and addresses (R3.2), hypervisor hosts
// (R2.1, R2.2), VPSs and their state machine, per-VPS network blocks and traffic counting
// (R3.11, R3.13).
import type { Generated } from 'kysely';
import type { Int8, Json, Timestamp } from '../column-types.ts';

export interface DatacentersTable {
  id: Generated<string>;
  /** Short code, e.g. PAR1. */
  code: string;
  name: string;
  city: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
  /** ISO 3166-2, e.g. FR-IDF. */
  region: string;
  created_at: Timestamp;
}

export interface IpPoolsTable {
  id: Generated<string>;
  datacenter_id: string;
  /** IPv4 prefix, e.g. 203.0.113.0/24. */
  cidr: string;
  gateway: string;
  created_at: Timestamp;
}

/** One row per address in use or in quarantine; a free address has no row. */
export interface IpAddressesTable {
  address: string;
  pool_id: string;
  vps_id: string | null;
  state: 'allocated' | 'quarantined';
  allocated_at: Timestamp;
  released_at: Timestamp | null;
  quarantine_until: Timestamp | null;
}

export interface HostsTable {
  id: Generated<string>;
  name: string;
  datacenter_id: string;
  /** How the control plane reaches its agent: the in-process local driver, for now. */
  agent: 'local';
  cpu_cores: number;
  memory_mib: number;
  disk_gib: number;
  cpu_overcommit: number;
  ram_overcommit: number;
  state: 'active' | 'draining' | 'down';
  /** Which counting source the quota reads for this host's VPSs (R3.13; 0006). */
  traffic_source: Generated<'tap' | 'snmp'>;
  /** A lab host's private network namespace (first-run setup, 0019); null: the machine's network. */
  netns: Generated<string | null>;
  created_at: Timestamp;
}

export interface VpsTable {
  id: Generated<string>;
  account_id: string;
  datacenter_id: string;
  host_id: string | null;
  hostname: string;
  vcpus: number;
  memory_mib: number;
  disk_gib: number;
  image: string;
  state: string;
  state_reason: string | null;
  state_changed_at: Timestamp;
  ipv4: string | null;
  mac: string | null;
  /** The VPS's number on its host (its shaping class); unique per host among live VPSs. */
  net_slot: number | null;
  /** Start of the billing cycles (the contract's start): the traffic quota's anchor (R3.13). */
  billing_anchor: Timestamp;
  /** The client's non-root account in the guest (R3.4). */
  client_username: string;
  /** Root's random password, sealed with the master key; never shown to a client (R3.4). */
  root_password_enc: string | null;
  initial_password_enc: string | null;
  provision_step: string | null;
  provision_percent: Generated<number>;
  provision_errors: Generated<number>;
  access_codes_sent_at: Timestamp | null;
  created_at: Timestamp;
}

export interface AccessLinksTable {
  id: Generated<string>;
  vps_id: string;
  token_hash: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
  used_ip: string | null;
}

export interface StaffAlertsTable {
  id: Generated<string>;
  at: Timestamp;
  kind: string;
  subject_type: string;
  subject_id: string;
  message: string;
  acknowledged_at: Timestamp | null;
  acknowledged_by: string | null;
}

export interface VpsEventsTable {
  id: Generated<string>;
  vps_id: string;
  at: Timestamp;
  kind: string;
  details: Json<Record<string, unknown>>;
}

/** Explicit network blocks on a VPS (isolation, blocked port/protocol, throttle): listed and audited, never stray rules. */
export interface NetworkBlocksTable {
  id: Generated<string>;
  vps_id: string;
  kind: 'isolate' | 'block' | 'throttle';
  /** For blocks: tcp, udp, icmp or all. */
  protocol: string | null;
  port: number | null;
  direction: 'in' | 'out' | 'both' | null;
  reason: string;
  created_by: string;
  created_at: Timestamp;
  /** Planned end (throttle: the billing cycle's end). */
  until: Timestamp | null;
  lifted_at: Timestamp | null;
  lifted_by: string | null;
  /** Set when the block belongs to another module's object (a sanction, a port-25 spam block, R7.2): only that owner lifts it. */
  owner_type: 'sanction' | 'spam_block' | null;
  owner_id: string | null;
}

/**
 * A VPS-level suspension in force, apart from the power state: while a hold is not lifted, the
 * VPS is not started or rebooted (by its client or by staff) and a start in flight ends paused.
 */
export interface VpsHoldsTable {
  id: Generated<string>;
  vps_id: string;
  owner_type: 'sanction' | 'termination';
  owner_id: string;
  reason: string;
  created_by: string;
  created_at: Timestamp;
  lifted_at: Timestamp | null;
  lifted_by: string | null;
}

/** Last counter reading per VPS and source (to compute deltas across restarts). */
export interface TrafficCountersTable {
  vps_id: string;
  source: string;
  /** Identity of the counter (ifindex, or agent+ifIndex for SNMP): a change means a reset. */
  counter_id: string;
  rx_bytes: Int8;
  tx_bytes: Int8;
  read_at: Timestamp;
}

/** Bytes per VPS per billing cycle: out = what the VPS sent (the quota), in = what it received. */
export interface TrafficUsageTable {
  vps_id: string;
  /** tap or snmp (0006): each source is summed separately. */
  source: Generated<string>;
  cycle_start: Timestamp;
  bytes_out: Int8;
  bytes_in: Int8;
  flagged: Generated<number>;
  updated_at: Timestamp;
}

export interface InfraTables {
  datacenters: DatacentersTable;
  ip_pools: IpPoolsTable;
  ip_addresses: IpAddressesTable;
  hosts: HostsTable;
  vps: VpsTable;
  vps_events: VpsEventsTable;
  access_links: AccessLinksTable;
  staff_alerts: StaffAlertsTable;
  network_blocks: NetworkBlocksTable;
  vps_holds: VpsHoldsTable;
  traffic_counters: TrafficCountersTable;
  traffic_usage: TrafficUsageTable;
}
