//! Hostile filesystems (issue "Hostile input"): `audit` never writes or deletes outside `--out`
//! through a symbolic link, `verify` never follows one nor opens a FIFO, `--templates` reads only
//! regular files, two audits cannot interleave in one folder, and `--out` may not be inside the
//! bundle. Each through the real binary.
#![cfg(unix)]

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use serde_json::Value;

use crate::common::run;

const BUNDLE: &str = "fixtures/bundles/mixed";

fn audit_args<'a>(out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "audit",
        BUNDLE,
        "--out",
        out,
        "--as-of",
        "2026-04-02",
        "--fail-on",
        "none",
    ];
    args.extend_from_slice(extra);
    args
}

/// `vigil gen --exams EXAMS --seed 1` into `dir/bundle`.
pub(crate) fn generated(dir: &Path, exams: &str) -> std::path::PathBuf {
    let bundle = dir.join("bundle");
    let made = run(&[
        "gen",
        "--exams",
        exams,
        "--seed",
        "1",
        "--out",
        bundle.to_str().unwrap(),
    ]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    bundle
}

/// Rewrites the `name` cell of facilities.csv rows (1-based data rows) with `name(old)`.
pub(crate) fn rename_facilities(
    bundle: &Path,
    rows: std::ops::Range<usize>,
    name: impl Fn(&str) -> String,
) {
    let facilities = bundle.join("facilities.csv");
    let text = fs::read_to_string(&facilities).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    for line in lines.iter_mut().skip(rows.start).take(rows.len()) {
        let mut cells: Vec<String> = line.split(',').map(String::from).collect();
        cells[1] = name(&cells[1]);
        *line = cells.join(",");
    }
    fs::write(&facilities, lines.join("\n") + "\n").unwrap();
}

/// Audits `bundle` into `packet` (exit 0 expected), verifies the packet, and returns its
/// report.html.
pub(crate) fn audit_and_verify(bundle: &Path, packet: &Path) -> String {
    let out = packet.to_str().unwrap();
    let r = run(&[
        "audit",
        bundle.to_str().unwrap(),
        "--out",
        out,
        "--fail-on",
        "none",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        !r.stderr.contains("\u{1b}[2K"),
        "a progress line in a pipe: {}",
        r.stderr
    );
    let v = run(&["verify", out]);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    fs::read_to_string(packet.join("report.html")).unwrap()
}

/// Rewrites the packet's manifest.json through `edit`.
fn edit_manifest(packet: &Path, edit: impl FnOnce(&mut Value)) {
    let path = packet.join("manifest.json");
    let mut manifest: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    edit(&mut manifest);
    fs::write(&path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
}

/// A FIFO at `path` (made with `mkfifo`, as a user would).
fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(made.success());
}

/// `vigil verify PACKET`, which must find a problem (exit 3); what it said.
fn verify_fails(packet: &Path) -> String {
    let v = run(&["verify", packet.to_str().unwrap()]);
    assert_eq!(v.code, 3, "{}{}", v.stdout, v.stderr);
    format!("{}{}", v.stdout, v.stderr)
}

fn audit_ok(out: &Path) {
    let r = run(&audit_args(out.to_str().unwrap(), &[]));
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// An earlier packet whose manifest lists `evil/victim.txt`, `evil` a link out of the packet:
/// the next audit refuses, and the outside file is still there.
#[test]
fn audit_does_not_delete_through_a_linked_folder() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    fs::create_dir(&outside).unwrap();
    fs::write(outside.join("victim.txt"), "keep me").unwrap();
    let packet = dir.path().join("packet");
    audit_ok(&packet);
    edit_manifest(&packet, |m| {
        m["files"].as_array_mut().unwrap().push(serde_json::json!({
            "path": "evil/victim.txt", "bytes": 7, "sha256": vigil::digest::sha256_hex(b"keep me")
        }));
    });
    symlink(&outside, packet.join("evil")).unwrap();
    let r = run(&audit_args(packet.to_str().unwrap(), &[]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("symbolic link"), "{}", r.stderr);
    assert_eq!(
        fs::read_to_string(outside.join("victim.txt")).unwrap(),
        "keep me"
    );
}

/// A packet file replaced by a link to an outside file: the next audit replaces the link with
/// the file and leaves the outside file alone; the packet verifies.
#[test]
fn audit_replaces_a_linked_packet_file_without_writing_through_it() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = dir.path().join("elsewhere.txt");
    fs::write(&elsewhere, "not yours").unwrap();
    let packet = dir.path().join("packet");
    audit_ok(&packet);
    fs::remove_file(packet.join("findings.csv")).unwrap();
    symlink(&elsewhere, packet.join("findings.csv")).unwrap();
    audit_ok(&packet);
    assert_eq!(fs::read_to_string(&elsewhere).unwrap(), "not yours");
    let meta = fs::symlink_metadata(packet.join("findings.csv")).unwrap();
    assert!(meta.file_type().is_file(), "findings.csv is still a link");
    let v = run(&["verify", packet.to_str().unwrap()]);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
}

/// `report.html -> an outside file` with the manifest's size and hash adjusted to it: verify
/// does not follow the link and fails.
#[test]
fn verify_does_not_follow_a_link_whose_hash_was_adjusted() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside.html");
    fs::write(&outside, "<p>forged</p>").unwrap();
    let packet = dir.path().join("packet");
    audit_ok(&packet);
    fs::remove_file(packet.join("report.html")).unwrap();
    symlink(&outside, packet.join("report.html")).unwrap();
    edit_manifest(&packet, |m| {
        for f in m["files"].as_array_mut().unwrap() {
            if f["path"] == "report.html" {
                f["bytes"] = 13.into();
                f["sha256"] = vigil::digest::sha256_hex(b"<p>forged</p>").into();
            }
        }
    });
    let said = verify_fails(&packet);
    assert!(said.contains("report.html is a symbolic link"), "{said}");
}

/// A FIFO listed in the manifest is reported, never opened (opening it would hang).
#[test]
fn verify_does_not_open_a_fifo() {
    let dir = tempfile::tempdir().unwrap();
    let packet = dir.path().join("packet");
    audit_ok(&packet);
    fs::remove_file(packet.join("metrics.csv")).unwrap();
    mkfifo(&packet.join("metrics.csv"));
    let said = verify_fails(&packet);
    assert!(said.contains("metrics.csv is not a regular file"), "{said}");
}

/// A link in `--templates` would pull an outside file into report.html: refused.
#[test]
fn templates_are_read_only_from_regular_files_in_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("templates");
    fs::create_dir(&templates).unwrap();
    for f in ["report.html.j2", "report.css", "report.typ"] {
        let from = crate::common::root().join("report-templates").join(f);
        fs::copy(from, templates.join(f)).unwrap();
    }
    let secret = dir.path().join("secret.txt");
    fs::write(&secret, "secret").unwrap();
    symlink(&secret, templates.join("extra.j2")).unwrap();
    let packet = dir.path().join("packet");
    let t = templates.to_str().unwrap();
    let r = run(&audit_args(packet.to_str().unwrap(), &["--templates", t]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("`extra.j2` is a symbolic link"),
        "{}",
        r.stderr
    );
}

/// `--out` inside the bundle would be read back as data next run: refused before anything.
#[test]
fn out_inside_the_bundle_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = generated(dir.path(), "50");
    let out = bundle.join("packet");
    let r = run(&[
        "audit",
        bundle.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("is inside the bundle"), "{}", r.stderr);
    assert!(!out.exists());
}

/// Several audits into one folder at once: each finishes, or stops saying the folder is in use;
/// the packet left verifies.
#[test]
fn concurrent_audits_into_one_folder_leave_a_packet_that_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let packet = dir.path().join("packet");
    let out = packet.to_str().unwrap().to_string();
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let out = out.clone();
            std::thread::spawn(move || run(&audit_args(&out, &[])))
        })
        .collect();
    let results: Vec<crate::common::Run> = runs.into_iter().map(|h| h.join().unwrap()).collect();
    for r in &results {
        assert!(
            r.code == 0 || (r.code == 2 && r.stderr.contains("in use by another vigil audit")),
            "{}: {}",
            r.code,
            r.stderr
        );
    }
    assert!(results.iter().any(|r| r.code == 0));
    let v = run(&["verify", &out]);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
}

/// A FIFO named like a dataset file is reported as DQ-007 and never opened (the run would hang).
#[test]
fn a_fifo_in_the_bundle_is_dq007_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = generated(dir.path(), "50");
    mkfifo(&bundle.join("exams").join("2099-01.csv"));
    let r = crate::common::check_json(bundle.to_str().unwrap(), &["--fail-on", "none"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = r.json();
    let dq7: Vec<&Value> = crate::common::of_rule(&doc, "DQ-007")
        .into_iter()
        .filter(|f| f["location"]["file"] == "exams/2099-01.csv")
        .collect();
    assert_eq!(dq7.len(), 1, "{doc}");
    assert!(
        dq7[0]["message"]
            .as_str()
            .unwrap()
            .contains("not a regular file"),
        "{}",
        dq7[0]
    );
}

/// Times that name no instant (DST gap or overlap) in every time field of every dataset: the
/// audit completes, with DQ-005, and writes a packet that verifies; RXN-004, which requires the
/// reaction times, says why it cannot judge them.
#[test]
fn times_without_an_instant_do_not_stop_the_audit() {
    let dir = tempfile::tempdir().unwrap();
    let packet = dir.path().join("packet");
    audit_and_verify(Path::new("fixtures/bundles/dst_every_time_field"), &packet);
    let doc: Value =
        serde_json::from_slice(&fs::read(packet.join("findings.json")).unwrap()).unwrap();
    assert!(!crate::common::of_rule(&doc, "DQ-005").is_empty());
    let reasons = crate::common::rule_reasons(&doc, "RXN-004");
    assert!(reasons.contains("`onset_at` names no instant"), "{reasons}");
}

/// A gzip that expands far past its size (a decompression bomb) is read only up to the limit
/// (64 times its compressed size, at least 1 MiB) and says so as DQ-007; `[limits]` in
/// bundle.toml raises it for a genuine file.
#[test]
fn a_gzip_bomb_is_cut_at_the_limit_and_the_limit_can_be_raised() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let bundle = generated(dir.path(), "50");
    let header = fs::read_to_string(bundle.join("exams/2026-01.csv")).unwrap();
    let header = header.lines().next().unwrap().to_string();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(format!("{header}\n").as_bytes()).unwrap();
    gz.write_all(&vec![b'\n'; 8 << 20]).unwrap();
    let compressed = gz.finish().unwrap();
    assert!(compressed.len() < 64 << 10, "{}", compressed.len());
    fs::write(bundle.join("exams/2099-01.csv.gz"), &compressed).unwrap();
    let bomb = |doc: &Value| -> Vec<String> {
        crate::common::of_rule(doc, "DQ-007")
            .into_iter()
            .filter(|f| f["location"]["file"] == "exams/2099-01.csv.gz")
            .map(|f| f["message"].as_str().unwrap().to_string())
            .collect()
    };
    let b = bundle.to_str().unwrap();
    let doc = crate::common::check_json(b, &["--fail-on", "none"]).json();
    let said = bomb(&doc);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].contains("gzip file expands past 1048576 bytes"),
        "{said:?}"
    );
    let manifest = fs::read_to_string(bundle.join("bundle.toml")).unwrap();
    fs::write(
        bundle.join("bundle.toml"),
        format!("{manifest}\n[limits]\ngzip_expansion = 100000\n"),
    )
    .unwrap();
    let doc = crate::common::check_json(b, &["--fail-on", "none"]).json();
    assert!(bomb(&doc).is_empty(), "{:?}", bomb(&doc));
}

/// Control characters in a record value (ESC, BEL) never reach a CI log raw through the github
/// format: they are shown as visible escapes.
#[test]
fn the_github_format_escapes_control_characters() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = generated(dir.path(), "200");
    rename_facilities(&bundle, 1..usize::MAX, |old| {
        format!("{old}\u{1b}[31mRED\u{7}")
    });
    let r = run(&[
        "check",
        bundle.to_str().unwrap(),
        "--format",
        "github",
        "--fail-on",
        "none",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("\\u{1b}[31mRED\\u{7}"), "{}", r.stdout);
    assert!(
        !r.stdout.contains(['\u{1b}', '\u{7}']),
        "raw control characters in the log"
    );
}

/// A baseline written for another bundle is a likely mistake: the run says so on stderr.
#[test]
fn a_baseline_of_another_bundle_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("baseline.json");
    let demo = crate::common::check_json("fixtures/bundles/demo", &[]);
    fs::write(&baseline, demo.stdout).unwrap();
    let b = baseline.to_str().unwrap();
    let r = crate::common::check_json(BUNDLE, &["--baseline", b, "--fail-on", "none"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("was written for bundle `lakeside-synthetic")
            && r.stderr.contains("findings are matched by id all the same"),
        "{}",
        r.stderr
    );
    let same = crate::common::check_json("fixtures/bundles/demo", &["--baseline", b]);
    assert!(
        !same.stderr.contains("was written for bundle"),
        "{}",
        same.stderr
    );
}

/// Control characters (ESC, BEL) and a 20,000-character value in a facility name and the
/// organization: the audit completes with a packet that verifies; the report shows escapes and
/// cuts the long value, findings.json keeps it whole.
#[test]
fn control_characters_and_long_values_do_not_stop_the_audit() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = generated(dir.path(), "200");
    let long = format!("Aurora\u{1b}[31mRED\u{7}{}", "W".repeat(20_000));
    rename_facilities(&bundle, 1..2, |_| long.clone());
    let manifest = bundle.join("bundle.toml");
    let text = fs::read_to_string(&manifest).unwrap();
    let text: String = text
        .lines()
        .map(|l| {
            if l.starts_with("organization") {
                "organization = \"Lakeside\\u001b\\u0007 Imaging\"".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    fs::write(&manifest, text + "\n").unwrap();
    let packet = dir.path().join("packet");
    let html = audit_and_verify(&bundle, &packet);
    assert!(
        html.contains("Aurora\\u{1b}[31mRED\\u{7}"),
        "no escapes in report.html"
    );
    assert!(
        html.contains("more characters"),
        "the long value is not cut"
    );
    assert!(
        !html.contains(['\u{1b}', '\u{7}']),
        "raw control characters in report.html"
    );
    let doc: Value =
        serde_json::from_slice(&fs::read(packet.join("findings.json")).unwrap()).unwrap();
    let whole = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["message"].as_str().unwrap().contains(&long));
    assert!(whole, "findings.json should keep the whole value");
}

/// A gzip member damaged mid-stream used to yield rows decoded from corrupt data before its check
/// failed; now none of its rows is read, and DQ-007 says why.
#[test]
fn a_corrupt_gzip_member_yields_no_rows() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let bundle = generated(dir.path(), "2000");
    let plain = fs::read(bundle.join("exams/2026-02.csv")).unwrap();
    fs::remove_file(bundle.join("exams/2026-02.csv")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&plain).unwrap();
    let mut damaged = gz.finish().unwrap();
    let mid = damaged.len() / 2;
    for b in &mut damaged[mid..mid + 8] {
        *b ^= 0x5a;
    }
    fs::write(bundle.join("exams/2026-02.csv.gz"), &damaged).unwrap();
    let doc = crate::common::check_json(bundle.to_str().unwrap(), &["--fail-on", "none"]).json();
    let file = doc["bundle"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "exams/2026-02.csv.gz")
        .unwrap()
        .clone();
    assert_eq!(file["records"], 0, "{file}");
    let dq7: Vec<&Value> = crate::common::of_rule(&doc, "DQ-007")
        .into_iter()
        .filter(|f| f["location"]["file"] == "exams/2026-02.csv.gz")
        .collect();
    assert_eq!(dq7.len(), 1);
    assert!(
        dq7[0]["message"]
            .as_str()
            .unwrap()
            .contains("failed its integrity check"),
        "{}",
        dq7[0]
    );
}

/// A time whose offset moves it past the year 9999 is not RFC 3339: it is DQ-001, and no output
/// writes a `+10000-...` time.
#[test]
fn a_time_past_the_year_9999_is_dq001_not_a_five_digit_year() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = generated(dir.path(), "50");
    let exams = bundle.join("exams/2026-01.csv");
    let text = fs::read_to_string(&exams).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let at = header.iter().position(|c| *c == "scheduled_at").unwrap();
    let mut cells: Vec<String> = lines[1].split(',').map(String::from).collect();
    cells[at] = "9999-12-31T23:30:00-05:00".into();
    lines[1] = cells.join(",");
    fs::write(&exams, lines.join("\n") + "\n").unwrap();
    let r = crate::common::check_json(bundle.to_str().unwrap(), &["--fail-on", "none"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        !r.stdout.contains("+10000"),
        "a five-digit year in the output"
    );
    let doc = r.json();
    let dq1 = crate::common::of_rule(&doc, "DQ-001")
        .into_iter()
        .any(|f| f["evidence"]["field"] == "scheduled_at" && f["location"]["line"] == 2);
    assert!(dq1, "no DQ-001 for the time past 9999");
}
