// `npm run bench:images`: the Debian image (scripts/guest-image/debian/build.sh) — build time cold
// (empty .deb cache: downloads included), cached (.debs kept, FORCE=1) and up to date (nothing to
// do) — and its boot to the SSH banner under the host's accelerator against the small image's
// (bench/boot.ts for each, BENCH_RUNS runs each, default 1), with the ratio. The cold and cached
// builds write to a temporary directory: the cached image under var/images is not touched.
// BENCH_SKIP_COLD=1 skips the cold build (it downloads ~100 MB from Debian's mirror).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const build = path.join(root, 'scripts', 'guest-image', 'debian', 'build.sh');
const runs = process.env.BENCH_RUNS ?? '1';
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

function step(argv: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; out: string }> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const c = spawn(argv[0]!, argv.slice(1), {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    c.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      process.stdout.write(d);
    });
    c.on('exit', (code) =>
      code === 0
        ? resolve({ ms: Date.now() - t0, out })
        : reject(new Error(`${argv.join(' ')} exited ${code}`)),
    );
  });
}

const tmp = await mkdtemp('/var/tmp/igbench-images-');
const figures: Record<string, string> = {};
try {
  console.log(`load average before: ${load()} (wall-clock figures: other work on the host inflates them)`);
  await step([build], {}); // the shared cached image, for the boots below
  if (process.env.BENCH_SKIP_COLD !== '1') {
    const cold = await step([build], {
      FORCE: '1',
      DEBIAN_DEB_CACHE: path.join(tmp, 'debs'),
      DEBIAN_IMAGE_OUT: path.join(tmp, 'cold'),
    });
    figures['build, cold (empty .deb cache)'] = `${(cold.ms / 1000).toFixed(0)} s`;
  }
  const cached = await step([build], { FORCE: '1', DEBIAN_IMAGE_OUT: path.join(tmp, 'cached') });
  figures['build, cached .debs'] = `${(cached.ms / 1000).toFixed(0)} s`;
  const same = await step([build], {});
  figures['re-run, up to date'] = `${(same.ms / 1000).toFixed(1)} s`;

  const boot = async (image: string, memoryMiB: number) => {
    const r = await step([process.execPath, path.join(root, 'bench', 'boot.ts')], {
      BENCH_IMAGE: image,
      BENCH_MEMORY_MIB: String(memoryMiB),
      BENCH_RUNS: runs,
    });
    const line = r.out.split('\n').find((l) => l.startsWith('BENCH_BOOT_RESULT '));
    if (!line) throw new Error(`bench/boot.ts printed no result for ${image}`);
    return JSON.parse(line.slice('BENCH_BOOT_RESULT '.length)) as {
      qemuToSshMs: number;
      qemuToAgentMs: number;
    };
  };
  const mini = await boot('infogere-mini', 256);
  const debian = await boot('debian-12', 512);
  figures['boot to SSH banner, infogere-mini (QEMU start →)'] = `${(mini.qemuToSshMs / 1000).toFixed(1)} s`;
  figures['boot to SSH banner, debian-12 (QEMU start →)'] = `${(debian.qemuToSshMs / 1000).toFixed(1)} s`;
  figures['ratio debian-12 / infogere-mini'] = (debian.qemuToSshMs / mini.qemuToSshMs).toFixed(1);
  console.log(`\nmedians of ${runs} boot(s) each; load average after: ${load()}`);
  console.table(figures);
} finally {
  await rm(tmp, { recursive: true, force: true });
}
