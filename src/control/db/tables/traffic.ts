// Tables of the traffic module (R3.13): daily buckets for the graphs, samples flagged for
// review, the SNMP port mapping of each VPS. (traffic_counters and traffic_usage: tables/infra.ts.)
import type { Generated } from 'kysely';
import type { Int8, Timestamp } from '../column-types.ts';

export type TrafficSource = 'tap' | 'snmp';

/** Bytes per VPS, source and UTC day (out = what the VPS sent). */
export interface TrafficDailyTable {
  vps_id: string;
  source: string;
  /** 'YYYY-MM-DD' (date). */
  day: string;
  bytes_out: Int8;
  bytes_in: Int8;
}

/** A sample that was not counted (impossible rate, time backwards): kept for staff review. */
export interface TrafficFlaggedTable {
  id: Generated<string>;
  vps_id: string;
  source: string;
  direction: 'out' | 'in';
  sample_kind: string;
  flag: string;
  from_at: Timestamp | null;
  to_at: Timestamp;
  raw_delta: Int8;
  counter_id: string;
  reviewed_at: Timestamp | null;
  reviewed_by: string | null;
}

export interface SnmpPortMappingsTable {
  vps_id: string;
  agent_host: string;
  agent_port: Generated<number>;
  /** SNMPv2c community, sealed with the master key. */
  community_enc: string;
  if_index: number;
  vps_outbound: Generated<'ifHCInOctets' | 'ifHCOutOctets'>;
  created_at: Timestamp;
}

export interface TrafficTables {
  traffic_daily: TrafficDailyTable;
  traffic_flagged: TrafficFlaggedTable;
  snmp_port_mappings: SnmpPortMappingsTable;
}
