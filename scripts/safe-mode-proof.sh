#!/bin/sh
# Safe mode's reserve check before the allocation, shown (kmod-src/README.md, "What safe mode
# guarantees"): with swap (zram0) and page cache (the block-device cache of zram1) to lose, a
# safe-mode load above available memory minus the reserve, /proc/vmstat before and after.
# Run on the host: it boots the lab kernel RELEASE (6.1, 6.12) with Debian's zram module (and
# what it depends on) taken from the lab kernel's package, and this script as the VM's command:
#   scripts/safe-mode-proof.sh RELEASE [MODULE.ko] [SIZE...]
# SIZE: MiB, or availN: MemAvailable at that moment plus or minus N MiB (default avail-40
# avail+100). MODULE.ko: another build to compare (default: the lab's build of kmod-src).
# Prints per SIZE: VMSTAT/MEMINFO before and after, LOAD rc, the module's KLINE.
set -u
if [ ! -e /lab/alloc_large_mem.ko ]; then
	# --- host side ---
	[ $# -ge 1 ] || { echo "usage: $0 RELEASE [MODULE.ko] [SIZE...]" >&2; exit 2; }
	rel=$1; shift
	vmtop=${VMTOP:-$(dirname "$0")/../target/release/vmtop}
	line=$("$vmtop" lab --list-kernels | awk -F'\t' -v r="$rel" '$2 == "x86_64" && index($1, r) == 1 { print; exit }')
	[ -n "$line" ] || { echo "$0: no x86_64 lab kernel $rel (vmtop lab --list-kernels)" >&2; exit 2; }
	release=$(printf '%s\n' "$line" | cut -f1)
	image=$(printf '%s\n' "$line" | cut -f3)
	mods=$(dirname "$(dirname "$image")")/lib/modules/$release/kernel
	work=$(mktemp -d) || exit 1
	trap 'rm -rf "$work"' EXIT
	copy=""
	for m in mm/zsmalloc lib/lz4/lz4_compress lib/lz4/lz4hc_compress drivers/block/zram/zram; do
		if [ -f "$mods/$m.ko" ]; then cp "$mods/$m.ko" "$work/"
		elif [ -f "$mods/$m.ko.xz" ]; then xz -dc "$mods/$m.ko.xz" > "$work/$(basename $m).ko"
		else continue; fi
		copy="$copy --copy $work/$(basename $m).ko:/srv/$(basename $m).ko"
	done
	[ -f "$work/zram.ko" ] || { echo "$0: no zram module under $mods" >&2; exit 2; }
	ko=/lab/alloc_large_mem.ko
	case ${1:-} in *.ko) copy="$copy --copy $1:/srv/other.ko"; ko=/srv/other.ko; shift ;; esac
	# shellcheck disable=SC2086
	exec "$vmtop" lab --kernel-release "$release" --mem 1024 $copy \
		--copy "$0:/srv/safe-mode-proof.sh" --exec "sh /srv/safe-mode-proof.sh $ko ${*:-avail-40 avail+100}"
fi
# --- in the VM ---
KO=$1; shift
for m in zsmalloc lz4_compress lz4hc_compress; do [ -f /srv/$m.ko ] && insmod /srv/$m.ko; done
insmod /srv/zram.ko num_devices=2 || { echo "zram did not load"; exit 1; }
echo 1G > /sys/block/zram0/disksize
mkswap /dev/zram0 >/dev/null && swapon /dev/zram0 || { echo "swap on zram0 failed"; exit 1; }
echo 400M > /sys/block/zram1/disksize
# Page cache: 400 MiB of 0xff through the block device's cache (zram stores same-filled pages
# without memory, so the cache is what costs RAM). The cache of a block device is dropped when
# its last opener closes it: fd 3 holds it open.
exec 3</dev/zram1
dd if=/dev/zero bs=1M count=400 2>/dev/null | tr '\000' '\377' > /dev/zram1
sync
cat /dev/zram1 > /dev/null
# A working set to swap out: 200 MiB in tmpfs (shmem).
mkdir -p /w && mount -t tmpfs tmpfs /w
dd if=/dev/urandom of=/w/a bs=1M count=200 2>/dev/null
sleep 3
v() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat; }
mi() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
snap() {
	echo "VMSTAT $1 pswpout=$(v pswpout) pswpin=$(v pswpin) pgsteal_direct=$(v pgsteal_direct) pgsteal_kswapd=$(v pgsteal_kswapd) pgscan_direct=$(v pgscan_direct) allocstall_normal=$(v allocstall_normal) allocstall_dma32=$(v allocstall_dma32) oom_kill=$(v oom_kill)"
	echo "MEMINFO $1 MemFree=$(mi MemFree) MemAvailable=$(mi MemAvailable) Cached=$(mi Cached) Buffers=$(mi Buffers) Shmem=$(mi Shmem) SwapFree=$(mi SwapFree) SwapTotal=$(mi SwapTotal)"
}
for spec in "$@"; do
	case $spec in
	avail*) mib=$(( $(mi MemAvailable) / 1024 ${spec#avail} )) ;;
	*) mib=$spec ;;
	esac
	snap "before-$mib"
	out=$(vmtop load --memsize "$mib" --module "$KO" --json 2>&1); rc=$?
	snap "after-$mib"
	echo "LOAD $mib rc=$rc"
	printf '%s\n' "$out" | grep -E '"(errno|error|allocated)"' | sed "s/^/JSON $mib /"
	dmesg | grep 'alloc_large_mem: \(load\|fail\) ' | tail -n 1 | sed "s/^/KLINE $mib /"
	[ -d /sys/module/alloc_large_mem ] && vmtop unload >/dev/null
	sleep 2
done
dmesg | grep -E "invoked oom-killer|Killed process|WARNING|BUG|Oops" | sed 's/^/KERN /'
exit 0
