//! Policy packs as data: the file format, loading with located errors, validation, version
//! selection, and rule scripts compiled to ASTs (never run here: running is `eval`'s).
//!
//! May use: `bundle` (dataset schemas, typing of literals), `digest`, `suggest`. Never `eval`,
//! `report`, `packet`, `author` or the command line.

pub mod error;
pub mod fields;
pub mod file;
pub mod load;
pub mod model;
pub mod schema;
pub mod script;
pub mod severity;
