#!/bin/sh
# Fragmentation, shown: a physically contiguous request that fits in free memory fails,
# vmalloc() of the same size succeeds (kmod-src/README.md, "Fragmentation").
# It changes sysctls and holds memory: run it in the lab VM only:
#   vmtop lab --copy scripts/fragment-demo.sh:/lab/fragment-demo.sh --exec 'sh /lab/fragment-demo.sh [K [MIB]]'
# K: the order no free block is left of (default 10, the largest on x86); MIB: the size asked
# (default 4: one block of order 10 with 4 KiB pages).
set -u
K=${1:-10}
MIB=${2:-4}
[ -e /lab/alloc_large_mem.ko ] || {
	echo "fragment-demo.sh: not in the lab VM (no /lab/alloc_large_mem.ko): run it with vmtop lab --exec" >&2
	exit 2
}
echo "== buddyinfo before"
cat /proc/buddyinfo
# Compaction would move movable pages together and rebuild a block (in the lab it did, in
# 44 ms): switch it off for high orders, as on a machine full of unmovable pages.
sysctl -w vm.extfrag_threshold=1000
sysctl -w vm.compaction_proactiveness=0
echo "== alloc_pages of $MIB MiB after fragment_order=$K"
vmtop load --alloc pages --memsize "$MIB" --fragment-order "$K"
echo "pages_rc=$?"
echo "== vmalloc of $MIB MiB after fragment_order=$K"
vmtop load --alloc vmalloc --memsize "$MIB" --fragment-order "$K"
echo "vmalloc_rc=$?"
echo "== buddyinfo after (the vmalloc buffer and the fragments held)"
cat /proc/buddyinfo
echo "held_kib=$(dmesg | grep 'alloc_large_mem: load' | tail -n 1 | sed -n 's/.*held_kib=\([0-9]*\).*/\1/p')"
vmtop unload
echo "== buddyinfo after unload"
cat /proc/buddyinfo
