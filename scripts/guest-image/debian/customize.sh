#!/usr/bin/env bash
# mmdebstrap customize hook of build.sh: runs on the host with $1 = the new root directory,
# mmdebstrap having mounted /proc, /sys and /dev in it (bind mounts; no loop device).
set -euo pipefail
R="$1"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
in_root() { chroot "$R" env -i PATH=/usr/sbin:/usr/bin LC_ALL=C.UTF-8 "$@"; }

# The NoCloud seed handling shared with the small image (docs/guest-image.md).
install -m 0755 -D "$HERE/../nocloud-apply" "$R/usr/lib/infogere/nocloud-apply"
install -m 0755 "$HERE/../nocloud-yaml.awk" "$R/usr/lib/infogere/nocloud-yaml.awk"
install -m 0755 "$HERE/seed" "$R/usr/lib/infogere/seed"
install -m 0755 "$HERE/grow-root" "$R/usr/lib/infogere/grow-root"
install -m 0644 "$HERE/infogere-seed.service" "$HERE/infogere-ready.service" "$R/etc/systemd/system/"
install -m 0644 -D "$HERE/sshd.conf" "$R/etc/ssh/sshd_config.d/infogere.conf"
install -m 0644 "$HERE/fstab" "$R/etc/fstab"
in_root systemctl enable infogere-seed.service infogere-ready.service
# R3.5: the platform runs the security updates itself (a job per VPS, reboots announced to the
# client): apt's own daily timers stay off; unattended-upgrades and needrestart are run by it.
in_root systemctl disable apt-daily.timer apt-daily-upgrade.timer
# Units that only slow the boot of a VPS: ext4 scrubbing (needs LVM), fstrim (the disk ignores
# discards: its blocks stay reserved, R2.1), gettys on a VGA console the VPS does not have (the
# serial console's getty stays).
in_root systemctl mask e2scrub_reap.service e2scrub_all.timer fstrim.timer getty-static.service getty@tty1.service
# R3.4: no sudo (never installed) and no usable su: util-linux's su is essential, so it stays
# installed but root-only, recorded with dpkg-statoverride so upgrades keep the mode.
in_root dpkg-statoverride --update --add root root 0700 /usr/bin/su
# Root locked until the seed gives the provider's hash (R3.4); no host keys or machine id
# shared by every VPS made from this image (the seed makes the keys, systemd the id).
in_root passwd -l root >/dev/null
rm -f "$R"/etc/ssh/ssh_host_*
: >"$R/etc/machine-id"
rm -f "$R/var/lib/dbus/machine-id"
echo localhost >"$R/etc/hostname"

# GRUB for BIOS, without grub-install (it needs the disk as a block device): the modules under
# /boot/grub/i386-pc, a core image embedded after the MBR by build.sh, our grub.cfg.
mkdir -p "$R/boot/grub"
cp -a "$R/usr/lib/grub/i386-pc" "$R/boot/grub/"
install -m 0644 "$HERE/grub.cfg" "$R/boot/grub/grub.cfg"
in_root grub-mkimage -O i386-pc -o /boot/grub/i386-pc/core.img -p '(hd0,msdos1)/boot/grub' \
  biosdisk part_msdos ext2 normal linux configfile search echo test
