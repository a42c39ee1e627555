#!/bin/sh
# Fetch a Debian kernel and its headers for the vmtop lab, without installing them.
#
# Installing linux-image-* on a host adds a boot entry and runs update-initramfs;
# the lab needs neither, so the packages are downloaded and unpacked into DEST.
#
#   scripts/fetch-lab-kernel.sh [DEST]        (default: build/lab)
#   LAB_FLAVOUR=686-pae LAB_ARCH=i386 ...     (another Debian flavour/arch)
#
# Result: DEST/root/boot/vmlinuz-V and DEST/root/usr/src/linux-headers-V,
# which `vmtop lab` discovers; nothing below is specific to x86_64.
set -eu

dest=${1:-build/lab}
arch=${LAB_ARCH:-$(dpkg --print-architecture)}
case "$arch" in
	amd64) default_flavour=amd64 ;;
	i386) default_flavour=686-pae ;;
	arm64) default_flavour=arm64 ;;
	*) default_flavour=$arch ;;
esac
flavour=${LAB_FLAVOUR:-$default_flavour}
sfx=""
[ "$arch" = "$(dpkg --print-architecture)" ] || sfx=":$arch"

die() { echo "fetch-lab-kernel: $*" >&2; exit 1; }

# First Depends entry of the candidate version of a package.
deps() {
	apt-cache show --no-all-versions "$1$sfx" 2>/dev/null |
		sed -n 's/^Depends: //p' | head -n 1 | tr ',' '\n' |
		sed 's/^ *//; s/ .*//; s/|.*//'
}

image=$(deps "linux-image-$flavour" | grep '^linux-image-' | head -n 1)
[ -n "$image" ] || die "no candidate for linux-image-$flavour$sfx; run 'apt-get update' (for another architecture: dpkg --add-architecture $arch)"
ver=${image#linux-image-}
headers="linux-headers-$ver"
extra=$(deps "$headers" | grep -E '^linux-(headers-.*-common|kbuild-)' || true)
[ -n "$extra" ] || die "cannot resolve the dependencies of $headers"

root="$dest/root"
if [ -f "$root/boot/vmlinuz-$ver" ] && [ -d "$root/usr/src/$headers" ]; then
	echo "lab kernel $ver already in $dest"
	exit 0
fi

mkdir -p "$dest/debs" "$root"
dest_abs=$(cd "$dest" && pwd)
echo "fetching lab kernel $ver ($image $headers $(echo $extra))"
# apt-get download as root warns that _apt cannot write here; the download still works.
(cd "$dest/debs" && apt-get download -q "$image$sfx" "$headers$sfx" $(for p in $extra; do printf '%s%s ' "$p" "$sfx"; done)) ||
	die "apt-get download failed (network or apt lists: try 'apt-get update')"
for deb in "$dest/debs"/*.deb; do
	dpkg -x "$deb" "$root"
done

# The headers' Makefile includes the -common tree by absolute path: point it at our copy.
mk="$root/usr/src/$headers/Makefile"
sed -i "s#include /usr/src/#include $dest_abs/root/usr/src/#" "$mk"
[ -f "$root/boot/vmlinuz-$ver" ] || die "no vmlinuz-$ver in $image"
rm -rf "$dest/debs"
echo "lab kernel $ver ready in $dest"
