// The provisioning workflow on real parts (issue 5 items 5–6; R3.1, R3.2, R3.4, R2.1): the
// platform with its real pg-boss, the local host agent in a namespace the test owns, a real
// QEMU guest, a real SMTP server. The VM boots with its fixed IPv4, the access-codes mail
// arrives with a one-time link, the link reveals the password once, SSH as the client works
// and is not root.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Platform } from '../../src/control/platform.ts';
import { SYSTEM_ACTOR } from '../../src/control/services/context.ts';
import { labInfra, startLabPlatform, type LabPlatform } from '../helpers/lab-platform.ts';
import { until } from '../helpers/until.ts';
import { POOL, type VpsLab } from '../helpers/vps-lab.ts';

let labPlatform: LabPlatform | undefined;
let lab: VpsLab;
let platform: Platform;

before(async () => {
  labPlatform = await startLabPlatform();
  ({ lab, platform } = labPlatform);
});
after(() => labPlatform?.stop());

describe('provisioning a VPS end to end (real QEMU, real pg-boss, real SMTP)', () => {
  let vpsId: string;
  let accountId: string;

  it('a requested VPS is placed, addressed, booted and announced by email with a one-time link; its client reaches it by SSH on its IPv4 (R3.1, R3.2, R2.3)', async () => {
    const s = platform.services;
    const { dc } = await labInfra(s, { code: 'TST1', name: 'Test' });
    const c = await s.identity.createClientAccount(
      {
        accountName: 'Lab',
        email: 'lab@example.test',
        name: 'Lab Client',
        password: 'a long enough password',
        language: 'en',
      },
      SYSTEM_ACTOR,
    );
    accountId = c.account.id;
    const v = await platform.db.transaction().execute((tx) =>
      s.infra.requestVps(tx, {
        accountId,
        datacenterId: dc.id,
        hostname: 'web1',
        vcpus: 1,
        memoryMiB: 256,
        diskGiB: 1,
        billingAnchor: new Date(),
        clientUsername: 'camille',
      }),
    );
    vpsId = v.id;
    const seen = new Set<number>();
    const running = await until('the VPS to run', async () => {
      const row = await platform.db
        .selectFrom('vps')
        .selectAll()
        .where('id', '=', vpsId)
        .executeTakeFirstOrThrow();
      seen.add(row.provision_percent);
      if (row.state === 'failed') throw new Error(`provisioning failed: ${row.state_reason}`);
      return row.state === 'running' ? row : undefined;
    });
    assert.equal(running.provision_percent, 100);
    assert.ok(seen.size >= 2, `progress moved (${[...seen].join(', ')})`);
    assert.match(running.ipv4!, /^192\.0\.2\.\d+\/24$/);
    assert.notEqual(running.ipv4, `${POOL.gateway}/24`);
    const mail = await until('the access-codes mail', async () =>
      lab.smtp.received.find((m) => m.subject.includes('web1')),
    );
    assert.deepEqual(mail.to, ['lab@example.test']);
    const ip = running.ipv4!.split('/')[0]!;
    assert.ok(mail.text.includes(ip), 'the mail gives the IPv4');
    assert.ok(mail.text.includes('camille'), 'the mail gives the user name');
    const token = /access#token=([A-Za-z0-9_-]+)/.exec(mail.text)?.[1];
    assert.ok(token, 'the mail holds a one-time link');
    // No password in the mail itself (R3.1).
    const sealed = await platform.db
      .selectFrom('vps')
      .select('initial_password_enc')
      .where('id', '=', vpsId)
      .executeTakeFirstOrThrow();
    const initial = platform.services.ctx.secrets.open(sealed.initial_password_enc!);
    assert.ok(!mail.raw.includes(initial), 'the initial password is not in the mail');

    const reveal = (t: string) =>
      platform.app.inject({ method: 'POST', url: '/v1/access-codes/reveal', payload: { token: t } });
    const first = await reveal(token);
    assert.equal(first.statusCode, 200, first.body);
    assert.deepEqual(first.json(), { hostname: 'web1', ipv4: ip, username: 'camille', password: initial });
    const second = await reveal(token);
    assert.equal(second.statusCode, 409);
    assert.equal(second.json().code, 'access.link_used');

    // SSH as the client with the revealed password: works, and is not root (R3.4).
    await lab.joinBridge();
    const root = platform.services.ctx.secrets.open(
      (
        await platform.db
          .selectFrom('vps')
          .select('root_password_enc')
          .where('id', '=', vpsId)
          .executeTakeFirstOrThrow()
      ).root_password_enc!,
    );
    const r = await lab.sshProbe(ip, 'camille', initial, root);
    assert.equal(r.error, undefined, JSON.stringify(r));
    // R3.1: the initial password had to be changed at first login before any command ran.
    assert.ok(
      r.expired && typeof r.newPassword === 'string',
      `the initial password was not expired: ${JSON.stringify(r.expired)}`,
    );
    assert.notEqual(r.uid, '0');
    assert.match(String(r.rootLogin), /^refused/);
    // Exactly one of everything.
    const addrs = await platform.db
      .selectFrom('ip_addresses')
      .selectAll()
      .where('vps_id', '=', vpsId)
      .execute();
    assert.equal(addrs.length, 1);
    const mails = await platform.db
      .selectFrom('mail_outbox')
      .select('id')
      .where('template', '=', 'vps.access_codes')
      .execute();
    assert.equal(mails.length, 1);
  });

  it('a VPS in a datacenter whose pools are full fails for good with the reason, resources released, staff alerted', async () => {
    const s = platform.services;
    const dc = await s.infra.createDatacenter(
      { code: 'TST2', name: 'Full', city: 'Lyon', country: 'FR', region: 'FR-ARA' },
      SYSTEM_ACTOR,
    );
    await s.infra.registerHost(
      { name: 'local2', datacenterId: dc.id, cpuCores: 2, memoryMiB: 4096, diskGiB: 20 },
      SYSTEM_ACTOR,
    );
    // No pool at all in this datacenter: the address step can never succeed.
    const v = await platform.db.transaction().execute((tx) =>
      s.infra.requestVps(tx, {
        accountId,
        datacenterId: dc.id,
        hostname: 'nope',
        vcpus: 1,
        memoryMiB: 256,
        diskGiB: 1,
        billingAnchor: new Date(),
        clientUsername: 'camille',
      }),
    );
    const failed = await until(
      'the VPS to fail for good',
      async () => {
        const row = await platform.db
          .selectFrom('vps')
          .selectAll()
          .where('id', '=', v.id)
          .executeTakeFirstOrThrow();
        return row.state === 'failed' ? row : undefined;
      },
      300_000,
    );
    assert.match(failed.state_reason!, /address: No free IPv4/);
    assert.equal(failed.host_id, null);
    assert.equal(failed.ipv4, null);
    const alerts = await platform.db
      .selectFrom('staff_alerts')
      .selectAll()
      .where('subject_id', '=', v.id)
      .execute();
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.kind, 'provisioning_failed');
  });
});
