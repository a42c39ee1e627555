//! `vmtop status`: the kernel, privileges, signing state, the module and its file, memory.

use super::{engine_for, print_json};
use crate::cli::exit;
use crate::units::{fmt_bytes, fmt_ns};

pub(super) fn status(module: crate::cli::ModuleArgs, json: bool) -> anyhow::Result<i32> {
    let engine = engine_for(module);
    let k = engine.kernel().clone();
    let st = engine.status()?;
    // One read of /proc/meminfo for every figure below.
    let sample = crate::system::meminfo::Sample::read().ok();
    let space = address_space(sample.as_ref());
    let module_file = engine.module_path().ok();
    // What `load` would say of the file (read through libkmod, compressed or not).
    let checked = engine.checked_module();
    // No file found is said by module_file: null; a helper that gave no answer is said
    // whatever the search found (it may be why nothing was found).
    let problem = match &checked {
        Err(p) if module_file.is_some() => Some(p.to_string()),
        Err(p @ crate::module::file::FileProblem::Helper(_)) => Some(p.to_string()),
        _ => None,
    };
    let (format, vermagic) = match &checked {
        Ok((_, c)) => (Some(c.format), Some(c.vermagic.clone())),
        Err(_) => (None, None),
    };
    // Whether a load records the kernel's vmap-area events (vmtop's tracefs instance).
    let vmap_events =
        crate::tracefs::unavailable_reason(crate::tracefs::root().as_deref(), &k.release);
    let code = if !k.module_support {
        exit::NO_MODULE_SUPPORT
    } else {
        exit::OK
    };
    if json {
        print_json(&serde_json::json!({
            "kernel": &k,
            "may_load": k.can_load(),
            "module": &st,
            "module_file": module_file,
            "module_file_format": format,
            "module_file_vermagic": vermagic,
            "module_file_problem": problem,
            "meminfo": sample,
            "address_space": &space,
            "vmap_events": match &vmap_events {
                None => serde_json::json!({ "recorded": true }),
                Some(why) => serde_json::json!({ "recorded": false, "reason": why }),
            },
        }))?;
        return Ok(code);
    }
    let p = &k.privileges;
    println!(
        "kernel {} ({}): {}, {} {} CAP_SYS_MODULE",
        k.release,
        k.machine,
        if k.module_support {
            "can load modules"
        } else {
            "built WITHOUT module support (no /proc/modules)"
        },
        if p.euid == 0 {
            "root".to_string()
        } else {
            format!("uid {}", p.euid)
        },
        if p.cap_sys_module { "with" } else { "without" }
    );
    if let Some(why) = k.why_read_only() {
        println!("loading is off: {why}");
    }
    if k.module_support {
        println!(
            "module signing: {}",
            crate::diagnose::signing_facts(&k.signing).join("; ")
        );
    }
    if k.module_support {
        if st.loaded {
            println!(
                "alloc_large_mem: loaded, memsize {} MiB, oom_safe {}, {} held, allocation {}, fill {}",
                st.memsize_mib.map_or("?".into(), |m| m.to_string()),
                st.oom_safe.map_or("?", |s| if s { "Y" } else { "N" }),
                st.bytes.map_or("?".into(), fmt_bytes),
                st.alloc_ns.map_or("?".into(), fmt_ns),
                st.fill_ns.map_or("?".into(), fmt_ns),
            );
        } else {
            println!("alloc_large_mem: not loaded");
        }
    }
    match (&module_file, &problem, format) {
        (Some(_), Some(why), _) => println!("module file: {why}"),
        (Some(p), None, Some(f)) => println!("module file: {} ({})", p.display(), f.name()),
        (Some(p), None, None) => println!("module file: {}", p.display()),
        (None, _, _) => println!("module file: none found (install the package alloc-large-mem-dkms, or in a checkout build it with `make module` or install it with `make install`)"),
    }
    if let Some(s) = sample {
        println!(
            "MemTotal {}  MemFree {}  MemAvailable {}  VmallocUsed {}  VmallocTotal {}",
            fmt_bytes(s.mem_total),
            fmt_bytes(s.mem_free),
            fmt_bytes(s.available()),
            fmt_bytes(s.vmalloc_used),
            fmt_bytes(s.vmalloc_total)
        );
    }
    if let Some(g) = space.vmalloc_largest_free {
        println!(
            "largest free vmalloc range {} (VmallocChunk reads 0 since Linux 4.4; from /proc/vmallocinfo)",
            fmt_bytes(g)
        );
    }
    if k.module_support {
        match &vmap_events {
            None => println!(
                "kernel vmap events: vmalloc:alloc_vmap_area is recorded during each load (tracefs instance instances/{})",
                crate::tracefs::INSTANCE
            ),
            Some(why) => println!("kernel vmap events: not recorded: {why}"),
        }
    }
    if let (Some(lt), Some(ht)) = (space.low_total, space.high_total) {
        println!(
            "LowTotal {}  HighTotal {}: lowmem and the vmalloc window share the kernel's top gigabyte (vmalloc=SIZE trades one for the other)",
            fmt_bytes(lt),
            fmt_bytes(ht)
        );
    }
    Ok(code)
}

/// The vmalloc address space and, on 32-bit kernels with highmem, the memory split that
/// shares the top of the address space with it (a bigger vmalloc= means less lowmem).
#[derive(serde::Serialize)]
struct AddressSpace {
    vmalloc_total: Option<u64>,
    vmalloc_used: Option<u64>,
    /// Largest free range of the vmalloc area (/proc/vmallocinfo, root only); VmallocChunk
    /// reads 0 since Linux 4.4.
    vmalloc_largest_free: Option<u64>,
    low_total: Option<u64>,
    low_free: Option<u64>,
    high_total: Option<u64>,
    high_free: Option<u64>,
}

fn address_space(m: Option<&crate::system::meminfo::Sample>) -> AddressSpace {
    let h = m.and_then(|m| m.highmem);
    AddressSpace {
        vmalloc_total: m.map(|m| m.vmalloc_total),
        vmalloc_used: m.map(|m| m.vmalloc_used),
        vmalloc_largest_free: m
            .and_then(|m| crate::system::vmallocinfo::largest_free_now(m.vmalloc_total)),
        low_total: h.map(|h| h.low_total()),
        low_free: h.map(|h| h.low_free()),
        high_total: h.map(|h| h.high_total()),
        high_free: h.map(|h| h.high_free()),
    }
}
