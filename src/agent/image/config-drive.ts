// The NoCloud config drive ("seed") a VPS boots with: meta-data, user-data and network-config,
// as cloud-init reads them, on an iso9660 volume labelled `cidata` (genisoimage). The same seed
// works for the infogere-mini image (scripts/guest-image/nocloud-apply reads this subset) and
// for Debian cloud images with cloud-init. See docs/guest-image.md.
//
// The renderers are pure and golden-tested (test/unit/config-drive.test.ts). Every string is
// validated, then written as a YAML double-quoted scalar, so nothing in a spec can inject keys.
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { invalidData } from '../../domain/errors.ts';
import { run } from '../exec/run.ts';
import type { VmNetwork, VmSeed } from '../driver.ts';

export interface ConfigDriveUser {
  /** Login name: lower-case letters, digits, `_` and `-`, up to 32 characters; never root. */
  name: string;
  /** crypt(3) SHA-512 hash (`$6$…`) of the client's password. */
  passwordHash?: string;
  /**
   * R3.1: the password must be changed at first login (`expire: true` on the user's entry; the
   * guest's login shell runs `passwd` before anything else). Only with `passwordHash`.
   */
  expirePassword?: boolean;
  sshAuthorizedKeys?: string[];
}

export interface ConfigDriveNetwork {
  /** MAC of the guest's NIC (the interface is matched by it, as cloud-init does). */
  mac: string;
  /** IPv4 with prefix length, e.g. `203.0.113.10/24`. */
  address?: string;
  gateway?: string;
  nameservers?: string[];
}

export interface ConfigDriveSpec {
  instanceId: string;
  hostname: string;
  user: ConfigDriveUser;
  /** R3.4: root's password hash; the provider's, never shown to a client. Absent: root stays locked. */
  rootPasswordHash?: string;
  network?: ConfigDriveNetwork;
}

/** The shape the QEMU driver passes (src/agent/qemu/config.ts ConfigDriveWriter). */
export type VmSeedSpec = VmSeed & { instanceId: string; network?: VmNetwork };

const namePattern = /^[a-z_][a-z0-9_-]{0,31}$/;
const hostnamePattern =
  /^(?=.{1,63}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const instanceIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** SHA-512 crypt only: `$6$[rounds=N$]salt$hash` (the guest's libcrypt and cloud-init accept it). */
const sha512CryptPattern = /^\$6\$(?:rounds=\d{4,9}\$)?[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{86}$/;
const macPattern = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;
const sshKeyPattern =
  /^(?:ssh-(?:ed25519|rsa|dss)|ecdsa-sha2-nistp(?:256|384|521)|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/]+={0,3}(?: [\x20-\x7e]*)?$/;

function ipv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(?:0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

function check(ok: boolean, code: string, message: string): void {
  if (!ok) throw invalidData(`config_drive.${code}`, message);
}

/** Validates a spec; throws invalid_data naming the first bad field. */
export function validateConfigDriveSpec(spec: ConfigDriveSpec): void {
  check(
    instanceIdPattern.test(spec.instanceId),
    'instance_id',
    'instanceId: letters, digits, ".", "_", "-" (up to 64)',
  );
  check(
    hostnamePattern.test(spec.hostname),
    'hostname',
    `hostname is not a valid host name: ${JSON.stringify(spec.hostname)}`,
  );
  check(
    namePattern.test(spec.user.name) && spec.user.name !== 'root',
    'user_name',
    'user.name must be a plain login name, not root',
  );
  if (spec.user.passwordHash !== undefined)
    check(
      sha512CryptPattern.test(spec.user.passwordHash),
      'user_password_hash',
      'user.passwordHash must be a SHA-512 crypt hash ($6$…)',
    );
  for (const k of spec.user.sshAuthorizedKeys ?? [])
    check(sshKeyPattern.test(k), 'ssh_key', 'an SSH authorized key is not a single OpenSSH public key line');
  if (spec.rootPasswordHash !== undefined)
    check(
      sha512CryptPattern.test(spec.rootPasswordHash),
      'root_password_hash',
      'rootPasswordHash must be a SHA-512 crypt hash ($6$…)',
    );
  const n = spec.network;
  if (n) {
    check(
      macPattern.test(n.mac.toLowerCase()),
      'mac',
      `network.mac is not a MAC address: ${JSON.stringify(n.mac)}`,
    );
    if (n.address !== undefined) {
      const [ip, len, extra] = n.address.split('/');
      check(
        extra === undefined && ip !== undefined && ipv4(ip) && /^(?:[0-9]|[12]\d|3[0-2])$/.test(len ?? ''),
        'address',
        'network.address must be IPv4/prefix, e.g. 203.0.113.10/24',
      );
    }
    if (n.gateway !== undefined) check(ipv4(n.gateway), 'gateway', 'network.gateway must be an IPv4 address');
    for (const ns of n.nameservers ?? [])
      check(ipv4(ns), 'nameserver', 'network.nameservers must be IPv4 addresses');
  }
}

/** YAML double-quoted scalar. JSON's escaping is valid YAML; inputs are validated printable ASCII. */
const q = (s: string): string => JSON.stringify(s);

/** meta-data: instance-id (a new one makes the guest redo its per-instance setup) and hostname. */
export function renderMetaData(spec: ConfigDriveSpec): string {
  validateConfigDriveSpec(spec);
  return `instance-id: ${q(spec.instanceId)}\nlocal-hostname: ${q(spec.hostname)}\n`;
}

/**
 * user-data (#cloud-config): the client's account and root's password.
 * R3.4: the account has no `sudo` and no `groups` (cloud-init then grants nothing);
 * `lock_passwd: false` only when a password hash is given, then `expire: true` when the spec
 * says the password must be changed at first login (R3.1). Root's hash goes through
 * `chpasswd.users` with `type: hash` and `expire: false` (cloud-init ≥ 22.3 syntax).
 */
export function renderUserData(spec: ConfigDriveSpec): string {
  validateConfigDriveSpec(spec);
  const u = spec.user;
  const lines = [
    '#cloud-config',
    `hostname: ${q(spec.hostname)}`,
    'users:',
    `  - name: ${q(u.name)}`,
    '    shell: "/bin/sh"',
  ];
  if (u.passwordHash !== undefined) {
    lines.push('    lock_passwd: false', `    passwd: ${q(u.passwordHash)}`);
    // Per user, not cloud-init's `chpasswd.expire` (that one would expire root's password too).
    if (u.expirePassword === true) lines.push('    expire: true');
  } else lines.push('    lock_passwd: true');
  const keys = u.sshAuthorizedKeys ?? [];
  if (keys.length > 0) {
    lines.push('    ssh_authorized_keys:');
    for (const k of keys) lines.push(`      - ${q(k)}`);
  }
  // Root over SSH is refused in the guest (dropbear -w); ssh_pwauth lets the client's password work.
  lines.push('disable_root: true', `ssh_pwauth: ${u.passwordHash !== undefined}`);
  if (spec.rootPasswordHash !== undefined) {
    lines.push(
      'chpasswd:',
      '  expire: false',
      '  users:',
      '    - name: "root"',
      `      password: ${q(spec.rootPasswordHash)}`,
      '      type: "hash"',
    );
  }
  return lines.join('\n') + '\n';
}

/** network-config (version 2): the NIC matched by MAC, fixed IPv4, default route, resolvers. */
export function renderNetworkConfig(spec: ConfigDriveSpec): string {
  validateConfigDriveSpec(spec);
  const n = spec.network;
  if (!n) return 'version: 2\nethernets: {}\n';
  const lines = [
    'version: 2',
    'ethernets:',
    '  eth0:',
    '    match:',
    `      macaddress: ${q(n.mac.toLowerCase())}`,
    '    set-name: "eth0"',
  ];
  if (n.address === undefined) {
    lines.push('    dhcp4: false');
  } else {
    lines.push('    dhcp4: false', '    addresses:', `      - ${q(n.address)}`);
    // routes rather than the deprecated gateway4 (both are read by cloud-init and by our guest).
    if (n.gateway !== undefined)
      lines.push('    routes:', '      - to: "0.0.0.0/0"', `        via: ${q(n.gateway)}`);
  }
  const dns = n.nameservers ?? [];
  if (dns.length > 0) {
    lines.push('    nameservers:', '      addresses:');
    for (const d of dns) lines.push(`        - ${q(d)}`);
  }
  return lines.join('\n') + '\n';
}

/** The driver's seed (VmSeed + instance id + tap/MAC) as a ConfigDriveSpec. */
export function specFromVmSeed(seed: VmSeedSpec): ConfigDriveSpec {
  const spec: ConfigDriveSpec = { instanceId: seed.instanceId, hostname: seed.hostname, user: seed.user };
  if (seed.rootPasswordHash !== undefined) spec.rootPasswordHash = seed.rootPasswordHash;
  if (seed.network) {
    const net: ConfigDriveNetwork = { mac: seed.network.mac };
    if (seed.ipv4) {
      net.address = seed.ipv4.address;
      if (seed.ipv4.gateway !== undefined) net.gateway = seed.ipv4.gateway;
      if (seed.ipv4.dns !== undefined) net.nameservers = seed.ipv4.dns;
    }
    spec.network = net;
  }
  return spec;
}

function isVmSeed(s: ConfigDriveSpec | VmSeedSpec): s is VmSeedSpec {
  return 'ipv4' in s || (s.network !== undefined && 'tap' in s.network);
}

/**
 * Writes the config drive to `outFile`: an iso9660 image, volume id `cidata`, with Rock Ridge
 * and Joliet names (what cloud-localds makes). Uses genisoimage (Debian package `genisoimage`).
 * Accepts a ConfigDriveSpec or the QEMU driver's seed shape.
 */
export async function writeConfigDrive(input: ConfigDriveSpec | VmSeedSpec, outFile: string): Promise<void> {
  const spec = isVmSeed(input) ? specFromVmSeed(input) : input;
  const files: [string, string][] = [
    ['meta-data', renderMetaData(spec)],
    ['user-data', renderUserData(spec)],
    ['network-config', renderNetworkConfig(spec)],
  ];
  const dir = await mkdtemp(path.join(tmpdir(), 'ig-seed-'));
  try {
    for (const [name, text] of files) await writeFile(path.join(dir, name), text, { mode: 0o600 });
    const tmp = `${outFile}.tmp`;
    await run([
      'genisoimage',
      '-quiet',
      '-output',
      tmp,
      '-volid',
      'cidata',
      '-joliet',
      '-rock',
      ...files.map(([n]) => path.join(dir, n)),
    ]);
    await rename(tmp, outFile);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * SHA-512 crypt hash of a password, made by `openssl passwd -6` (the host's openssl; the
 * password goes through stdin, never argv, so it does not show in the process list).
 */
export async function hashPassword(password: string): Promise<string> {
  if (password.length === 0 || /[\r\n]/.test(password))
    throw invalidData('config_drive.password', 'a password is one non-empty line');
  const { stdout } = await run(['openssl', 'passwd', '-6', '-stdin'], { input: `${password}\n` });
  const hash = stdout.trim();
  if (!sha512CryptPattern.test(hash)) throw new Error('openssl passwd -6 gave no SHA-512 crypt hash');
  return hash;
}
