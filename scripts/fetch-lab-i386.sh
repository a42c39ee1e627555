#!/bin/sh
# Fetch Debian's 32-bit (i386) lab: a kernel, its headers, and the i386 userland that vmtop
# and its helper need inside the VM, without installing anything and without changing the
# host's apt or dpkg configuration (no `dpkg --add-architecture`).
#
#   scripts/fetch-lab-i386.sh [DEST]          (default: build/lab; writes DEST/i386/)
#   LAB_FLAVOUR=686 scripts/fetch-lab-i386.sh (default flavour: 686-pae)
#
# apt runs on a sources list and state folder of its own (DEST/i386/apt), made from the
# Debian archives the host's own sources name (bookworm, -updates, -security), with i386 as
# the native architecture and amd64 as a foreign one. Result:
#   DEST/i386/root/boot/vmlinuz-V, DEST/i386/root/usr/src/linux-headers-V  (`vmtop lab --arch i386`)
#   DEST/i386/sysroot/  libc6, libkmod2, libkmod-dev, libssl3, libzstd1, liblzma5, libgcc-s1,
#                       busybox-static (i386): to link vmtop for i686 and to fill the initramfs
# The i386 headers' scripts (fixdep, modpost) are i386 programs; the amd64 linux-kbuild of
# the same version supplies ones that run here (the lab notes), unpacked in their place.
set -eu

dest=${1:-build/lab}
flavour=${LAB_FLAVOUR:-686-pae}
die() { echo "fetch-lab-i386: $*" >&2; exit 1; }
mkdir -p "$dest/i386"
top=$(cd "$dest/i386" && pwd)
apt_dir=$top/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"

# Every Debian archive the host's apt knows, as "URI SUITE" (deb822 or one-line sources).
apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(ORIGIN)' 'Identifier: Packages' 2>/dev/null |
	awk '$3 == "Debian" || $3 == "Debian-Security" { print $1, $2 }' | sort -u >"$apt_dir/repos"
[ -s "$apt_dir/repos" ] || die "no Debian archive in the host's apt sources: run 'apt-get update' (the host's own lists are only read)"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
opts=""
[ -f "$keyring" ] && opts="[signed-by=$keyring] "
while read -r uri rel; do echo "deb $opts$uri $rel main"; done <"$apt_dir/repos" >"$apt_dir/sources.list"

apt_run() {
	cmd=$1
	shift
	"$cmd" -o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o Dir::Etc::sourceparts=/dev/null \
		-o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" \
		-o "Dir::State::status=$apt_dir/status" \
		-o APT::Architecture=i386 -o APT::Architectures::=i386 -o APT::Architectures::=amd64 "$@"
}
: >"$apt_dir/status"
echo "updating the i386 package lists (in $apt_dir)"
if ! apt_run apt-get update -qq; then
	ls "$apt_dir/lists/"*Packages* >/dev/null 2>&1 || die "apt-get update for i386 failed (network?)"
	echo "fetch-lab-i386: apt-get update failed; using the lists from an earlier run" >&2
fi

# First Depends entry of the candidate version of a package.
deps() {
	apt_run apt-cache show --no-all-versions "$1" 2>/dev/null |
		sed -n 's/^Depends: //p' | head -n 1 | tr ',' '\n' | sed 's/^ *//; s/ .*//; s/|.*//'
}
version() { apt_run apt-cache show --no-all-versions "$1" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1; }

image=$(deps "linux-image-$flavour" | grep '^linux-image-' | head -n 1)
[ -n "$image" ] || die "no linux-image-$flavour for i386 in $(tr '\n' ' ' <"$apt_dir/repos")"
ver=${image#linux-image-}
headers="linux-headers-$ver"
common=$(deps "$headers" | grep -E '^linux-headers-.*-common' || true)
kbuild=$(deps "$headers" | grep -E '^linux-kbuild-' || true)
[ -n "$common" ] && [ -n "$kbuild" ] || die "cannot resolve the dependencies of $headers"
kver=$(version "$kbuild")

root=$top/root
sysroot=$top/sysroot
hdr=$root/usr/src/$headers
userland="libc6 libkmod2 libkmod-dev libssl3 libzstd1 liblzma5 libgcc-s1 busybox-static"
if [ -f "$root/boot/vmlinuz-$ver" ] && [ -d "$hdr" ] && [ -x "$sysroot/bin/busybox" ]; then
	echo "i386 lab kernel $ver already in $top"
	exit 0
fi
debs=$top/debs
rm -rf "$debs"
mkdir -p "$debs/kernel" "$debs/userland" "$root" "$sysroot"
echo "fetching i386 lab kernel $ver ($image $headers $common, $kbuild $kver for amd64) and userland"
# apt-get download as root warns that _apt cannot write here; the download still works.
(cd "$debs/kernel" && apt_run apt-get download -q "$image" "$headers" "$common" "$kbuild:amd64=$kver") ||
	die "apt-get download of the i386 kernel failed"
(cd "$debs/userland" && apt_run apt-get download -q $userland) || die "apt-get download of the i386 userland failed"
for deb in "$debs/kernel"/*.deb; do dpkg -x "$deb" "$root"; done
for deb in "$debs/userland"/*.deb; do dpkg -x "$deb" "$sysroot"; done
rm -rf "$debs"
[ -f "$root/boot/vmlinuz-$ver" ] || die "no vmlinuz-$ver in $image"
mk="$hdr/Makefile"
sed -i "s#include /usr/src/#include $root/usr/src/#" "$mk"
included=$(sed -n 's/^include //p' "$mk")
[ -f "$included" ] || die "$mk includes '$included', which is not there"
for link in scripts tools; do
	[ -d "$hdr/$link" ] || die "$hdr/$link does not lead to a folder (link: $(readlink "$hdr/$link" || echo none))"
done
"$hdr/scripts/basic/fixdep" 2>&1 | grep -q -i usage || die "$hdr/scripts/basic/fixdep does not run here"
echo "i386 lab kernel $ver ready in $top (userland in $sysroot)"
