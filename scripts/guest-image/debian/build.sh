#!/usr/bin/env bash
# Builds the Debian 12 VPS image ("debian-12") from Debian's packages with mmdebstrap, without a
# loop mount: mmdebstrap to a directory (as root), mke2fs -d for the root ext4, a partitioned raw
# disk assembled with sfdisk + dd, and GRUB (BIOS) embedded after the MBR so the VPS boots its
# own kernel (kernel security updates take effect at its next reboot; R3.5).
#
# Usage: scripts/guest-image/debian/build.sh            (FORCE=1 rebuilds even when up to date)
# Settings (environment): DEBIAN_MIRROR (default http://deb.debian.org/debian),
#   DEBIAN_SECURITY_MIRROR (default http://deb.debian.org/debian-security), DEBIAN_DEB_CACHE (the
#   .deb cache, default var/cache/debian-debs), DEBIAN_IMAGE_OUT (default var/images/debian-12).
#
# Outputs (docs/guest-image.md, "The Debian image"):
#   var/images/debian-12/disk.raw       1 GiB sparse raw disk: MBR + GRUB core image, partition 1
#                                       = ext4 root (label infogere-root). A VPS disk is a copy
#                                       grown to the plan's size; the guest grows partition and
#                                       filesystem itself (growpart + resize2fs).
#   var/images/debian-12/manifest.json  "boot": "disk", kernel package, every package version,
#                                       sha256 of disk.raw, build time, inputsKey
# Caching: .debs are kept in var/cache/debian-debs (mmdebstrap sync-in/sync-out); the image is
# rebuilt only when the candidate versions of its packages (host apt lists) or this directory's
# files change.
# Host tools (scripts/debian-packages.txt): mmdebstrap, e2fsprogs, fdisk (sfdisk), coreutils.
set -euo pipefail

SUITE=bookworm
NAME=debian-12
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
CACHE="${DEBIAN_DEB_CACHE:-$ROOT/var/cache/debian-debs}" # bench:images times a cold build with an empty one
OUT="${DEBIAN_IMAGE_OUT:-$ROOT/var/images/$NAME}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
DISK_MIB=1024 # partition 1 starts at 1 MiB; the GRUB core image lives in the gap before it
# systemd + udev (the guest agent's unit starts on its virtio port's device), OpenSSH, the guest
# agent, the cloud kernel with initramfs-tools, GRUB's BIOS modules, unattended-upgrades and
# needrestart (R3.5), growpart (cloud-guest-utils, with fdisk's sfdisk) for the root partition.
PKGS=(systemd systemd-sysv udev openssh-server qemu-guest-agent linux-image-cloud-amd64 initramfs-tools
  grub-pc-bin unattended-upgrades needrestart iproute2 cloud-guest-utils fdisk e2fsprogs ca-certificates)

log() { printf 'debian-image: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
for tool in mmdebstrap apt-cache mkfs.ext4 sfdisk dd sha256sum; do
  command -v "$tool" >/dev/null || die "missing host tool '$tool' (see scripts/debian-packages.txt)"
done
[[ "$(id -u)" == 0 ]] || die "run as root (mmdebstrap's root mode, chroot)"

mkdir -p "$CACHE" "$OUT"
exec 9>"$CACHE/.lock"
flock 9 # tests, benchmarks and `make up` may run concurrently

candidates() {
  apt-cache policy "$@" 2>/dev/null | awk '/^[^ ]/ { p = $1; sub(/:$/, "", p) } $1 == "Candidate:" && $2 != "(none)" { print p "=" $2 }'
}
if [[ -z "$(candidates linux-image-cloud-amd64)" ]]; then
  log "no apt lists for linux-image-cloud-amd64: running apt-get update"
  apt-get update -qq >&2 || die "apt-get update failed"
fi
KPKG="$(apt-cache depends linux-image-cloud-amd64 | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')"
[[ -n "$KPKG" ]] || die "cannot resolve the versioned kernel package of linux-image-cloud-amd64"
KEY="$( { candidates "${PKGS[@]}" "$KPKG"; echo "suite=$SUITE mirror=$MIRROR security=$SECURITY size=$DISK_MIB"
          (cd "$HERE/.." && find debian nocloud-apply nocloud-yaml.awk -type f -print0 | sort -z | xargs -0 sha256sum); } |
        sha256sum | cut -d' ' -f1)"
if [[ -z "${FORCE:-}" && -f "$OUT/manifest.json" && -f "$OUT/disk.raw" ]] && grep -q "\"inputsKey\": \"$KEY\"" "$OUT/manifest.json"; then
  log "$NAME is up to date ($OUT)"
  exit 0
fi

START=$(date +%s)
# The tree mmdebstrap builds has /proc, /sys and /dev bind-mounted while it runs: outside the
# repository, so that nothing walking the repository (prettier, eslint, find) goes into them.
TREE="$(mktemp -d "${TMPDIR:-/var/tmp}/infogere-debian-image.XXXXXX")"
WORK="$(mktemp -d "$OUT/.build.XXXXXX")"
trap 'rm -rf --one-file-system "$TREE" "$WORK"' EXIT
R="$TREE/root"
INCLUDE="$(IFS=,; echo "${PKGS[*]}")"
log "mmdebstrap $SUITE from $MIRROR ($INCLUDE)"
mmdebstrap --quiet --variant=minbase --mode=root --format=directory --include="$INCLUDE" \
  --skip=download/empty --skip=essential/unlink \
  --setup-hook='mkdir -p "$1"/var/cache/apt/archives/' \
  --setup-hook="sync-in '$CACHE' /var/cache/apt/archives/" \
  --customize-hook="sync-out /var/cache/apt/archives '$CACHE'" \
  --customize-hook='rm -f "$1"/var/cache/apt/archives/*.deb' \
  --customize-hook="'$HERE/customize.sh' \"\$1\"" \
  "$SUITE" "$R" \
  "deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main" "deb $SECURITY $SUITE-security main" >&2

KREL="$(readlink "$R/vmlinuz")"; KREL="${KREL##*/vmlinuz-}"
[[ -n "$KREL" && -f "$R/boot/vmlinuz-$KREL" && -f "$R/boot/initrd.img-$KREL" ]] || die "no kernel or initramfs in the image"
cp "$R/boot/grub/i386-pc/core.img" "$R/boot/grub/i386-pc/boot.img" "$WORK/"
CORE_BYTES=$(stat -c %s "$WORK/core.img")
((CORE_BYTES <= 2047 * 512)) || die "GRUB core image too big for the MBR gap ($CORE_BYTES bytes)"
dpkg-query --admindir="$R/var/lib/dpkg" -W -f '${Package}\t${Version}\n' >"$WORK/packages.tsv"

# Root filesystem: no loop mount, mke2fs copies the tree (owners, modes, xattrs, hard links).
E2FSPROGS_FAKE_TIME=1700000000 mkfs.ext4 -q -F -b 4096 -L infogere-root -U 5d0f6a3e-2b1c-4c8e-9a7d-3f2e1d0c9b8a \
  -E root_owner=0:0 -d "$R" "$WORK/rootfs.ext4" "$((DISK_MIB - 1))M" >/dev/null
rm -rf "$R"

# The disk: MBR partition table (partition 1 from sector 2048, bootable), the ext4 at 1 MiB,
# GRUB's boot.img code (first 440 bytes, before the partition table) in the MBR, which loads the
# core image from sector 1 (boot.img's default; the core's own first sector reads the rest).
truncate -s "${DISK_MIB}M" "$WORK/disk.raw"
printf 'label: dos\nunit: sectors\nstart=2048, type=83, bootable\n' | sfdisk -q "$WORK/disk.raw" >/dev/null
dd if="$WORK/rootfs.ext4" of="$WORK/disk.raw" bs=1M seek=1 conv=notrunc,sparse status=none
rm -f "$WORK/rootfs.ext4"
dd if="$WORK/boot.img" of="$WORK/disk.raw" bs=440 count=1 conv=notrunc status=none
dd if="$WORK/core.img" of="$WORK/disk.raw" bs=512 seek=1 conv=notrunc status=none

mv -f "$WORK/disk.raw" "$OUT/disk.raw.new"
chmod 0644 "$OUT/disk.raw.new"
mv -f "$OUT/disk.raw.new" "$OUT/disk.raw"
{
  printf '{\n  "name": "%s",\n  "os": "Debian 12 (%s)",\n  "inputsKey": "%s",\n' "$NAME" "$SUITE" "$KEY"
  printf '  "builtAt": "%s",\n  "buildSeconds": %d,\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(($(date +%s) - START))"
  printf '  "boot": "disk",\n  "rootDevice": "/dev/vda1",\n  "diskSizeMiB": %d,\n' "$DISK_MIB"
  printf '  "kernel": {"package": "linux-image-%s", "version": "%s", "release": "%s"},\n' "$KREL" \
    "$(awk -F '\t' -v p="linux-image-$KREL" '$1 == p { print $2 }' "$WORK/packages.tsv")" "$KREL"
  printf '  "packages": {'
  sep=''; while IFS=$'\t' read -r p v; do printf '%s\n    "%s": "%s"' "$sep" "$p" "$v"; sep=','; done <"$WORK/packages.tsv"
  printf '\n  },\n  "files": {\n    "disk.raw": {"sha256": "%s", "bytes": %d}\n  }\n}\n' \
    "$(sha256sum "$OUT/disk.raw" | cut -d' ' -f1)" "$(stat -c %s "$OUT/disk.raw")"
} >"$OUT/manifest.json.new"
mv -f "$OUT/manifest.json.new" "$OUT/manifest.json"
log "built $NAME in $OUT (kernel $KREL) in $(($(date +%s) - START)) s"
