// The data set of `npm run bench:api`: a mid-size provider (../shared/notes/scale.md) written
// with a few INSERT … SELECT generate_series statements (seconds, not minutes): 3 datacenters,
// 150 hosts, 3 plans, 2,000 client accounts (one user, identity and verified sign-up each),
// 10,000 VPSs (5 per account, each with its address, order and contract), 100,000 invoices
// (10 monthly invoices per VPS, the first the order's; paid ones with their payment), 30,000
// VPS events and 300 staff alerts; API tokens for an admin, a support member and 200 clients.
//
// Held true so the platform starts on it as on real data: invoice numbers are year-seq without
// gaps per year (invoice_counters hold the last), totals are net + VAT; every contract is a
// subscription with its order, VPS and renewal anchor, expiring 9 to 39 days from now (so no
// renewal deadline falls due during the run), with its two pending deadlines; staff have TOTP
// (a sealed secret).
// Not held: no VPS has a port on its host (`net_slot` NULL, no tap): the traffic collector and
// the network reconcile leave them alone, so the platform never opens this machine's agent (no
// QEMU, no nft) — what is measured is the control plane's reads. Addresses come from private
// pools (10.64.0.0/16 …), never configured on any interface.
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { SecretBox } from '../src/control/security/secretbox.ts';

export const SEED = {
  datacenters: 3,
  hosts: 150,
  accounts: 2_000,
  vpsPerAccount: 5,
  invoicesPerVps: 10,
  alerts: 300,
  clientTokens: 200,
} as const;

export interface SeededClient {
  token: string;
  accountId: string;
  vpsIds: string[];
  invoiceIds: string[];
}

export interface Seeded {
  adminToken: string;
  supportToken: string;
  clients: SeededClient[];
  counts: Record<string, number>;
  ms: number;
}

const hash = (t: string) => createHash('sha256').update(t).digest('hex');
const newToken = () => `igt_${randomBytes(32).toString('base64url')}`;

/** Seeds a migrated, empty database. `masterKey` is the platform's (staff TOTP secrets are sealed with it). */
export async function seedApiBench(url: string, masterKey: Buffer, now = new Date()): Promise<Seeded> {
  const t0 = Date.now();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const q = (text: string, values: unknown[] = []) => c.query(text, values);
  try {
    await q('BEGIN');
    // Every timestamp is derived from $1 (now) so a run is reproducible in shape.
    await q(
      `INSERT INTO datacenters (code, name, city, country, region, created_at)
       SELECT 'BA' || d, 'Bench ' || d, 'Paris', 'FR', 'FR-IDF', $1::timestamptz - interval '3 years'
       FROM generate_series(1, $2::int) d`,
      [now, SEED.datacenters],
    );
    await q(`CREATE TEMP TABLE b_dc ON COMMIT DROP AS
             SELECT row_number() OVER (ORDER BY code)::int - 1 AS i, id FROM datacenters WHERE code LIKE 'BA%'`);
    await q(
      `INSERT INTO ip_pools (datacenter_id, cidr, gateway, created_at)
       SELECT id, ('10.' || (64 + i) || '.0.0/16')::cidr, ('10.' || (64 + i) || '.0.1')::inet, $1::timestamptz - interval '3 years'
       FROM b_dc`,
      [now],
    );
    await q(
      `INSERT INTO hosts (name, datacenter_id, agent, cpu_cores, memory_mib, disk_gib, cpu_overcommit, ram_overcommit, state, created_at)
       SELECT 'bench-h' || lpad(h::text, 3, '0'), (SELECT id FROM b_dc WHERE i = h % $2), 'local', 64, 262144, 4000, 4, 1.5, 'active',
              $1::timestamptz - interval '3 years'
       FROM generate_series(0, $3::int - 1) h`,
      [now, SEED.datacenters, SEED.hosts],
    );
    await q(`CREATE TEMP TABLE b_host ON COMMIT DROP AS
             SELECT row_number() OVER (ORDER BY name)::int - 1 AS i, id, datacenter_id FROM hosts WHERE name LIKE 'bench-h%'`);
    await q(
      `INSERT INTO plans (code, name, vcpus, memory_mib, disk_gib, monthly_price_cents, vat_rate_bp, created_at, updated_at)
       VALUES ('BS1', 'Bench S', 1, 1024, 20, 499, 2000, $1::timestamptz - interval '3 years', $1::timestamptz - interval '3 years'),
              ('BM2', 'Bench M', 2, 4096, 80, 1499, 2000, $1::timestamptz - interval '3 years', $1::timestamptz - interval '3 years'),
              ('BL4', 'Bench L', 4, 8192, 160, 2999, 2000, $1::timestamptz - interval '3 years', $1::timestamptz - interval '3 years')`,
      [now],
    );
    await q(`CREATE TEMP TABLE b_plan ON COMMIT DROP AS
             SELECT row_number() OVER (ORDER BY monthly_price_cents)::int - 1 AS i, * FROM plans WHERE code IN ('BS1','BM2','BL4')`);
    await q(
      `INSERT INTO plan_datacenters (plan_id, datacenter_id) SELECT p.id, d.id FROM b_plan p CROSS JOIN b_dc d`,
    );

    // Accounts, their user, identity and verified sign-up.
    await q(
      `CREATE TEMP TABLE b_acc ON COMMIT DROP AS
       SELECT a AS i, gen_random_uuid() AS id, gen_random_uuid() AS user_id,
              $1::timestamptz - interval '2 years' + a * interval '5 minutes' AS created_at
       FROM generate_series(0, $2::int - 1) a`,
      [now, SEED.accounts],
    );
    await q(`INSERT INTO accounts (id, name, language, created_at)
             SELECT id, 'Bench account ' || i, CASE WHEN i % 3 = 0 THEN 'en' ELSE 'fr' END, created_at FROM b_acc`);
    // No usable password: these users act through their API tokens only.
    await q(`INSERT INTO users (id, kind, role, account_id, email, name, language, password_hash, created_at)
             SELECT user_id, 'client', 'client', id, 'client' || i || '@bench.example', 'Client ' || i,
                    CASE WHEN i % 3 = 0 THEN 'en' ELSE 'fr' END, '!bench-no-password', created_at FROM b_acc`);
    await q(`INSERT INTO client_identities (account_id, last_name, first_name, address_line1, postal_code, city, country, phone, email, updated_at)
             SELECT id, 'Name' || i, 'First' || i, i || ' rue du Banc', '75001', 'Paris', 'FR',
                    '+3361' || lpad(i::text, 7, '0'), 'client' || i || '@bench.example', created_at FROM b_acc`);
    await q(`INSERT INTO client_signups (account_id, user_id, email, ip, created_at, verified_at)
             SELECT id, user_id, 'client' || i || '@bench.example', '127.0.0.1', created_at, created_at + interval '10 minutes' FROM b_acc`);

    // VPSs: 5 per account, each at least 10 months old (so its 10 monthly invoices are past).
    await q(
      `CREATE TEMP TABLE b_vps ON COMMIT DROP AS
       SELECT v AS i, gen_random_uuid() AS id, gen_random_uuid() AS order_id, gen_random_uuid() AS contract_id,
              a.id AS account_id, a.user_id, a.i AS account_i, h.id AS host_id, h.datacenter_id, h.i % $3 AS dc_i,
              p.id AS plan_id, p.code AS plan_code, p.name AS plan_name, p.vcpus, p.memory_mib, p.disk_gib,
              p.monthly_price_cents, p.vat_rate_bp,
              date_trunc('second', $1::timestamptz - interval '300 days' - (v % 400) * interval '1 day' - (v % 1440) * interval '1 minute') AS created_at,
              CASE WHEN v % 50 = 0 THEN 'stopped' ELSE 'running' END AS state
       FROM generate_series(0, $2::int - 1) v
       JOIN b_acc a ON a.i = v % ${SEED.accounts}
       JOIN b_host h ON h.i = v % ${SEED.hosts}
       JOIN b_plan p ON p.i = v % 3`,
      [now, SEED.accounts * SEED.vpsPerAccount, SEED.datacenters],
    );
    await q(`INSERT INTO vps (id, account_id, datacenter_id, host_id, hostname, vcpus, memory_mib, disk_gib, image, state,
                              state_changed_at, ipv4, mac, net_slot, billing_anchor, client_username, provision_step,
                              provision_percent, access_codes_sent_at, created_at)
             SELECT id, account_id, datacenter_id, host_id, 'vps' || i || '.bench.example', vcpus, memory_mib, disk_gib,
                    'debian-13', state, created_at + interval '5 minutes',
                    ('10.' || (64 + dc_i) || '.0.0')::inet + (i + 2), -- distinct per VPS, inside its pool
                    '52:54:00:' || lpad(to_hex((i >> 16) & 255), 2, '0') || ':' || lpad(to_hex((i >> 8) & 255), 2, '0') || ':' || lpad(to_hex(i & 255), 2, '0'),
                    NULL, created_at, 'bench', 'done', 100, created_at + interval '3 minutes', created_at
             FROM b_vps`);
    await q(`INSERT INTO ip_addresses (address, pool_id, vps_id, state, allocated_at)
             SELECT v.ipv4, p.id, v.id, 'allocated', v.created_at
             FROM vps v JOIN ip_pools p ON v.ipv4 << p.cidr JOIN b_vps b ON b.id = v.id`);
    await q(`INSERT INTO vps_events (vps_id, at, kind, details)
             SELECT b.id, b.created_at + s * interval '1 minute', 'provision',
                    jsonb_build_object('step', (ARRAY['place','disk','access_codes'])[s], 'percent', s * 33)
             FROM b_vps b CROSS JOIN generate_series(1, 3) s`);
    await q(`INSERT INTO orders (id, account_id, user_id, plan_id, datacenter_id, kind, term_months, hostname, client_username,
                                 plan_code, plan_name, vcpus, memory_mib, disk_gib, monthly_price_cents, vat_rate_bp, state,
                                 state_changed_at, created_at, paid_at, validated_at, validated_by)
             SELECT order_id, account_id, user_id, plan_id, datacenter_id, 'subscription', NULL, 'vps' || i || '.bench.example', 'bench',
                    plan_code, plan_name, vcpus, memory_mib, disk_gib, monthly_price_cents, vat_rate_bp, 'validated',
                    created_at, created_at - interval '1 hour', created_at - interval '30 minutes', created_at, 'bench'
             FROM b_vps`);
    // Subscriptions renewed month by month since their start; the current period ends 9–39 days from now.
    await q(
      `INSERT INTO contracts (id, account_id, order_id, vps_id, plan_id, datacenter_id, terms_version, kind, term_months,
                              started_at, billing_anchor, renewal_anchor, periods, expires_at, monthly_price_cents, vat_rate_bp,
                              state, state_changed_at, created_at)
       SELECT b.contract_id, b.account_id, b.order_id, b.id, b.plan_id, b.datacenter_id, '2015-06-01', 'subscription', NULL,
              b.created_at, b.created_at, b.created_at, n.periods, b.created_at + n.periods * interval '1 month',
              b.monthly_price_cents, b.vat_rate_bp, 'active', b.created_at, b.created_at
       FROM b_vps b
       CROSS JOIN LATERAL (SELECT min(k) AS periods FROM generate_series(1, 60) k
                           WHERE b.created_at + k * interval '1 month' > $1::timestamptz + interval '9 days') n`,
      [now],
    );

    // Their renewal deadlines, as the renewals module plans a running subscription (the invoice
    // of the next month 7 days ahead, the expiry): without them the platform would plan all
    // 10,000 at start (`renewals.planUnplanned`, one transaction each: minutes).
    await q(`CREATE TEMP TABLE b_exp ON COMMIT DROP AS
             SELECT c.id::text AS id, c.expires_at,
                    to_char(c.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS iso
             FROM contracts c JOIN b_vps b ON b.contract_id = c.id`);
    await q(
      `INSERT INTO deadlines (kind, subject_type, subject_id, due_at, payload, created_at)
       SELECT 'contract.renewal_invoice', 'contract', id, expires_at - interval '7 days', jsonb_build_object('periodStart', iso), $1::timestamptz
       FROM b_exp
       UNION ALL
       SELECT 'contract.expiry', 'contract', id, expires_at, jsonb_build_object('expiresAt', iso), $1::timestamptz FROM b_exp`,
      [now],
    );

    // Invoices: 10 a VPS, monthly from its start; numbered year-seq in issue order, no gap.
    await q(
      `CREATE TEMP TABLE b_inv ON COMMIT DROP AS
       SELECT gen_random_uuid() AS id, b.account_id, b.account_i, b.order_id, b.contract_id, k,
              b.created_at + k * interval '1 month' AS issued_at,
              b.created_at + k * interval '1 month' AS period_start,
              b.created_at + (k + 1) * interval '1 month' AS period_end,
              b.monthly_price_cents AS net_cents, b.vat_rate_bp,
              round(b.monthly_price_cents * b.vat_rate_bp / 10000.0)::int AS vat_cents,
              b.plan_name, b.i AS vps_i
       FROM b_vps b CROSS JOIN generate_series(0, $1::int - 1) k`,
      [SEED.invoicesPerVps],
    );
    await q(`ALTER TABLE b_inv ADD COLUMN year int, ADD COLUMN seq int`);
    await q(`UPDATE b_inv SET year = extract(year FROM issued_at AT TIME ZONE 'UTC')::int`);
    await q(`UPDATE b_inv i SET seq = n.seq FROM (
               SELECT id, row_number() OVER (PARTITION BY year ORDER BY issued_at, id)::int AS seq FROM b_inv) n
             WHERE n.id = i.id`);
    // The latest invoice of one VPS in 20 is still unpaid.
    await q(`INSERT INTO invoices (id, number, year, seq, account_id, order_id, contract_id, customer_name, issued_at, currency,
                                   term_kind, term_months, period_start, period_end, net_cents, vat_rate_bp, vat_cents,
                                   total_cents, status, paid_at)
             SELECT id, year || '-' || lpad(seq::text, 6, '0'), year, seq, account_id, CASE WHEN k = 0 THEN order_id END,
                    contract_id, 'Bench account ' || account_i, issued_at, 'EUR', 'subscription', NULL, period_start, period_end,
                    net_cents, vat_rate_bp, vat_cents, net_cents + vat_cents,
                    CASE WHEN k = ${SEED.invoicesPerVps - 1} AND vps_i % 20 = 0 THEN 'issued' ELSE 'paid' END,
                    CASE WHEN k = ${SEED.invoicesPerVps - 1} AND vps_i % 20 = 0 THEN NULL ELSE issued_at + interval '2 days' END
             FROM b_inv`);
    await q(`INSERT INTO invoice_counters (year, last_seq) SELECT year, max(seq) FROM b_inv GROUP BY year
             ON CONFLICT (year) DO UPDATE SET last_seq = greatest(invoice_counters.last_seq, excluded.last_seq)`);
    await q(`INSERT INTO invoice_lines (invoice_id, position, description, quantity, unit_cents, total_cents)
             SELECT id, 1, plan_name || ' — vps' || vps_i || '.bench.example', 1, net_cents, net_cents FROM b_inv`);
    await q(`INSERT INTO payments (invoice_id, account_id, method, reference, amount_cents, received_at, recorded_at, recorded_by, source)
             SELECT id, account_id, 'transfer', 'BENCH-' || year || '-' || seq, net_cents + vat_cents,
                    issued_at + interval '2 days', issued_at + interval '2 days', 'bench', 'staff'
             FROM b_inv WHERE NOT (k = ${SEED.invoicesPerVps - 1} AND vps_i % 20 = 0)`);

    await q(
      `INSERT INTO staff_alerts (at, kind, subject_type, subject_id, message, acknowledged_at, acknowledged_by)
       SELECT $1::timestamptz - n * interval '3 hours', 'vm.crashed', 'vps', b.id::text, 'vps' || b.i || ' stopped unexpectedly',
              CASE WHEN n % 2 = 0 THEN $1::timestamptz - n * interval '3 hours' + interval '20 minutes' END,
              CASE WHEN n % 2 = 0 THEN 'staff@bench.example' END
       FROM generate_series(0, $2::int - 1) n JOIN b_vps b ON b.i = n * 7`,
      [now, SEED.alerts],
    );

    // Staff (TOTP is mandatory for them; these act through tokens) and the API tokens.
    const box = new SecretBox(masterKey);
    const staff = await q(
      `INSERT INTO users (kind, role, email, name, language, password_hash, totp_secret_enc, totp_enabled, created_at)
       VALUES ('staff', 'admin', 'admin@bench.example', 'Bench Admin', 'en', '!bench-no-password', $2, true, $1),
              ('staff', 'support', 'support@bench.example', 'Bench Support', 'fr', '!bench-no-password', $3, true, $1)
       RETURNING id, role`,
      [now, box.seal(randomBytes(20).toString('hex')), box.seal(randomBytes(20).toString('hex'))],
    );
    const addToken = async (userId: string, role: string) => {
      const token = newToken();
      await q(
        `INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at, role)
         VALUES ($1, 'bench', $2, $3, $3::timestamptz + interval '30 days', $4)`,
        [userId, hash(token), now, role],
      );
      return token;
    };
    const byRole = new Map((staff.rows as { id: string; role: string }[]).map((r) => [r.role, r.id]));
    const adminToken = await addToken(byRole.get('admin')!, 'admin');
    const supportToken = await addToken(byRole.get('support')!, 'support');
    // Clients spread over the account range (every tenth), each with its VPS and invoice ids.
    const picked = await q(
      `SELECT a.id AS account_id, a.user_id,
              (SELECT array_agg(v.id::text ORDER BY v.i) FROM b_vps v WHERE v.account_id = a.id) AS vps_ids,
              (SELECT array_agg(x.id::text ORDER BY x.issued_at) FROM b_inv x WHERE x.account_id = a.id) AS invoice_ids
       FROM b_acc a WHERE a.i % ($1::int / $2::int) = 0 ORDER BY a.i LIMIT $2`,
      [SEED.accounts, SEED.clientTokens],
    );
    const clients: SeededClient[] = [];
    for (const r of picked.rows as {
      account_id: string;
      user_id: string;
      vps_ids: string[];
      invoice_ids: string[];
    }[])
      clients.push({
        token: await addToken(r.user_id, 'client'),
        accountId: r.account_id,
        vpsIds: r.vps_ids,
        invoiceIds: r.invoice_ids,
      });
    await q('COMMIT');
    await q('ANALYZE');

    const counts: Record<string, number> = {};
    for (const t of [
      'accounts',
      'users',
      'hosts',
      'vps',
      'orders',
      'contracts',
      'invoices',
      'payments',
      'vps_events',
      'staff_alerts',
    ])
      counts[t] = Number((await q(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n);
    return { adminToken, supportToken, clients, counts, ms: Date.now() - t0 };
  } catch (e) {
    await q('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    await c.end();
  }
}
