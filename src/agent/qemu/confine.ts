// QEMU confinement (R3.3: the host stays the provider's even if a guest escapes into QEMU).
// Every QEMU runs under a uid of its own taken from a reserved range, never root, with no
// capability and QEMU's seccomp sandbox on. It opens nothing by path that the platform keeps:
// the privileged side (this agent, root; the tap launcher below for the tap) opens the disk,
// the config drive, the tap and the listening QMP, guest-agent and console sockets, and hands
// QEMU the descriptors. The VM's
// files and directories stay root's (0600/0700), so a compromised QEMU cannot read another
// VM's disk, rewrite a state file root trusts, or plant a symlink for root to follow.
// Why one uid per VM rather than one shared `infogere-vm` user: processes of one uid may
// ptrace, signal and read the memory of each other (/proc/<pid>/mem), so a shared user would
// let one escaped guest reach every other guest on the host.
import { close as closeCb, constants as fsc, open as openCb } from 'node:fs';
import { readFile, rename, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

/**
 * A plain descriptor (not a FileHandle, which Node closes when it is garbage-collected): it is
 * handed to QEMU at spawn, then closed here with closeFd.
 */
export function openFd(file: string, flags: number, mode = 0o600): Promise<number> {
  return new Promise((resolve, reject) =>
    openCb(file, flags | fsc.O_NOFOLLOW, mode, (e, fd) => (e ? reject(e) : resolve(fd))),
  );
}

export function closeFd(fd: number): Promise<void> {
  return new Promise((resolve) => closeCb(fd, () => resolve()));
}

/** Uids base+1 … base+RANGE-1 are VMs; base itself runs the KVM probe. */
export const VM_UID_RANGE = 65_536;
/**
 * Default base: above the container ranges systemd documents (524288…1879048191) and below
 * 2^31 (tools that sign-extend uids); no passwd entry is needed, the numbers are only ours.
 */
export const DEFAULT_VM_UID_BASE = 2_000_000_000;

export function checkUidBase(base: number): void {
  if (!Number.isInteger(base) || base < 65_536 || base + VM_UID_RANGE > 2 ** 31 - 1)
    throw new Error(`VM uid base ${base}: a whole number from 65536 to ${2 ** 31 - 1 - VM_UID_RANGE}`);
}

/** Users and groups of this machine whose id falls in the VM range (each would share a QEMU's uid). */
export async function idsInRange(base: number, files = ['/etc/passwd', '/etc/group']): Promise<string[]> {
  const out: string[] = [];
  for (const f of files) {
    let text = '';
    try {
      text = await readFile(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const [name, , id] = line.split(':');
      const n = Number(id);
      if (name && Number.isInteger(n) && n >= base && n < base + VM_UID_RANGE)
        out.push(`${name} (${n}) in ${f}`);
    }
  }
  return out;
}

/** The group owning /dev/kvm (QEMU runs with it as its only group when KVM is used), or null. */
export async function kvmGid(): Promise<number | null> {
  try {
    return (await stat('/dev/kvm')).gid;
  } catch {
    return null;
  }
}

/**
 * True when a user with no relation to the file (a VM's uid) may read it: read for others on
 * the file, search for others on every directory above. QEMU reads the kernel and initrd by path.
 */
export async function readableByOthers(file: string): Promise<boolean> {
  try {
    if (!((await stat(file)).mode & 0o004)) return false;
    for (let d = path.dirname(path.resolve(file)); ; d = path.dirname(d)) {
      if (!((await stat(d)).mode & 0o001)) return false;
      if (d === path.dirname(d)) return true;
    }
  } catch {
    return false;
  }
}

// Opens the VM's tap and execs the rest of its argv with it as fd 8 (QEMU_FD.tap, QEMU gets
// `-netdev tap,fd=8`). A tap descriptor is bound to the network namespace /dev/net/tun was
// opened in, and Node can neither enter a namespace nor make the TUNSETIFF ioctl: so this
// runs as root, in the tap's namespace when there is one, and becomes QEMU (through setpriv,
// which drops root) by exec. Perl because it is on every Debian (perl-base is essential) with
// ioctl, POSIX and Fcntl built in. Flags: IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, what QEMU sets
// when it opens a tap itself.
const TAP_LAUNCHER = [
  'use strict; use POSIX (); use Fcntl qw(F_SETFD);',
  'my $tap = shift @ARGV;',
  'open(my $t, "+<", "/dev/net/tun") or die "/dev/net/tun: $!\n";',
  'ioctl($t, 0x400454ca, pack("Z16 s x22", $tap, 0x0002 | 0x1000 | 0x4000)) or die "TUNSETIFF $tap: $!\n";',
  'if (fileno($t) == 8) { fcntl($t, F_SETFD, 0) or die "fcntl: $!\n"; }',
  'else { defined POSIX::dup2(fileno($t), 8) or die "dup2: $!\n"; }',
  'exec { $ARGV[0] } @ARGV or die "exec $ARGV[0]: $!\n";',
].join(' ');

/**
 * The whole command that starts a VM's QEMU: (with a tap) the tap launcher, in the tap's
 * namespace if any; then setpriv (util-linux, essential on Debian) drops to the VM's uid and
 * gid, no supplementary group, no inheritable capability, no new privileges; then QEMU. Every
 * step execs the next, so the process spawned is QEMU's (its pid, its exit status).
 */
export function renderLaunchArgv(
  p: { uid: number; gid: number; tap?: string; netns?: string },
  qemuArgv: readonly string[],
): string[] {
  for (const [k, v] of [
    ['uid', p.uid],
    ['gid', p.gid],
  ] as const)
    if (!Number.isInteger(v) || v < 1 || v > 2 ** 31 - 2) throw new Error(`invalid ${k} ${v}: never root`);
  const drop = [
    'setpriv',
    `--reuid=${p.uid}`,
    `--regid=${p.gid}`,
    '--clear-groups',
    '--inh-caps=-all',
    '--no-new-privs',
    '--',
  ];
  if (p.tap === undefined) return [...drop, ...qemuArgv];
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(p.tap)) throw new Error(`invalid tap name ${p.tap}`);
  if (p.netns !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(p.netns))
    throw new Error(`invalid netns ${p.netns}`);
  const ns = p.netns !== undefined ? ['ip', 'netns', 'exec', p.netns] : [];
  return [...ns, 'perl', '-e', TAP_LAUNCHER, p.tap, ...drop, ...qemuArgv];
}

/**
 * A listening unix socket at `file` whose descriptor QEMU gets (`-chardev socket,fd=N,server=on`):
 * root creates it in the VM's root-only directory, so QEMU needs no writable directory and the
 * agent connects to a path no VM can replace. Survives our copy being closed (QEMU holds one).
 */
export async function listenUnix(file: string): Promise<{ fd: number; close(): void }> {
  // libuv unlinks a listening socket's path when it closes: bind a temporary name, rename it to
  // the real one, so closing our copy after the spawn leaves the socket QEMU listens on in place.
  const tmp = `${file}.${process.pid}.new`;
  await rm(tmp, { force: true });
  const server = net.createServer((c) => c.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ path: tmp, backlog: 16 }, () => resolve());
  });
  try {
    await rename(tmp, file);
  } catch (e) {
    server.close();
    throw e;
  }
  const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) {
    server.close();
    throw new Error(`no descriptor for the socket ${file}`);
  }
  return { fd, close: () => server.close() };
}
