// SSH side of test/agent/guest-image.test.ts, run inside the test's network namespace with
// `ip netns exec` (node cannot enter a namespace itself). Prints one JSON line.
//   node guest-ssh-probe.ts HOST USER PASSWORD ROOT_PASSWORD T0_EPOCH_MS
import { connect } from 'node:net';
import { Client } from 'ssh2';

const [host = '', user = '', password = '', rootPassword = '', t0 = '0'] = process.argv.slice(2);

function banner(deadline: number): Promise<{ banner: string; atMs: number }> {
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = connect(22, host);
      let buf = '';
      s.setTimeout(2_000, () => s.destroy(new Error('timeout')));
      s.on('data', (d) => {
        buf += d.toString('latin1');
        if (buf.includes('\n')) {
          s.destroy();
          resolve({ banner: buf.split('\r\n')[0]!.trim(), atMs: Date.now() - Number(t0) });
        }
      });
      s.on('error', () => {
        if (Date.now() > deadline) reject(new Error('no SSH banner before the deadline'));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

function session(username: string, pw: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.on('ready', () => resolve(c));
    c.on('error', reject);
    c.connect({ host, port: 22, username, password: pw, readyTimeout: 20_000, tryKeyboard: false });
  });
}

function exec(c: Client, cmd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    c.exec(cmd, (err, stream) => {
      if (err) return reject(err);
      let out = '';
      stream.on('data', (d: Buffer) => (out += d.toString()));
      stream.stderr.on('data', (d: Buffer) => (out += d.toString()));
      stream.on('close', (code: number | null) => resolve({ code, out: out.trim() }));
    });
  });
}

const result: Record<string, unknown> = {};
try {
  const b = await banner(Date.now() + 60_000);
  result.banner = b.banner;
  result.bannerAtMs = b.atMs;
  const c = await session(user, password);
  result.idU = (await exec(c, 'id -u')).out;
  result.whoami = (await exec(c, 'id -un')).out;
  result.sudo = await exec(
    c,
    'command -v sudo || echo absent; ls /usr/bin/sudo /usr/sbin/sudo /bin/sudo 2>/dev/null',
  );
  result.hostname = (await exec(c, 'hostname')).out;
  // R3.4: root's hash must be unreadable to the client (shadow, the seed drive, its flattened copy).
  result.shadow = await exec(c, 'cat /etc/shadow');
  result.hashLeak = (
    await exec(c, "grep -rls '\\$6\\$' /etc /run /var /home /dev/vdb 2>/dev/null; true")
  ).out;
  c.end();
  try {
    const r = await session('root', rootPassword);
    r.end();
    result.rootLogin = 'accepted';
  } catch (e) {
    result.rootLogin = `refused: ${(e as Error).message}`;
  }
} catch (e) {
  result.error = (e as Error).message;
}
process.stdout.write(JSON.stringify(result) + '\n');
process.exit(0);
