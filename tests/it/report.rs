//! The audit report end to end, through `vigil audit`: the demo packet reproduced byte for byte
//! (report.pdf included once it is written), one flipped byte in any packet file caught by
//! `vigil verify`, markup in record values inert in report.html, strict template variables, and
//! redaction across every packet file. Then the report's real consumers: headless Chromium opens
//! report.html (no console message, nothing fetched over the network, a screenshot of the first
//! page under `target/report-screenshots/`), and poppler's pdftotext and pdfinfo read report.pdf.
//! Where Chromium or poppler is not installed, those checks say so on stderr and pass: `.ci/run`
//! installs both.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::{Run, bundle, root, run, run_in, which};

const AS_OF: &str = "2026-04-02";
const DEMO: &str = "fixtures/bundles/demo";
/// Markup in the organization, a facility name and reactions' symptoms and treatment; raw
/// accessions `ACC-RAW-*` and patient references `PT-RAW-*`.
const SCRIPT: &str = "report_script";

/// A pack whose messages and evidence carry every value redaction must hash or leave out: each
/// exam's accession, patient reference and facility name, each reaction's symptoms and treatment.
/// Shipped rules show few of them, so without it a redaction check would pass vacuously.
const PROBE_PACK: &str = r#"format_version = 1

[pack]
id = "report-probe"
version = "1.0.0"
title = "Probe: record values that redaction must hash or leave out"

[[rule]]
id = "PRB-001"
title = "Every exam, with its accession, patient and facility name"
severity = "info"
dataset = "exams"
check = { kind = "compare", field = "exam_id", op = "==", value = "never" }
message = "exam {exam_id} accession {accession} patient {patient_ref} at {facility.name}"
evidence = ["accession", "patient_ref", "facility.name"]
citation = "test probe"
remediation = "none"

[[rule]]
id = "PRB-002"
title = "Every reaction, with its free text"
severity = "info"
dataset = "reactions"
check = { kind = "compare", field = "reaction_id", op = "==", value = "never" }
message = "reaction {reaction_id}: {symptoms}; treated with {treatment}"
evidence = ["symptoms", "treatment", "exam.accession", "exam.patient_ref"]
citation = "test probe"
remediation = "none"
"#;

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `vigil audit BUNDLE --out OUT --as-of 2026-04-02 --fail-on none EXTRA...`; asserts exit 0.
fn audit(bundle: &str, out: &Path, extra: &[&str]) -> Run {
    audit_in(&root(), bundle, out, extra)
}

fn audit_in(dir: &Path, bundle: &str, out: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "audit",
        bundle,
        "--out",
        path_str(out),
        "--as-of",
        AS_OF,
        "--fail-on",
        "none",
    ];
    args.extend_from_slice(extra);
    let r = run_in(dir, &args);
    assert_eq!(r.code, 0, "vigil {args:?}:\n{}", r.stderr);
    r
}

/// Writes the probe pack under `dir` and returns the `--policies` arguments for it beside the
/// shipped packs.
fn probe_policies(dir: &Path) -> Vec<String> {
    let pack = dir.join("report-probe");
    fs::create_dir_all(&pack).unwrap();
    fs::write(pack.join("1.0.0.toml"), PROBE_PACK).unwrap();
    vec![
        "--policies".into(),
        "builtin".into(),
        "--policies".into(),
        pack.display().to_string(),
    ]
}

fn names(files: &[(String, Vec<u8>)]) -> Vec<&str> {
    files.iter().map(|(n, _)| n.as_str()).collect()
}

/// Copies the files at the top of `from` (a `--templates` folder reads no subfolder).
fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.path().is_file() {
            fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// Says on stderr why a consumer check did not run.
fn skip(what: &str) {
    eprintln!("skipped: {what}");
}

// Reproducibility and tamper evidence.

#[test]
fn the_demo_packet_is_byte_identical_across_runs_folders_and_working_directories() {
    let tmp = tempfile::tempdir().unwrap();
    let first = tmp.path().join("packet");
    let elsewhere = tmp.path().join("other/folder name");
    let from_elsewhere = tmp.path().join("third");
    audit(DEMO, &first, &[]);
    audit(DEMO, &elsewhere, &[]);
    // Run from another working directory, with the bundle named by its absolute path.
    let demo = root().join(DEMO);
    audit_in(tmp.path(), path_str(&demo), &from_elsewhere, &[]);

    let a = crate::common::folder_contents(&first);
    let listed = names(&a);
    for name in [
        "findings.csv",
        "findings.json",
        "inputs.json",
        "manifest.json",
        "metrics.csv",
        "report.html",
    ] {
        assert!(listed.contains(&name), "{name} missing from {listed:?}");
    }
    if listed.contains(&"report.pdf") {
        eprintln!("report.pdf is in the packet: compared byte for byte with the rest");
    } else {
        skip("report.pdf is not in the packet (no PDF renderer yet): compared the other files");
    }
    for (other, label) in [
        (&elsewhere, "another folder name"),
        (&from_elsewhere, "another working directory"),
    ] {
        let b = crate::common::folder_contents(other);
        assert_eq!(names(&a), names(&b), "{label}: the same files");
        for ((name, x), (_, y)) in a.iter().zip(&b) {
            assert!(
                x == y,
                "{label}: {name} differs between two identical audits"
            );
        }
    }
}

#[test]
fn flipping_one_byte_of_any_packet_file_fails_verify_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let (key, public) = (tmp.path().join("k.pem"), tmp.path().join("k.pub"));
    let r = run(&[
        "keygen",
        "--private",
        path_str(&key),
        "--public",
        path_str(&public),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let packet = tmp.path().join("packet");
    audit(DEMO, &packet, &["--sign-key", path_str(&key)]);
    let r = run(&["verify", path_str(&packet), "--pubkey", path_str(&public)]);
    assert_eq!(r.code, 0, "fresh packet: {}", r.stderr);

    let files = crate::common::folder_contents(&packet);
    assert!(
        names(&files).contains(&"manifest.sig"),
        "{:?}",
        names(&files)
    );
    for (name, bytes) in &files {
        // manifest.sig is the base64 text of the signature: its line end is not signed (vigil
        // trims whitespace, so a flipped `\n` reads as `\v` and verifies), so its last byte is
        // the last base64 character.
        let last = if name == "manifest.sig" {
            bytes.trim_ascii_end().len() - 1
        } else {
            bytes.len() - 1
        };
        for at in [0, bytes.len() / 2, last] {
            let copy = tmp.path().join(format!("flip-{name}-{at}"));
            copy_dir(&packet, &copy);
            let mut changed = bytes.clone();
            changed[at] ^= 0x01;
            fs::write(copy.join(name), changed).unwrap();
            let r = run(&["verify", path_str(&copy), "--pubkey", path_str(&public)]);
            assert_eq!(
                r.code, 3,
                "{name} with byte {at} flipped: exit {}\n{}{}",
                r.code, r.stdout, r.stderr
            );
            // A changed manifest is caught by the signature over it, which names manifest.json.
            assert!(
                r.stderr.contains(name.as_str()),
                "{name} with byte {at} flipped: stderr does not name it:\n{}",
                r.stderr
            );
            fs::remove_dir_all(&copy).unwrap();
        }
    }
}

// report.html: escaping, strict templates, redaction.

#[test]
fn markup_in_record_values_is_inert_text_in_report_html() {
    let tmp = tempfile::tempdir().unwrap();
    let policies = probe_policies(tmp.path());
    let policies: Vec<&str> = policies.iter().map(String::as_str).collect();
    let packet = tmp.path().join("packet");
    audit(&bundle(SCRIPT), &packet, &policies);
    let html = fs::read_to_string(packet.join("report.html")).unwrap();
    let lower = html.to_lowercase();
    // The template has no script at all, so any `<script` came from a record.
    assert!(
        !lower.contains("<script"),
        "a <script element in report.html"
    );
    for tag in [
        "<img",
        "<b ",
        "</style><",
        "onerror=\"",
        "onmouseover=alert(6)>",
    ] {
        assert!(
            !lower.contains(tag),
            "`{tag}` from a record value reached report.html as markup"
        );
    }
    for shown in [
        // organization (cover), facility name (BEN-004 message, facility page), symptoms
        "Fixture Imaging &lt;script&gt;alert(",
        "Lakeside &lt;script&gt;alert(1)",
        "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;",
        "&lt;script&gt;alert(3)",
        "itching after &lt;",
        "observation &lt;b onmouseover=alert(6)&gt;only",
    ] {
        assert!(
            html.contains(shown),
            "`{shown}` is not shown as text in report.html"
        );
    }
    // The style block holds the template's CSS only: a record's `</style>` cannot close it.
    assert_eq!(lower.matches("</style>").count(), 1);
}

#[test]
fn a_misspelt_template_variable_stops_the_audit_with_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let templates = tmp.path().join("templates");
    copy_dir(&root().join("report-templates"), &templates);
    let template = templates.join("report.html.j2");
    let text = fs::read_to_string(&template).unwrap();
    assert!(text.contains("{{ r.organization }}"));
    fs::write(
        &template,
        text.replacen("{{ r.organization }}", "{{ r.organisation }}", 1),
    )
    .unwrap();
    let packet = tmp.path().join("packet");
    let r = run(&[
        "audit",
        DEMO,
        "--out",
        path_str(&packet),
        "--as-of",
        AS_OF,
        "--templates",
        path_str(&templates),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    for part in ["organisation", "report.html.j2"] {
        assert!(
            r.stderr.contains(part),
            "the error does not name `{part}`:\n{}",
            r.stderr
        );
    }
    assert!(
        !packet.join("report.html").exists(),
        "a packet was written from a broken template"
    );

    // The unchanged copy renders: the failure was the misspelling.
    fs::write(&template, text).unwrap();
    let packet = tmp.path().join("restored");
    audit(DEMO, &packet, &["--templates", path_str(&templates)]);
    assert!(packet.join("report.html").exists());
}

/// Accessions and patient references of `bundle`'s exams, and its free text (symptoms, treatment,
/// facility and practitioner names), read from the bundle's own files.
fn identifiers_and_free_text(bundle: &Path) -> (Vec<String>, Vec<String>) {
    let (mut ids, mut text) = (Vec::new(), Vec::new());
    let mut csv_column = |file: &Path, columns: &[&str], into_ids: bool| {
        let mut reader = csv::Reader::from_path(file).unwrap();
        let header = reader.headers().unwrap().clone();
        for record in reader.records() {
            let record = record.unwrap();
            for (name, value) in header.iter().zip(record.iter()) {
                if columns.contains(&name) && !value.is_empty() {
                    if into_ids {
                        ids.push(value.to_string());
                    } else {
                        text.push(value.to_string());
                    }
                }
            }
        }
    };
    let exams = bundle.join("exams");
    let exam_files: Vec<PathBuf> = if exams.is_dir() {
        fs::read_dir(&exams)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    } else {
        vec![bundle.join("exams.csv")]
    };
    for file in exam_files {
        csv_column(&file, &["accession", "patient_ref"], true);
    }
    csv_column(&bundle.join("facilities.csv"), &["name"], false);
    csv_column(&bundle.join("practitioners.csv"), &["name"], false);
    for line in fs::read_to_string(bundle.join("reactions.ndjson"))
        .unwrap()
        .lines()
    {
        let Ok(reaction) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        for field in ["symptoms", "treatment"] {
            if let Some(s) = reaction[field].as_str() {
                text.push(s.to_string());
            }
        }
    }
    ids.sort();
    ids.dedup();
    text.sort();
    text.dedup();
    (ids, text)
}

/// The text of every file of `packet`, and of report.pdf as pdftotext reads it (its streams are
/// compressed, so its bytes prove nothing) when the PDF and poppler are there.
fn packet_texts(packet: &Path) -> Vec<(String, String)> {
    let mut texts: Vec<(String, String)> = crate::common::folder_contents(packet)
        .into_iter()
        .map(|(name, bytes)| (name, String::from_utf8_lossy(&bytes).into_owned()))
        .collect();
    let pdf = packet.join("report.pdf");
    if pdf.exists() {
        match which("pdftotext") {
            Some(pdftotext) => {
                let out = Command::new(pdftotext).arg(&pdf).arg("-").output().unwrap();
                assert!(out.status.success(), "pdftotext {}", pdf.display());
                texts.push((
                    "report.pdf (pdftotext)".into(),
                    String::from_utf8_lossy(&out.stdout).into_owned(),
                ));
            }
            None => skip("poppler-utils not installed: the text of report.pdf was not searched"),
        }
    }
    texts
}

/// The identifiers (letters, digits, `-`, `_`) of `ids` found in `texts`, as `file: id`.
fn id_leaks(texts: &[(String, String)], ids: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for (name, text) in texts {
        let tokens: std::collections::HashSet<&str> = text
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .collect();
        found.extend(
            ids.iter()
                .filter(|id| tokens.contains(id.as_str()))
                .map(|id| format!("{name}: {id}")),
        );
    }
    found
}

/// The values of `needles` found in `texts`, as `file: value`. HTML, JSON and CSV escape markup
/// and quotes, so the escaped forms are searched as well.
fn text_leaks(texts: &[(String, String)], needles: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for (name, text) in texts {
        for needle in needles {
            let forms = [
                needle.clone(),
                needle
                    .replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
                    .replace('"', "&quot;")
                    .replace('\'', "&#x27;")
                    .replace('/', "&#x2f;"),
                serde_json::to_string(needle)
                    .unwrap()
                    .trim_matches('"')
                    .to_string(),
                needle.replace('"', "\"\""),
            ];
            if forms.iter().any(|f| text.contains(f.as_str())) {
                found.push(format!("{name}: {needle}"));
            }
        }
    }
    found
}

#[test]
fn redaction_hashes_identifiers_and_leaves_free_text_out_of_every_packet_file() {
    let tmp = tempfile::tempdir().unwrap();
    let probe = probe_policies(tmp.path());
    for bundle_dir in [DEMO.to_string(), bundle(SCRIPT)] {
        let (ids, free_text) = identifiers_and_free_text(&root().join(&bundle_dir));
        assert!(!ids.is_empty() && !free_text.is_empty(), "{bundle_dir}");
        let out = |name: &str| {
            tmp.path()
                .join(format!("{}-{name}", bundle_dir.replace('/', "_")))
        };
        let with = |salt: &'static str| -> Vec<&str> {
            let mut args: Vec<&str> = probe.iter().map(String::as_str).collect();
            args.extend(["--redact", "--redact-salt", salt]);
            args
        };

        // Without --redact the probe pack shows them all: the check below has teeth.
        let plain = out("plain");
        audit(
            &bundle_dir,
            &plain,
            &probe.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        let texts = packet_texts(&plain);
        let leaks = id_leaks(&texts, &ids);
        let shown: std::collections::HashSet<&str> =
            leaks.iter().filter_map(|l| l.rsplit(": ").next()).collect();
        assert!(
            ids.iter().all(|id| shown.contains(id.as_str())),
            "{bundle_dir}: the unredacted packet does not show every identifier"
        );
        assert!(
            !text_leaks(&texts, &free_text).is_empty(),
            "{bundle_dir}: the unredacted packet shows no free text"
        );

        let (a, b, c) = (out("salt-s"), out("salt-s-again"), out("salt-t"));
        audit(&bundle_dir, &a, &with("s"));
        let texts = packet_texts(&a);
        let leaked: Vec<String> = id_leaks(&texts, &ids)
            .into_iter()
            .chain(text_leaks(&texts, &free_text))
            .collect();
        assert!(
            leaked.is_empty(),
            "{bundle_dir}: redacted values in the packet:\n{}",
            leaked.join("\n")
        );
        let findings = fs::read_to_string(a.join("findings.json")).unwrap();
        let hashes = redaction_hashes(&findings);
        assert!(
            !hashes.is_empty(),
            "{bundle_dir}: no `r:` hash in findings.json"
        );
        assert!(
            findings.contains("[redacted]"),
            "{bundle_dir}: no `[redacted]`"
        );

        if bundle_dir == DEMO {
            // Same-salt reproducibility is in packet.rs; the small bundle below checks salts.
            continue;
        }
        audit(&bundle_dir, &b, &with("s"));
        assert!(
            crate::common::folder_contents(&a) == crate::common::folder_contents(&b),
            "{bundle_dir}: the same salt gave another packet"
        );
        audit(&bundle_dir, &c, &with("t"));
        let other = redaction_hashes(&fs::read_to_string(c.join("findings.json")).unwrap());
        assert_eq!(hashes.len(), other.len(), "{bundle_dir}");
        assert!(
            hashes.iter().all(|h| !other.contains(h)),
            "{bundle_dir}: another salt kept a hash"
        );
    }
}

/// Every `r:` + 16 hex digits redaction hash in `text`, sorted and deduplicated.
fn redaction_hashes(text: &str) -> Vec<String> {
    let mut out: Vec<String> = text
        .match_indices("\"r:")
        .filter_map(|(at, _)| {
            let hex = text.get(at + 3..at + 19)?;
            let closed = text[at + 19..].starts_with('"');
            (closed && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| format!("r:{hex}"))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

// The real consumers: headless Chromium and poppler.

/// What headless Chromium reported for one page.
struct BrowserRun {
    /// `CONSOLE(...)`/`:CONSOLE:` log lines and uncaught exceptions (Chromium logs every console
    /// message, whatever its level, as `INFO:CONSOLE:LINE] "text", source: URL (LINE)`).
    console: Vec<String>,
    /// http(s) URLs the page requested (not Chromium's own background requests).
    fetched: Vec<String>,
    /// Chromium's own requests (initiator `not an origin`), for the record.
    background: Vec<String>,
}

/// Opens `page` in headless Chromium with logging and a net log; writes a screenshot to `shot`.
fn open_in_chromium(chromium: &Path, page: &Path, shot: &Path, work: &Path) -> BrowserRun {
    let profile = tempfile::tempdir_in(work).unwrap();
    let net_log = work.join(format!(
        "{}.netlog.json",
        page.file_stem().unwrap().to_string_lossy()
    ));
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let out = Command::new("timeout")
        .arg("180")
        .arg(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,1800",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--log-net-log={}", net_log.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "chromium on {url} exited {:?}:\n{stderr}",
        out.status.code()
    );
    let console = stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("CONSOLE(") || l.contains("Uncaught"))
        .map(String::from)
        .collect();
    let log: Value = serde_json::from_slice(&fs::read(&net_log).unwrap())
        .unwrap_or_else(|e| panic!("the net log {} is not JSON: {e}", net_log.display()));
    let (fetched, background) = http_requests(&log);
    BrowserRun {
        console,
        fetched,
        background,
    }
}

/// The http(s) URL requests of a Chromium net log: (the page's, Chromium's own). A request is
/// Chromium's own when its URL_REQUEST_START_JOB names no initiating origin; every other
/// URL_REQUEST source with an http(s) URL counts as the page's.
fn http_requests(log: &Value) -> (Vec<String>, Vec<String>) {
    let constant = |table: &str, name: &str| log["constants"][table][name].as_i64();
    let url_request = constant("logSourceType", "URL_REQUEST");
    let start_job = constant("logEventTypes", "URL_REQUEST_START_JOB");
    let mut by_source: std::collections::BTreeMap<i64, (String, bool)> = Default::default();
    for event in log["events"].as_array().into_iter().flatten() {
        if event["source"]["type"].as_i64() != url_request {
            continue;
        }
        let Some(url) = event["params"]["url"].as_str() else {
            continue;
        };
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            continue;
        }
        let id = event["source"]["id"].as_i64().unwrap_or(-1);
        let entry = by_source
            .entry(id)
            .or_insert_with(|| (url.to_string(), false));
        if event["type"].as_i64() == start_job
            && event["params"]["initiator"].as_str() == Some("not an origin")
        {
            entry.1 = true;
        }
    }
    let (mut page, mut own) = (Vec::new(), Vec::new());
    for (url, browser_own) in by_source.into_values() {
        if browser_own { &mut own } else { &mut page }.push(url);
    }
    (page, own)
}

#[test]
fn report_html_opens_cleanly_in_headless_chromium() {
    let Some(chromium) = which("chromium") else {
        skip(
            "chromium not installed: report.html was not opened in a browser (.ci/run installs Debian's chromium)",
        );
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let shots = root().join("target/report-screenshots");
    fs::create_dir_all(&shots).unwrap();

    // First the detectors, on a page that logs to the console, throws, and fetches two URLs.
    let broken = tmp.path().join("broken.html");
    fs::write(
        &broken,
        "<!DOCTYPE html><html><head><link rel=\"stylesheet\" href=\"https://example.com/x.css\">\
         </head><body><img src=\"http://example.org/a.png\">\n<script>\nconsole.error(\"deliberate\");\n\
         undefinedFunction();\n</script></body></html>\n",
    )
    .unwrap();
    let b = open_in_chromium(
        &chromium,
        &broken,
        &tmp.path().join("broken.png"),
        tmp.path(),
    );
    assert!(
        b.console.iter().any(|l| l.contains("deliberate"))
            && b.console.iter().any(|l| l.contains("Uncaught")),
        "the console detector missed the broken page's messages: {:?}",
        b.console
    );
    for url in ["https://example.com/x.css", "http://example.org/a.png"] {
        assert!(
            b.fetched.iter().any(|u| u == url),
            "the net log detector missed {url}: page {:?}, Chromium's own {:?}",
            b.fetched,
            b.background
        );
    }

    // Then the real report, and the one whose records hold markup.
    let packet = tmp.path().join("demo");
    audit(DEMO, &packet, &[]);
    let shot = shots.join("first-page.png");
    let _ = fs::remove_file(&shot);
    let demo = open_in_chromium(&chromium, &packet.join("report.html"), &shot, tmp.path());
    let script_packet = tmp.path().join("script");
    let probe = probe_policies(tmp.path());
    let probe: Vec<&str> = probe.iter().map(String::as_str).collect();
    audit(&bundle(SCRIPT), &script_packet, &probe);
    let script = open_in_chromium(
        &chromium,
        &script_packet.join("report.html"),
        &shots.join("report-script.png"),
        tmp.path(),
    );
    for (label, r) in [("demo", &demo), (SCRIPT, &script)] {
        assert!(
            r.console.is_empty(),
            "{label}: console output:\n{}",
            r.console.join("\n")
        );
        assert!(r.fetched.is_empty(), "{label}: fetched {:?}", r.fetched);
        if !r.background.is_empty() {
            let hosts: Vec<&str> = r
                .background
                .iter()
                .filter_map(|u| u.split('/').nth(2))
                .collect();
            eprintln!("{label}: ignored Chromium's own background requests to {hosts:?}");
        }
    }
    let png = fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 20_000,
        "{} is not a rendered page ({} bytes)",
        shot.display(),
        png.len()
    );
    eprintln!("screenshot of report.html: {}", shot.display());
}

/// The KPI tiles of the executive summary in report.html: (label, value) as shown.
fn summary_tiles(html: &str) -> Vec<(String, String)> {
    let summary = html
        .split("<section class=\"page\" id=\"summary\">")
        .nth(1)
        .and_then(|s| s.split("</section>").next())
        .unwrap_or("");
    let between = |s: &str, open: &str| -> Option<String> {
        let rest = s.split(open).nth(1)?;
        Some(rest.split("</div>").next()?.to_string())
    };
    summary
        .split("<div class=\"tile\">")
        .skip(1)
        .filter_map(|tile| {
            Some((
                between(tile, "<div class=\"label\">")?,
                between(tile, "<div class=\"value\">")?,
            ))
        })
        .collect()
}

fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn report_pdf_reads_back_with_poppler() {
    let tmp = tempfile::tempdir().unwrap();
    let packet = tmp.path().join("demo");
    audit(DEMO, &packet, &[]);
    let pdf = packet.join("report.pdf");
    if !pdf.exists() {
        skip(
            "report.pdf is not in the packet (no PDF renderer yet): nothing for pdftotext and pdfinfo to read",
        );
        return;
    }
    let (Some(pdftotext), Some(pdfinfo)) = (which("pdftotext"), which("pdfinfo")) else {
        skip(
            "poppler-utils not installed: report.pdf was not read back (.ci/run installs Debian's poppler-utils)",
        );
        return;
    };
    let tool = |program: &Path, args: &[&str]| -> String {
        let out = Command::new(program).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{} {args:?}: {}",
            program.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let info = tool(&pdfinfo, &[path_str(&pdf)]);
    let pages: u32 = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no page count in pdfinfo:\n{info}"));
    assert!(pages >= 3, "report.pdf has {pages} pages:\n{info}");
    let meta = tool(&pdfinfo, &["-meta", path_str(&pdf)]);
    assert!(
        meta.contains("pdfaid"),
        "no PDF/A identification (pdfaid) in the XMP metadata:\n{meta}"
    );

    let text = squash(&tool(&pdftotext, &["-layout", path_str(&pdf), "-"]));
    let doc: Value =
        serde_json::from_slice(&fs::read(packet.join("findings.json")).unwrap()).unwrap();
    let mut rules: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    rules.sort_unstable();
    rules.dedup();
    assert!(!rules.is_empty());
    let missing: Vec<&&str> = rules.iter().filter(|r| !text.contains(**r)).collect();
    assert!(
        missing.is_empty(),
        "rules with findings not in report.pdf: {missing:?}"
    );

    let html = fs::read_to_string(packet.join("report.html")).unwrap();
    let tiles = summary_tiles(&html);
    assert!(
        tiles.iter().any(|(label, _)| label == "Response median"),
        "no Response median tile in report.html: {tiles:?}"
    );
    let missing: Vec<_> = tiles
        .iter()
        .filter(|(_, value)| !text.contains(&squash(value)))
        .collect();
    assert!(
        missing.is_empty(),
        "KPI values of report.html not in report.pdf: {missing:?}"
    );
    let organization = doc["bundle"]["organization"].as_str().unwrap();
    assert!(
        text.contains(organization),
        "no `{organization}` in report.pdf"
    );
}

/// The facility pages list each finding under the facility of the record it is about: the
/// second of two exams sharing an id (at another facility) is that facility's, not the first's.
#[test]
fn facility_pages_attribute_findings_to_their_own_record() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("packet");
    audit(&crate::common::bundle("facility_attribution"), &out, &[]);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let page = |id: &str| -> String {
        let start = html
            .find(&format!("<h3>{id} · "))
            .unwrap_or_else(|| panic!("no page for {id}"));
        let rest = &html[start..];
        rest[..rest.find("</article>").unwrap()].to_string()
    };
    let (f1, f2) = (page("F1"), page("F2"));
    assert!(f1.contains("· 0 findings"), "{f1}");
    assert!(f2.contains("· 2 findings"), "{f2}");
    assert_eq!(f2.matches("exams.csv:3").count(), 2, "{f2}");
}
