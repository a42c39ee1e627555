#!/bin/sh
# Capture the 32-bit kernel's own words for an address-space failure, for the diagnosis
# unit tests: boots the 32-bit lab (1024 MiB: a 120 MiB vmalloc window) and loads 300 MiB
# with plain vmalloc() (oom_safe=N), the article's module, through vmtop's helper.
#   scripts/capture-i686.sh [VMTOP]     writes tui/testdata/kmsg-i686-vm-struct-failed.txt
set -eu
cd "$(dirname "$0")/.."
vmtop=${1:-target/release/vmtop}
out=tui/testdata/kmsg-i686-vm-struct-failed.txt
tmp=$(mktemp)
"$vmtop" lab --arch i386 --mem 1024 --exec '
# The sequence number of the last record before the attempt: keep only what follows.
last=$( (cat /dev/kmsg & p=$!; sleep 1; kill $p) | tail -n 1 | cut -d, -f2)
echo "release=$(uname -r)"
vmtop-kmod insert /lab/alloc_large_mem.ko memsize=300 oom_safe=N >/dev/null 2>&1 || true
(cat /dev/kmsg & p=$!; sleep 1; kill $p) | awk -F, -v l="$last" "\$2 > l" | sed "s/^/REC:/"
' >"$tmp"
release=$(sed -n 's/^release=//p' "$tmp")
[ -n "$release" ] || { cat "$tmp" >&2; echo "capture-i686: the lab run printed no release" >&2; exit 1; }
{
	echo "# Captured in the 32-bit lab ($release, 1024 MiB, VmallocTotal 120 MiB) by scripts/capture-i686.sh:"
	echo "# /dev/kmsg records (PRI,SEQ,TS_USEC,FLAGS;text) of vmtop-kmod insert alloc_large_mem.ko memsize=300 oom_safe=N."
	echo "# Lines starting with # are not records."
	sed -n 's/^REC://p' "$tmp" | grep -v '^[0-9]*,[0-9]*,[0-9]*,[^;]*; ' || true
} >"$out"
rm -f "$tmp"
grep -q 'vmap allocation for size' "$out" || { echo "capture-i686: no vmap failure in the capture" >&2; exit 1; }
echo "wrote $out ($(grep -vc '^#' "$out") records)"
