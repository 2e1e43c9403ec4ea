//! The integration tests of `vigil`: one binary, the CLI driven as a black box over the data
//! fixtures in `fixtures/` (bundles, policy packs, and the expectations in `fixtures/cases/`).
//! The modules live in `tests/it/` so that Cargo does not build each one as its own test binary.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails loudly on the first surprise"
)]

// Shared helpers: running the binary, reading findings.json, masking paths.
#[path = "it/common.rs"]
mod common;

// Every bundle in fixtures/bundles/ with a case file in fixtures/cases/bundles/: exit code,
// expected findings at file:line, record accounting, and a snapshot of the findings.
#[path = "it/bundle_cases.rs"]
mod bundle_cases;
// Inputs that must stop the run with exit 2 (and never a panic): bundles and arguments.
#[path = "it/bad_input.rs"]
mod bad_input;
// `vigil check`: text and JSON output, `-o`, determinism, `--fail-on`, `--as-of`, `--help`.
#[path = "it/cli_check.rs"]
mod cli_check;
// A compliance officer's own pack beside (or instead of) the shipped packs.
#[path = "it/custom_packs.rs"]
mod custom_packs;
// Every pack in fixtures/packs/err_* with a case file in fixtures/cases/packs/: exit 2 and
// a diagnostic that points at the mistake.
#[path = "it/policy_errors.rs"]
mod policy_errors;
// `vigil inspect`: records per dataset and unparseable values by field.
#[path = "it/inspect.rs"]
mod inspect;
// SUP-001..SUP-007 of cms-direct-supervision, each firing and not firing, across versions.
#[path = "it/sup_rules.rs"]
mod sup_rules;
// ACR-001..ACR-003 of acr-contrast-supervision: versions by local DOS, rule summaries.
#[path = "it/acr_rules.rs"]
mod acr_rules;
// RXN-001..RXN-007 of contrast-reactions: every reaction's findings, RXN-002 per tier.
#[path = "it/rxn_rules.rs"]
mod rxn_rules;
// BEN-001..BEN-005 of network-benchmarks: boundaries and rule summaries.
#[path = "it/ben_rules.rs"]
mod ben_rules;

// Links, FIFOs and concurrent audits around packets and templates.
#[path = "it/hostile_fs.rs"]
mod hostile_fs;
// Values and resources that used to stop an audit: any script or length in a report, and the
// limits on templates, scripts and decompressed bytes.
#[path = "it/hostile_values.rs"]
mod hostile_values;
// Property tests: every line read is counted once; the same bytes on any thread count.
#[path = "it/properties.rs"]
mod properties;

// STL-001, the state-law pack.
#[path = "it/stl_rules.rs"]
mod stl_rules;

// Every parameter of every shipped pack, changed in a copy, moves what reads it and only that.
#[path = "it/edit_suite.rs"]
mod edit_suite;
// The demo bundle (every pack, every rule but BEN-003), metrics, and `vigil reference import-rvu`.
#[path = "it/demo_and_reference.rs"]
mod demo_and_reference;
// `vigil check --format junit|sarif|github|ndjson`, each parsed back by a real consumer.
#[path = "it/formats.rs"]
mod formats;
// Waivers (expiry, unmatched, malformed files) and baselines (`--baseline`, `vigil diff`).
#[path = "it/waivers_baselines.rs"]
mod waivers_baselines;
// `vigil policy lint`, `vigil policy test`, `vigil schema policy`.
#[path = "it/policy_checks.rs"]
mod policy_checks;
// `vigil policy diff`, `vigil policy catalog`, `vigil explain`, completions and man page.
#[path = "it/policy_docs.rs"]
mod policy_docs;
// Evidence packets: audit, verify, keygen, signatures, the stored packet in fixtures/packet/.
#[path = "it/packet.rs"]
mod packet;
// The audit report end to end: reproducible packets (PDF included), tamper detection per file,
// escaping, strict templates, redaction, and real consumers (headless Chromium, poppler).
#[path = "it/report.rs"]
mod report;
// The architecture: layers that only point down, and no source file over 800 lines.
#[path = "it/layers.rs"]
mod layers;
