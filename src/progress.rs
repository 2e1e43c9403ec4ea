//! How far a run has come, for the progress line a person sees on a terminal (the command line
//! draws it; the library only counts). Counters are process-wide atomics: a run adds to them as
//! it reads files and judges packs, and `start` resets them. Nothing here changes an output.

use std::sync::atomic::{AtomicU64, Ordering};

/// Data files of the bundle: found, and read so far.
pub static FILES_FOUND: AtomicU64 = AtomicU64::new(0);
pub static FILES_READ: AtomicU64 = AtomicU64::new(0);
/// Records read so far.
pub static RECORDS_READ: AtomicU64 = AtomicU64::new(0);
/// Packs to judge, and judged so far.
pub static PACKS_FOUND: AtomicU64 = AtomicU64::new(0);
pub static PACKS_JUDGED: AtomicU64 = AtomicU64::new(0);

/// Sets every counter to zero (a new run).
pub fn start() {
    for c in [
        &FILES_FOUND,
        &FILES_READ,
        &RECORDS_READ,
        &PACKS_FOUND,
        &PACKS_JUDGED,
    ] {
        c.store(0, Ordering::Relaxed);
    }
}

/// Adds `n` to `counter`.
pub fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

/// The current value of `counter`.
pub fn get(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}
