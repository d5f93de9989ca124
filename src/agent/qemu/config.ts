// The QEMU driver's configuration: what the agent's settings (and tests) give QemuDriver.open().
import type { Clock } from '../../domain/clock.ts';
import type { VmEventListener, VmNetwork, VmSeed } from '../driver.ts';
import type { WipeMode } from '../disks/disks.ts';

export type ConfigDriveWriter = (
  seed: VmSeed & { instanceId: string; network?: VmNetwork },
  file: string,
) => Promise<void>;

export interface QemuHostConfig {
  /** Agent state: <dataDir>/vms/<id>/ (state.json, sockets, console log, config drive). */
  dataDir: string;
  /** Images: <imagesDir>/<name>/{vmlinuz,initrd.img,rootfs.ext4,cmdline}. */
  imagesDir: string;
  /** VPS disks (default <dataDir>/disks). */
  diskDir?: string;
  /** R2.2: host resources and overcommit ratios (provider settings). */
  cpuRatio: number;
  ramRatio: number;
  cores?: number;
  memoryMiB?: number;
  /** Free space the host keeps for itself on the disks' filesystem (default 1 GiB). */
  diskMarginBytes?: number;
  /** 'auto' (default) runs the boot probe (cached); tests may force one. */
  accel?: 'auto' | 'kvm' | 'tcg';
  /** Image whose kernel the probe boots (default infogere-mini). */
  probeImage?: string;
  /** R12.4 wipe of a destroyed disk (default overwrite). */
  diskWipe?: WipeMode;
  /** Optional firmware for direct kernel boot (e.g. /usr/share/qemu/qboot.rom). */
  bios?: string;
  qemuBinary?: string;
  /** Tap name prefix listed by orphans() (the network side creates taps). */
  tapPrefix?: string;
  /** Extra network namespaces whose taps orphans() lists (tests). */
  orphanNetns?: string[];
  clock?: Clock;
  /** Registered before reattach, so events found while reattaching are not lost. */
  listener?: VmEventListener;
  /** Writes the NoCloud config drive (default: writeConfigDrive of src/agent/image/config-drive.ts). */
  writeConfigDrive?: ConfigDriveWriter;
  /** The network side's hook to remove a VPS's tap on destroy. */
  releaseTap?: (network: VmNetwork) => Promise<void>;
  /** Tests: start every VM with vCPUs stopped (-S), a guest that ignores everything. */
  startPaused?: boolean;
  qmpTimeouts?: Record<string, number>;
  guestAgentTimeouts?: Record<string, number>;
  /** How long a started QEMU gets to open its QMP socket (default 30 s). */
  startTimeoutMs?: number;
  /**
   * R3.3: QEMUs run as uids base+1 … base+65535, one per VM, never root (the probe runs as
   * base). No passwd entry needed; no user or group of the machine may fall in the range.
   */
  vmUidBase?: number;
  /** Cap of console.log and of console.log.1 (default 1 MiB each). */
  consoleLogMaxBytes?: number;
  /** Cap of one message from the guest agent / from QMP (defaults in guest-agent.ts, qmp.ts). */
  guestAgentMaxMessageBytes?: number;
  qmpMaxMessageBytes?: number;
}
