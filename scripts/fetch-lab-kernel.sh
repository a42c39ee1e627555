#!/bin/sh
# Fetch a Debian kernel and its headers for the vmtop lab, without installing them.
#
# Installing linux-image-* on a host adds a boot entry and runs update-initramfs;
# the lab needs neither, so the packages are downloaded and unpacked into DEST.
#
#   scripts/fetch-lab-kernel.sh [DEST] [SUITE]   (default: build/lab, the host's apt sources)
#     SUITE "host" or none: the host's own apt sources and lists (6.1 on bookworm);
#     SUITE "backports": the host's Debian release's backports (6.12 on bookworm);
#     any other name: that suite. Either is fetched with apt pointed at a sources list and
#     state folder of its own under DEST/apt/SUITE; the host's apt configuration is only
#     read (the mirror comes from it; LAB_MIRROR=URL overrides).
#   LAB_FLAVOUR=686-pae LAB_ARCH=i386 ...        (another Debian flavour/arch)
#
# Result: DEST/root/boot/vmlinuz-V and DEST/root/usr/src/linux-headers-V, which
# `vmtop lab` discovers; kernels from several suites share DEST/root. Nothing below is
# specific to x86_64 or to a kernel version.
set -eu

dest=${1:-build/lab}
suite=${2:-}
[ "$suite" = host ] && suite=""
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

mkdir -p "$dest"
dest_abs=$(cd "$dest" && pwd)

# The host's Debian archive as "URI CODENAME", read by apt itself from the host's sources
# (one-line or deb822): the entry whose Release file says Origin and Label "Debian" and
# whose suite is the release itself (not -updates, -security, -backports).
host_debian() {
	apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(ORIGIN) $(LABEL)' 'Identifier: Packages' 2>/dev/null |
		awk '$3 == "Debian" && $4 == "Debian" && $2 !~ /-/ { print $1, $2; exit }'
}

apt_dir=""
if [ -n "$suite" ]; then
	debian=$(host_debian)
	if [ "$suite" = backports ]; then
		[ -n "$debian" ] || die "cannot tell the host's Debian release from its apt sources (no Debian entry with a Release file): run 'apt-get update', or name the suite, e.g. bookworm-backports"
		suite=${debian#* }-backports
	fi
	mirror=${LAB_MIRROR:-${debian%% *}}
	[ -n "$mirror" ] || die "no Debian mirror in the host's apt sources (/etc/apt/sources.list, /etc/apt/sources.list.d/): run 'apt-get update', or set LAB_MIRROR=http://MIRROR/debian"
	apt_dir="$dest_abs/apt/$suite"
	mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
	keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	opts=""
	[ -f "$keyring" ] && opts="[signed-by=$keyring] "
	echo "deb $opts$mirror $suite main" >"$apt_dir/sources.list"
	echo "updating the package lists of $suite from $mirror (in $apt_dir)"
fi

# apt-get / apt-cache on the host's sources, or on the suite's own list and state folder.
apt_run() {
	cmd=$1
	shift
	if [ -n "$apt_dir" ]; then
		"$cmd" -o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o Dir::Etc::sourceparts=/dev/null \
			-o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" "$@"
	else
		"$cmd" "$@"
	fi
}

if [ -n "$apt_dir" ]; then
	if ! apt_run apt-get update -qq; then
		# Offline with lists from an earlier run: the kernel already fetched still counts.
		ls "$apt_dir/lists/"*Packages* >/dev/null 2>&1 ||
			die "apt-get update of $suite from $mirror failed (network, or no such suite)"
		echo "fetch-lab-kernel: apt-get update of $suite failed; using the lists from an earlier run" >&2
	fi
fi

# First Depends entry of the candidate version of a package.
deps() {
	apt_run apt-cache show --no-all-versions "$1$sfx" 2>/dev/null |
		sed -n 's/^Depends: //p' | head -n 1 | tr ',' '\n' |
		sed 's/^ *//; s/ .*//; s/|.*//'
}

image=$(deps "linux-image-$flavour" | grep '^linux-image-' | head -n 1)
if [ -z "$image" ]; then
	[ -n "$apt_dir" ] && die "no linux-image-$flavour$sfx in $suite"
	die "no candidate for linux-image-$flavour$sfx; run 'apt-get update' (for another architecture: dpkg --add-architecture $arch)"
fi
ver=${image#linux-image-}
headers="linux-headers-$ver"
extra=$(deps "$headers" | grep -E '^linux-(headers-.*-common|kbuild-)' || true)
[ -n "$extra" ] || die "cannot resolve the dependencies of $headers"

root="$dest/root"
hdr="$root/usr/src/$headers"
if [ -f "$root/boot/vmlinuz-$ver" ] && [ -d "$hdr" ]; then
	echo "lab kernel $ver already in $dest"
	exit 0
fi

rm -rf "$dest/debs"
mkdir -p "$dest/debs" "$root"
echo "fetching lab kernel $ver ($image $headers $(echo $extra))"
# apt-get download as root warns that _apt cannot write here; the download still works.
(cd "$dest/debs" && apt_run apt-get download -q "$image$sfx" "$headers$sfx" $(for p in $extra; do printf '%s%s ' "$p" "$sfx"; done)) ||
	die "apt-get download failed (network or apt lists: try 'apt-get update')"
for deb in "$dest/debs"/*.deb; do
	dpkg -x "$deb" "$root"
done
rm -rf "$dest/debs"
[ -f "$root/boot/vmlinuz-$ver" ] || die "no vmlinuz-$ver in $image"

# The headers' Makefile includes the -common tree by absolute path: point it at our copy.
mk="$hdr/Makefile"
sed -i "s#include /usr/src/#include $dest_abs/root/usr/src/#" "$mk"
included=$(sed -n 's/^include //p' "$mk")
[ -f "$included" ] || die "$mk includes '$included', which is not there (is ${headers%-*}-common in $extra?)"
# scripts/ and tools/ are relative links into the unpacked linux-kbuild package.
for link in scripts tools; do
	[ -d "$hdr/$link" ] || die "$hdr/$link does not lead to a folder (link: $(readlink "$hdr/$link" || echo none)); linux-kbuild from $extra missing?"
done
echo "lab kernel $ver ready in $dest"
