//! vmtop's own refusals: an error any part may return (the lab, the commands), told apart
//! in `commands::main` by its exit code. A leaf: it knows only `trust`'s refusal.

/// One of vmtop's own refusals (a value it will not use, a file or folder it will not trust):
/// one line naming the value, the limit and the fix. `main` ends with exit 2 (`exit::USAGE`)
/// for it, found anywhere in an error's chain; nothing was loaded or started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

impl Refused {
    /// Whether `e` is, or was caused by, a refusal (an untrusted file or folder is one).
    pub fn in_chain(e: &anyhow::Error) -> bool {
        e.chain()
            .any(|c| c.is::<Refused>() || c.is::<crate::trust::Untrusted>())
    }
}
