//! Dashboard state, the actions that change it, the keys that ask for them, and the
//! settings it starts with.
pub mod action;
pub mod areas;
pub mod config;
pub mod history;
pub mod keys;
pub mod lesson;
pub mod state;

pub use action::{Action, Command};
pub use keys::{map_key, Mode};
pub use state::App;
