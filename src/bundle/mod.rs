//! Record bundles: manifest, discovery, readers, typing and time zones (bundle-v1.md).

pub mod read;
pub mod schema;
pub mod time;
pub mod typing;
pub mod value;
