#!/bin/bash
# The Debian root for `vmtop lab --root debian`: a developer's machine in a disposable VM.
#
#   scripts/build-lab-root.sh LAB_DIR [MIRROR]
#
# Writes, under LAB_DIR/rootfs-debian/:
#   base.cpio             debootstrap --variant=minbase bookworm plus the packages below, a user
#                         `dev` in sudoers (NOPASSWD: a disposable test VM), no docs, man pages
#                         or locales; an uncompressed newc archive the kernel unpacks directly.
#   kernel-RELEASE.cpio   for each x86_64 lab kernel in LAB_DIR/root: its /lib/modules/RELEASE
#                         (metadata and a depmod run; the in-tree .ko files are left out, 391 MB
#                         for 6.1, which nothing here loads) and its headers installed as the
#                         packages install them (/usr/src/linux-headers-*, /usr/lib/linux-kbuild-*,
#                         /lib/modules/RELEASE/build -> /usr/src/linux-headers-RELEASE).
# vmtop lab concatenates base, kernel and its own per-boot archive (init, /src, --copy files).
# Each part is rebuilt only when its stamp (the inputs' hash) changes. Needs root (debootstrap).
set -euo pipefail

lab=${1:?usage: $0 LAB_DIR [MIRROR]}
mirror=${2:-}
out=$lab/rootfs-debian
suite=bookworm
# What a developer's machine has for building and loading a module (perl: W=1 runs
# kernel-doc); dwarves: pahole, which
# the 6.12 headers run at link time (BTF); libelf1, libssl3: the kbuild tools (objtool,
# sign-file); tmux: drives the dashboard in tests; xz-utils, zstd: `make install` compresses
# the module as the installed modules are; dkms: `make install` builds and installs the module
# through it, as on a distribution (it signs what it builds with its own key, made with
# openssl, which ca-certificates brings).
packages=make,gcc,libc6-dev,perl,kmod,sudo,procps,tmux,libelf1,libssl3,dwarves,xz-utils,zstd,ca-certificates,dkms

[ "$(id -u)" = 0 ] || { echo "$0: debootstrap needs root: run it with sudo" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "$0: debootstrap is not installed: apt-get install debootstrap (make lab-deps does)" >&2; exit 1; }
if [ -z "$mirror" ]; then
	# The Debian mirror the host already uses (deb822 or one-line sources), else deb.debian.org.
	mirror=$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
		grep -v security | sed -E 's/^URIs:[[:space:]]*//; s/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?//' |
		awk '{ print $1; exit }' || true)
	mirror=${mirror:-http://deb.debian.org/debian}
fi
mkdir -p "$out"
script_sum=$(sha256sum "$0" | cut -d' ' -f1)

pack() { # DIR ARCHIVE: an uncompressed newc archive of DIR, owners and modes kept
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet) >"$2.tmp"
	mv "$2.tmp" "$2"
}

# --- base: the distribution ---
base_stamp="suite=$suite packages=$packages script=$script_sum"
if [ "$(cat "$out/base.stamp" 2>/dev/null)" != "$base_stamp" ] || [ ! -f "$out/base.cpio" ]; then
	start=$SECONDS
	tree=$out/base
	rm -rf "$tree" "$out/base.stamp"
	echo "building the Debian root: debootstrap --variant=minbase $suite from $mirror"
	debootstrap --variant=minbase --include="$packages" "$suite" "$tree" "$mirror" >"$out/debootstrap.log" 2>&1 ||
		{ tail -20 "$out/debootstrap.log" >&2; echo "$0: debootstrap failed (log: $out/debootstrap.log)" >&2; exit 1; }
	chroot "$tree" useradd --create-home --shell /bin/bash dev
	echo 'dev ALL=(ALL) NOPASSWD: ALL' >"$tree/etc/sudoers.d/dev"
	chmod 0440 "$tree/etc/sudoers.d/dev"
	echo vmtop-lab >"$tree/etc/hostname"
	# Space: documentation, man pages, locales, apt's caches and lists (there is no network).
	rm -rf "$tree"/usr/share/doc/* "$tree"/usr/share/man/* "$tree"/usr/share/info/* \
		"$tree"/var/cache/apt/* "$tree"/var/lib/apt/lists/* "$tree"/var/log/*.log
	find "$tree/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
	pack "$tree" "$out/base.cpio"
	echo "$base_stamp" >"$out/base.stamp"
	echo "Debian root: $(du -sh --apparent-size "$tree" | cut -f1) tree, $(du -h --apparent-size "$out/base.cpio" | cut -f1) archive, built in $((SECONDS - start)) s"
fi

# --- one part per x86_64 lab kernel: modules metadata and headers ---
for moddir in "$lab"/root/lib/modules/*/; do
	[ -d "$moddir" ] || continue
	rel=$(basename "$moddir")
	hdr=$lab/root/usr/src/linux-headers-$rel
	[ -f "$hdr/.config" ] && grep -q '^CONFIG_X86_64=y' "$hdr/.config" || continue
	image=$lab/root/boot/vmlinuz-$rel
	kstamp="release=$rel image=$(sha256sum "$image" | cut -d' ' -f1) config=$(sha256sum "$hdr/.config" | cut -d' ' -f1) script=$script_sum"
	if [ "$(cat "$out/kernel-$rel.stamp" 2>/dev/null)" = "$kstamp" ] && [ -f "$out/kernel-$rel.cpio" ]; then
		continue
	fi
	start=$SECONDS
	stage=$out/kernel-$rel
	rm -rf "$stage" "$out/kernel-$rel.stamp"
	# bookworm's root is merged-/usr (/lib -> usr/lib): write under usr/ so no archive entry
	# replaces the base's symlinks.
	mkdir -p "$stage/usr/lib/modules" "$stage/usr/src"
	mkdir "$stage/usr/lib/modules/$rel"
	find "$lab/root/lib/modules/$rel" -mindepth 1 -maxdepth 1 ! -name kernel ! -name build ! -name source \
		-exec cp -a {} "$stage/usr/lib/modules/$rel/" \;
	common=$(sed -nE 's|^include .*/(linux-headers-[^/]+-common)/Makefile$|\1|p' "$hdr/Makefile")
	[ -n "$common" ] || { echo "$0: cannot read the common headers' name from $hdr/Makefile" >&2; exit 1; }
	cp -a "$hdr" "$lab/root/usr/src/$common" "$stage/usr/src/"
	for kb in "$lab"/root/usr/lib/linux-kbuild-*; do cp -a "$kb" "$stage/usr/lib/"; done
	for kb in "$lab"/root/usr/src/linux-kbuild-*; do cp -a "$kb" "$stage/usr/src/"; done
	# The packages' own include line (fetch-lab-kernel.sh points it at the unpacked copy).
	echo "include /usr/src/$common/Makefile" >"$stage/usr/src/linux-headers-$rel/Makefile"
	ln -s "/usr/src/linux-headers-$rel" "$stage/usr/lib/modules/$rel/build"
	ln -s "/usr/src/$common" "$stage/usr/lib/modules/$rel/source"
	depmod -b "$stage/usr" "$rel"
	pack "$stage" "$out/kernel-$rel.cpio"
	echo "$kstamp" >"$out/kernel-$rel.stamp"
	echo "Debian root, kernel $rel: $(du -h --apparent-size "$out/kernel-$rel.cpio" | cut -f1) archive, built in $((SECONDS - start)) s"
done
