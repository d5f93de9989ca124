// SSH side of test/agent/guest-image.test.ts, run inside the test's network namespace with
// `ip netns exec` (node cannot enter a namespace itself). Prints one JSON line.
//   node guest-ssh-probe.ts HOST USER PASSWORD ROOT_PASSWORD T0_EPOCH_MS [NEW_PASSWORD]
// R3.1: when the guest says the password has expired (a command without a terminal is refused),
// the probe records that, checks that a failed change gives no shell, changes the password in a
// terminal session (current password, then NEW_PASSWORD or a random one, twice), checks that the
// old password no longer logs in, and goes on with the new one (reported as `newPassword`).
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { Client } from 'ssh2';

const [host = '', user = '', initialPassword = '', rootPassword = '', t0 = '0', newArg = ''] =
  process.argv.slice(2);
const expiredPattern = /password has expired/i;
/** Terminal control sequences (ESC [ … letter). */
const csi = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, 'g');

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

/**
 * A terminal session answering passwd's prompts in order; `then` is typed once the answers are
 * used up (or at once when no prompt comes). Resolves with the transcript when the channel closes.
 */
function shellDialog(
  c: Client,
  answers: [RegExp, string][],
  then: string,
  timeoutMs = 60_000,
): Promise<{ transcript: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    c.shell({ term: 'vt100', rows: 24, cols: 200 }, (err, stream) => {
      if (err) return reject(err);
      let transcript = '';
      let seen = 0; // transcript length already matched against a prompt
      let sentThen = false;
      const timer = setTimeout(() => {
        stream.close();
        reject(new Error(`shell dialog timed out; transcript: ${JSON.stringify(transcript)}`));
      }, timeoutMs);
      const feed = () => {
        const next = answers[0];
        // busybox ash's line editing asks for the cursor position (ESC [6n) after its prompt.
        const tail = transcript.slice(seen).replace(csi, '');
        if (next && next[0].test(tail)) {
          answers.shift();
          seen = transcript.length;
          stream.write(`${next[1]}\n`);
        } else if (!next && !sentThen && /[$#] $/.test(tail)) {
          sentThen = true;
          stream.write(`${then}\n`);
        }
      };
      stream.on('data', (d: Buffer) => {
        transcript += d.toString();
        feed();
      });
      stream.stderr.on('data', (d: Buffer) => {
        transcript += d.toString();
        feed();
      });
      stream.on('close', (code: number | null) => {
        clearTimeout(timer);
        resolve({ transcript, code });
      });
    });
  });
}

/** Removes the passwords from a transcript before it is reported. */
const redact = (t: string, secrets: string[]) =>
  secrets.reduce((acc, x) => (x ? acc.split(x).join('<redacted>') : acc), t);

async function refusedLogin(username: string, pw: string): Promise<string> {
  try {
    const r = await session(username, pw);
    r.end();
    return 'accepted';
  } catch (e) {
    return `refused: ${(e as Error).message}`;
  }
}

const result: Record<string, unknown> = {};
try {
  const b = await banner(Date.now() + 180_000);
  result.banner = b.banner;
  result.bannerAtMs = b.atMs;
  let password = initialPassword;
  let c = await session(user, password);
  const first = await exec(c, 'id -u');
  if (first.code !== 0 && expiredPattern.test(first.out)) {
    // R3.1: the initial password must be changed before anything runs.
    result.expired = { code: first.code, out: first.out };
    const newPassword = newArg || `New-${randomBytes(12).toString('base64url')}`;
    // A wrong current password: passwd fails, the session ends without a shell (42 never printed).
    const bad = await shellDialog(
      c,
      [
        [/current password: ?$/i, `wrong-${randomBytes(6).toString('hex')}`],
        [/new password: ?$/i, newPassword],
        [/new password: ?$/i, newPassword],
      ],
      'echo $((6*7)); exit',
    );
    result.failedChange = {
      code: bad.code,
      gotShell: /(^|\n)42\r?\n/.test(bad.transcript),
      transcript: redact(bad.transcript, [initialPassword, newPassword]),
    };
    c.end();
    c = await session(user, password);
    const stillExpired = await exec(c, 'id -u');
    result.stillExpiredAfterFailedChange = expiredPattern.test(stillExpired.out) && stillExpired.code !== 0;
    const ok = await shellDialog(
      c,
      [
        [/current password: ?$/i, password],
        [/new password: ?$/i, newPassword],
        [/new password: ?$/i, newPassword],
      ],
      'echo $((6*7)); exit',
    );
    result.change = {
      code: ok.code,
      gotShell: /(^|\n)42\r?\n/.test(ok.transcript),
      transcript: redact(ok.transcript, [initialPassword, newPassword]),
    };
    c.end();
    result.oldPasswordAfterChange = await refusedLogin(user, initialPassword);
    password = newPassword;
    result.newPassword = newPassword;
    c = await session(user, password);
    result.idU = (await exec(c, 'id -u')).out;
  } else {
    result.expired = false;
    result.idU = first.out;
  }
  result.whoami = (await exec(c, 'id -un')).out;
  result.sudo = await exec(
    c,
    'command -v sudo || echo absent; ls /usr/bin/sudo /usr/sbin/sudo /bin/sudo 2>/dev/null',
  );
  result.hostname = (await exec(c, 'hostname')).out;
  // R3.4 with R3.1's passwd: the only setuid/setgid file is shadow's passwd, and it does nothing
  // for the client beyond its own password (no other account, no expiry/lock/delete flags).
  result.setuidFiles = (
    await exec(c, 'find / -xdev \\( -perm -4000 -o -perm -2000 \\) -type f 2>/dev/null')
  ).out;
  result.passwdAbuse = await exec(
    c,
    [
      'for a in "-S root" "-e root" "-d root" "-d $(id -un)" "-l $(id -un)" "-x 0 $(id -un)" "root"; do',
      '  /usr/bin/passwd $a </dev/null >/dev/null 2>&1 && echo "allowed: passwd $a";',
      'done; echo done',
    ].join(' '),
  );
  // R3.4: root's hash must be unreadable to the client (shadow, the seed drive, its flattened copy).
  result.shadow = await exec(c, 'cat /etc/shadow');
  result.hashLeak = (
    await exec(c, "grep -rls '\\$6\\$' /etc /run /var /home /dev/vdb 2>/dev/null; true")
  ).out;
  c.end();
  result.rootLogin = await refusedLogin('root', rootPassword);
} catch (e) {
  result.error = (e as Error).message;
}
process.stdout.write(JSON.stringify(result) + '\n');
process.exit(0);
