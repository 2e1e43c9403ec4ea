//! Inputs that make the run impossible: exit 2 with a message naming what is wrong, no panic.
//! (The `err_` bundles are cases of `bundle_cases`; these are the ones that need no fixture.)

use crate::common::{bundle, run};

#[test]
fn bundle_folder_that_does_not_exist() {
    let r = run(&["check", "fixtures/bundles/no_such_bundle"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("no_such_bundle"), "{}", r.stderr);
}

#[test]
fn bundle_path_that_is_a_file() {
    let r = run(&["check", "fixtures/bundles/minimal/exams.csv"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("exams.csv"), "{}", r.stderr);
}

#[test]
fn err_bundles_stop_before_any_output_for_every_command() {
    for name in [
        "err_no_manifest",
        "err_bad_manifest",
        "err_format_version",
        "err_missing_exams",
    ] {
        for cmd in ["check", "inspect"] {
            let r = run(&[cmd, &bundle(name), "--format", "json"]);
            assert_eq!(r.code, 2, "{cmd} {name}: {}", r.stderr);
            assert!(r.stdout.is_empty(), "{cmd} {name}: {}", r.stdout);
            assert!(r.stderr.contains(name), "{cmd} {name}: {}", r.stderr);
        }
    }
}

#[test]
fn unknown_option_values_are_usage_errors() {
    for args in [
        &["check", "fixtures/bundles/minimal", "--fail-on", "severe"][..],
        &["check", "fixtures/bundles/minimal", "--format", "xml"][..],
        &["check"][..],
        &["frobnicate"][..],
    ] {
        let r = run(args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
    }
}

#[test]
fn policies_folder_that_does_not_exist() {
    let r = run(&[
        "check",
        "fixtures/bundles/minimal",
        "--policies",
        "fixtures/packs/no_such_pack",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("no_such_pack"), "{}", r.stderr);
}

#[test]
fn output_file_that_cannot_be_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("no_such_folder").join("findings.json");
    let r = run(&[
        "check",
        "fixtures/bundles/minimal",
        "--format",
        "json",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let stderr = crate::common::mask(&r.stderr, dir.path());
    assert!(
        stderr.contains("cannot write `[TMP]/no_such_folder/findings.json`"),
        "{stderr}"
    );
}
