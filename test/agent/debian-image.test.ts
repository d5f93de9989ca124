// The Debian VPS image (scripts/guest-image/debian/build.sh) on the real QEMU driver under TCG,
// in a network namespace this test creates. Slow (a full systemd boot under TCG, minutes on a
// loaded host), so ONE VM: it boots through SeaBIOS and the disk's own GRUB the kernel installed
// in the VPS (kernel security updates take effect), the NoCloud seed is applied by the image's
// service, and the client logs in by SSH without root: no sudo, su not runnable, root's SSH login
// refused (R3.4). The image is built by `make test`'s setup (scripts/setup.sh), cached.
// With IGQ_SSH_CHILD=1 this file is the SSH client, run inside the namespace by `ip netns exec`.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { QemuDriver } from '../../src/agent/qemu/driver.ts';
import { run } from '../../src/agent/exec/run.ts';
import { readCmdline } from '../../src/agent/qemu/process.ts';
import { GiB } from '../../src/agent/disks/disks.ts';
import {
  baseConfig,
  createTestNet,
  eventLog,
  imagesDir,
  killQemusUnder,
  removeDir,
  repoRoot,
  spec,
  tempDataDir,
} from './qemu-support.ts';
import type { TestNet } from './qemu-support.ts';

interface SshOutcome {
  id?: string;
  sudo?: { code: number | null; out: string };
  su?: { code: number | null; out: string };
  rootLogin?: string;
  error?: string;
}

if (process.env.IGQ_SSH_CHILD === '1') {
  const { Client } = (await import('ssh2')).default;
  const host = process.env.IGQ_HOST!;
  const out: SshOutcome = {};
  const connect = (opts: Record<string, unknown>) =>
    new Promise<InstanceType<typeof Client>>((resolve, reject) => {
      const c = new Client();
      c.on('ready', () => resolve(c)).on('error', reject);
      c.connect({ host, port: 22, readyTimeout: 120_000, hostVerifier: () => true, ...opts });
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
    const c = await connect({ username: 'client', privateKey: process.env.IGQ_KEY! });
    out.id = (await sshRun(c, 'id -u; id -Gn')).out.trim();
    out.sudo = await sshRun(c, 'sudo -n id -u');
    out.su = await sshRun(c, 'su -c "id -u" root </dev/null');
    c.end();
    try {
      const r = await connect({
        username: 'root',
        password: process.env.IGQ_ROOT_PASSWORD!,
        tryKeyboard: false,
      });
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

const IMAGE = 'debian-12';
const VM = 'deb-a';
let net: TestNet;
let dataDir: string;
let driver: QemuDriver;
const log = eventLog();
const rootPassword = randomBytes(12).toString('base64url');
const { utils } = (await import('ssh2')).default;
const clientKey = utils.generateKeyPairSync('ed25519');

// A cold image build (when `make test`'s setup did not run) takes minutes on a busy host.
before(
  async () => {
    assert.equal(process.getuid?.(), 0, 'the Debian image test needs root (network namespace, tap)');
    // Up to date after `make test`'s setup: then this only checks the inputs (a few seconds).
    await run([path.join(repoRoot, 'scripts', 'guest-image', 'debian', 'build.sh')], {
      timeoutMs: 30 * 60_000,
    });
    dataDir = await tempDataDir();
    net = await createTestNet();
    driver = await QemuDriver.open(
      baseConfig(dataDir, {
        listener: log.listener,
        orphanNetns: [net.ns],
        releaseTap: async (n) => {
          await run(['ip', '-n', n.netns!, 'link', 'del', n.tap]);
        },
      }),
    );
  },
  { timeout: 45 * 60_000 },
);
after(async () => {
  await driver?.close();
  await killQemusUnder(dataDir);
  await net?.cleanup();
  if (dataDir) await removeDir(dataDir);
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

test(
  'the Debian image boots its own kernel through its bootloader; the client logs in by SSH without root (R3.4)',
  { timeout: 30 * 60_000 },
  async () => {
    const manifest = JSON.parse(readFileSync(path.join(imagesDir, IMAGE, 'manifest.json'), 'utf8')) as {
      boot: string;
      kernel: { package: string; version: string; release: string };
    };
    assert.equal(manifest.boot, 'disk');
    const rootHash = (
      await run(['openssl', 'passwd', '-6', '-stdin'], { input: rootPassword + '\n' })
    ).stdout.trim();
    await driver.define(
      spec(VM, {
        image: IMAGE,
        memoryMiB: 512,
        diskGiB: 2,
        network: { tap: net.tap, mac: '52:54:00:00:0d:01', netns: net.ns },
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
    // The firmware boots the disk: QEMU gets no kernel of ours.
    const argv = await readCmdline(st.pid!);
    assert.ok(argv && !argv.includes('-kernel') && !argv.includes('-initrd'), JSON.stringify(argv));
    // Functional timeouts only (a hung guest fails); boot times are in npm run bench:images.
    await log.waitFor((e) => e.type === 'guest_agent_up' && e.vmId === VM, 15 * 60_000);
    await log.waitFor((e) => e.type === 'guest_ready' && e.vmId === VM, 15 * 60_000);
    console.log(`# Debian guest ready ${Date.now() - t0} ms after start (accel ${st.accel})`);

    // Its own kernel: the running release is the image's kernel package, installed in the VPS.
    const uname = await driver.guestExec(VM, ['uname', '-r']);
    assert.equal(uname.stdout.trim(), manifest.kernel.release);
    const pkg = await driver.guestExec(VM, ['dpkg-query', '-W', '-f', '${Version}', manifest.kernel.package]);
    assert.deepEqual([pkg.exitCode, pkg.stdout], [0, manifest.kernel.version]);
    const pkgs = await driver.guestExec(VM, [
      'dpkg-query',
      '-W',
      '-f',
      '${Package} ${Status}\\n',
      'sudo',
      'unattended-upgrades',
      'needrestart',
      'qemu-guest-agent',
      'openssh-server',
    ]);
    const installed = pkgs.stdout
      .split('\n')
      .filter((l) => l.endsWith(' installed'))
      .map((l) => l.split(' ')[0]);
    assert.deepEqual(installed.sort(), [
      'needrestart',
      'openssh-server',
      'qemu-guest-agent',
      'unattended-upgrades',
    ]);

    // The guest grows partition 1 and its filesystem to the plan's disk in the background.
    let root;
    for (let i = 0; i < 240; i++) {
      root = (await driver.guestFilesystems(VM)).find((f) => f.mountpoint === '/');
      if (root?.totalBytes && root.totalBytes > 1.5 * GiB) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    assert.ok(root?.totalBytes && root.totalBytes > 1.5 * GiB, `root fs figures: ${JSON.stringify(root)}`);

    const ssh = await sshProbe();
    assert.equal(ssh.error, undefined, `client SSH login: ${ssh.error}`);
    const [uid, groups] = (ssh.id ?? '').split('\n');
    assert.ok(Number(uid) >= 1000, `client uid ${uid}`);
    assert.equal(groups, 'client', 'the client is in no other group (no sudo, adm, …)');
    assert.equal(ssh.sudo?.code, 127, `sudo must be absent: ${JSON.stringify(ssh.sudo)}`);
    assert.equal(ssh.su?.code, 126, `su must not be runnable by the client: ${JSON.stringify(ssh.su)}`);
    assert.match(ssh.rootLogin ?? '', /^refused/);
  },
);
