// SPDX-License-Identifier: GPL-2.0
/*
 * alloc_large_mem - allocate a large buffer and keep it until unload.
 *
 * The experiment behind vmtop: how much memory can kernel code obtain from
 * vmalloc(), and what does /proc/meminfo show while it holds it? And why vmalloc at
 * all: the same request through kmalloc() or alloc_pages() stops at the largest
 * physically contiguous block, vmalloc() goes on to the RAM limit.
 *
 * Parameters (read-only in /sys/module/alloc_large_mem/parameters/):
 *   memsize   size to allocate, in MiB (default 100)
 *   alloc     vmalloc (default), kvmalloc, kmalloc, pages (alloc_pages of the order
 *             covering memsize: rounds up to a power of two), vmalloc_huge (5.18+)
 *   fragment_order  0 (default) or K, from pageblock_order to the largest order: before
 *             allocating, take every free block of order K or more (within the low
 *             watermarks) and give back all but one page of each, so that free memory
 *             stays almost the same but no free block of order K is left (held until unload)
 *   fill      byte written to every byte of the buffer (default 0xff)
 *   oom_safe  Y: fail with -ENOMEM rather than invoke the OOM killer where the allocator
 *             can (default); N: plain vmalloc(), as the original experiment did
 *   reserve_mib  safe mode only: refuse a load that would leave less than this available
 *             (default -1: max(64 MiB, 5% of RAM); 0: keep nothing back)
 *
 * Requests the kernel would refuse with a WARN (kmalloc above KMALLOC_MAX_SIZE, pages
 * above the largest order, kvmalloc above INT_MAX) are refused as parameters, in both
 * modes: a WARN is a panic where panic_on_warn=1.
 *
 * Results (read-only in /sys/module/alloc_large_mem/results/):
 *   bytes     bytes allocated (for pages: the whole block, rounded up)
 *   alloc_ns  nanoseconds spent in the allocator
 *   fill_ns   nanoseconds spent filling the buffer
 *   alloc, backing, runs, largest_run_bytes, nodes, zones, order: see README.md
 *
 * Limits as this module was built (read-only in /sys/module/alloc_large_mem/limits/):
 *   page_size, kmalloc_max_size, max_order (the largest order the page allocator
 *   gives), pageblock_order (the smallest fragment_order), allocators (the alloc=
 *   values this build accepts)
 *
 * Kernel log, one line per event, key=value after a fixed verb: see README.md.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/kobject.h>
#include <linux/ktime.h>
#include <linux/limits.h>
#include <linux/minmax.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/nodemask.h>
#include <linux/overflow.h>
#include <linux/pageblock-flags.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/version.h>
#include <linux/vmalloc.h>
#include <linux/vmstat.h>

static unsigned long memsize = 100;
module_param(memsize, ulong, 0444);
MODULE_PARM_DESC(memsize, "Size to allocate, in MiB (default 100)");

static unsigned char fill = 0xff;
module_param(fill, byte, 0444);
MODULE_PARM_DESC(fill, "Byte written to every byte of the buffer (default 0xff)");

static bool oom_safe = true;
module_param(oom_safe, bool, 0444);
MODULE_PARM_DESC(oom_safe,
		 "Y: refuse what the reserve rules out, fail with ENOMEM where the allocator can (default); N: plain vmalloc()");

static long reserve_mib = -1;
module_param(reserve_mib, long, 0444);
MODULE_PARM_DESC(reserve_mib,
		 "Safe mode: refuse a load that would leave less than this many MiB available (default -1: max(64 MiB, 5% of RAM); 0: keep nothing)");

/*
 * The largest order the page allocator hands out, as this kernel was built: MAX_ORDER was
 * exclusive before 6.4, inclusive from 6.4, and is MAX_PAGE_ORDER from 6.8.
 */
#if defined(MAX_PAGE_ORDER)
#define LARGEST_ORDER MAX_PAGE_ORDER
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
#define LARGEST_ORDER MAX_ORDER
#else
#define LARGEST_ORDER (MAX_ORDER - 1)
#endif

/* vmalloc_huge() appeared in 5.18 (it maps PMD-sized pages where the arch allows it). */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(5, 18, 0)
#define HAVE_VMALLOC_HUGE 1
#else
#define HAVE_VMALLOC_HUGE 0
#endif

/*
 * The walk for blocks free but for pages on the per-CPU lists (take_parked_blocks) takes
 * them with alloc_contig_range(), which exists with CONFIG_CONTIG_ALLOC only. Before 6.16
 * it isolated the pageblocks by changing their migratetype and, when done, set every one
 * of them to the migratetype passed (MIGRATE_MOVABLE): the original is lost, and no
 * exported function reads or sets a pageblock's migratetype to restore it. From 6.16
 * isolation is a flag of its own beside the migratetype, which is left as it was, and the
 * third argument is an acr_flags_t (ACR_FLAGS_NONE; MIGRATE_MOVABLE there would be
 * ACR_FLAGS_CMA, and compile without a warning). So the walk is built only where the
 * kernel keeps migratetypes: with ACR_FLAGS_NONE.
 */
#if IS_ENABLED(CONFIG_CONTIG_ALLOC) && defined(ACR_FLAGS_NONE)
#define HAVE_PARKED_WALK 1
#else
#define HAVE_PARKED_WALK 0
#endif

enum allocator {
	ALLOC_VMALLOC,
	ALLOC_KVMALLOC,
	ALLOC_KMALLOC,
	ALLOC_PAGES,
	ALLOC_VMALLOC_HUGE,
	NR_ALLOCATORS,
};

static const char * const allocator_names[NR_ALLOCATORS] = {
	[ALLOC_VMALLOC] = "vmalloc",
	[ALLOC_KVMALLOC] = "kvmalloc",
	[ALLOC_KMALLOC] = "kmalloc",
	[ALLOC_PAGES] = "pages",
	[ALLOC_VMALLOC_HUGE] = "vmalloc_huge",
};

static bool allocator_available(enum allocator a)
{
	return a != ALLOC_VMALLOC_HUGE || HAVE_VMALLOC_HUGE;
}

static char alloc_name[16] = "vmalloc";
module_param_string(alloc, alloc_name, sizeof(alloc_name), 0444);
MODULE_PARM_DESC(alloc,
		 "vmalloc (default), kvmalloc, kmalloc, pages (alloc_pages, rounds up to a power of two) or vmalloc_huge (5.18+)");

static unsigned int fragment_order;
module_param(fragment_order, uint, 0444);
MODULE_PARM_DESC(fragment_order,
		 "0 (default) or K, pageblock_order to the largest order: first leave no free block of order K or more (one page held in each), then allocate");

/* Filled in chunks so that multi-GiB fills can reschedule and be interrupted. */
#define FILL_CHUNK SZ_1M

/* Room in the log line for nodes= (it ends with "..." when more nodes hold pages). */
#define NODES_FIELD 256
/* zones= always fits: at most MAX_NR_ZONES names of up to 8 bytes and numbers of up to 20. */
#define ZONES_FIELD (MAX_NR_ZONES * 32)

static enum allocator allocator;
static void *buf;
/* alloc=pages: the block and its order, for __free_pages() */
static struct page *buf_block;
static unsigned int buf_order;
static size_t buf_bytes;
/* Where the buffer's pages are: physically contiguous runs, NUMA node, zone. */
struct layout {
	unsigned long runs;
	unsigned long largest_run;	/* pages */
	unsigned long node_pages[MAX_NUMNODES];
	unsigned long zone_pages[MAX_NR_ZONES];
	const char *zone_name[MAX_NR_ZONES];
};
static struct layout layout;
/* fragment_order: one page held in each block taken */
static struct page **frag_pages;
static unsigned long frag_count;
static unsigned long frag_cap;
/* how many of them were free but for pages on the per-CPU lists (take_parked_blocks) */
static unsigned long frag_parked;
/* why taking blocks stopped: no block left, a zone at its low watermark, or frag_cap */
enum frag_stop { FRAG_STOP_NONE, FRAG_STOP_LOW_WMARK, FRAG_STOP_CAP };
static const char * const frag_stop_names[] = {
	[FRAG_STOP_NONE] = "none",
	[FRAG_STOP_LOW_WMARK] = "low_wmark",
	[FRAG_STOP_CAP] = "cap",
};
static enum frag_stop frag_stop;
/* largest order with a free block a GFP_KERNEL request can use, just before the allocation */
static int max_free_order = -1;
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

static bool buf_is_vmalloc(void)
{
	return buf && is_vmalloc_addr(buf);
}

static ssize_t alloc_show(struct kobject *kobj, struct kobj_attribute *attr, char *out)
{
	return sysfs_emit(out, "%s\n", allocator_names[allocator]);
}

/* What really backs the buffer: kvmalloc() may give either. */
static ssize_t backing_show(struct kobject *kobj, struct kobj_attribute *attr, char *out)
{
	return sysfs_emit(out, "%s\n", buf_is_vmalloc() ? "vmalloc" : "linear");
}

static ssize_t runs_show(struct kobject *kobj, struct kobj_attribute *attr, char *out)
{
	return sysfs_emit(out, "%lu\n", layout.runs);
}

static ssize_t largest_run_bytes_show(struct kobject *kobj, struct kobj_attribute *attr,
				      char *out)
{
	return sysfs_emit(out, "%lu\n", layout.largest_run << PAGE_SHIFT);
}

/*
 * "0:65536,1:0": pages per NUMA node that holds any. When the next node does not fit in
 * @size, the text ends with "..." instead: never a number cut short.
 */
static void format_nodes(char *out, size_t size)
{
	size_t n = 0;
	char item[32];
	int nid, len;

	out[0] = '\0';
	for (nid = 0; nid < MAX_NUMNODES; nid++) {
		if (!layout.node_pages[nid])
			continue;
		len = scnprintf(item, sizeof(item), "%s%d:%lu", n ? "," : "", nid,
				layout.node_pages[nid]);
		if (n + len + sizeof(",...") > size) {
			strscpy(out + n, n ? ",..." : "...", size - n);
			return;
		}
		memcpy(out + n, item, len + 1);
		n += len;
	}
}

/* "DMA32:50000,Normal:15536": pages per zone (ZONES_FIELD bytes always hold them all). */
static void format_zones(char *out, size_t size)
{
	int z, n = 0;

	out[0] = '\0';
	for (z = 0; z < MAX_NR_ZONES; z++)
		if (layout.zone_pages[z])
			n += scnprintf(out + n, size - n, "%s%s:%lu", n ? "," : "",
				       layout.zone_name[z], layout.zone_pages[z]);
}

static ssize_t nodes_show(struct kobject *kobj, struct kobj_attribute *attr, char *out)
{
	int nid, n = 0;

	for (nid = 0; nid < MAX_NUMNODES; nid++)
		if (layout.node_pages[nid])
			n += sysfs_emit_at(out, n, "%s%d:%lu", n ? "," : "", nid,
					   layout.node_pages[nid]);
	return n + sysfs_emit_at(out, n, "\n");
}

static ssize_t zones_show(struct kobject *kobj, struct kobj_attribute *attr, char *out)
{
	int z, n = 0;

	for (z = 0; z < MAX_NR_ZONES; z++)
		if (layout.zone_pages[z])
			n += sysfs_emit_at(out, n, "%s%s:%lu", n ? "," : "", layout.zone_name[z],
					   layout.zone_pages[z]);
	return n + sysfs_emit_at(out, n, "\n");
}

static ssize_t order_show(struct kobject *kobj, struct kobj_attribute *attr, char *out)
{
	return sysfs_emit(out, "%d\n", get_order(buf_bytes));
}

static struct kobj_attribute bytes_attr = __ATTR_RO(bytes);
static struct kobj_attribute alloc_ns_attr = __ATTR_RO(alloc_ns);
static struct kobj_attribute fill_ns_attr = __ATTR_RO(fill_ns);
static struct kobj_attribute alloc_attr = __ATTR_RO(alloc);
static struct kobj_attribute backing_attr = __ATTR_RO(backing);
static struct kobj_attribute runs_attr = __ATTR_RO(runs);
static struct kobj_attribute largest_run_bytes_attr = __ATTR_RO(largest_run_bytes);
static struct kobj_attribute nodes_attr = __ATTR_RO(nodes);
static struct kobj_attribute zones_attr = __ATTR_RO(zones);
static struct kobj_attribute order_attr = __ATTR_RO(order);

static struct attribute *result_attrs[] = {
	&bytes_attr.attr,
	&alloc_ns_attr.attr,
	&fill_ns_attr.attr,
	&alloc_attr.attr,
	&backing_attr.attr,
	&runs_attr.attr,
	&largest_run_bytes_attr.attr,
	&nodes_attr.attr,
	&zones_attr.attr,
	&order_attr.attr,
	NULL,
};

static const struct attribute_group result_group = {
	.name = "results",
	.attrs = result_attrs,
};

/* The kernel's own limits as this module was built: vmtop never hard-codes them. */
static ssize_t page_size_show(struct kobject *kobj, struct kobj_attribute *attr, char *out)
{
	return sysfs_emit(out, "%lu\n", PAGE_SIZE);
}

static ssize_t kmalloc_max_size_show(struct kobject *kobj, struct kobj_attribute *attr,
				     char *out)
{
	return sysfs_emit(out, "%lu\n", (unsigned long)KMALLOC_MAX_SIZE);
}

static ssize_t max_order_show(struct kobject *kobj, struct kobj_attribute *attr, char *out)
{
	return sysfs_emit(out, "%d\n", LARGEST_ORDER);
}

/* The smallest fragment_order: below it the held pages would mix into every pageblock. */
static ssize_t pageblock_order_show(struct kobject *kobj, struct kobj_attribute *attr,
				    char *out)
{
	return sysfs_emit(out, "%u\n", (unsigned int)pageblock_order);
}

/* "vmalloc,kvmalloc,kmalloc,pages,vmalloc_huge": the alloc= values this build accepts. */
static int format_allocators(char *out, size_t size)
{
	int a, n = 0;

	for (a = 0; a < NR_ALLOCATORS; a++)
		if (allocator_available(a))
			n += scnprintf(out + n, size - n, "%s%s", n ? "," : "",
				       allocator_names[a]);
	return n;
}

static ssize_t allocators_show(struct kobject *kobj, struct kobj_attribute *attr, char *out)
{
	int a, n = 0;

	for (a = 0; a < NR_ALLOCATORS; a++)
		if (allocator_available(a))
			n += sysfs_emit_at(out, n, "%s%s", n ? "," : "", allocator_names[a]);
	return n + sysfs_emit_at(out, n, "\n");
}

static struct kobj_attribute page_size_attr = __ATTR_RO(page_size);
static struct kobj_attribute kmalloc_max_size_attr = __ATTR_RO(kmalloc_max_size);
static struct kobj_attribute max_order_attr = __ATTR_RO(max_order);
static struct kobj_attribute pageblock_order_attr = __ATTR_RO(pageblock_order);
static struct kobj_attribute allocators_attr = __ATTR_RO(allocators);

static struct attribute *limit_attrs[] = {
	&page_size_attr.attr,
	&kmalloc_max_size_attr.attr,
	&max_order_attr.attr,
	&pageblock_order_attr.attr,
	&allocators_attr.attr,
	NULL,
};

static const struct attribute_group limit_group = {
	.name = "limits",
	.attrs = limit_attrs,
};

/* The zones a GFP_KERNEL request may use: neither HighMem nor ZONE_MOVABLE. */
static bool kernel_zone(struct zone *zone)
{
	return populated_zone(zone) && (int)zone_idx(zone) <= (int)gfp_zone(GFP_KERNEL);
}

/*
 * What MemAvailable leaves out, in pages, summed over the zones:
 *
 * pcp: free pages parked on the per-CPU lists. NR_FREE_PAGES (MemFree) and
 * si_mem_available() leave them out, yet any allocation may use them and the allocator
 * drains them before it gives up. How many are parked depends on which CPU freed the
 * last buffer and when the lists were last trimmed.
 *
 * boost: si_mem_available() keeps back min(x / 2, low watermarks) of the page cache and
 * of reclaimable slab, and the low watermarks include the zones' watermark boost. The
 * allocator raises it (by a pageblock) when an allocation falls back to another migrate
 * type, until kswapd has reclaimed that much; with nothing to reclaim, that is never. It
 * is not memory in use, so it is added back.
 *
 * With MemAvailable alone, the limit a reserve check finds moved with them from one
 * identical load to the next (docs/probe.md has the figures).
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

/* Free pages a GFP_KERNEL request can use: not the free CMA pages (movable only). */
static unsigned long free_pages_usable(void)
{
	unsigned long free = global_zone_page_state(NR_FREE_PAGES);

#if IS_ENABLED(CONFIG_CMA)
	free -= min(free, global_zone_page_state(NR_FREE_CMA_PAGES));
#endif
	return free;
}

/* What the allocation had to work with, after the loading process took its share. */
static void note_free_memory(void)
{
	struct uncounted u = uncounted_pages();

	pcp_kib = pages_to_kib(u.pcp);
	boost_kib = pages_to_kib(u.boost);
	free_kib = pages_to_kib(free_pages_usable() + u.pcp);
	avail_kib = available_kib(u);
	left_kib = -1;
}

/*
 * __GFP_RETRY_MAYFAIL stops only when the free pages reach the min watermark. A load
 * that succeeds there leaves nothing for anyone else: the next fork or page fault wakes
 * the OOM killer (and with no process left to kill, the kernel panics: "System is
 * deadlocked on memory", seen in the lab). So safe mode keeps a reserve back too, and
 * refuses before allocating what the figures at the call already rule out.
 * vmtop decides the reserve and passes it as reserve_mib (the same policy): this default
 * is for insmod by hand. reserve_mib was checked (-1 or more) by check_params().
 */
static unsigned long safe_reserve_kib(void)
{
	unsigned long ram_kib = pages_to_kib(totalram_pages());
	unsigned long kib;

	if (!oom_safe)
		return 0;
	if (reserve_mib < 0)
		return max(64UL * SZ_1K, ram_kib / 20);
	/* More than the address space can count (32-bit): more than any RAM, so refuse all. */
	if (check_mul_overflow((unsigned long)reserve_mib, (unsigned long)SZ_1K, &kib))
		return ULONG_MAX;
	return kib;
}

/*
 * A free block of @order in @zone that a GFP_KERNEL request can take: on a free list of
 * its own migratetype or one it falls back to (not CMA, HIGHATOMIC or ISOLATE). A racy
 * snapshot, as /proc/buddyinfo.
 */
static bool usable_block(struct zone *zone, unsigned int order)
{
	struct free_area *area = &zone->free_area[order];

	if (!READ_ONCE(area->nr_free))
		return false;
	return !list_empty(&area->free_list[MIGRATE_UNMOVABLE]) ||
	       !list_empty(&area->free_list[MIGRATE_RECLAIMABLE]) ||
	       !list_empty(&area->free_list[MIGRATE_MOVABLE]);
}

/* The largest order with a free block a GFP_KERNEL request can use, in any zone. */
static int largest_free_order(void)
{
	int nid, z, o, best = -1;

	for_each_online_node(nid) {
		pg_data_t *pgdat = NODE_DATA(nid);

		for (z = 0; z < MAX_NR_ZONES; z++) {
			struct zone *zone = &pgdat->node_zones[z];

			if (!kernel_zone(zone))
				continue;
			for (o = LARGEST_ORDER; o > best; o--)
				if (usable_block(zone, o))
					best = o;
		}
	}
	return best;
}

/* " alloc=pages order=11 max_order=10 max_free_order=10[ fragment_order=K ...]" */
static void format_alloc_fields(char *out, size_t size, size_t bytes)
{
	int n;

	n = scnprintf(out, size, " alloc=%s order=%d max_order=%d max_free_order=%d",
		      allocator_names[allocator], get_order(bytes), LARGEST_ORDER,
		      max_free_order);
	if (fragment_order)
		scnprintf(out + n, size - n,
			  " fragment_order=%u held_kib=%lu parked_kib=%lu fragment_stop=%s",
			  fragment_order, pages_to_kib(frag_count), pages_to_kib(frag_parked),
			  frag_stop_names[frag_stop]);
}

static void report_failure(size_t bytes, int err, const char *stage)
{
	char left[32] = "";
	char fields[200];

	if (left_kib >= 0)
		scnprintf(left, sizeof(left), " left_kib=%ld", left_kib);
	format_alloc_fields(fields, sizeof(fields), bytes);
	pr_err("fail memsize_mib=%lu bytes=%zu oom_safe=%c err=%d stage=%s allocated=%d free_kib=%lu avail_kib=%lu pcp_kib=%lu boost_kib=%lu%s reserve_kib=%lu%s\n",
	       memsize, bytes, oom_safe ? 'Y' : 'N', err, stage, buf ? 1 : 0, free_kib,
	       avail_kib, pcp_kib, boost_kib, left, reserve_kib, fields);
}

/* The fail line of a refused parameter: nothing was allocated, nothing measured. */
static void report_param(size_t bytes, const char *extra)
{
	pr_err("fail memsize_mib=%lu bytes=%zu oom_safe=%c err=%d stage=param allocated=0%s\n",
	       memsize, bytes, oom_safe ? 'Y' : 'N', -EINVAL, extra);
}

static void report_limits(void)
{
	char names[80];

	format_allocators(names, sizeof(names));
	pr_info("limits page_size=%lu kmalloc_max_size=%lu max_order=%d pageblock_order=%u allocators=%s\n",
		PAGE_SIZE, (unsigned long)KMALLOC_MAX_SIZE, LARGEST_ORDER,
		(unsigned int)pageblock_order, names);
}

/*
 * The largest request @a can meet, in bytes (0: only memory limits it). Above it the
 * kernel refuses at once, and with a WARN_ON_ONCE unless the request says __GFP_NOWARN:
 * kmalloc() above KMALLOC_MAX_SIZE and alloc_pages() above the largest order in
 * __alloc_pages(), kvmalloc() above INT_MAX in kvmalloc_node(). A WARN taints the kernel
 * and panics it where panic_on_warn=1, so the module refuses these first, in both modes.
 */
static size_t allocator_limit(enum allocator a)
{
	switch (a) {
	case ALLOC_KMALLOC:
		return KMALLOC_MAX_SIZE;
	case ALLOC_PAGES:
		return PAGE_SIZE << LARGEST_ORDER;
	case ALLOC_KVMALLOC:
		return INT_MAX;
	default:
		return 0;
	}
}

/*
 * Safe mode: __GFP_RETRY_MAYFAIL makes the page allocator give up instead of invoking
 * the OOM killer; __GFP_NOWARN keeps the expected failure out of the log. That covers the
 * pages of the buffer: vmalloc's page tables are allocated with plain GFP_KERNEL whatever
 * the caller asks, so at the very edge the OOM killer can still run (hence the reserve,
 * checked before the allocation). Unsafe mode: plain GFP_KERNEL, which may OOM-kill.
 */
static gfp_t alloc_gfp(void)
{
	return oom_safe ? GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_NOWARN : GFP_KERNEL;
}

/* *bytes: asked on entry, allocated on return (alloc=pages rounds up to its order). */
static void *allocate(size_t *bytes)
{
	gfp_t gfp = alloc_gfp();

	switch (allocator) {
	case ALLOC_KVMALLOC:
		return kvmalloc(*bytes, gfp);
	case ALLOC_KMALLOC:
		return kmalloc(*bytes, gfp);
	case ALLOC_PAGES:
		buf_order = get_order(*bytes);
		buf_block = alloc_pages(gfp, buf_order);
		if (!buf_block)
			return NULL;
		*bytes = PAGE_SIZE << buf_order;
		return page_address(buf_block);
	case ALLOC_VMALLOC_HUGE:
#if HAVE_VMALLOC_HUGE
		return vmalloc_huge(*bytes, gfp);
#else
		return NULL;
#endif
	default:
		/* The experiment: plain vmalloc() in unsafe mode, as the original article. */
		if (oom_safe)
			return __vmalloc(*bytes, gfp);
		return vmalloc(*bytes);
	}
}

/* What a request of @bytes takes at least, in KiB (alloc=pages rounds up to its order). */
static unsigned long request_kib(size_t bytes)
{
	if (allocator == ALLOC_PAGES)
		return (PAGE_SIZE << get_order(bytes)) / SZ_1K;
	return PAGE_ALIGN(bytes) / SZ_1K;
}

/* Give back the pages held by fragment_order. */
static void release_fragments(void)
{
	unsigned long i;

	for (i = 0; i < frag_count; i++)
		__free_page(frag_pages[i]);
	kvfree(frag_pages);
	frag_pages = NULL;
	frag_count = 0;
	frag_parked = 0;
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
	if (p) {
		switch (allocator) {
		case ALLOC_KMALLOC:
			kfree(p);
			break;
		case ALLOC_PAGES:
			__free_pages(buf_block, buf_order);
			buf_block = NULL;
			break;
		default:
			/* vmalloc, vmalloc_huge and kvmalloc (either backing) */
			kvfree(p);
			break;
		}
	}
	vm_unmap_aliases();
	release_fragments();
}

/* Keep the first page of a block just taken, give back the others. */
static void hold_first_page(struct page *block, unsigned int order)
{
	unsigned long i;

	for (i = 1; i < (1UL << order); i++)
		__free_page(block + i);
	frag_pages[frag_count++] = block;
	if (!(frag_count % 64))
		cond_resched();
}

/*
 * @zone stays above its low watermark after giving a block of @order, counting the part
 * of it kept from GFP_KERNEL requests (lowmem_reserve). The allocator's fast path takes a
 * block only there; when no zone is, its slow path would go on down to the min watermark.
 */
static bool above_low_after(struct zone *zone, unsigned int order)
{
	unsigned long free = zone_page_state(zone, NR_FREE_PAGES);
	unsigned long keep = low_wmark_pages(zone) +
			     zone->lowmem_reserve[gfp_zone(GFP_KERNEL)] + (1UL << order);

	return free > keep;
}

/*
 * The next block of @order may be taken: every zone that could give one stays above its
 * low watermark after giving it. (A racy snapshot: in a race the allocator may take one
 * block from a zone that has just fallen below it.) The pages given back right after make
 * the net cost one page a block; it is the block itself, for that moment, that must not
 * come out of the reserves that reclaim and atomic allocations rely on.
 */
static bool may_take_block(unsigned int order)
{
	int nid, z;
	unsigned int o;

	for_each_online_node(nid) {
		for (z = 0; z < MAX_NR_ZONES; z++) {
			struct zone *zone = &NODE_DATA(nid)->node_zones[z];
			bool has_block = false;

			if (!kernel_zone(zone))
				continue;
			for (o = order; o <= LARGEST_ORDER && !has_block; o++)
				has_block = usable_block(zone, o);
			if (has_block && !above_low_after(zone, order))
				return false;
		}
	}
	return true;
}

/*
 * Take one free block of @order from the buddy lists: no reclaim, no compaction, no kswapd,
 * never the emergency reserves (__GFP_NOMEMALLOC). Only from the zones a GFP_KERNEL request
 * uses, never CMA (an unmovable request), and only while may_take_block() says so.
 */
static bool take_block(unsigned int order)
{
	const gfp_t gfp = (GFP_KERNEL & ~__GFP_RECLAIM) | __GFP_NOWARN | __GFP_NOMEMALLOC;
	struct page *block;

	if (!may_take_block(order)) {
		frag_stop = FRAG_STOP_LOW_WMARK;
		return false;
	}
	block = alloc_pages(gfp, order);
	if (!block)
		return false;
	split_page(block, order);
	hold_first_page(block, order);
	return true;
}

/* Take blocks while there are any; -EINTR if the loading process is being killed. */
static int take_blocks(unsigned int order)
{
	while (frag_count < frag_cap) {
		if (fatal_signal_pending(current))
			return -EINTR;
		if (!take_block(order))
			return 0;
	}
	frag_stop = FRAG_STOP_CAP;
	return 0;
}

#if HAVE_PARKED_WALK
/*
 * Every page of the block at @pfn looks free, in @zone, and may be taken: the checks of
 * the kernel's own pfn_range_valid_contig() (online, one zone, not reserved, not part of
 * a huge page), plus a reference count of 0. A racy hint: alloc_contig_range() checks
 * again under the zone lock and refuses a block that is in use after all.
 */
static bool looks_free(struct zone *zone, unsigned long pfn, unsigned int order)
{
	unsigned long i;

	for (i = 0; i < (1UL << order); i++) {
		struct page *page = pfn_to_online_page(pfn + i);

		if (!page || page_zone(page) != zone || PageReserved(page) || PageHuge(page) ||
		    page_ref_count(page) || PageTail(page))
			return false;
	}
	return true;
}

/*
 * Free pages parked on the per-CPU lists are not in the buddy lists, so take_block() cannot
 * see a block that is free but for pages parked there, and it forms as soon as they are
 * flushed: when a list overflows, when its high mark decays (6.7+, every second), or when an
 * allocation drains all lists after direct reclaim made progress, as the allocation that
 * follows may. drain_all_pages() is not exported; alloc_contig_range() drains the lists and
 * takes a given block wherever its free pages are. So walk the kernel zones for blocks whose
 * pages all look free and take each, within the low watermark and while the loader lives.
 * ZONE_MOVABLE and HighMem are not walked (kernel_zone()); a CMA pageblock is refused by
 * alloc_contig_range() itself for a request without ACR_FLAGS_CMA. With fragment_order at
 * least pageblock_order each block is whole pageblocks, all of them taken. Returns the
 * number of blocks taken, or -EINTR.
 */
static long take_parked_blocks(unsigned int order)
{
	unsigned long nr = 1UL << order, pfn, end;
	long taken = 0;
	int nid, z;

	for_each_online_node(nid) {
		for (z = 0; z < MAX_NR_ZONES; z++) {
			struct zone *zone = &NODE_DATA(nid)->node_zones[z];

			if (!kernel_zone(zone))
				continue;
			end = zone_end_pfn(zone);
			for (pfn = ALIGN(zone->zone_start_pfn, nr); pfn + nr <= end; pfn += nr) {
				if (fatal_signal_pending(current))
					return -EINTR;
				if (!(pfn & ((nr << 6) - 1)))
					cond_resched();
				if (frag_count == frag_cap) {
					frag_stop = FRAG_STOP_CAP;
					return taken;
				}
				if (!looks_free(zone, pfn, order))
					continue;
				if (!above_low_after(zone, order)) {
					frag_stop = FRAG_STOP_LOW_WMARK;
					return taken;
				}
				if (alloc_contig_range(pfn, pfn + nr, ACR_FLAGS_NONE,
						       GFP_KERNEL | __GFP_NOWARN))
					continue;
				hold_first_page(pfn_to_page(pfn), order);
				taken++;
			}
		}
	}
	return taken;
}
#else
/* Without a walk that keeps pageblock migratetypes (see HAVE_PARKED_WALK): none. */
static long take_parked_blocks(unsigned int order)
{
	return 0;
}
#endif

/*
 * Leave no free block of order K or more: take each (within the low watermarks, never
 * from the reserves), split it, and give back every page but the first. The pages given
 * back merge into blocks of order K-1 at most, as their buddies' first page is held, so
 * free memory drops by only 1/2^K of what was taken. The held pages are unmovable, so
 * compaction cannot rebuild those blocks either. Then the blocks free but for pages on
 * the per-CPU lists (where the kernel allows it), and last the blocks that formed
 * meanwhile. K is at least pageblock_order (check_params), so the smaller blocks every
 * other request needs are left whole. Stops on a fatal signal (-EINTR).
 */
static int fragment_memory(unsigned int order)
{
	long parked;
	int err;

	frag_cap = (totalram_pages() >> order) + 1;
	frag_pages = kvcalloc(frag_cap, sizeof(*frag_pages), GFP_KERNEL);
	if (!frag_pages)
		return -ENOMEM;
	err = take_blocks(order);
	if (err)
		return err;
	if (frag_stop != FRAG_STOP_NONE)
		return 0;
	parked = take_parked_blocks(order);
	if (parked < 0)
		return parked;
	frag_parked = parked;
	if (frag_stop != FRAG_STOP_NONE)
		return 0;
	return take_blocks(order);
}

/* The struct page behind one byte of the buffer, wherever it came from. */
static struct page *page_of(const u8 *p)
{
	return is_vmalloc_addr(p) ? vmalloc_to_page(p) : virt_to_page(p);
}

/* Walk the buffer page by page: runs of consecutive PFNs, node and zone of each page. */
static int measure_layout(const u8 *p, size_t bytes)
{
	unsigned long prev = 0, run = 0;
	size_t off;

	memset(&layout, 0, sizeof(layout));
	for (off = 0; off < bytes; off += PAGE_SIZE) {
		struct page *pg = page_of(p + off);
		unsigned long pfn;
		int z;

		if (!pg)
			return -EFAULT;
		pfn = page_to_pfn(pg);
		if (run && pfn == prev + 1) {
			run++;
		} else {
			layout.runs++;
			run = 1;
		}
		layout.largest_run = max(layout.largest_run, run);
		prev = pfn;
		layout.node_pages[page_to_nid(pg)]++;
		z = page_zonenum(pg);
		layout.zone_pages[z]++;
		layout.zone_name[z] = page_zone(pg)->name;
		if (!(off & (SZ_64M - 1)))
			cond_resched();
	}
	return 0;
}

static int parse_allocator(void)
{
	int a = sysfs_match_string(allocator_names, alloc_name);

	if (a < 0 || !allocator_available(a))
		return -EINVAL;
	allocator = a;
	return 0;
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

/*
 * Every parameter checked before anything is taken: 0 and *bytes (memsize in bytes), or
 * -EINVAL with a stage=param line and a line naming the value, the limit and the fix.
 */
static int check_params(size_t *bytes)
{
	char extra[96];
	size_t limit;

	*bytes = 0;
	if (parse_allocator()) {
		char names[80];

		format_allocators(names, sizeof(names));
		report_param(0, "");
		pr_err("alloc must be one of %s, not '%s'\n", names, alloc_name);
		return -EINVAL;
	}
	if (fragment_order && (fragment_order < pageblock_order ||
			       fragment_order > LARGEST_ORDER)) {
		scnprintf(extra, sizeof(extra), " fragment_order=%u pageblock_order=%u max_order=%d",
			  fragment_order, (unsigned int)pageblock_order, LARGEST_ORDER);
		report_param(0, extra);
		pr_err("fragment_order must be 0 (off) or between %u (pageblock_order) and %d, not %u\n",
		       (unsigned int)pageblock_order, LARGEST_ORDER, fragment_order);
		return -EINVAL;
	}
	if (reserve_mib < -1) {
		report_param(0, "");
		pr_err("reserve_mib must be -1 (the default reserve), 0 (none) or a size in MiB, not %ld\n",
		       reserve_mib);
		return -EINVAL;
	}
	/* The original module computed 1024 * 1024 * memsize in int, which overflows. */
	if (memsize == 0 || check_mul_overflow(memsize, (unsigned long)SZ_1M, bytes)) {
		*bytes = 0;
		report_param(0, "");
		pr_err("memsize must be between 1 and %lu MiB\n", ULONG_MAX / SZ_1M);
		return -EINVAL;
	}
	limit = allocator_limit(allocator);
	if (limit && *bytes > limit) {
		scnprintf(extra, sizeof(extra), " alloc=%s order=%d max_order=%d limit_bytes=%zu",
			  allocator_names[allocator], get_order(*bytes), LARGEST_ORDER, limit);
		report_param(*bytes, extra);
		pr_err("alloc=%s gives at most %zu bytes (%zu MiB), not %zu: use alloc=vmalloc\n",
		       allocator_names[allocator], limit, limit / SZ_1M, *bytes);
		return -EINVAL;
	}
	return 0;
}

static int __init alloc_large_mem_init(void)
{
	char fields[200], nodes[NODES_FIELD], zones[ZONES_FIELD];
	unsigned long need_kib;
	const char *stage;
	size_t bytes;
	u64 t0;
	int err;

	report_limits();
	err = check_params(&bytes);
	if (err)
		return err;

	if (fragment_order) {
		err = fragment_memory(fragment_order);
		if (err) {
			stage = "fragment";
			goto free_buf;
		}
	}
	max_free_order = largest_free_order();
	note_free_memory();
	reserve_kib = safe_reserve_kib();
	/*
	 * Safe mode refuses before allocating what the figures at the call already rule out:
	 * the allocation would otherwise reclaim page cache and swap the machine's working set
	 * down to the min watermark first, only for the check after it to give the memory back.
	 */
	need_kib = request_kib(bytes);
	if (oom_safe && (reserve_kib > avail_kib || need_kib > avail_kib - reserve_kib)) {
		err = -ENOMEM;
		stage = "reserve";
		goto free_buf;
	}
	t0 = ktime_get_ns();
	buf = allocate(&bytes);
	alloc_ns = ktime_get_ns() - t0;
	if (!buf) {
		err = -ENOMEM;
		stage = allocator_names[allocator];
		goto free_buf;
	}
	/* The backstop: what the allocation itself took besides the buffer (page tables). */
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
	err = measure_layout(buf, bytes);
	if (err) {
		stage = "layout";
		goto free_buf;
	}
	buf_bytes = bytes;

	err = sysfs_create_group(&THIS_MODULE->mkobj.kobj, &result_group);
	if (err) {
		stage = "sysfs";
		goto free_buf;
	}
	err = sysfs_create_group(&THIS_MODULE->mkobj.kobj, &limit_group);
	if (err) {
		sysfs_remove_group(&THIS_MODULE->mkobj.kobj, &result_group);
		stage = "sysfs";
		goto free_buf;
	}
	/*
	 * The last moment to give up: a loader killed now would otherwise leave the module
	 * loaded, holding the buffer, while vmtop reports the load failed.
	 */
	if (fatal_signal_pending(current)) {
		sysfs_remove_group(&THIS_MODULE->mkobj.kobj, &limit_group);
		sysfs_remove_group(&THIS_MODULE->mkobj.kobj, &result_group);
		err = -EINTR;
		stage = "signal";
		goto free_buf;
	}

	format_alloc_fields(fields, sizeof(fields), bytes);
	format_nodes(nodes, sizeof(nodes));
	format_zones(zones, sizeof(zones));
	pr_info("load memsize_mib=%lu bytes=%zu oom_safe=%c alloc_ns=%llu fill_ns=%llu free_kib=%lu avail_kib=%lu pcp_kib=%lu boost_kib=%lu left_kib=%ld reserve_kib=%lu%s backing=%s runs=%lu largest_run_kib=%lu nodes=%s zones=%s\n",
		memsize, bytes, oom_safe ? 'Y' : 'N', alloc_ns, fill_ns, free_kib, avail_kib,
		pcp_kib, boost_kib, left_kib, reserve_kib, fields,
		buf_is_vmalloc() ? "vmalloc" : "linear", layout.runs,
		pages_to_kib(layout.largest_run), nodes, zones);
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
	sysfs_remove_group(&THIS_MODULE->mkobj.kobj, &limit_group);
	sysfs_remove_group(&THIS_MODULE->mkobj.kobj, &result_group);
	release(buf);
	pr_info("unload memsize_mib=%lu bytes=%zu\n", memsize, buf_bytes);
}

module_init(alloc_large_mem_init);
module_exit(alloc_large_mem_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("vmtop developers");
MODULE_DESCRIPTION("Allocate a large buffer (vmalloc, kvmalloc, kmalloc or pages) to observe kernel memory limits");
MODULE_VERSION("0.1.0");
