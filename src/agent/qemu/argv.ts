// QEMU's command line, rendered by a pure function from a launch spec (golden-tested:
// test/golden/qemu-argv/). No file system, no clock, no environment: same spec, same argv.

export interface LaunchSpec {
  /** The VPS id; QEMU is named `infogere-<id>` (how reattach and orphan scans find it). */
  id: string;
  accel: 'kvm' | 'tcg';
  vcpus: number;
  memoryMiB: number;
  /**
   * Direct kernel boot (the small image's kernel, initramfs and command line): read by QEMU,
   * world-readable. Absent: the firmware (SeaBIOS) boots the root disk's own bootloader, which
   * boots the kernel installed in the VPS (a full OS image, `boot: disk` in its manifest).
   */
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  /** Optional firmware (e.g. /usr/share/qemu/qboot.rom, faster than SeaBIOS for -kernel). */
  bios?: string;
  /**
   * The VPS's dedicated raw disk (first virtio-blk: /dev/vda). QEMU gets it open (fd
   * QEMU_FD.disk); the path only labels the fd set, so the process names its disk.
   */
  disk: string;
  /** NoCloud config drive, read-only (second virtio-blk: /dev/vdb), passed open like the disk. */
  seed?: string;
  /**
   * The VM's backup overlay file (R3.6), handed open like the disk (QEMU_FD.scratch, fd set 3):
   * a backup adds it as a qcow2 overlay over the disk while it reads the frozen disk.
   */
  scratch?: string;
  /** The tap comes open (QEMU_FD.tap), attached by the privileged side: QEMU needs no CAP_NET_ADMIN. */
  network?: { mac: string };
  /** Default `qemu-system-x86_64`. */
  qemuBinary?: string;
  /** Start with vCPUs stopped (tests: a guest that ignores everything). */
  startPaused?: boolean;
}

/**
 * The descriptors QEMU is started with (R3.3: it opens nothing of the platform's by path).
 * The QMP, guest-agent and console sockets are listening sockets the agent created.
 */
export const QEMU_FD = { disk: 3, seed: 4, qmp: 5, guestAgent: 6, console: 7, tap: 8, scratch: 9 } as const;

/** QEMU's seccomp filter: no obsolete calls, no set*id, no fork/exec, no scheduler or priority changes. */
export const QEMU_SANDBOX = 'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny';

export const QEMU_NAME_PREFIX = 'infogere-';

/** QEMU option values are comma-separated: a comma inside a value is written twice. */
export function optValue(s: string): string {
  if (/[\n\r\0]/.test(s)) throw new Error(`QEMU option value with a control character: ${JSON.stringify(s)}`);
  return s.replaceAll(',', ',,');
}

const macPattern = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const idPattern = /^[a-z0-9][a-z0-9-]{0,39}$/;

export function renderQemuArgv(s: LaunchSpec): string[] {
  if (!idPattern.test(s.id)) throw new Error(`invalid VM id ${JSON.stringify(s.id)}`);
  if (!Number.isInteger(s.vcpus) || s.vcpus < 1 || s.vcpus > 255) throw new Error(`invalid vcpus ${s.vcpus}`);
  if (!Number.isInteger(s.memoryMiB) || s.memoryMiB < 64) throw new Error(`invalid memoryMiB ${s.memoryMiB}`);

  const argv: string[] = [];
  argv.push(s.qemuBinary ?? 'qemu-system-x86_64');
  argv.push('-name', `guest=${QEMU_NAME_PREFIX}${s.id},debug-threads=on`);
  argv.push('-nodefaults', '-no-user-config');
  // -M q35: microvm hangs under TCG here (machine-facts.md); with pc, the guest kernel spends
  // ~0.25 s per PCI device under TCG in the ACPI _PRT (an AML loop), and the only way around it
  // (pci=noacpi) leaves the guest with one CPU (docs/guest-image.md).
  argv.push('-machine', `q35,accel=${s.accel}`);
  argv.push('-cpu', s.accel === 'kvm' ? 'host' : 'qemu64');
  argv.push('-smp', String(s.vcpus));
  argv.push('-m', String(s.memoryMiB));
  argv.push('-display', 'none', '-vga', 'none');
  argv.push('-rtc', 'base=utc');
  argv.push('-sandbox', QEMU_SANDBOX);
  if (s.bios) argv.push('-bios', s.bios);
  if (s.kernel !== undefined) {
    if (s.initrd === undefined || s.cmdline === undefined)
      throw new Error('direct kernel boot needs initrd and cmdline');
    argv.push('-kernel', s.kernel, '-initrd', s.initrd, '-append', s.cmdline);
  }

  // R2.1: the disk file is fully allocated at define; discard=ignore so a guest TRIM never
  // punches holes in it (the reservation stays whole), detect-zeroes off for the same reason.
  // Disk and config drive come open: fd sets (their label names the file) opened as /dev/fdset/N.
  argv.push(
    '-add-fd',
    `fd=${QEMU_FD.disk},set=1,opaque=${optValue(s.disk)}`,
    '-blockdev',
    'driver=file,node-name=vda-file,filename=/dev/fdset/1,discard=ignore,detect-zeroes=off',
    '-blockdev',
    'driver=raw,node-name=vda,file=vda-file,discard=ignore',
    '-device',
    s.kernel !== undefined
      ? 'virtio-blk-pci,id=vda-dev,drive=vda'
      : 'virtio-blk-pci,id=vda-dev,drive=vda,bootindex=1',
  );
  if (s.seed) {
    argv.push(
      '-add-fd',
      `fd=${QEMU_FD.seed},set=2,opaque=${optValue(s.seed)}`,
      '-blockdev',
      'driver=file,node-name=vdb-file,filename=/dev/fdset/2,read-only=on',
      '-blockdev',
      'driver=raw,node-name=vdb,file=vdb-file,read-only=on',
      '-device',
      'virtio-blk-pci,id=vdb-dev,drive=vdb',
    );
  }
  if (s.scratch) argv.push('-add-fd', `fd=${QEMU_FD.scratch},set=3,opaque=${optValue(s.scratch)}`);
  if (s.network) {
    const mac = s.network.mac.toLowerCase();
    if (!macPattern.test(mac)) throw new Error(`invalid MAC ${s.network.mac}`);
    argv.push(
      '-netdev',
      `tap,id=net0,fd=${QEMU_FD.tap}`,
      '-device',
      `virtio-net-pci,id=nic0,netdev=net0,mac=${mac}`,
    );
  }
  // Guest agent: virtio-serial port named org.qemu.guest_agent.0, host side a unix socket.
  argv.push(
    '-device',
    'virtio-serial-pci,id=vser0',
    '-chardev',
    `socket,id=qga0,fd=${QEMU_FD.guestAgent},server=on,wait=off`,
    '-device',
    'virtserialport,bus=vser0.0,nr=1,chardev=qga0,name=org.qemu.guest_agent.0',
  );
  argv.push('-device', 'virtio-balloon-pci,id=balloon0');
  argv.push(
    '-object',
    'rng-random,id=rng0,filename=/dev/urandom',
    '-device',
    'virtio-rng-pci,id=rng0-dev,rng=rng0',
  );
  argv.push(
    '-chardev',
    `socket,id=qmp0,fd=${QEMU_FD.qmp},server=on,wait=off`,
    '-mon',
    'chardev=qmp0,mode=control',
  );
  // The serial console goes to a socket the agent reads into a size-capped, rotated file
  // (src/agent/qemu/console.ts); with no reader, QEMU drops the bytes instead of storing them.
  argv.push(
    '-chardev',
    `socket,id=serial0,fd=${QEMU_FD.console},server=on,wait=off`,
    '-serial',
    'chardev:serial0',
  );
  if (s.startPaused) argv.push('-S');
  return argv;
}
