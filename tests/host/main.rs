//! Host tests: vmtop run on the machine that runs `cargo test`, with no VM and nothing
//! loaded. Plain `cargo test` runs them. A new host test file is one `mod` line below.

#[path = "../common/mod.rs"]
mod common;

mod dashboard;
mod export;
mod helper;
mod lab_refusals;
mod lessons;
mod man_completions;
mod root_env;
mod status;
