// SPDX-License-Identifier: GPL-2.0
/*
 * alloc_large_mem - allocate a large vmalloc() buffer and keep it until unload.
 *
 * The experiment behind vmtop: how much memory can kernel code obtain from
 * vmalloc(), and what does /proc/meminfo show while it holds it?
 *
 * Parameters (read-only in /sys/module/alloc_large_mem/parameters/):
 *   memsize   size to allocate, in MiB (default 100)
 *   fill      byte written to every byte of the buffer (default 0xff)
 *   oom_safe  Y: fail with -ENOMEM instead of waking the OOM killer (default)
 *             N: plain vmalloc(), as the original experiment did
 *   reserve_mib  safe mode only: fail a load that would leave less than this available
 *             (default -1: max(64 MiB, 5% of RAM); 0: keep nothing back)
 *
 * Results (read-only in /sys/module/alloc_large_mem/results/):
 *   bytes     bytes allocated
 *   alloc_ns  nanoseconds spent in the allocator
 *   fill_ns   nanoseconds spent filling the buffer
 *
 * Kernel log, one line per event, key=value after a fixed verb:
 *   alloc_large_mem: load memsize_mib=N bytes=N oom_safe=Y alloc_ns=N fill_ns=N
 *                    free_kib=N avail_kib=N pcp_kib=N boost_kib=N left_kib=N reserve_kib=N
 *   alloc_large_mem: fail memsize_mib=N bytes=N oom_safe=Y err=-N stage=S
 *                    free_kib=N avail_kib=N pcp_kib=N boost_kib=N [left_kib=N] reserve_kib=N
 *   alloc_large_mem: unload memsize_mib=N bytes=N
 * (each on one line). free_kib and avail_kib are the free pages and the available memory
 * just before vmalloc() was called: what the allocation had to work with, after the
 * loading process took its share. Both count the free pages on per-CPU lists (pcp_kib),
 * which MemFree and MemAvailable leave out, and avail_kib adds back what a watermark
 * boost took from MemAvailable (boost_kib): avail_kib - pcp_kib - boost_kib is
 * MemAvailable as /proc/meminfo showed it. left_kib is the available memory (counted the
 * same way) with the buffer allocated (stages reserve, fill and sysfs). reserve_kib is
 * what safe mode keeps back (0 in unsafe mode).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/kobject.h>
#include <linux/ktime.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/sysfs.h>
#include <linux/version.h>
#include <linux/vmalloc.h>
#include <linux/vmstat.h>

static unsigned long memsize = 100;
module_param(memsize, ulong, 0444);
MODULE_PARM_DESC(memsize, "Size to allocate with vmalloc, in MiB (default 100)");

static unsigned char fill = 0xff;
module_param(fill, byte, 0444);
MODULE_PARM_DESC(fill, "Byte written to every byte of the buffer (default 0xff)");

static bool oom_safe = true;
module_param(oom_safe, bool, 0444);
MODULE_PARM_DESC(oom_safe,
		 "Y: fail with ENOMEM rather than invoke the OOM killer (default); N: plain vmalloc()");

static long reserve_mib = -1;
module_param(reserve_mib, long, 0444);
MODULE_PARM_DESC(reserve_mib,
		 "Safe mode: fail a load that would leave less than this many MiB available (default -1: max(64 MiB, 5% of RAM); 0: keep nothing)");

/* Filled in chunks so that multi-GiB fills can reschedule and be interrupted. */
#define FILL_CHUNK SZ_1M

static void *buf;
static size_t buf_bytes;
static u64 alloc_ns;
static u64 fill_ns;
static unsigned long free_kib;
static unsigned long avail_kib;
static unsigned long pcp_kib;
static unsigned long boost_kib;
/* -1 until the buffer is allocated */
static long left_kib = -1;
static unsigned long reserve_kib;

static ssize_t bytes_show(struct kobject *kobj, struct kobj_attribute *attr, char *out)
{
	return sysfs_emit(out, "%zu\n", buf_bytes);
}

static ssize_t alloc_ns_show(struct kobject *kobj, struct kobj_attribute *attr, char *out)
{
	return sysfs_emit(out, "%llu\n", alloc_ns);
}

static ssize_t fill_ns_show(struct kobject *kobj, struct kobj_attribute *attr, char *out)
{
	return sysfs_emit(out, "%llu\n", fill_ns);
}

static struct kobj_attribute bytes_attr = __ATTR_RO(bytes);
static struct kobj_attribute alloc_ns_attr = __ATTR_RO(alloc_ns);
static struct kobj_attribute fill_ns_attr = __ATTR_RO(fill_ns);

static struct attribute *result_attrs[] = {
	&bytes_attr.attr,
	&alloc_ns_attr.attr,
	&fill_ns_attr.attr,
	NULL,
};

static const struct attribute_group result_group = {
	.name = "results",
	.attrs = result_attrs,
};

/*
 * What MemAvailable leaves out, in pages, summed over the zones:
 *
 * pcp: free pages parked on the per-CPU lists. NR_FREE_PAGES (MemFree) and
 * si_mem_available() leave them out, yet any allocation may use them and the allocator
 * drains them before it gives up. How many are parked depends on which CPU freed the
 * last buffer and when the lists were last trimmed: 0.6-2.9 MiB between attempts in the
 * 512 MiB lab VM, 2-46 MiB in the 1024 MiB one.
 *
 * boost: si_mem_available() keeps back min(x / 2, low watermarks) of the page cache and
 * of reclaimable slab, and the low watermarks include the zones' watermark boost. The
 * allocator raises it (by a pageblock) when an allocation falls back to another migrate
 * type, until kswapd has reclaimed that much; with nothing to reclaim, that is never. It
 * is not memory in use, so it is added back.
 *
 * With MemAvailable alone, the limit a reserve check finds moved with them (by up to
 * 1.5 MiB between identical loads in the 512 MiB lab VM, and tens of MiB in the 1024 MiB
 * one), and fell by 1.1 MiB for the rest of the boot after one large attempt (boost).
 * Counted this way, the available memory at the call moved by ~100 KiB.
 * The reads are racy (no zone or pcp lock): a snapshot is all a reserve check needs.
 */
struct uncounted {
	unsigned long pcp;
	unsigned long boost;
};

/* Kernels before 5.14 (other per-CPU structures): MemAvailable alone. */
static struct uncounted uncounted_pages(void)
{
	struct uncounted u = { 0, 0 };
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 14, 0)
	unsigned long wmark_low = 0, boost = 0, cache, recl;
	int nid, z, cpu;

	for_each_online_node(nid) {
		pg_data_t *pgdat = NODE_DATA(nid);

		for (z = 0; z < MAX_NR_ZONES; z++) {
			struct zone *zone = &pgdat->node_zones[z];

			if (!populated_zone(zone))
				continue;
			wmark_low += READ_ONCE(zone->_watermark[WMARK_LOW]);
			boost += READ_ONCE(zone->watermark_boost);
			for_each_online_cpu(cpu)
				u.pcp += READ_ONCE(per_cpu_ptr(zone->per_cpu_pageset, cpu)->count);
		}
	}

	/* The two terms of si_mem_available() that use the low watermarks. */
	cache = global_node_page_state(NR_ACTIVE_FILE) + global_node_page_state(NR_INACTIVE_FILE);
	recl = global_node_page_state_pages(NR_SLAB_RECLAIMABLE_B) +
	       global_node_page_state(NR_KERNEL_MISC_RECLAIMABLE);
	u.boost = min(cache / 2, wmark_low + boost) - min(cache / 2, wmark_low) +
		  min(recl / 2, wmark_low + boost) - min(recl / 2, wmark_low);
#endif
	return u;
}

static unsigned long pages_to_kib(unsigned long pages)
{
	return pages << (PAGE_SHIFT - 10);
}

/* Available memory in KiB: MemAvailable plus what it leaves out (see above). */
static unsigned long available_kib(struct uncounted u)
{
	return pages_to_kib(si_mem_available() + u.pcp + u.boost);
}

/* What the allocation had to work with, after the loading process took its share. */
static void note_free_memory(void)
{
	struct uncounted u = uncounted_pages();

	pcp_kib = pages_to_kib(u.pcp);
	boost_kib = pages_to_kib(u.boost);
	free_kib = pages_to_kib(global_zone_page_state(NR_FREE_PAGES) + u.pcp);
	avail_kib = available_kib(u);
	left_kib = -1;
}

/*
 * __GFP_RETRY_MAYFAIL stops only when the free pages reach the min watermark. A load
 * that succeeds there leaves nothing for anyone else: the next fork or page fault wakes
 * the OOM killer (and with no process left to kill, the kernel panics: "System is
 * deadlocked on memory", seen in the lab). So safe mode keeps a reserve back too.
 * The default matches vmtop's unsafe-mode guard (tui/src/engine.rs unsafe_reserve).
 */
static unsigned long safe_reserve_kib(void)
{
	unsigned long ram_kib = pages_to_kib(totalram_pages());

	if (!oom_safe)
		return 0;
	if (reserve_mib >= 0)
		return (unsigned long)reserve_mib * SZ_1K;
	return max(64UL * SZ_1K, ram_kib / 20);
}

static void report_failure(size_t bytes, int err, const char *stage)
{
	char left[32] = "";

	if (left_kib >= 0)
		scnprintf(left, sizeof(left), " left_kib=%ld", left_kib);
	pr_err("fail memsize_mib=%lu bytes=%zu oom_safe=%c err=%d stage=%s free_kib=%lu avail_kib=%lu pcp_kib=%lu boost_kib=%lu%s reserve_kib=%lu\n",
	       memsize, bytes, oom_safe ? 'Y' : 'N', err, stage, free_kib, avail_kib, pcp_kib,
	       boost_kib, left, reserve_kib);
}

static void *allocate(size_t bytes)
{
	/*
	 * __GFP_RETRY_MAYFAIL makes the page allocator give up instead of
	 * invoking the OOM killer; __GFP_NOWARN keeps the expected failure
	 * out of the log. Plain vmalloc() is GFP_KERNEL, which may OOM-kill.
	 */
	if (oom_safe)
		return __vmalloc(bytes, GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_NOWARN);
	return vmalloc(bytes);
}

/*
 * vfree() unmaps lazily: the freed address range stays reserved until a later
 * purge, so the next load may be placed at fresh addresses and the kernel
 * allocates page-table pages for them that it never frees. That makes the
 * largest size that loads drift down by megabytes from one load to the next.
 * Purging now lets every load reuse the same range, so repeated experiments
 * (and vmtop probe) see the same limit.
 */
static void release(void *p)
{
	vfree(p);
	vm_unmap_aliases();
}

/* Returns 0, or -EINTR if the loading process was killed during the fill. */
static int fill_buffer(u8 *p, size_t bytes)
{
	size_t off, len;

	for (off = 0; off < bytes; off += len) {
		len = min_t(size_t, FILL_CHUNK, bytes - off);
		memset(p + off, fill, len);
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	return 0;
}

static int __init alloc_large_mem_init(void)
{
	const char *stage;
	size_t bytes;
	u64 t0;
	int err;

	/* The original module computed 1024 * 1024 * memsize in int, which overflows. */
	if (memsize == 0 || check_mul_overflow(memsize, (unsigned long)SZ_1M, &bytes)) {
		pr_err("fail memsize_mib=%lu bytes=0 oom_safe=%c err=%d stage=param\n",
		       memsize, oom_safe ? 'Y' : 'N', -EINVAL);
		pr_err("memsize must be between 1 and %lu MiB\n", ULONG_MAX / SZ_1M);
		return -EINVAL;
	}

	note_free_memory();
	reserve_kib = safe_reserve_kib();
	t0 = ktime_get_ns();
	buf = allocate(bytes);
	alloc_ns = ktime_get_ns() - t0;
	if (!buf) {
		/* Purge what the failed attempt had mapped, as release() does. */
		vm_unmap_aliases();
		report_failure(bytes, -ENOMEM, "vmalloc");
		return -ENOMEM;
	}
	left_kib = available_kib(uncounted_pages());
	if ((unsigned long)left_kib < reserve_kib) {
		err = -ENOMEM;
		stage = "reserve";
		goto free_buf;
	}

	t0 = ktime_get_ns();
	err = fill_buffer(buf, bytes);
	fill_ns = ktime_get_ns() - t0;
	if (err) {
		stage = "fill";
		goto free_buf;
	}
	buf_bytes = bytes;

	err = sysfs_create_group(&THIS_MODULE->mkobj.kobj, &result_group);
	if (err) {
		stage = "sysfs";
		goto free_buf;
	}

	pr_info("load memsize_mib=%lu bytes=%zu oom_safe=%c alloc_ns=%llu fill_ns=%llu free_kib=%lu avail_kib=%lu pcp_kib=%lu boost_kib=%lu left_kib=%ld reserve_kib=%lu\n",
		memsize, bytes, oom_safe ? 'Y' : 'N', alloc_ns, fill_ns, free_kib, avail_kib,
		pcp_kib, boost_kib, left_kib, reserve_kib);
	return 0;

free_buf:
	report_failure(bytes, err, stage);
	release(buf);
	buf = NULL;
	buf_bytes = 0;
	return err;
}

static void __exit alloc_large_mem_exit(void)
{
	sysfs_remove_group(&THIS_MODULE->mkobj.kobj, &result_group);
	release(buf);
	pr_info("unload memsize_mib=%lu bytes=%zu\n", memsize, buf_bytes);
}

module_init(alloc_large_mem_init);
module_exit(alloc_large_mem_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("vmtop developers");
MODULE_DESCRIPTION("Allocate a large vmalloc() buffer to observe kernel memory limits");
MODULE_VERSION("0.1.0");
