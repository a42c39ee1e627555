#!/bin/sh
# Fragmentation, shown: a physically contiguous request that fits in free memory fails,
# vmalloc() of the same size succeeds (kmod-src/README.md, "Fragmentation").
# It changes sysctls and holds memory: run it in the lab VM only:
#   vmtop lab --copy scripts/fragment-demo.sh:/lab/fragment-demo.sh --exec 'sh /lab/fragment-demo.sh [K [MIB]]'
# K: the order no free block is left of (default 10, the largest on x86; at least the
# pageblock order, 9 there); MIB: the size asked (default 4: one block of order 10 with 4 KiB
# pages). At the end: whether vmtop refuses an order below the pageblock order before loading
# anything (floor_rc, 2), and what the kernel logged meanwhile that it should not have
# (kernel_log_problems: WARNING, BUG, Oops, "Bad page state" lines).
set -u
K=${1:-10}
MIB=${2:-4}
[ -e /lab/alloc_large_mem.ko ] || {
	echo "fragment-demo.sh: not in the lab VM (no /lab/alloc_large_mem.ko): run it with vmtop lab --exec" >&2
	exit 2
}
# Where the kernel log stood before: only what follows is this demo's.
log_start=$(dmesg | wc -l)
# Free pages on the per-CPU lists (/proc/zoneinfo "count:"), which /proc/buddyinfo leaves out.
# (busybox has no getconf: the page size in kB from smaps)
page_kib=$(awk '$1 == "KernelPageSize:" { print $2; exit }' /proc/self/smaps)
pcp_kib() { awk -v k="$page_kib" '$1 == "count:" { n += $2 } END { print n * k }' /proc/zoneinfo; }
buddy() { cat /proc/buddyinfo; echo "pcp_kib=$(pcp_kib) (free pages on the per-CPU lists)"; }
# The module's own figures for the last load: the largest free order just before the
# allocation, and the pages it held (parked_kib: in blocks free but for pages on the
# per-CPU lists, which /proc/buddyinfo did not show).
module_line() {
	dmesg | grep 'alloc_large_mem: \(load\|fail\) ' | tail -n 1 |
		grep -o 'pcp_kib=[0-9]*\|max_free_order=[-0-9]*\|held_kib=[0-9]*\|parked_kib=[0-9]*\|fragment_stop=[a-z_]*' |
		tr '\n' ' '
	echo
}
echo "== buddyinfo before"
buddy
# Compaction would move movable pages together and rebuild a block (in the lab it did, in
# 44 ms): switch it off for high orders, as on a machine full of unmovable pages.
sysctl -w vm.extfrag_threshold=1000
sysctl -w vm.compaction_proactiveness=0
# Each load fragments memory by itself: a failed load gives its fragments back at once.
echo "== alloc_pages of $MIB MiB after fragment_order=$K"
vmtop load --alloc pages --memsize "$MIB" --fragment-order "$K"
echo "pages_rc=$?"
echo "module: $(module_line)"
echo "== vmalloc of $MIB MiB after fragment_order=$K"
vmtop load --alloc vmalloc --memsize "$MIB" --fragment-order "$K"
echo "vmalloc_rc=$?"
echo "module: $(module_line)"
# max_free_order above is what each allocation saw. A block or two may form again after the
# load from memory freed once the module had looked (as the load completes and the loader
# exits, e.g. the kernel's copy of the module file): it cannot hold what was in use then.
echo "== buddyinfo after (the vmalloc buffer and the fragments held)"
buddy
vmtop unload
# The held pages are free again, but a freed page goes to the per-CPU list of the CPU that
# freed it first. A block shows in /proc/buddyinfo only once all its pages are in the buddy
# lists: the held page of each block reaches them when that list overflows, or when an
# allocation drains the lists. Until then order K stays at 0 here though the memory is
# free (pcp_kib holds it): whether the lists had room for them depends on what ran before.
echo "== buddyinfo after unload"
buddy
echo "(the held pages are free again: a block of order $K shows above once its first page has left the per-CPU lists)"
# Below the pageblock order the held pages would sit in every pageblock: vmtop refuses it
# before loading anything (exit 2), and the module would refuse it too (EINVAL).
pb=$(awk '/^Page block order:/ { print $4 }' /proc/pagetypeinfo)
echo "== fragment_order=$((pb - 1)) (below the pageblock order, $pb)"
vmtop load --alloc vmalloc --memsize "$MIB" --fragment-order "$((pb - 1))"
echo "floor_rc=$?"
echo "floor_loaded=$(grep -c '^alloc_large_mem ' /proc/modules)"
echo "== kernel log since the demo began (WARNING, BUG, Oops, Bad page state)"
dmesg | tail -n +"$((log_start + 1))" | grep -E 'WARNING|BUG|Oops|Bad page state' || true
echo "kernel_log_problems=$(dmesg | tail -n +"$((log_start + 1))" | grep -cE 'WARNING|BUG|Oops|Bad page state')"
