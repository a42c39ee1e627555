//! Dashboard state and the actions that change it.
pub mod action;
pub mod history;
pub mod keys;
pub mod state;

pub use action::{Action, Command};
pub use history::Retention;
pub use keys::{map_key, Mode};
pub use state::{App, AppConfig};
