// The real guest image on real QEMU, one VM shared by the subtests: guest agent (root command,
// filesystem and memory figures, fsfreeze), QEMU confined (R3.3: its own uid, seccomp, the
// platform's files as descriptors only), SSH as the client (R3.4: no root, no sudo, root
// login refused), live disk growth, the console log capped and rotated, reboot applying a
// resize, the stop ladder with ACPI and agent silenced in the guest, and destroy leaving
// nothing behind (R12.4).
// With IGQ_SSH_CHILD=1 this file is the SSH client, run inside the namespace by `ip netns exec`.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { QemuDriver } from '../../src/agent/qemu/driver.ts';
import { run } from '../../src/agent/exec/run.ts';
import { isAlive, listInfogereQemus, readCmdline } from '../../src/agent/qemu/process.ts';
import { allocatedBytes, GiB } from '../../src/agent/disks/disks.ts';
import type { DomainError } from '../../src/domain/errors.ts';
import type { StopRung } from '../../src/agent/driver.ts';
import { until } from '../helpers/until.ts';
import {
  baseConfig,
  createTestNet,
  eventLog,
  killQemusUnder,
  removeDir,
  spec,
  tempDataDir,
} from './qemu-support.ts';
import type { TestNet } from './qemu-support.ts';

interface SshOutcome {
  clientIdU?: string;
  sudo?: { code: number | null; out: string };
  su?: { code: number | null; out: string };
  rootLogin?: string;
  banner?: string;
  error?: string;
}

if (process.env.IGQ_SSH_CHILD === '1') {
  // ---- SSH client inside the namespace
  const { Client } = (await import('ssh2')).default;
  const host = process.env.IGQ_HOST!;
  const key = process.env.IGQ_KEY!;
  const rootPassword = process.env.IGQ_ROOT_PASSWORD!;
  const out: SshOutcome = {};
  const connect = (opts: Record<string, unknown>) =>
    new Promise<InstanceType<typeof Client>>((resolve, reject) => {
      const c = new Client();
      c.on('ready', () => resolve(c)).on('error', reject);
      c.connect({ host, port: 22, readyTimeout: 30_000, hostVerifier: () => true, ...opts });
    });
  const sshRun = (c: InstanceType<typeof Client>, cmd: string) =>
    new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      c.exec(cmd, (err, stream) => {
        if (err) return reject(err);
        let buf = '';
        stream.on('data', (d: Buffer) => (buf += d.toString()));
        stream.stderr.on('data', (d: Buffer) => (buf += d.toString()));
        stream.on('close', (code: number | null) => resolve({ code, out: buf }));
      });
    });
  try {
    const c = await connect({ username: 'client', privateKey: key });
    out.clientIdU = (await sshRun(c, 'id -u')).out.trim();
    out.sudo = await sshRun(c, 'sudo -n id -u');
    out.su = await sshRun(c, 'su -c "id -u" root </dev/null');
    c.end();
    try {
      const r = await connect({ username: 'root', password: rootPassword, tryKeyboard: false });
      r.end();
      out.rootLogin = 'accepted';
    } catch (e) {
      out.rootLogin = `refused: ${(e as Error).message}`;
    }
  } catch (e) {
    out.error = (e as Error).message;
  }
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(0);
}

let net: TestNet;
let dataDir: string;
let driver: QemuDriver;
const log = eventLog();
const rootPassword = randomBytes(12).toString('base64url');
const { utils } = (await import('ssh2')).default;
const clientKey = utils.generateKeyPairSync('ed25519');
const VM = 'boot-a';
const CONSOLE_CAP = 4_096; // the guest prints more than this while it boots

before(async () => {
  dataDir = await tempDataDir();
  net = await createTestNet();
  driver = await QemuDriver.open(
    baseConfig(dataDir, {
      listener: log.listener,
      orphanNetns: [net.ns],
      consoleLogMaxBytes: CONSOLE_CAP,
      releaseTap: async (n) => {
        // The network side's job in production: here, the test's namespace.
        await run(['ip', '-n', n.netns!, 'link', 'del', n.tap]);
      },
    }),
  );
});
after(async () => {
  await driver?.close();
  await killQemusUnder(dataDir);
  await net?.cleanup();
  await removeDir(dataDir);
});

async function sshProbe(): Promise<SshOutcome> {
  const child = spawn('ip', ['netns', 'exec', net.ns, process.execPath, import.meta.filename], {
    env: {
      ...process.env,
      IGQ_SSH_CHILD: '1',
      IGQ_HOST: net.guestAddr,
      IGQ_KEY: clientKey.private,
      IGQ_ROOT_PASSWORD: rootPassword,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((r) => child.once('exit', r));
  return JSON.parse(out.trim().split('\n').pop() || '{}') as SshOutcome;
}

test('boot the real guest: guest agent up, root command, filesystem and memory figures', async () => {
  const rootHash = (
    await run(['openssl', 'passwd', '-6', '-stdin'], { input: rootPassword + '\n' })
  ).stdout.trim();
  await driver.define(
    spec(VM, {
      diskGiB: 2,
      network: { tap: net.tap, mac: '52:54:00:00:0c:01', netns: net.ns },
      seed: {
        hostname: VM,
        ipv4: { address: `${net.guestAddr}/24`, gateway: net.hostAddr },
        user: { name: 'client', sshAuthorizedKeys: [clientKey.public] },
        rootPasswordHash: rootHash,
      },
    }),
  );
  const t0 = Date.now();
  const st = await driver.start(VM);
  assert.equal(st.state, 'running');
  await log.waitFor((e) => e.type === 'guest_agent_up' && e.vmId === VM, 120_000);
  console.log(`# guest agent up ${Date.now() - t0} ms after start (accel ${st.accel})`);
  assert.equal((await driver.status(VM)).guestAgentUp, true);
  // The guest's boot setup signals its end (the marker rc.seed creates, read through the agent):
  // from then on the seed's account exists, at the first asking, with no retry.
  await log.waitFor((e) => e.type === 'guest_ready' && e.vmId === VM, 120_000);
  console.log(`# guest ready (boot setup done) ${Date.now() - t0} ms after start`);
  const types = log.events.filter((e) => e.vmId === VM).map((e) => e.type);
  assert.ok(types.indexOf('guest_agent_up') < types.indexOf('guest_ready'), types.join(','));
  assert.equal((await driver.status(VM)).guestReady, true);
  const account = await driver.guestExec(VM, ['id', '-u', 'client'], { timeoutMs: 30_000 });
  assert.equal(account.exitCode, 0, `the seed's account exists once ready: ${account.stderr}`);
  assert.ok(Number(account.stdout.trim()) >= 1000);

  const id = await driver.guestExec(VM, ['id', '-u']);
  assert.deepEqual([id.exitCode, id.stdout.trim()], [0, '0'], 'guest exec runs as root');
  const fail = await driver.guestExec(VM, ['sh', '-c', 'echo out; echo err >&2; exit 7']);
  assert.deepEqual([fail.exitCode, fail.stdout, fail.stderr], [7, 'out\n', 'err\n']);
  // A program the guest does not have: the agent's error, with the command named.
  await assert.rejects(
    driver.guestExec(VM, ['/nonexistent/program']),
    (e: DomainError) =>
      e.kind === 'unexpected_state' &&
      e.code === 'vm.guest_agent_error' &&
      e.details?.command === 'guest-exec',
  );

  // The guest grows its filesystem to the disk in the background at boot: wait for it.
  let root;
  for (let i = 0; i < 60; i++) {
    root = (await driver.guestFilesystems(VM)).find((f) => f.mountpoint === '/');
    if (root?.totalBytes && root.totalBytes > 1.5 * GiB) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.ok(
    root && root.usedBytes! > 0 && root.totalBytes! > 1.5 * GiB,
    `root fs figures: ${JSON.stringify(root)}`,
  );

  let mem;
  for (let i = 0; i < 20; i++) {
    mem = await driver.guestMemory(VM);
    if (mem.totalBytes) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.equal(mem!.actualBytes, 256 * 1024 * 1024);
  assert.ok(
    mem!.totalBytes! > 100 * 1024 * 1024 && mem!.freeBytes! > 0,
    `balloon stats: ${JSON.stringify(mem)}`,
  );

  const frozen = await driver.fsfreeze(VM);
  assert.ok(frozen.frozen >= 1);
  const thawed = await driver.fsthaw(VM);
  assert.equal(thawed.thawed, frozen.frozen);
});

/** The fields of /proc/<pid>/status. */
function procStatus(pid: number): Record<string, string> {
  return Object.fromEntries(
    readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .filter((l) => l.includes(':'))
      .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
  );
}

test('R3.3: QEMU runs as its own unprivileged user under seccomp, with the platform files as descriptors only', async () => {
  const st = await driver.status(VM);
  const s = procStatus(st.pid!);
  const uids = s.Uid!.split(/\s+/).map(Number);
  const gids = s.Gid!.split(/\s+/).map(Number);
  assert.equal(new Set(uids).size, 1, `real, effective, saved, fs uid alike: ${s.Uid}`);
  assert.ok(uids[0]! > 2_000_000_000 && uids[0]! < 2_000_065_536, `uid ${uids[0]} from the VM range`);
  assert.ok(
    gids.every((g) => g !== 0),
    `gid ${s.Gid}`,
  );
  assert.equal(s.Groups, '', 'no supplementary group');
  assert.equal(s.Seccomp, '2', 'seccomp filter mode');
  assert.equal(s.NoNewPrivs, '1');
  for (const k of ['CapPrm', 'CapEff', 'CapInh', 'CapAmb']) assert.match(s[k]!, /^0+$/, `${k} ${s[k]}`);
  const argv = (await readCmdline(st.pid!)) ?? [];
  assert.equal(argv[0], 'qemu-system-x86_64', 'the spawned process became QEMU itself');
  assert.equal(
    argv[argv.indexOf('-sandbox') + 1],
    'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny',
  );

  // The disk, config drive, sockets and tap reached QEMU open; by path they are root's only.
  const fds = readdirSync(`/proc/${st.pid}/fd`).map((f) => readlinkSync(`/proc/${st.pid}/fd/${f}`));
  const vmDir = path.join(dataDir, 'vms', VM);
  assert.ok(fds.includes(st.diskPath), 'disk open in QEMU');
  assert.ok(fds.includes(path.join(vmDir, 'seed.img')), 'config drive open in QEMU');
  assert.ok(fds.includes('/dev/net/tun'), 'tap open in QEMU');
  assert.ok(fds.filter((f) => f.startsWith('socket:')).length >= 3, 'QMP, guest agent, console sockets');
  for (const [file, mode] of [
    [vmDir, 0o700],
    [st.diskPath, 0o600],
    [path.join(vmDir, 'seed.img'), 0o600],
  ] as const) {
    const f = statSync(file);
    assert.deepEqual([f.uid, f.mode & 0o777], [0, mode], `${file}: root's, mode ${mode.toString(8)}`);
  }
  const asQemu = (argv: string[]) =>
    run(['setpriv', `--reuid=${uids[0]}`, `--regid=${gids[0]}`, '--clear-groups', ...argv]).then(
      () => 'allowed',
      (e: Error) => e.message,
    );
  assert.match(
    await asQemu(['cat', st.diskPath]),
    /Permission denied/,
    'its uid cannot open the disk by path',
  );
  assert.match(await asQemu(['ls', vmDir]), /Permission denied/, 'nor list its VM directory');
});

test('R3.4: SSH as the client: not root, no sudo, root login refused', async () => {
  let r: SshOutcome = {};
  for (let i = 0; i < 20; i++) {
    r = await sshProbe();
    if (!r.error) break;
    await new Promise((res) => setTimeout(res, 1_000));
  }
  assert.equal(r.error, undefined, JSON.stringify(r));
  assert.ok(r.clientIdU && r.clientIdU !== '0', `client uid ${r.clientIdU}`);
  assert.notEqual(r.sudo?.code, 0, `sudo: ${JSON.stringify(r.sudo)}`);
  assert.notEqual(r.sudo?.out.trim(), '0');
  assert.notEqual(r.su?.code, 0, `su: ${JSON.stringify(r.su)}`);
  assert.match(r.rootLogin ?? '', /^refused/, 'root cannot log in over SSH, even with its password');
});

test('live disk growth (grow only) and the console log', async () => {
  await assert.rejects(driver.resize(VM, { diskGiB: 1 }), (e: DomainError) => e.kind === 'invalid_data');
  const r = await driver.resize(VM, { diskGiB: 3, vcpus: 2 });
  assert.deepEqual([r.diskGiB, r.vcpus], ['live', 'next_start']);
  const st = await driver.status(VM);
  assert.ok((await allocatedBytes(st.diskPath)) >= 3 * GiB, 'R2.1: the new size reserved');
  assert.deepEqual(st.pending, { vcpus: 2 });
  const size = await driver.guestExec(VM, ['cat', '/sys/block/vda/size']);
  assert.equal(Number(size.stdout) * 512, 3 * GiB, 'the guest sees the new size at once');
  const root = (await driver.guestFilesystems(VM)).find((f) => f.mountpoint === '/');
  assert.ok(root!.totalBytes! > 2.5 * GiB, `filesystem grown live: ${JSON.stringify(root)}`);
});

test('the console log is capped and rotated, and still read: a guest printing a lot costs at most two caps', async () => {
  const vmDir = path.join(dataDir, 'vms', VM);
  const marker = `igq-marker-${randomBytes(4).toString('hex')}`;
  // About 14 KB on the serial port, more than three caps, then a marker.
  await driver.guestExec(VM, ['sh', '-c', `seq 1 3000 > /dev/ttyS0; echo ${marker} > /dev/ttyS0`], {
    timeoutMs: 120_000,
  });
  const con = await until('the marker on the console', async () => {
    const c = await driver.consoleLog(VM, { lines: 20 });
    return c.lines.at(-1) === marker && c;
  });
  assert.equal(con.lines.length, 20);
  assert.equal(con.lines.at(-2), '3000', 'the newest output, in order');
  const cur = statSync(path.join(vmDir, 'console.log'));
  const old = statSync(path.join(vmDir, 'console.log.1'));
  assert.ok(cur.size <= CONSOLE_CAP && old.size <= CONSOLE_CAP, `${old.size} + ${cur.size} bytes kept`);
  assert.deepEqual([cur.uid, cur.mode & 0o777], [0, 0o600], 'written by the agent, not by QEMU');
});

test('reboot with a pending vCPU change: a new QEMU process with 2 vCPUs', async () => {
  const before = await driver.status(VM);
  const n = log.events.length;
  const st = await driver.reboot(VM);
  assert.notEqual(st.pid, before.pid);
  assert.deepEqual([st.vcpus, st.pending], [2, {}]);
  assert.equal(st.guestReady, false, 'a new boot is not ready until the guest says so again');
  await log.waitFor(
    (e) => e.type === 'guest_agent_up' && e.vmId === VM && log.events.indexOf(e) >= n,
    120_000,
  );
  await log.waitFor((e) => e.type === 'guest_ready' && e.vmId === VM && log.events.indexOf(e) >= n, 120_000);
  const argv = (await readCmdline(st.pid!)) ?? [];
  assert.equal(argv[argv.indexOf('-smp') + 1], '2', 'QEMU runs with 2 vCPUs');
  // What the guest kernel brings up depends on the image's command line (see docs/hypervisor.md).
  const nproc = await driver.guestExec(VM, ['nproc']);
  console.log(`# guest sees ${nproc.stdout.trim()} CPU(s) with -smp 2`);
});

test('stop ladder on the real guest with ACPI and agent silenced: ends by SIGTERM', async () => {
  // acpid and qemu-ga are respawned by init when they die: freeze them instead.
  const silence = await driver
    .guestExec(VM, ['sh', '-c', 'kill -STOP $(pidof acpid) $(pidof qemu-ga)'], { timeoutMs: 3_000 })
    .catch((e: Error) => e);
  // qemu-ga stopped itself mid-answer: the exec status may never come back; that is expected.
  console.log(
    `# silencing acpid and qemu-ga: ${silence instanceof Error ? silence.message : JSON.stringify(silence)}`,
  );
  // With its agent frozen, a guest command is a conflict answered within the sync timeout.
  const t0 = Date.now();
  await assert.rejects(
    driver.guestExec(VM, ['true']),
    (e: DomainError) => e.kind === 'conflict' && e.code === 'vm.guest_agent_down',
  );
  assert.ok(Date.now() - t0 < 5_000, 'never a hang');
  const st = await driver.status(VM);
  const ladder: StopRung[] = [
    { kind: 'guest_agent', timeoutMs: 2_000 },
    { kind: 'acpi', timeoutMs: 4_000 },
    { kind: 'sigterm', timeoutMs: 5_000 },
    { kind: 'sigkill', timeoutMs: 5_000 },
  ];
  const r = await driver.shutdown(VM, ladder);
  console.log(
    `# ladder on the real guest: ended by ${r.endedBy} in ${r.elapsedMs} ms ${JSON.stringify(r.rungs)}`,
  );
  assert.equal(r.endedBy, 'sigterm');
  for (const x of r.rungs)
    assert.ok(
      x.elapsedMs <= ladder.find((l) => l.kind === x.kind)!.timeoutMs + 500,
      `${x.kind} kept to its timeout`,
    );
  assert.equal(r.rungs.find((x) => x.kind === 'acpi')?.ended, false);
  assert.equal(await isAlive(st.pid!), false);
  assert.equal((await driver.status(VM)).state, 'stopped');
});

test('R12.4: destroy leaves no process, socket, disk, config drive or tap behind', async () => {
  const st = await driver.status(VM);
  const paths = { disk: st.diskPath, dir: path.join(dataDir, 'vms', VM) };
  const d = await driver.destroy(VM);
  assert.ok(d.wiped.includes(paths.disk));
  assert.equal((await listInfogereQemus()).filter((q) => q.vmId === VM).length, 0, 'no process');
  assert.equal(existsSync(paths.disk), false, 'no disk');
  assert.equal(existsSync(paths.dir), false, 'no state dir, sockets, config drive, console log');
  assert.deepEqual(readdirSync(path.join(dataDir, 'disks')), []);
  const links = JSON.parse((await run(['ip', '-n', net.ns, '-j', 'link', 'show'])).stdout) as {
    ifname: string;
  }[];
  assert.equal(
    links.some((l) => l.ifname === net.tap),
    false,
    'no tap',
  );
  const o = await driver.orphans();
  assert.deepEqual([o.processes, o.sockets, o.disks, o.stateDirs], [[], [], [], []]);
  assert.equal(o.taps.filter((t) => t.startsWith(`${net.ns}/`)).length, 0);
  await assert.rejects(driver.status(VM), (e: DomainError) => e.kind === 'not_found');
});
