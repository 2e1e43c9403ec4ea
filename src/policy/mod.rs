//! Policy packs: the file format, loading with located errors, version selection, the Rhai sandbox.

pub mod catalog;
pub mod compare;
pub mod error;
pub mod fields;
pub mod file;
pub mod lint;
pub mod load;
pub mod model;
pub mod native;
pub mod sandbox;
pub mod schema;
pub mod testing;
