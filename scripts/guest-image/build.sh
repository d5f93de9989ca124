#!/usr/bin/env bash
# Builds the small real guest image ("infogere-mini") from Debian packages, without
# installing any of them on the host: `apt-get download` + `dpkg-deb -x` into a cache.
#
# Usage: scripts/guest-image/build.sh [NAME]        (NAME defaults to infogere-mini)
#        FORCE=1 scripts/guest-image/build.sh        rebuild even when up to date
#
# Stable outputs, consumed by the QEMU driver (see docs/guest-image.md):
#   var/images/<NAME>/vmlinuz       Debian cloud kernel (linux-image-cloud-amd64's versioned package)
#   var/images/<NAME>/initrd.img    uncompressed newc cpio: loads virtio modules, mounts /dev/vda
#                                   read-write, switch_root's into it
#   var/images/<NAME>/rootfs.ext4   256 MiB ext4 root filesystem, no partition table. A VPS disk is
#                                   a copy of it grown to the plan's size (truncate/fallocate); the
#                                   guest grows the filesystem itself at every boot (online
#                                   `resize2fs /dev/vda`), so no host-side resize is needed.
#   var/images/<NAME>/cmdline       the kernel command line to pass with -append
#   var/images/<NAME>/manifest.json kernel version, package versions, sha256 of each file, build time
# QEMU devices the guest expects: -M q35 (or pc, slower to boot under TCG; TCG or KVM), root disk as the first virtio-blk (/dev/vda),
# NoCloud config drive (iso9660 or vfat, label "cidata") as the second virtio-blk, virtio-net-pci,
# virtio-serial-pci with a virtserialport named org.qemu.guest_agent.0, optionally virtio-balloon.
#
# Caching: .debs are kept under var/cache/guest-debs/ keyed by package version and extracted once;
# the image is rebuilt only when the package versions or the files of scripts/guest-image/ change.
# Host tools needed (scripts/debian-packages.txt): apt, dpkg, e2fsprogs, cpio, binutils (readelf).
set -euo pipefail

NAME="${1:-infogere-mini}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CACHE="$ROOT/var/cache/guest-debs"
OUT="$ROOT/var/images/$NAME"
DISK_SIZE_MIB=256
# Order from machine-facts: each module after its dependencies (busybox insmod does no resolution).
MODULES=(
  drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev
  drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci net/core/failover
  drivers/net/net_failover drivers/net/virtio_net drivers/char/virtio_console
  drivers/block/virtio_blk drivers/virtio/virtio_balloon drivers/char/hw_random/virtio-rng
  drivers/cdrom/cdrom fs/isofs/isofs fs/fat/fat fs/fat/vfat fs/nls/nls_cp437 fs/nls/nls_iso8859-1
  drivers/input/evdev drivers/acpi/button
)
# No pci=noacpi: it also stops the kernel from reading the IO-APIC from ACPI, so the guest ran in
# PIC mode, without MSI-X and with ONE CPU whatever -smp said (R2.2). Its speed-up came from the
# pc machine's ACPI _PRT, an AML loop the kernel evaluates for every PCI device it enables (about
# 0.25 s each under TCG); the q35 machine's _PRT is a static table (docs/guest-image.md).
CMDLINE="console=ttyS0 quiet panic=-1"
# Top-level packages; their library dependencies are added by walking Depends below.
# passwd (shadow's, setuid root, with PAM's pam_unix from libpam-modules): the client's own
# password change, forced at first login when the seed expires it (R3.1; docs/guest-image.md).
TOP_PKGS=(busybox-static dropbear-bin qemu-guest-agent e2fsprogs passwd libpam-modules)

log() { printf 'guest-image: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

for tool in apt-get apt-cache dpkg-deb mkfs.ext4 cpio readelf sha256sum; do
  command -v "$tool" >/dev/null || die "missing host tool '$tool' (see scripts/debian-packages.txt)"
done

mkdir -p "$CACHE" "$OUT"
exec 9>"$CACHE/.lock"
flock 9 # tests and `make up` may run concurrently

# The host's apt config (Debian docker images) may disable the binary package cache, making each
# apt-cache call reparse the lists (~1 s): keep our own cache next to the debs.
APT=(-o "Dir::Cache::pkgcache=$CACHE/apt-pkgcache.bin" -o "Dir::Cache::srcpkgcache=$CACHE/apt-srcpkgcache.bin")
candidate() { # prints the candidate version of a package, or nothing
  apt-cache "${APT[@]}" policy "$1" 2>/dev/null | awk '$1 == "Candidate:" && $2 != "(none)" { print $2; exit }'
}

# Package lists are needed to resolve versions; fetch them only when they are missing.
if [[ -z "$(candidate linux-image-cloud-amd64)" ]]; then
  log "no apt lists for linux-image-cloud-amd64: running apt-get update"
  apt-get update -qq >&2 || die "apt-get update failed"
fi
KPKG="$(apt-cache "${APT[@]}" depends linux-image-cloud-amd64 | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')"
[[ -n "$KPKG" ]] || die "cannot resolve the versioned kernel package of linux-image-cloud-amd64"
KVER="${KPKG#linux-image-}"

# Library closure: follow Depends/Pre-Depends of the top packages, keeping only library packages
# (runtime .so files); the ELF NEEDED check below proves nothing is missing. One apt-cache call
# per level of the walk: each call costs about a second (it loads the package lists).
declare -A SEEN=()
LEVEL=("${TOP_PKGS[@]}")
PKGS=()
while ((${#LEVEL[@]})); do
  for p in "${LEVEL[@]}"; do SEEN[$p]=1; PKGS+=("$p"); done
  NEXT=()
  while read -r dep; do
    [[ "$dep" =~ ^(lib|zlib1g) && -z "${SEEN[$dep]:-}" ]] && { SEEN[$dep]=1; NEXT+=("$dep"); }
  done < <(apt-cache "${APT[@]}" depends --no-recommends --no-suggests --no-conflicts --no-breaks \
             --no-replaces --no-enhances "${LEVEL[@]}" 2>/dev/null |
           awk '/^[^ ]/ { alt = 0 } /^ *(\|)?(Pre)?Depends:/ { if (!alt) print $2; alt = ($1 ~ /^\|/) }' | grep -v '^<')
  LEVEL=("${NEXT[@]}")
done
PKGS+=("$KPKG")
mapfile -t PKGS < <(printf '%s\n' "${PKGS[@]}" | sort -u)

declare -A VER=()
while read -r p v; do VER[$p]="$v"; done < <(apt-cache "${APT[@]}" policy "${PKGS[@]}" 2>/dev/null |
  awk '/^[^ ]/ { p = $1; sub(/:$/, "", p) } $1 == "Candidate:" && $2 != "(none)" { print p, $2 }')
for p in "${PKGS[@]}"; do [[ -n "${VER[$p]:-}" ]] || die "no candidate version for $p"; done

# Inputs key: package versions + this directory's files. Unchanged key => nothing to do.
KEY="$( { for p in "${PKGS[@]}"; do echo "$p=${VER[$p]}"; done
          echo "modules=${MODULES[*]}"; echo "cmdline=$CMDLINE"; echo "size=$DISK_SIZE_MIB"
          (cd "$HERE" && find . -path ./debian -prune -o -type f -print0 | sort -z | xargs -0 sha256sum); } | sha256sum | cut -d' ' -f1)"
if [[ -z "${FORCE:-}" && -f "$OUT/manifest.json" ]] && grep -q "\"inputsKey\": \"$KEY\"" "$OUT/manifest.json" &&
   [[ -f "$OUT/vmlinuz" && -f "$OUT/initrd.img" && -f "$OUT/rootfs.ext4" ]]; then
  log "$NAME is up to date ($OUT)"
  exit 0
fi

# Download and extract each package once, keyed by version (epoch ':' is '%3a' in file names).
fetch() { # pkg -> prints the extraction dir
  local p="$1" v="${VER[$1]}" dir deb
  dir="$CACHE/x/${p}_${v//:/%3a}"
  if [[ ! -f "$dir/.done" ]]; then
    deb="$(ls "$CACHE/${p}_${v//:/%3a}_"*.deb 2>/dev/null | head -n1 || true)"
    if [[ -z "$deb" ]]; then
      log "downloading $p=$v"
      if ! (cd "$CACHE" && apt-get "${APT[@]}" download -q "$p=$v" >/dev/null 2>&1); then
        log "apt-get download $p=$v failed: running apt-get update and retrying"
        apt-get update -qq >&2
        (cd "$CACHE" && apt-get "${APT[@]}" download -q "$p=$v" >/dev/null 2>&1) || die "cannot download $p=$v"
      fi
      deb="$(ls "$CACHE/${p}_${v//:/%3a}_"*.deb | head -n1)"
    fi
    rm -rf "$dir"; mkdir -p "$dir"
    dpkg-deb -x "$deb" "$dir"
    touch "$dir/.done"
  fi
  echo "$dir"
}
declare -A DIR=()
for p in "${PKGS[@]}"; do DIR[$p]="$(fetch "$p")"; done

WORK="$(mktemp -d "$ROOT/var/cache/guest-image-build.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
KDIR="${DIR[$KPKG]}"
BUSYBOX="${DIR[busybox-static]}/bin/busybox"
[[ -x "$BUSYBOX" ]] || die "busybox not found in busybox-static"

# ---------------------------------------------------------------- initramfs
I="$WORK/initramfs"
mkdir -p "$I"/{bin,dev,proc,sys,newroot,lib/modules}
cp "$BUSYBOX" "$I/bin/busybox"
for a in sh mount umount insmod switch_root mkdir sleep cat echo usleep; do ln -s busybox "$I/bin/$a"; done
: >"$I/modules.list"
for m in "${MODULES[@]}"; do
  f="$KDIR/lib/modules/$KVER/kernel/$m.ko"
  [[ -f "$f" ]] || die "module $m not found in $KPKG"
  cp "$f" "$I/lib/modules/"
  basename "$m" >>"$I/modules.list"
done
install -m 0755 "$HERE/initramfs-init" "$I/init"
(cd "$I" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --reproducible --quiet -R 0:0) >"$WORK/initrd.img"

# ---------------------------------------------------------------- root filesystem
R="$WORK/rootfs"
mkdir -p "$R"/usr/{bin,sbin,lib/x86_64-linux-gnu,lib64} "$R"/{dev,proc,sys,run,tmp,root,home,etc/dropbear,var/lib/infogere,var/log}
# merged /usr, as Debian 12 does
ln -s usr/bin "$R/bin"; ln -s usr/sbin "$R/sbin"; ln -s usr/lib "$R/lib"; ln -s usr/lib64 "$R/lib64"
ln -s /run "$R/var/run"
chmod 1777 "$R/tmp"; chmod 0700 "$R/root"
cp "$BUSYBOX" "$R/usr/bin/busybox"
# R3.4: no su and no sudo in the image (busybox has no sudo; su is left out on purpose).
while read -r a; do
  n="$(basename "$a")"; d="$(dirname "$a")"
  case "$n" in busybox|su|sudo) continue ;; esac
  case "$d" in bin|usr/bin) t=usr/bin ;; *) t=usr/sbin ;; esac
  [[ -e "$R/$t/$n" ]] || ln -s /usr/bin/busybox "$R/$t/$n"
done < <("$BUSYBOX" --list-full)
cp "${DIR[dropbear-bin]}/usr/sbin/dropbear" "$R/usr/sbin/"
cp "${DIR[dropbear-bin]}/usr/bin/dropbearkey" "$R/usr/bin/"
cp "${DIR[qemu-guest-agent]}/usr/sbin/qemu-ga" "$R/usr/sbin/"
cp "${DIR[e2fsprogs]}/sbin/resize2fs" "$R/usr/sbin/"
# R3.1/R3.4: shadow's passwd is the image's only setuid program. It changes the caller's own
# password only, after pam_unix has checked the current one (as on any Debian system).
install -m 4755 "${DIR[passwd]}/usr/bin/passwd" "$R/usr/bin/passwd"
PAMDIR=usr/lib/x86_64-linux-gnu/security
mkdir -p "$R/$PAMDIR"
for m in pam_unix pam_deny pam_permit; do
  f=""
  for d in usr/lib lib; do [[ -f "${DIR[libpam-modules]}/$d/x86_64-linux-gnu/security/$m.so" ]] && f="${DIR[libpam-modules]}/$d/x86_64-linux-gnu/security/$m.so"; done
  [[ -n "$f" ]] || die "$m.so not found in libpam-modules"
  install -m 0644 "$f" "$R/$PAMDIR/$m.so"
done

# Shared libraries: ELF NEEDED closure, each soname taken from the extracted library packages.
LIBDIRS=()
for p in "${PKGS[@]}"; do
  for d in lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu lib64; do
    [[ -d "${DIR[$p]}/$d" ]] && LIBDIRS+=("${DIR[$p]}/$d")
  done
done
findlib() { local d; for d in "${LIBDIRS[@]}"; do [[ -e "$d/$1" ]] && { echo "$d/$1"; return 0; }; done; return 1; }
declare -A HAVE=()
todo=("$R/usr/sbin/dropbear" "$R/usr/bin/dropbearkey" "$R/usr/sbin/qemu-ga" "$R/usr/sbin/resize2fs"
      "$R/usr/bin/passwd" "$R/$PAMDIR"/*.so)
while ((${#todo[@]})); do
  f="${todo[0]}"; todo=("${todo[@]:1}")
  while read -r so; do
    [[ -n "${HAVE[$so]:-}" || "$so" == ld-linux-x86-64.so.2 ]] && continue
    HAVE[$so]=1
    src="$(findlib "$so")" || die "library $so (needed by $(basename "$f")) is in none of: ${PKGS[*]}"
    cp -L "$src" "$R/usr/lib/x86_64-linux-gnu/$so"
    todo+=("$R/usr/lib/x86_64-linux-gnu/$so")
  done < <(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
done
cp -L "$(findlib ld-linux-x86-64.so.2)" "$R/usr/lib64/ld-linux-x86-64.so.2"
ln -s ../lib64/ld-linux-x86-64.so.2 "$R/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"

# Our init scripts and base configuration.
install -m 0644 "$HERE/inittab" "$R/etc/inittab"
install -m 0755 -D "$HERE/rcS" "$R/etc/init.d/rcS"
install -m 0755 "$HERE/rc.seed" "$R/etc/init.d/rc.seed"
install -m 0755 "$HERE/rcK" "$R/etc/init.d/rcK"
install -m 0755 -D "$HERE/nocloud-yaml.awk" "$R/usr/lib/infogere/nocloud-yaml.awk"
install -m 0755 "$HERE/nocloud-apply" "$R/usr/lib/infogere/nocloud-apply"
install -m 0755 "$HERE/run-qemu-ga" "$R/usr/lib/infogere/run-qemu-ga"
install -m 0755 "$HERE/run-dropbear" "$R/usr/lib/infogere/run-dropbear"
install -m 0755 "$HERE/login-shell" "$R/usr/lib/infogere/login-shell"
install -m 0644 -D "$HERE/pam.d-passwd" "$R/etc/pam.d/passwd"
install -m 0644 "$HERE/pam.d-other" "$R/etc/pam.d/other"
install -m 0644 "$HERE/login.defs" "$R/etc/login.defs"
install -m 0644 "$HERE/profile" "$R/etc/profile"
install -m 0755 "$HERE/shutdown" "$R/usr/sbin/shutdown"
install -m 0755 -D "$HERE/acpi-power" "$R/etc/acpi/PWRF/00000080"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$R/etc/passwd"
# Root is locked ('!') until the config drive gives the provider's hash (R3.4).
printf 'root:!:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n' >"$R/etc/shadow"
chmod 0600 "$R/etc/shadow"
printf 'root:x:0:\ntty:x:5:\nusers:x:100:\nnogroup:x:65534:\n' >"$R/etc/group"
# The client's account gets login-shell (forced password change, then /bin/sh); dropbear only
# accepts shells listed here.
printf '/bin/sh\n/usr/lib/infogere/login-shell\n' >"$R/etc/shells"
printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n' >"$R/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$R/etc/hosts"
printf 'localhost\n' >"$R/etc/hostname"
printf 'PRETTY_NAME="infogere-mini (Debian %s packages)"\nID=infogere-mini\nID_LIKE=debian\n' \
  "$(cut -d. -f1 /etc/debian_version 2>/dev/null || echo 12)" >"$R/etc/os-release"
: >"$R/var/log/lastlog"

rm -f "$WORK/rootfs.ext4"
# No loop mount: mkfs.ext4 -d copies the staging tree. Fixed UUID/hash seed keep builds comparable.
E2FSPROGS_FAKE_TIME=1700000000 mkfs.ext4 -q -F -b 4096 -i 16384 -L infogere-root -U 8c4a5b2e-6f1d-4e3a-9b7c-1d2e3f4a5b6c \
  -E root_owner=0:0,hash_seed=3b1c9a2e-5d4f-4a6b-8c7d-9e0f1a2b3c4d -d "$R" "$WORK/rootfs.ext4" "${DISK_SIZE_MIB}M" >/dev/null

cp "$KDIR/boot/vmlinuz-$KVER" "$WORK/vmlinuz"
printf '%s\n' "$CMDLINE" >"$WORK/cmdline"

# ---------------------------------------------------------------- publish + manifest
for f in vmlinuz initrd.img rootfs.ext4 cmdline; do mv -f "$WORK/$f" "$OUT/$f.new"; done
for f in vmlinuz initrd.img rootfs.ext4 cmdline; do mv -f "$OUT/$f.new" "$OUT/$f"; done
{
  printf '{\n  "name": "%s",\n  "inputsKey": "%s",\n' "$NAME" "$KEY"
  printf '  "builtAt": "%s",\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  printf '  "kernel": {"package": "%s", "version": "%s", "release": "%s"},\n' "$KPKG" "${VER[$KPKG]}" "$KVER"
  printf '  "cmdline": "%s",\n  "rootDevice": "/dev/vda",\n  "diskSizeMiB": %d,\n' "$CMDLINE" "$DISK_SIZE_MIB"
  printf '  "packages": {'
  sep=''; for p in "${PKGS[@]}"; do printf '%s\n    "%s": "%s"' "$sep" "$p" "${VER[$p]}"; sep=','; done
  printf '\n  },\n  "files": {'
  sep=''; for f in vmlinuz initrd.img rootfs.ext4 cmdline; do
    printf '%s\n    "%s": {"sha256": "%s", "bytes": %d}' "$sep" "$f" "$(sha256sum "$OUT/$f" | cut -d' ' -f1)" "$(stat -c %s "$OUT/$f")"
    sep=','
  done
  printf '\n  }\n}\n'
} >"$OUT/manifest.json.new"
mv -f "$OUT/manifest.json.new" "$OUT/manifest.json"
log "built $NAME in $OUT (kernel $KVER)"
