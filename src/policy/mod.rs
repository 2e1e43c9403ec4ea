//! Policy packs: the file format, loading with located errors, version selection, the Rhai sandbox.

pub mod error;
pub mod fields;
pub mod file;
pub mod load;
pub mod model;
pub mod schema;
pub mod script;
pub mod severity;
