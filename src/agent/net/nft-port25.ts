// Port-25 flow statistics in the VPS's own chain (R7.1), pure renderer plus its reader. Never
// inline: the rule only counts and remembers destination addresses, it never drops, delays or
// changes a packet (the block, R7.2, is an ordinary network block rendered by nft-render.ts).
//
// Per VPS, in table bridge <table>:
//   counter vps_<id>_smtp_syn   new TCP connections to port 25 (SYN without ACK)
//   set vps_<id>_smtp_dst       destination addresses seen on port 25, each kept 1 hour (bounded)
//   rule in vps_<id>_out        tcp dport 25 tcp flags & (syn|ack) == syn counter … add @… { ip daddr }
// The set holds server addresses only, never anything of a message; its size is what is read.
import { randomBytes } from 'node:crypto';
import { unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run } from '../exec/run.ts';
import type { NftCommand, NftRuleSpec } from './nft-render.ts';
import type { HostNetConfig } from './types.ts';

export const SMTP_DST_TIMEOUT_S = 3600;
/** Bounded kernel memory: past this many destinations in an hour the rule is crossed anyway. */
export const SMTP_DST_SET_SIZE = 65_536;

export const smtpSynCounter = (vpsId: string) => `vps_${vpsId}_smtp_syn`;
export const smtpDstSet = (vpsId: string) => `vps_${vpsId}_smtp_dst`;

/** The flow rule, in canonical `nft -j list` form (the reconcile compares it). */
export function port25FlowRules(chain: string, vpsId: string): NftRuleSpec[] {
  return [
    {
      chain,
      expr: [
        { match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: 25 } },
        {
          match: {
            op: '==',
            left: { '&': [{ payload: { protocol: 'tcp', field: 'flags' } }, ['syn', 'ack']] },
            right: 'syn',
          },
        },
        { counter: smtpSynCounter(vpsId) },
        {
          set: {
            op: 'add',
            elem: { payload: { protocol: 'ip', field: 'daddr' } },
            set: `@${smtpDstSet(vpsId)}`,
          },
        },
      ],
      comment: 'smtp:flow',
    },
  ];
}

const obj = (host: HostNetConfig, name: string) => ({ family: 'bridge', table: host.table, name });

/** The counter, added (kept when present) before the chain's rules. */
export function port25Objects(host: HostNetConfig, vpsId: string): NftCommand[] {
  return [{ add: { counter: obj(host, smtpSynCounter(vpsId)) } }];
}

/**
 * Removal after the chains are gone (idempotent: added before deleted); the set must exist
 * (`ensureSmtpSets` first).
 */
export function port25Removal(host: HostNetConfig, vpsId: string): NftCommand[] {
  return port25Objects(host, vpsId).concat([
    { delete: { counter: obj(host, smtpSynCounter(vpsId)) } },
    { delete: { set: obj(host, smtpDstSet(vpsId)) } },
  ]);
}

/**
 * The timed sets, in nft's text syntax: a set fed by a rule is flagged `dynamic` by the
 * kernel, a flag nft 1.0.6's JSON cannot write, and re-adding a set with other flags fails
 * ("File exists"). In text, `add set` with the same flags is a no-op, so this runs before
 * every batch that adds or deletes a VPS's rules.
 */
export function renderSmtpSetsText(host: HostNetConfig, vpsIds: readonly string[]): string {
  const lines = [`add table bridge ${host.table}`];
  for (const id of vpsIds)
    lines.push(
      `add set bridge ${host.table} ${smtpDstSet(id)} { type ipv4_addr; size ${SMTP_DST_SET_SIZE}; flags dynamic,timeout; timeout ${SMTP_DST_TIMEOUT_S}s; }`,
    );
  return lines.join('\n') + '\n';
}

const nftArgv = (host: HostNetConfig) => (host.netns ? ['ip', 'netns', 'exec', host.netns, 'nft'] : ['nft']);

/** Creates the VPSs' timed sets when missing (one nft call). */
export async function ensureSmtpSets(host: HostNetConfig, vpsIds: readonly string[]): Promise<void> {
  if (!vpsIds.length) return;
  const file = path.join(tmpdir(), `infogere-nft-${process.pid}-${randomBytes(6).toString('hex')}.nft`);
  await writeFile(file, renderSmtpSetsText(host, vpsIds), { mode: 0o600 });
  try {
    await run([...nftArgv(host), '-f', file]);
  } finally {
    await unlink(file).catch(() => undefined);
  }
}

export interface SmtpFlowReading {
  /** Cumulative new port-25 connections since the counter was created (decimal string). */
  syn: string;
  /** Distinct destinations in the last hour. */
  destinations: number;
}

const SYN_RE = /^vps_(.+)_smtp_syn$/;
const DST_RE = /^vps_(.+)_smtp_dst$/;

/** Parses `nft -j list counters` and `nft -j list sets` output into per-VPS readings. */
export function parseSmtpFlows(
  table: string,
  countersJson: string,
  setsJson: string,
): Record<string, SmtpFlowReading> {
  const out: Record<string, SmtpFlowReading> = {};
  const get = (id: string) => (out[id] ??= { syn: '0', destinations: 0 });
  type Item = {
    counter?: { table: string; name: string; packets: number };
    set?: { table: string; name: string; elem?: unknown[] };
  };
  for (const it of (JSON.parse(countersJson) as { nftables: Item[] }).nftables) {
    const c = it.counter;
    const m = c && c.table === table ? SYN_RE.exec(c.name) : null;
    if (m) get(m[1]!).syn = String(c!.packets);
  }
  for (const it of (JSON.parse(setsJson) as { nftables: Item[] }).nftables) {
    const s = it.set;
    const m = s && s.table === table ? DST_RE.exec(s.name) : null;
    if (m) get(m[1]!).destinations = s!.elem?.length ?? 0;
  }
  return out;
}

/** Every VPS's port-25 flow reading on the host: two nft calls, whatever the number of VPSs. */
export async function readSmtpFlows(host: HostNetConfig): Promise<Record<string, SmtpFlowReading>> {
  const nftBase = nftArgv(host);
  const counters = await run([...nftBase, '-j', 'list', 'counters', 'table', 'bridge', host.table]);
  const sets = await run([...nftBase, '-j', 'list', 'sets', 'bridge']);
  return parseSmtpFlows(host.table, counters.stdout, sets.stdout);
}
