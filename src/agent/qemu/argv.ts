// QEMU's command line, rendered by a pure function from a launch spec (golden-tested:
// test/golden/qemu-argv/). No file system, no clock, no environment: same spec, same argv.

export interface LaunchSpec {
  /** The VPS id; QEMU is named `infogere-<id>` (how reattach and orphan scans find it). */
  id: string;
  accel: 'kvm' | 'tcg';
  vcpus: number;
  memoryMiB: number;
  /** Direct kernel boot (the image's kernel, initramfs and command line). */
  kernel: string;
  initrd: string;
  cmdline: string;
  /** Optional firmware (e.g. /usr/share/qemu/qboot.rom, faster than SeaBIOS for -kernel). */
  bios?: string;
  /** The VPS's dedicated raw disk (first virtio-blk: /dev/vda). */
  disk: string;
  /** NoCloud config drive, read-only (second virtio-blk: /dev/vdb). */
  seed?: string;
  qmpSocket: string;
  guestAgentSocket: string;
  consoleLog: string;
  pidFile: string;
  network?: { tap: string; mac: string; netns?: string };
  /** Default `qemu-system-x86_64`. */
  qemuBinary?: string;
  /** Start with vCPUs stopped (tests: a guest that ignores everything). */
  startPaused?: boolean;
}

export const QEMU_NAME_PREFIX = 'infogere-';

/** QEMU option values are comma-separated: a comma inside a value is written twice. */
export function optValue(s: string): string {
  if (/[\n\r\0]/.test(s)) throw new Error(`QEMU option value with a control character: ${JSON.stringify(s)}`);
  return s.replaceAll(',', ',,');
}

const macPattern = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const ifnamePattern = /^[A-Za-z0-9_.-]{1,15}$/;
const idPattern = /^[a-z0-9][a-z0-9-]{0,39}$/;

export function renderQemuArgv(s: LaunchSpec): string[] {
  if (!idPattern.test(s.id)) throw new Error(`invalid VM id ${JSON.stringify(s.id)}`);
  if (!Number.isInteger(s.vcpus) || s.vcpus < 1 || s.vcpus > 255) throw new Error(`invalid vcpus ${s.vcpus}`);
  if (!Number.isInteger(s.memoryMiB) || s.memoryMiB < 64) throw new Error(`invalid memoryMiB ${s.memoryMiB}`);

  const argv: string[] = [];
  if (s.network?.netns) {
    if (!ifnamePattern.test(s.network.netns)) throw new Error(`invalid netns ${s.network.netns}`);
    argv.push('ip', 'netns', 'exec', s.network.netns);
  }
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
  if (s.bios) argv.push('-bios', s.bios);
  argv.push('-kernel', s.kernel, '-initrd', s.initrd, '-append', s.cmdline);

  // R2.1: the disk file is fully allocated at define; discard=ignore so a guest TRIM never
  // punches holes in it (the reservation stays whole), detect-zeroes off for the same reason.
  argv.push(
    '-blockdev',
    `driver=file,node-name=vda-file,filename=${optValue(s.disk)},discard=ignore,detect-zeroes=off`,
    '-blockdev',
    'driver=raw,node-name=vda,file=vda-file,discard=ignore',
    '-device',
    'virtio-blk-pci,id=vda-dev,drive=vda',
  );
  if (s.seed) {
    argv.push(
      '-blockdev',
      `driver=file,node-name=vdb-file,filename=${optValue(s.seed)},read-only=on`,
      '-blockdev',
      'driver=raw,node-name=vdb,file=vdb-file,read-only=on',
      '-device',
      'virtio-blk-pci,id=vdb-dev,drive=vdb',
    );
  }
  if (s.network) {
    if (!ifnamePattern.test(s.network.tap)) throw new Error(`invalid tap name ${s.network.tap}`);
    const mac = s.network.mac.toLowerCase();
    if (!macPattern.test(mac)) throw new Error(`invalid MAC ${s.network.mac}`);
    argv.push(
      '-netdev',
      `tap,id=net0,ifname=${s.network.tap},script=no,downscript=no`,
      '-device',
      `virtio-net-pci,id=nic0,netdev=net0,mac=${mac}`,
    );
  }
  // Guest agent: virtio-serial port named org.qemu.guest_agent.0, host side a unix socket.
  argv.push(
    '-device',
    'virtio-serial-pci,id=vser0',
    '-chardev',
    `socket,id=qga0,path=${optValue(s.guestAgentSocket)},server=on,wait=off`,
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
    `socket,id=qmp0,path=${optValue(s.qmpSocket)},server=on,wait=off`,
    '-mon',
    'chardev=qmp0,mode=control',
  );
  argv.push('-chardev', `file,id=serial0,path=${optValue(s.consoleLog)}`, '-serial', 'chardev:serial0');
  argv.push('-pidfile', s.pidFile);
  if (s.startPaused) argv.push('-S');
  return argv;
}
