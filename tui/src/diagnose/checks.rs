//! The kernel's checks on a request, in the order it makes them, as predicates on numbers
//! (bytes): the one definition each, used by the diagnosis (`memory`), the confirmation
//! dialog's predictions (`ui::confirm`) and the unsafe-mode guard (`engine::guard`).
//!
//! vmalloc (mm/vmalloc.c `__vmalloc_node_range`): more than all RAM is refused first, then
//! it needs one free range of the address space as big as the request plus a guard page.
//! kmalloc and alloc_pages (mm/slab_common.c, mm/page_alloc.c): one block of 2^order pages,
//! refused above KMALLOC_MAX_SIZE or the largest order, else it needs a free block that big.

/// vmalloc adds one guard page to every area (mm/vmalloc.c, `VM_NO_GUARD` unset).
pub(crate) const GUARD_PAGE: u64 = 4096;

/// More than all the RAM the kernel manages (totalram_pages: MemTotal): vmalloc refuses it
/// at once ("exceeds total pages").
pub(crate) fn over_total_ram(asked: u64, mem_total: u64) -> bool {
    asked > mem_total
}

/// More than the whole vmalloc address space (VmallocTotal).
pub(crate) fn over_address_space(asked: u64, vmalloc_total: u64) -> bool {
    asked > vmalloc_total
}

/// No free range of the vmalloc address space that big, counting the guard page
/// (`largest_free`: the largest free range, /proc/vmallocinfo).
pub(crate) fn gap_too_small(asked: u64, largest_free: u64) -> bool {
    asked.saturating_add(GUARD_PAGE) > largest_free
}

/// One block of `order` is above the largest order the page allocator gives.
pub(crate) fn order_above_max(order: u32, max_order: u32) -> bool {
    order > max_order
}

/// kmalloc() of more than KMALLOC_MAX_SIZE.
pub(crate) fn above_kmalloc_max(asked: u64, kmalloc_max_size: u64) -> bool {
    asked > kmalloc_max_size
}

/// A free block of `order` or more exists (`largest_free_order`: the largest order with a
/// free block, -1 for none).
pub(crate) fn free_block_of(order: u32, largest_free_order: i32) -> bool {
    i64::from(largest_free_order) >= i64::from(order)
}

/// vmtop's own check in unsafe mode, before the kernel's: what a load may take, MemAvailable
/// less the reserve (`module::reserve_mib`), bytes.
pub(crate) fn guard_limit(available: u64, mem_total: u64) -> u64 {
    available.saturating_sub(crate::module::reserve_mib(mem_total) * crate::units::MIB)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::MIB;

    #[test]
    fn the_checks_at_their_edges() {
        assert!(!over_total_ram(998 * MIB, 998 * MIB));
        assert!(over_total_ram(998 * MIB + 1, 998 * MIB));
        assert!(!over_address_space(120 * MIB, 120 * MIB));
        assert!(over_address_space(121 * MIB, 120 * MIB));
        // The guard page counts: a range exactly as big as the request is too small.
        assert!(gap_too_small(116 * MIB, 116 * MIB));
        assert!(!gap_too_small(116 * MIB, 116 * MIB + GUARD_PAGE));
        // No overflow near the top of the range.
        assert!(gap_too_small(u64::MAX, u64::MAX - 1));
        assert!(!order_above_max(10, 10) && order_above_max(11, 10));
        assert!(!above_kmalloc_max(4 * MIB, 4 * MIB) && above_kmalloc_max(4 * MIB + 1, 4 * MIB));
        assert!(free_block_of(8, 8) && !free_block_of(9, 8) && !free_block_of(0, -1));
        // 64 MiB under 1280 MiB of RAM, 5 % above.
        assert_eq!(guard_limit(500 * MIB, 1000 * MIB), 436 * MIB);
        assert_eq!(guard_limit(2000 * MIB, 4000 * MIB), 1800 * MIB);
        assert_eq!(guard_limit(10 * MIB, 1000 * MIB), 0);
    }
}
