//! The lessons shipped with vmtop (the checkout's `lessons/`), embedded so that an installed
//! binary has them too. `vmtop lesson --list` lists them; `vmtop lesson NAME` runs one.

/// A bundled lesson's name and text.
#[derive(Debug, Clone, Copy)]
pub struct Bundled {
    pub name: &'static str,
    pub text: &'static str,
}

/// In teaching order.
pub const ALL: &[Bundled] = &[
    Bundled {
        name: "meminfo",
        text: include_str!("../../../lessons/meminfo.toml"),
    },
    Bundled {
        name: "why-vmalloc",
        text: include_str!("../../../lessons/why-vmalloc.toml"),
    },
    Bundled {
        name: "fragmentation",
        text: include_str!("../../../lessons/fragmentation.toml"),
    },
    Bundled {
        name: "oom",
        text: include_str!("../../../lessons/oom.toml"),
    },
    Bundled {
        name: "article-2009",
        text: include_str!("../../../lessons/article-2009.toml"),
    },
];

pub fn get(name: &str) -> Option<Bundled> {
    ALL.iter().copied().find(|b| b.name == name)
}

pub fn names() -> Vec<&'static str> {
    ALL.iter().map(|b| b.name).collect()
}
