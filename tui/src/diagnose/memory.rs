//! ENOMEM: the kernel's checks in the order it makes them (more than all RAM, no free range
//! of the address space that big, not enough free pages; for one physically contiguous
//! block, the order), and their words.

use super::checks;
use super::{diag, lines, Cause, Confidence, Ctx, Diagnosis};
use crate::module::log::FailLine;
use crate::units::fmt_bytes;

/// The module logs KiB.
pub(super) fn fmt_kib(kib: u64) -> String {
    fmt_bytes(kib * 1024)
}

/// " At the call the module counted 864 MiB available (MemAvailable 862 MiB plus 2.30 MiB
/// of free pages on per-CPU lists, which MemAvailable leaves out)." Why the module's figure
/// is not the one on the chart.
pub(super) fn counted_at_call(m: &FailLine) -> Option<String> {
    {
        let avail = m.avail_kib?;
        let mut s = format!(
            " At the call the module counted {} available",
            fmt_kib(avail)
        );
        let (pcp, boost) = (m.pcp_kib.unwrap_or(0), m.boost_kib.unwrap_or(0));
        if pcp + boost > 0 {
            s.push_str(&format!(
                " (MemAvailable {}",
                fmt_kib(avail.saturating_sub(pcp + boost))
            ));
            if pcp > 0 {
                s.push_str(&format!(
                    " plus {} of free pages on per-CPU lists",
                    fmt_kib(pcp)
                ));
            }
            if boost > 0 {
                s.push_str(&format!(
                    " plus {} a watermark boost held back",
                    fmt_kib(boost)
                ));
            }
            s.push_str(", which MemAvailable leaves out)");
        }
        s.push('.');
        Some(s)
    }
}

pub(super) fn no_memory(cx: &Ctx) -> Diagnosis {
    let f = &cx.facts;
    // 0. Safe mode refused before allocating: the figures at the call ruled it out.
    if let Some(m) = f
        .module_fail
        .filter(|m| m.stage == Some("reserve") && m.allocated == Some(false))
    {
        return refused_before_allocating(cx, &m);
    }
    // 0a. Safe mode got the memory but gave it back: it would have left too little.
    if let Some(m) = f.module_fail.filter(|m| m.stage == Some("reserve")) {
        return below_reserve(cx, &m);
    }
    // 0b. kmalloc / alloc_pages: one physically contiguous block, limited by its order.
    if let Some(d) = contiguous_failure(cx) {
        return d;
    }
    // 0c. The kernel traced the failure itself (vmalloc:alloc_vmap_area failed=1): certain,
    // whatever the log says (its warnings are rate-limited, or silenced by __GFP_NOWARN).
    if let Some(d) = traced_address_space(cx) {
        return d;
    }
    // 1. The kernel's first check: more pages than all RAM.
    let over_ram = cx
        .mem_total()
        .is_some_and(|t| checks::over_total_ram(cx.req, t));
    if f.exceeds_total.is_some() || over_ram {
        return exceeds_total_pages(cx);
    }
    // 2. No free range of the vmalloc address space is big enough.
    let over_space = cx
        .vmalloc_total()
        .is_some_and(|t| checks::over_address_space(cx.req, t));
    let gap = cx.gap_too_small();
    if f.vm_struct_failed.is_some() || f.vmap_failed.is_some() || over_space || gap.is_some() {
        return address_space_exhausted(cx, over_space, gap);
    }
    // 3. The address fits, the RAM exists, but not enough of it is free.
    physical_memory_short(cx)
}

/// Why the kernel printed nothing: safe mode's __GFP_NOWARN, or warn_alloc's rate limit.
fn nowarn_note(cx: &Ctx) -> &'static str {
    if cx.input.oom_safe {
        " The kernel printed no warning because safe mode passes __GFP_NOWARN; this is decided from the figures."
    } else {
        // Seen in the 32-bit lab: a second failure within 10 s of the first prints nothing.
        " The kernel printed no warning this time: warn_alloc() prints at most one every 10 s \
         (mm/page_alloc.c, nopage_rs); this is decided from the figures."
    }
}

/// Safe mode's reserve check before allocating (stage=reserve allocated=0).
fn refused_before_allocating(cx: &Ctx, m: &FailLine) -> Diagnosis {
    let asked = cx.asked();
    let mem_total = cx.mem_total();
    let (avail, reserve) = (m.avail_kib.unwrap_or(0), m.reserve_kib.unwrap_or(0));
    let limit = avail.saturating_sub(reserve);
    if let Some(total) = mem_total.filter(|&t| cx.req > t) {
        return diag(
            Cause::ExceedsTotalPages,
            Confidence::Certain,
            format!(
                "Asked {asked}, more than all RAM (MemTotal {}): refused before allocating",
                fmt_bytes(total)
            ),
            format!(
                "The module compared the request with what was available at the call ({}) \
                 and refused it before the allocator ran: nothing was reclaimed, swapped or \
                 killed for it. vmalloc itself would refuse anything above the RAM the \
                 kernel manages (totalram_pages()) too. Try a size below {}.",
                fmt_kib(avail),
                fmt_kib(limit)
            ),
            cx.module_lines(),
        );
    }
    diag(
        Cause::PhysicalMemoryShort,
        Confidence::Certain,
        format!(
            "Asked {asked}: refused before allocating, more than the {} available minus the {} safe mode keeps free ({} usable)",
            fmt_kib(avail),
            fmt_kib(reserve),
            fmt_kib(limit)
        ),
        format!(
            "The module counted what was available at the call (MemAvailable plus the free \
             pages on per-CPU lists and any watermark boost, which it leaves out) and refused \
             the request before the allocator ran: nothing was reclaimed, swapped or killed \
             for it. Allocating first would have reclaimed page cache and swapped out other \
             programs' memory down to the min watermark, only to give it all back. The reserve \
             is the module's reserve_mib parameter (default {}); insmod with reserve_mib=0, or \
             unsafe mode, goes to the very edge.{} Try {} or less, or `vmtop probe` to find the \
             largest that loads now.",
            crate::module::RESERVE_POLICY,
            counted_at_call(m).unwrap_or_default(),
            fmt_kib(limit)
        ),
        cx.module_lines(),
    )
}

/// Safe mode's reserve check after allocating (stage=reserve): allocated, then given back.
fn below_reserve(cx: &Ctx, m: &FailLine) -> Diagnosis {
    let asked = cx.asked();
    let kib = |v: Option<u64>| v.map(fmt_kib).unwrap_or_else(|| "unknown".into());
    let (left, reserve) = (kib(m.left_kib), kib(m.reserve_kib));
    diag(
        Cause::PhysicalMemoryShort,
        Confidence::Certain,
        format!(
            "Asked {asked}: allocated, but it would have left only {left} available, below the {reserve} safe mode keeps free"
        ),
        format!(
            "vmalloc found the pages, so the module measured what was left for everyone else \
             (MemAvailable plus the free pages on per-CPU lists and any watermark boost, which it \
             leaves out) \
             and gave the buffer back: a load that takes the last free pages makes the next \
             fork or page fault wake the OOM killer (with nothing left to kill, the kernel \
             panics). The reserve is the module's reserve_mib parameter (default {}); insmod \
             with reserve_mib=0, or unsafe mode, goes to the very edge.{} \
             Try a size {} smaller, or `vmtop probe` to find the largest that loads now.",
            crate::module::RESERVE_POLICY,
            counted_at_call(m).unwrap_or_default(),
            match (m.left_kib, m.reserve_kib) {
                (Some(l), Some(r)) if r > l => fmt_kib(r - l) + " or more",
                _ => "a little".into(),
            }
        ),
        cx.module_lines(),
    )
}

/// More than all RAM: vmalloc's first check ("exceeds total pages").
fn exceeds_total_pages(cx: &Ctx) -> Diagnosis {
    let f = &cx.facts;
    let asked = cx.asked();
    let mem_total = cx.mem_total();
    let vmalloc_total = cx.vmalloc_total();
    let mt = mem_total.map(fmt_bytes).unwrap_or_else(|| "unknown".into());
    let mut detail = format!(
        "__vmalloc_node_range() first compares the request with totalram_pages(), the RAM the \
         kernel manages (MemTotal {mt}), and refuses anything bigger at once with ENOMEM, \
         before it looks for address space or pages."
    );
    match vmalloc_total {
        Some(vt) if vt / 2 >= cx.req => detail.push_str(&format!(
            " The vmalloc address space was not the limit: VmallocTotal {} is {} times the request. \
             Blaming the vmalloc area, as the original article did, is wrong here.",
            fmt_bytes(vt),
            ratio(vt, cx.req)
        )),
        Some(vt) if vt < cx.req => detail.push_str(&format!(
            " It would not fit in the vmalloc address space either (VmallocTotal {}), but the \
             kernel checks RAM first.",
            fmt_bytes(vt)
        )),
        _ => {}
    }
    if let Some(a) = cx.available() {
        detail.push_str(&format!(
            " Try a size below MemAvailable ({}).",
            fmt_bytes(a)
        ));
    }
    if f.exceeds_total.is_none() {
        detail.push_str(nowarn_note(cx));
    }
    let mut ev = lines(&[f.exceeds_total]);
    ev.extend(cx.module_lines());
    diag(
        Cause::ExceedsTotalPages,
        if f.exceeds_total.is_some() {
            Confidence::Certain
        } else {
            Confidence::Inferred
        },
        format!(
            "Asked {asked}, more than all RAM (MemTotal {mt}): vmalloc refuses requests that exceed total pages"
        ),
        detail,
        ev,
    )
}

/// No free range of the vmalloc address space that big (`over_space`: bigger than all of
/// it; `gap`: the largest free range, when it is too small).
fn address_space_exhausted(cx: &Ctx, over_space: bool, gap: Option<u64>) -> Diagnosis {
    let f = &cx.facts;
    let asked = cx.asked();
    let vmalloc_total = cx.vmalloc_total();
    let vt = vmalloc_total
        .map(fmt_bytes)
        .unwrap_or_else(|| "unknown".into());
    let limit = match (gap, over_space) {
        (_, true) => format!("VmallocTotal {vt}"),
        (Some(g), _) => format!("largest free range {}, VmallocTotal {vt}", fmt_bytes(g)),
        (None, false) => format!("VmallocTotal {vt}"),
    };
    let mut detail = format!(
        "vmalloc needs one contiguous range of kernel virtual addresses as big as the request \
         (plus a guard page), even though the pages behind it can be scattered. The vmalloc area \
         holds {vt} of addresses in all"
    );
    if let Some(g) = cx.input.vmalloc_largest_free {
        detail.push_str(&format!(
            ", and the largest free range in /proc/vmallocinfo was {}",
            fmt_bytes(g)
        ));
    }
    detail.push_str(
        ". This is the classic 32-bit limit (a vmalloc area of ~120-640 MiB); on 64-bit kernels \
         the area is terabytes. Ask for less than the largest free range, or boot with a bigger \
         vmalloc=<size> (32-bit).",
    );
    if f.vm_struct_failed.is_none() && f.vmap_failed.is_none() {
        detail.push_str(nowarn_note(cx));
    }
    detail.push_str(&trace_note(cx));
    let mut ev = lines(&[f.vmap_failed, f.vm_struct_failed]);
    ev.extend(cx.module_lines());
    diag(
        Cause::AddressSpaceExhausted,
        if f.vm_struct_failed.is_some() || f.vmap_failed.is_some() {
            Confidence::Certain
        } else {
            Confidence::Inferred
        },
        format!(
            "Asked {asked}, but no free range of the vmalloc address space is that big ({limit})"
        ),
        detail,
        ev,
    )
}

/// The request fits RAM and the address space, but not enough of it is free.
fn physical_memory_short(cx: &Ctx) -> Diagnosis {
    let f = &cx.facts;
    let asked = cx.asked();
    let mem_total = cx.mem_total();
    let vmalloc_total = cx.vmalloc_total();
    let avail = cx.available();
    let small_space = vmalloc_total.is_some_and(|t| t < 4 * crate::units::GIB);
    let confidence = if f.pages_failed.is_some() {
        Confidence::Certain
    } else if mem_total.is_some()
        && (cx.input.oom_safe || f.module_stage() == Some("vmalloc"))
        && !(small_space && cx.input.vmalloc_largest_free.is_none())
    {
        Confidence::Likely
    } else {
        Confidence::Inferred
    };
    let summary = format!(
        "Asked {asked}, more than the free physical memory (MemAvailable {} of MemTotal {}): the allocator gave up",
        avail.map(fmt_bytes).unwrap_or_else(|| "unknown".into()),
        mem_total.map(fmt_bytes).unwrap_or_else(|| "unknown".into()),
    );
    let mut detail = format!(
        "The request is smaller than all RAM and fits in the vmalloc address space, but vmalloc \
         could not get enough free pages: the kernel itself, page tables, caches that cannot be \
         dropped and other processes hold the rest. MemAvailable estimates what can still be \
         obtained without swapping. In {} the allocator gives up on the buffer's pages and \
         returns ENOMEM rather than wake the OOM killer (vmalloc's page tables are allocated \
         with plain GFP_KERNEL, so at the very edge it can still run).",
        cx.mode()
    );
    if f.victims.is_empty() {
        detail.push_str(
            " The kernel log shows no OOM kill during the attempt: nothing else was killed.",
        );
    } else {
        detail.push_str(
            " The OOM killer did fire during the attempt (see the log lines) but could not free enough.",
        );
    }
    if small_space && cx.input.vmalloc_largest_free.is_none() {
        detail.push_str(&format!(
            " This kernel's vmalloc area is small (VmallocTotal {}): a fragmented area may have \
             been the limit instead; run as root so vmtop can read /proc/vmallocinfo.",
            vmalloc_total.map(fmt_bytes).unwrap_or_default()
        ));
    }
    if let Some(counted) = f.module_fail.and_then(|m| counted_at_call(&m)) {
        detail.push_str(&counted);
    }
    if cx.trace_shows_no_failure() {
        detail.push_str(
            " The kernel's vmalloc:alloc_vmap_area event, recorded during the load, shows no failed \
             allocation of address space: the addresses were found, the pages were not.",
        );
    } else if small_space {
        detail.push_str(&trace_note(cx));
    }
    detail.push_str(" Try a smaller size, or `vmtop probe` to find the largest that loads now.");
    let mut ev = lines(&[f.pages_failed]);
    ev.extend(f.oom_lines());
    ev.extend(cx.module_lines());
    diag(Cause::PhysicalMemoryShort, confidence, summary, detail, ev)
}

/// " (The kernel's vmalloc:alloc_vmap_area event, which would settle it, was not recorded:
/// REASON.)" when vmtop tried; empty otherwise.
fn trace_note(cx: &Ctx) -> String {
    cx.trace_unavailable()
        .map(|why| {
            format!(" (The kernel's vmalloc:alloc_vmap_area event, which would settle it, was not recorded: {why}.)")
        })
        .unwrap_or_default()
}

/// The kernel traced a failed vmap-area allocation by the loader: no free range of `size`
/// between `vstart` and `vend`. The module's buffer when the size is the request's (plus a
/// guard page, or a huge page's rounding); otherwise something the kernel allocated while
/// loading the module: on x86_64 the module's code and data come from the module area
/// (MODULES_VADDR..MODULES_END, about 1 GiB), a range apart from the vmalloc area.
fn traced_address_space(cx: &Ctx) -> Option<Diagnosis> {
    let e = cx.traced_failure()?;
    let f = &cx.facts;
    let asked = cx.asked();
    let range = e.range_bytes();
    let vt = cx.vmalloc_total();
    let the_buffer = e.size >= cx.req && e.size - cx.req <= 2 * crate::units::MIB + 64 * 1024;
    // The vmalloc area, or a range of its own (within a MiB of VmallocTotal, which is rounded
    // to KiB and may count VMALLOC_END inclusively).
    let vmalloc_area = vt.is_some_and(|t| range.abs_diff(t) <= crate::units::MIB);
    let between = format!(
        "between 0x{:x} and 0x{:x} ({})",
        e.vstart,
        e.vend,
        fmt_bytes(range)
    );
    let (summary, mut detail) = if the_buffer {
        (
            format!(
                "Asked {asked}, but no free range of {} of address space was left {between}: the kernel traced the failure",
                fmt_bytes(e.size)
            ),
            format!(
                "vmalloc needs one contiguous range of kernel virtual addresses as big as the request \
                 plus a guard page ({} in all), even though the pages behind it can be scattered. The kernel's \
                 vmalloc:alloc_vmap_area trace event, recorded while the module loaded, says it found \
                 none {between}{}. This is the classic 32-bit limit (a vmalloc area of ~120-640 MiB); \
                 ask for less than the largest free range (`vmtop areas --map` draws it), or boot a \
                 32-bit kernel with a bigger vmalloc=<size>.",
                fmt_bytes(e.size),
                if vmalloc_area {
                    ", the whole vmalloc area"
                } else {
                    ""
                }
            ),
        )
    } else {
        let module_area = !vmalloc_area && vt.is_some_and(|t| range < t);
        (
            format!(
                "Asked {asked}, but {} had no free range of {} {between}: the kernel traced the failure",
                if module_area {
                    "the module area (module code and data, not the vmalloc area)"
                } else {
                    "the kernel"
                },
                fmt_bytes(e.size)
            ),
            format!(
                "The kernel's vmalloc:alloc_vmap_area trace event, recorded while the module loaded, \
                 says an allocation of {} of address space failed {between}. It is not the module's \
                 buffer ({asked} asked): the kernel made it while loading the module, before its init \
                 ran.{} Nothing was wrong with RAM (MemAvailable {}).",
                fmt_bytes(e.size),
                if module_area {
                    format!(
                        " That range is narrower than the vmalloc area (VmallocTotal {}): on x86_64 it is \
                         the module area (MODULES_VADDR..MODULES_END, about 1 GiB), where the kernel places \
                         every module's code and data. The module file's sections (code, data, .bss) need \
                         more than it has free: check the module's size with `size {}.ko`.",
                        vt.map(fmt_bytes).unwrap_or_default(),
                        crate::module::MODULE_NAME
                    )
                } else {
                    String::new()
                },
                cx.available()
                    .map(fmt_bytes)
                    .unwrap_or_else(|| "unknown".into())
            ),
        )
    };
    if f.vm_struct_failed.is_none() && f.vmap_failed.is_none() {
        detail.push_str(
            " The kernel log has no warning of it (rate-limited, or __GFP_NOWARN): the event is the kernel's only word.",
        );
    }
    let mut ev = vec![e.line.clone()];
    ev.extend(lines(&[
        f.vmap_failed,
        f.vm_struct_failed,
        f.execmem_failed,
    ]));
    ev.extend(cx.module_lines());
    Some(diag(
        Cause::AddressSpaceExhausted,
        Confidence::Certain,
        summary,
        detail,
        ev,
    ))
}

/// The page size when the module's limits line is missing (4 KiB, as on x86).
const PAGE_SIZE: u64 = 4096;

/// The module refused a request above what its allocator ever gives (`stage=param` with
/// `limit_bytes`): kmalloc above KMALLOC_MAX_SIZE, pages above the largest order, kvmalloc
/// above INT_MAX. The kernel would refuse them too, with a WARN unless __GFP_NOWARN.
pub(super) fn above_allocator_limit(cx: &Ctx) -> Option<Diagnosis> {
    let m = cx.facts.module_fail.filter(|m| m.stage == Some("param"))?;
    let limit = m.limit_bytes?;
    let asked = cx.asked();
    let lim = fmt_bytes(limit);
    let warn =
        "The kernel refuses such a request at once, and with a WARNING (WARN_ON_ONCE) unless \
                it says __GFP_NOWARN: a tainted kernel, or a panic where kernel.panic_on_warn=1. \
                So the module refuses it as a parameter (EINVAL) before asking, in both modes.";
    let (cause, summary, detail) = match m.alloc? {
        "kmalloc" => (
            Cause::KmallocAboveMax,
            format!("Asked {asked} from kmalloc, above KMALLOC_MAX_SIZE {lim}: refused before allocating"),
            format!(
                "kmalloc() gives one physically contiguous block, at most KMALLOC_MAX_SIZE ({lim}, \
                 order {}) as this kernel was built. {warn} Use kvmalloc() (kmalloc, then vmalloc) \
                 or vmalloc() for more.",
                m.max_order.map_or("?".into(), |o| o.to_string())
            ),
        ),
        "pages" => (
            Cause::OrderAboveMax,
            format!(
                "Asked {asked} from alloc_pages: one block of order {}, above the largest order {} ({lim}): refused before allocating",
                m.order.map_or("?".into(), |o| o.to_string()),
                m.max_order.map_or("?".into(), |o| o.to_string())
            ),
            format!(
                "alloc_pages() gives 2^order physically contiguous pages, rounding the size up to \
                 a power of two; the buddy allocator keeps free blocks up to {lim} only. {warn} \
                 vmalloc() maps scattered pages instead and has no such limit."
            ),
        ),
        "kvmalloc" => (
            Cause::KvmallocAboveMax,
            format!("Asked {asked} from kvmalloc, above its limit of {limit} bytes (INT_MAX): refused before allocating"),
            format!(
                "kvmalloc() refuses more than INT_MAX bytes ({lim}) outright, whatever is free. \
                 {warn} Use vmalloc() for more."
            ),
        ),
        _ => return None,
    };
    Some(diag(
        cause,
        Confidence::Certain,
        summary,
        detail,
        cx.module_lines(),
    ))
}

/// kmalloc and alloc_pages ask the page allocator for one block of 2^order pages: above the
/// largest order it refuses at once (and warns without __GFP_NOWARN); below, it needs a free
/// block of that order, which fragmentation may have left none of, however much is free.
pub(super) fn contiguous_failure(cx: &Ctx) -> Option<Diagnosis> {
    let f = &cx.facts;
    let m = f.module_fail?;
    let stage = m.stage?;
    if stage != "kmalloc" && stage != "pages" {
        return None;
    }
    let (order, max_order) = (m.order?, m.max_order?);
    let asked = cx.asked();
    let page = f.limits.as_ref().map_or(PAGE_SIZE, |(_, l)| l.page_size);
    let block = |o: u32| page.checked_shl(o).map_or("?".into(), fmt_bytes);
    let warned = match f.order_warning {
        Some(_) => " The page allocator said so in the log (the WARNING below, printed once per boot).",
        None if cx.input.oom_safe => {
            " The kernel printed no warning because safe mode passes __GFP_NOWARN (and it warns once per boot at most)."
        }
        None => " The kernel warns of this once per boot only, so this attempt's log has no WARNING.",
    };
    let mut ev = lines(&[f.order_warning]);
    ev.extend(cx.module_lines());
    ev.extend(f.limits.as_ref().map(|(l, _)| l.to_string()));
    if checks::order_above_max(order, max_order) {
        let over_kmalloc = f
            .limits
            .as_ref()
            .map(|(_, l)| l.kmalloc_max_size)
            .filter(|&k| stage == "kmalloc" && checks::above_kmalloc_max(cx.req, k));
        if let Some(kmax) = over_kmalloc {
            return Some(diag(
                Cause::KmallocAboveMax,
                Confidence::Certain,
                format!(
                    "Asked {asked} from kmalloc, above KMALLOC_MAX_SIZE {} (one block of order {order}; the largest is order {max_order})",
                    fmt_bytes(kmax)
                ),
                format!(
                    "kmalloc() gives one physically contiguous block. Above a few pages it asks the \
                     page allocator for 2^order pages, and the page allocator gives at most order \
                     {max_order} ({}): KMALLOC_MAX_SIZE, as this kernel was built. It refuses larger \
                     orders at once, whatever is free.{warned} Use kvmalloc() (kmalloc, then vmalloc) \
                     or vmalloc() for more.",
                    block(max_order)
                ),
                ev,
            ));
        }
        return Some(diag(
            Cause::OrderAboveMax,
            Confidence::Certain,
            format!(
                "Asked {asked} from {}: one block of order {order} ({}), above the largest order {max_order} ({}) the page allocator gives",
                if stage == "pages" { "alloc_pages" } else { "kmalloc" },
                block(order),
                block(max_order)
            ),
            format!(
                "alloc_pages() gives 2^order physically contiguous pages, rounding the size up to \
                 a power of two; the buddy allocator keeps free blocks up to order {max_order} only \
                 and refuses larger orders at once, whatever is free.{warned} vmalloc() maps \
                 scattered pages instead and has no such limit."
            ),
            ev,
        ));
    }
    let mfo = m.max_free_order?;
    if checks::free_block_of(order, mfo) {
        return None;
    }
    let free = m.free_kib.map_or("?".into(), fmt_kib);
    let largest = if mfo < 0 {
        "none at all".to_string()
    } else {
        format!("the largest is order {mfo}, {}", block(mfo as u32))
    };
    let mut detail = format!(
        "{} needs one physically contiguous block of 2^{order} pages ({}). At the call {free} \
         was free, but scattered: /proc/buddyinfo had no free block of order {order} or more \
         ({largest}). The page allocator tried compaction (moving movable pages together) \
         and gave up. vmalloc() of the same size only needs single pages and succeeds: that is \
         why it exists.",
        if stage == "pages" {
            "alloc_pages()"
        } else {
            "kmalloc()"
        },
        block(order)
    );
    if let Some(k) = m.fragment_order {
        detail.push_str(&format!(
            " The module was loaded with fragment_order={k}: it first took every free block of \
             order {k} or more and gave back all but one page of each."
        ));
    }
    Some(diag(
        Cause::NoContiguousBlock,
        Confidence::Certain,
        format!("Asked {asked} in one block: {free} free, but no free block of order {order} ({largest})"),
        detail,
        ev,
    ))
}

/// a / b as a short human ratio ("12.3 million", "3.5"), b > 0.
pub(super) fn ratio(a: u64, b: u64) -> String {
    if b == 0 {
        return "∞".into();
    }
    let r = a as f64 / b as f64;
    if r >= 1e9 {
        format!("{:.1} billion", r / 1e9)
    } else if r >= 1e6 {
        format!("{:.1} million", r / 1e6)
    } else if r >= 1e4 {
        format!("{:.0} thousand", r / 1e3)
    } else if r >= 10.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}
