//! `vigil gen`: deterministic synthetic bundles for the demo, tests and benchmarks.
