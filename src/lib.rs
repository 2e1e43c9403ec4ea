//! vigil: audits record bundles of remote contrast supervision against versioned policy packs.
//!
//! Data flows one way: [`bundle`] reads and types an export, [`policy`] loads the packs,
//! [`eval`] judges the records (pure, no I/O), [`report`] writes what it found.

pub mod author;
pub mod baseline;
pub mod bundle;
pub mod digest;
pub mod eval;
pub mod generate;
pub mod packet;
pub mod policy;
pub mod reference;
pub mod report;
pub mod suggest;
pub mod waiver;
