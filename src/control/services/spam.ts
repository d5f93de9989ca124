// Anti-spam on port 25 (R7.1–R7.6). Never inline: the hosts count port-25 flows in each VPS's
// own chain and an analyzer scores a mirrored copy (src/agent/), and this service only reads
// their numbers every few seconds (`sample`, run by jobs/spam.ts), keeps them in sliding
// windows (spam-signals.ts) and checks the provider's rules (domain/spam.ts). A rule crossed is
// an identification (a row with its statistics, R7.2): in one transaction, under the VPS's
// lock, its rung on the ladder (blocks in the last 12 months + 1, R7.4), a port-25 network
// block owned by the spam block (only this module lifts it), the spam block and the client's
// email with the statistics; the host applies the block right after the commit.
// Unblock (R7.3, R7.5): the client asks after the minimum duration; rungs 1–2 lift at once,
// from the 3rd staff lift or refuse with a reason (emailed). The block row is locked, so two
// requests at once: one wins, the other gets a clear conflict.
import { randomUUID } from 'node:crypto';
import type { SmtpHostStats } from '../../agent/host-agent.ts';
import { conflict, invalidData, notFound } from '../../domain/errors.ts';
import {
  DEFAULT_SPAM_RULES,
  blockDurationMs,
  crossedRule,
  ladderWindowStart,
  staffDecides,
  unblockOutcome,
  validateSpamRules,
  type SpamBlockState,
  type SpamRule,
  type SpamStats,
} from '../../domain/spam.ts';
import { CURRENT_TERMS, termsFor, type Terms } from '../../domain/terms.ts';
import type { Db } from '../db/database.ts';
import { mailDate } from '../mail/format.ts';
import { findRecipient } from '../mail/recipients.ts';
import { termsVersionOfVps } from '../repositories/contracts.ts';
import { insertNetworkBlock, markNetworkBlockLifted } from '../repositories/network-blocks.ts';
import type { Page, PageRequest } from '../repositories/pagination.ts';
import type { Scope } from '../repositories/scope.ts';
import { SYSTEM_SCOPE } from '../repositories/scope.ts';
import {
  countBlocksSince,
  getSpamBlockWithStats,
  insertIdentification,
  insertSpamBlock,
  listSpamRules,
  openSpamBlock,
  pageIdentifications,
  pageSpamBlocks,
  replaceSpamRules,
  spamBlockForUpdate,
  updateSpamBlock,
  vpssWithOpenBlock,
  type SpamBlockRow,
  type SpamBlockWithStats,
} from '../repositories/spam.ts';
import { inTransaction, xactLock } from '../repositories/transactions.ts';
import { getVps } from '../repositories/vps.ts';
import type { AuditService } from './audit.ts';
import { SYSTEM_ACTOR, type AuditActor, type ServiceContext } from './context.ts';
import type { MailService } from './mail.ts';
import type { NetworkBlocksService } from './network-blocks.ts';
import { createSpamWindows } from './spam-signals.ts';

export const SPAM_ACTOR_LABEL = 'anti-spam';

export interface SpamBlockView {
  id: string;
  vpsId: string;
  hostname: string;
  rung: number;
  state: SpamBlockState;
  createdAt: string;
  minUntil: string;
  requestedAt: string | null;
  decidedAt: string | null;
  refusalReason: string | null;
  liftedAt: string | null;
  /** R7.5: from this block on, staff decide (and may refuse). */
  staffDecides: boolean;
  identification: { ruleId: string; signal: string; threshold: number; observed: number; stats: SpamStats };
}

export interface SpamIdentificationView {
  id: string;
  vpsId: string;
  hostname: string;
  createdAt: string;
  ruleId: string;
  signal: string;
  threshold: number;
  observed: number;
  stats: SpamStats;
}

const termsOf = (version: string | undefined): Terms => (version ? termsFor(version) : CURRENT_TERMS);

function blockView(b: SpamBlockWithStats, terms: Terms): SpamBlockView {
  return {
    id: b.id,
    vpsId: b.vps_id,
    hostname: b.hostname,
    rung: b.rung,
    state: b.state,
    createdAt: b.created_at.toISOString(),
    minUntil: b.min_until.toISOString(),
    requestedAt: b.requested_at?.toISOString() ?? null,
    decidedAt: b.decided_at?.toISOString() ?? null,
    refusalReason: b.refusal_reason,
    liftedAt: b.lifted_at?.toISOString() ?? null,
    staffDecides: staffDecides(terms, b.rung),
    identification: {
      ruleId: b.rule_id,
      signal: b.signal,
      threshold: b.threshold,
      observed: b.observed,
      stats: b.stats,
    },
  };
}

/** The statistics as the client's email lists them (numbers only, R7.6). */
function statsLines(s: SpamStats, lang: 'fr' | 'en'): string {
  const fr = lang === 'fr';
  return [
    `${fr ? 'Nouvelles connexions au port 25 (dernière minute)' : 'New port-25 connections (last minute)'}: ${s.smtpConnectionsPerMinute}`,
    `${fr ? 'Serveurs de destination distincts (dernière heure)' : 'Distinct destination servers (last hour)'}: ${s.smtpDestinationsPerHour}`,
    `${fr ? 'Messages analysés (10 dernières minutes)' : 'Messages analysed (last 10 minutes)'}: ${s.messages10min}`,
    `${fr ? 'dont classés comme spam' : 'of which scored as spam'}: ${s.spamMessages10min}`,
    `${fr ? 'Destinataires' : 'Recipients'}: ${s.recipients10min}`,
    `${fr ? 'Score moyen / maximal' : 'Mean / highest score'}: ${s.meanScore10min} / ${s.maxScore10min}`,
    `${fr ? 'Sessions chiffrées (STARTTLS, non analysées)' : 'Encrypted sessions (STARTTLS, not analysed)'}: ${s.encryptedSessions10min}`,
  ]
    .map((l) => `- ${l}`)
    .join('\n');
}

const hours = (ms: number, lang: 'fr' | 'en') => {
  const h = ms / 3_600_000;
  if (h < 48) return lang === 'fr' ? `${h} h` : `${h} hours`.replace(/^1 hours$/, '1 hour');
  return lang === 'fr' ? `${h / 24} jours` : `${h / 24} days`;
};

export function createSpamService(
  ctx: ServiceContext,
  audit: AuditService,
  deps: { mail: MailService; networkBlocks: NetworkBlocksService },
) {
  const { db, clock, log } = ctx;
  const windows = createSpamWindows();

  async function rules(): Promise<SpamRule[]> {
    const rows = await listSpamRules(db);
    if (!rows.length) return [...DEFAULT_SPAM_RULES];
    return rows.map((r) => ({
      id: r.id,
      signal: r.signal,
      threshold: r.threshold,
      ...(r.min_messages !== null ? { minMessages: r.min_messages } : {}),
      reason: r.reason,
    }));
  }

  /**
   * R7.2: records the identification and blocks port 25 (one transaction under the VPS's lock);
   * null when the VPS already has an unfinished block (nothing is stacked).
   */
  async function identify(
    vpsId: string,
    hit: { rule: SpamRule; observed: number },
    stats: SpamStats,
  ): Promise<SpamBlockRow | null> {
    const now = clock.now();
    const terms = termsOf(await termsVersionOfVps(db, vpsId));
    const block = await inTransaction(db, async (tx) => {
      await xactLock(tx, `spam:${vpsId}`);
      if (await openSpamBlock(tx, vpsId)) return null;
      const vps = await getVps(tx, SYSTEM_SCOPE, vpsId);
      if (vps.state === 'destroyed') return null;
      const rung = (await countBlocksSince(tx, vpsId, ladderWindowStart(terms, now))) + 1;
      const durationMs = blockDurationMs(terms, rung);
      const minUntil = new Date(now.getTime() + durationMs);
      const ident = await insertIdentification(tx, {
        vps_id: vpsId,
        account_id: vps.account_id,
        created_at: now,
        rule_id: hit.rule.id,
        signal: hit.rule.signal,
        threshold: hit.rule.threshold,
        observed: hit.observed,
        stats: JSON.stringify(stats),
      });
      const spamBlockId = randomUUID();
      const nb = await insertNetworkBlock(tx, {
        vps_id: vpsId,
        kind: 'block',
        protocol: 'tcp',
        port: 25,
        direction: 'out',
        reason: `R7.2: spam identified (rule ${hit.rule.id}); outbound SMTP blocked, block ${rung}`,
        created_by: SPAM_ACTOR_LABEL,
        created_at: now,
        until: minUntil,
        owner_type: 'spam_block',
        owner_id: spamBlockId,
      });
      const row = await insertSpamBlock(tx, {
        id: spamBlockId,
        vps_id: vpsId,
        account_id: vps.account_id,
        identification_id: ident.id,
        network_block_id: nb.id,
        rung,
        created_at: now,
        min_until: minUntil,
        state: 'in_force',
      });
      const owner = await findRecipient(tx, vps.account_id);
      // Last in the transaction (the mail module holds the notices chain's lock until commit).
      if (owner) {
        const staff = staffDecides(terms, rung);
        await deps.mail.send(tx, {
          to: owner.to,
          template: 'spam.blocked',
          language: owner.language,
          vars: {
            name: owner.name,
            hostname: vps.hostname,
            rung: String(rung),
            duration: hours(durationMs, owner.language),
            minUntil: mailDate(minUntil, owner.language),
            stats: statsLines(stats, owner.language),
            nextStep:
              owner.language === 'fr'
                ? staff
                  ? 'À partir du 3e blocage, votre demande de déblocage est examinée par notre équipe, qui peut la refuser (article 7.5).'
                  : 'Le port est débloqué dès votre demande.'
                : staff
                  ? 'From the 3rd block on, your unblock request is reviewed by our staff, who may refuse it (article 7.5).'
                  : 'The port is unblocked as soon as you ask.',
          },
          accountId: vps.account_id,
          reason: 'R7.2 spam identified, port 25 blocked',
        });
      }
      return row;
    });
    if (!block) return null;
    await audit.record(
      SYSTEM_ACTOR,
      'vps.spam_blocked',
      { type: 'vps', id: vpsId },
      {
        spamBlockId: block.id,
        rung: block.rung,
        rule: hit.rule.id,
        observed: hit.observed,
      },
    );
    await deps.networkBlocks.reapply(vpsId);
    return block;
  }

  /** Lifts the block and its network rule in `tx`; the host is updated after the commit. */
  async function liftIn(tx: Db, b: SpamBlockRow, by: string, now: Date): Promise<SpamBlockRow> {
    if (b.network_block_id) await markNetworkBlockLifted(tx, b.network_block_id, by, now);
    return updateSpamBlock(tx, b.id, { state: 'lifted', lifted_at: now, lifted_by: by });
  }

  async function afterLift(b: SpamBlockRow): Promise<void> {
    windows.restart(b.vps_id, clock.now());
    await deps.networkBlocks.reapply(b.vps_id);
  }

  async function view(id: string): Promise<SpamBlockView> {
    const b = await getSpamBlockWithStats(db, id);
    if (!b) throw notFound('spam.block_not_found', 'No such port-25 block');
    return blockView(b, termsOf(await termsVersionOfVps(db, b.vps_id)));
  }

  async function mailDecision(tx: Db, b: SpamBlockRow, lifted: boolean, reason: string | null) {
    const owner = await findRecipient(tx, b.account_id);
    if (!owner) return;
    const vps = await getVps(tx, SYSTEM_SCOPE, b.vps_id);
    await deps.mail.send(tx, {
      to: owner.to,
      template: lifted ? 'spam.unblocked' : 'spam.unblock_refused',
      language: owner.language,
      vars: lifted
        ? { name: owner.name, hostname: vps.hostname }
        : { name: owner.name, hostname: vps.hostname, reason: reason ?? '' },
      accountId: b.account_id,
      reason: lifted ? 'R7.3 port 25 unblocked by staff' : 'R7.5 unblock refused',
    });
  }

  return {
    /** The rules in force (the defaults until the provider sets its own). */
    rules,

    /** Admin: replaces the rules (validated: an unknown signal is refused); audited. */
    async setRules(actor: AuditActor, next: SpamRule[]): Promise<SpamRule[]> {
      if (!next.length)
        throw invalidData('spam.rules_empty', 'Keep at least one rule (R7.1: traffic is always checked)');
      validateSpamRules(next);
      const now = clock.now();
      await inTransaction(db, async (tx) => {
        await xactLock(tx, 'spam:rules');
        await replaceSpamRules(
          tx,
          next.map((r, i) => ({
            id: r.id,
            position: i,
            signal: r.signal,
            threshold: r.threshold,
            min_messages: r.minMessages ?? null,
            reason: r.reason.trim(),
            updated_by: actor.label,
            updated_at: now,
          })),
        );
      });
      await audit.record(actor, 'spam.rules_set', undefined, { rules: next });
      return rules();
    },

    /**
     * One sampling round (R7.1): every open host's port-25 readings, the windows updated, the
     * rules checked; VPSs crossing one are identified and blocked. What it did, for the logs.
     */
    async sample(): Promise<{ hosts: number; vpss: number; identified: string[]; errors: string[] }> {
      const report = { hosts: 0, vpss: 0, identified: [] as string[], errors: [] as string[] };
      const rs = await rules();
      for (const { hostId, agent } of ctx.agents.opened()) {
        let reading: SmtpHostStats;
        try {
          reading = await agent.network.readSmtpStats();
        } catch (e) {
          report.errors.push(`${hostId ?? 'local'}: ${e instanceof Error ? e.message : String(e)}`);
          continue;
        }
        report.hosts++;
        const ids = await this.observe(reading, rs);
        report.vpss += ids.vpss;
        report.identified.push(...ids.identified);
      }
      return report;
    },

    /** Feeds one host's reading (the sampler; tests give readings directly). */
    async observe(reading: SmtpHostStats, rs?: SpamRule[]): Promise<{ vpss: number; identified: string[] }> {
      const now = clock.now();
      const all = windows.observe(reading, now);
      const theRules = rs ?? (await rules());
      const crossed = [...all].flatMap(([id, s]) => {
        const hit = crossedRule(theRules, s);
        return hit ? [{ id, s, hit }] : [];
      });
      const identified: string[] = [];
      if (crossed.length) {
        const blocked = await vpssWithOpenBlock(
          db,
          crossed.map((c) => c.id),
        );
        for (const c of crossed) {
          if (blocked.has(c.id)) continue;
          try {
            if (await identify(c.id, c.hit, c.s)) identified.push(c.id);
          } catch (e) {
            log.error({ err: e, vps: c.id }, 'spam identification failed');
          }
        }
      }
      return { vpss: all.size, identified };
    },

    /** R7.3: the VPS's port-25 status, its open block, the ladder shown before it asks. */
    async status(scope: Scope, vpsId: string) {
      const vps = await getVps(db, scope, vpsId);
      const terms = termsOf(await termsVersionOfVps(db, vps.id));
      const now = clock.now();
      const open = await openSpamBlock(db, vps.id);
      const inWindow = await countBlocksSince(db, vps.id, ladderWindowStart(terms, now));
      return {
        vpsId: vps.id,
        port25: open ? ('blocked' as const) : ('open' as const),
        block: open ? await view(open.id) : null,
        blocksInWindow: inWindow,
        ladder: {
          durationsMs: [...terms.smtpBlockLadderMs],
          windowMonths: terms.smtpBlockLadderWindowMonths,
          staffDecideFromBlock: terms.smtpUnblockRefusableFromBlock,
        },
        nextBlockDurationMs: blockDurationMs(terms, inWindow + 1),
      };
    },

    /** The VPS's port-25 blocks with their statistics, newest first (scoped). */
    async blocks(scope: Scope, vpsId: string, page: PageRequest): Promise<Page<SpamBlockView>> {
      const vps = await getVps(db, scope, vpsId);
      const terms = termsOf(await termsVersionOfVps(db, vps.id));
      const p = await pageSpamBlocks(db, { scope, vpsId: vps.id }, page);
      return { items: p.items.map((b) => blockView(b, terms)), nextCursor: p.nextCursor };
    },

    /** R7.3, R7.5: the client (having fixed the cause) asks to lift a block. */
    async requestUnblock(
      scope: Scope,
      actor: AuditActor,
      vpsId: string,
      blockId: string,
      confirmFixed: boolean,
    ): Promise<SpamBlockView & { outcome: 'lifted' | 'to_staff' }> {
      if (!confirmFixed)
        throw invalidData(
          'spam.confirm_fixed',
          'Confirm that the cause is fixed (compromised account, form or script) before asking',
          { field: 'confirmFixed' },
        );
      const vps = await getVps(db, scope, vpsId);
      const terms = termsOf(await termsVersionOfVps(db, vps.id));
      const now = clock.now();
      const { row, outcome } = await inTransaction(db, async (tx) => {
        const b = await spamBlockForUpdate(tx, scope, blockId);
        if (!b || b.vps_id !== vps.id)
          throw notFound('spam.block_not_found', 'No such port-25 block on this VPS');
        const outcome = unblockOutcome(terms, { state: b.state, rung: b.rung, minUntil: b.min_until }, now);
        if (outcome === 'lift') return { row: await liftIn(tx, b, actor.label, now), outcome };
        return {
          row: await updateSpamBlock(tx, b.id, {
            state: 'unblock_requested',
            requested_at: now,
            requested_by: actor.label,
          }),
          outcome,
        };
      });
      await audit.record(
        actor,
        outcome === 'lift' ? 'vps.spam_unblocked' : 'vps.spam_unblock_requested',
        {
          type: 'vps',
          id: vps.id,
        },
        { spamBlockId: row.id, rung: row.rung },
      );
      if (outcome === 'lift') await afterLift(row);
      return { ...(await view(row.id)), outcome: outcome === 'lift' ? 'lifted' : 'to_staff' };
    },

    /**
     * Staff (R7.5): lift or refuse a waiting request, with a reason for a refusal; either is
     * emailed. `lift` also ends a refused block or one in force (a false positive, after a ticket).
     */
    async decide(
      actor: AuditActor,
      blockId: string,
      d: { decision: 'lift' | 'refuse'; reason?: string },
    ): Promise<SpamBlockView> {
      const reason = d.reason?.trim() ?? '';
      if (d.decision === 'refuse' && reason.length < 3)
        throw invalidData('validation.reason', 'Say why the unblock is refused (the client is told)', {
          field: 'reason',
        });
      const now = clock.now();
      const row = await inTransaction(db, async (tx) => {
        const b = await spamBlockForUpdate(tx, SYSTEM_SCOPE, blockId);
        if (!b) throw notFound('spam.block_not_found', 'No such port-25 block');
        if (b.state === 'lifted') throw conflict('spam.not_blocked', 'This block was already lifted');
        if (d.decision === 'refuse' && b.state !== 'unblock_requested')
          throw conflict('spam.no_request', 'Only a waiting unblock request can be refused');
        const out =
          d.decision === 'lift'
            ? await liftIn(tx, { ...b }, actor.label, now).then((r) =>
                updateSpamBlock(tx, r.id, { decided_at: now, decided_by: actor.label }),
              )
            : await updateSpamBlock(tx, b.id, {
                state: 'refused',
                decided_at: now,
                decided_by: actor.label,
                refusal_reason: reason,
              });
        await mailDecision(tx, out, d.decision === 'lift', reason || null);
        return out;
      });
      await audit.record(
        actor,
        d.decision === 'lift' ? 'vps.spam_unblocked' : 'vps.spam_unblock_refused',
        {
          type: 'vps',
          id: row.vps_id,
        },
        { spamBlockId: row.id, rung: row.rung, reason: reason || null },
      );
      if (d.decision === 'lift') await afterLift(row);
      return view(row.id);
    },

    /** Staff: blocks by state (in force, waiting for staff = the unblock queue, …), newest first. */
    async blocksByState(states: SpamBlockState[], page: PageRequest): Promise<Page<SpamBlockView>> {
      const p = await pageSpamBlocks(db, { scope: SYSTEM_SCOPE, states }, page);
      return { items: p.items.map((b) => blockView(b, CURRENT_TERMS)), nextCursor: p.nextCursor };
    },

    /** Staff: identifications with their statistics, of one VPS or all. */
    async identifications(
      filter: { vpsId?: string },
      page: PageRequest,
    ): Promise<Page<SpamIdentificationView>> {
      const p = await pageIdentifications(db, filter, page);
      return {
        items: p.items.map((i) => ({
          id: i.id,
          vpsId: i.vps_id,
          hostname: i.hostname,
          createdAt: i.created_at.toISOString(),
          ruleId: i.rule_id,
          signal: i.signal,
          threshold: i.threshold,
          observed: i.observed,
          stats: i.stats,
        })),
        nextCursor: p.nextCursor,
      };
    },
  };
}
export type SpamService = ReturnType<typeof createSpamService>;
