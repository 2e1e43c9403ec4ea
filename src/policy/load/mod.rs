//! Loading policy packs from folders or from the packs built into the binary, and validating
//! every file with errors that point into it.
//!
//! The way down: [`load_packs`] resolves `--policies` arguments to pack sources, [`load_pack`]
//! loads one pack's versions and checks that they chain, [`load_version`] validates one file:
//! its header, then each rule with its conditions, check and message template.

mod check;
mod check_script;
mod context;
mod literal;
mod metric;
mod pack;
mod pack_data;
mod rule;
mod script_names;
mod source;
mod template;
mod types;
mod unused;
mod version;

pub use pack::load_pack;
pub use source::{BUILTIN_PACKS, EXPORT_INTEGRITY, PackSource, load_packs};
pub use version::load_version;
