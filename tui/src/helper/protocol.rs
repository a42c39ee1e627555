//! The helper's command line protocol, shared by vmtop and tui/src/bin/vmtop-kmod.rs.

/// Printed on stdout before the errno of a failed call.
pub const ERRNO_MARKER: &str = "vmtop-kmod-errno=";
/// Exit status of a failed call (the errno is on stdout).
pub const EXIT_FAILED: i32 = 1;
/// Exit status of a bad command line.
pub const EXIT_USAGE: i32 = 2;
/// The helper's file name.
pub const HELPER: &str = "vmtop-kmod";
