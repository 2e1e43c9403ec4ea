//! Hostile values (issue "Hostile input"): text in any script, control characters and long
//! values reach every report without stopping the audit, and each resource a pack, template or
//! bundle can exhaust has a limit that ends in a located error or finding. Each through the
//! real binary.

use std::fs;

use serde_json::Value;

use crate::common::{run, which};

const HOSTILE_TEXT: &str = "fixtures/bundles/hostile_text";

/// Chinese, Korean, Arabic, an emoji sequence, private-use characters, ESC/BEL/NUL and a
/// 12,000-character value (fixtures/bundles/hostile_text): before, report.pdf stopped the audit
/// ("could not be displayed with font", "a PDF string is longer than 32767 characters"). Now the
/// packet is complete and verifies, the PDF draws the CJK, Hangul and emoji with the embedded
/// fallback font and shows control characters as escapes.
#[test]
fn text_in_any_script_gives_a_complete_verifiable_packet() {
    let dir = tempfile::tempdir().unwrap();
    let packet = dir.path().join("packet");
    let html = crate::hostile_fs::audit_and_verify(std::path::Path::new(HOSTILE_TEXT), &packet);
    assert!(packet.join("report.pdf").is_file(), "no report.pdf");
    for shown in [
        "Harbor \\u{202e}evil\\u{202c}",
        "湖畔影像中心 🏥 병원",
        "检查-B01",
        "G01🩻",
        "Lakeside\\u{1b}[31m IDTF\\u{7}\\u{0}",
    ] {
        assert!(html.contains(shown), "report.html lacks {shown}");
    }
    assert!(
        !html.contains(['\u{1b}', '\u{7}', '\u{0}']),
        "raw control characters in report.html"
    );
    assert!(
        html.contains("more characters"),
        "the 12,000-character name is not cut"
    );

    // findings.json keeps every value whole, control characters and all.
    let doc: Value =
        serde_json::from_slice(&fs::read(packet.join("findings.json")).unwrap()).unwrap();
    let long = format!("Lakeside\u{1b}[31m IDTF\u{7}\u{0} {}", "界".repeat(12_000));
    let messages: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains(&long)),
        "findings.json cut a value"
    );

    let Some(pdftotext) = which("pdftotext") else {
        eprintln!("skipped: pdftotext is not installed; report.pdf's text not read");
        return;
    };
    let text = std::process::Command::new(pdftotext)
        .arg(packet.join("report.pdf"))
        .arg("-")
        .output()
        .unwrap();
    assert!(text.status.success());
    let text = String::from_utf8_lossy(&text.stdout);
    for drawn in [
        "湖畔影像中心",
        "🏥",
        "병원",
        "检查-B01",
        "Lakeside\\u{1b}[31m IDTF\\u{7}\\u{0}",
        "\\u{10fffd}",
    ] {
        assert!(text.contains(drawn), "report.pdf lacks {drawn}");
    }
}

/// The text summary and `inspect` show control characters as escapes, never raw: in the
/// organization (BEL), in a data file's name and in an unknown bundle.toml key (ESC), the last
/// two copied into a temporary bundle. A raw ESC in a file name used to reach the terminal
/// through "most severe findings".
#[test]
fn terminal_output_shows_control_characters_as_escapes() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle");
    fs::create_dir_all(bundle.join("exams")).unwrap();
    for entry in fs::read_dir(HOSTILE_TEXT).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), bundle.join(entry.file_name())).unwrap();
    }
    // The exams move into a file whose name holds ESC; bundle.toml gains a key that holds ESC.
    fs::rename(
        bundle.join("exams.csv"),
        bundle.join("exams/e\u{1b}[31mx.csv"),
    )
    .unwrap();
    let manifest = fs::read_to_string(bundle.join("bundle.toml")).unwrap();
    let manifest = manifest.replace("[bundle]\n", "[bundle]\n\"k\\u001b[31mRED\" = 1\n");
    fs::write(bundle.join("bundle.toml"), manifest).unwrap();
    let b = bundle.to_str().unwrap();
    let check = run(&["check", b, "--as-of", "2026-04-02", "--fail-on", "none"]);
    assert_eq!(check.code, 0, "{}", check.stderr);
    let inspect = run(&["inspect", b]);
    assert_eq!(inspect.code, 0, "{}", inspect.stderr);
    for out in [&check.stdout, &inspect.stdout] {
        assert!(out.contains("湖畔 Imaging 🏥 \\u{7}"), "{out}");
        assert!(out.contains("e\\u{1b}[31mx.csv"), "{out}");
        assert!(out.contains("k\\u{1b}[31mRED"), "{out}");
        assert!(!out.contains(['\u{1b}', '\u{7}', '\u{0}']), "{out}");
    }
}

/// A template that loops too long (three nested `range(100000)`) used to run for minutes; now it
/// stops on its fuel with exit 2, naming the template and the flag. One that writes too much
/// stops on `--max-report-bytes`. Neither leaves a packet behind.
#[test]
fn a_template_stops_on_its_fuel_and_its_output_size() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("templates");
    fs::create_dir(&templates).unwrap();
    fs::copy("report-templates/report.typ", templates.join("report.typ")).unwrap();
    fs::write(
        templates.join("report.html.j2"),
        "{% for a in range(100000) %}{% for b in range(100000) %}{% for c in range(100000) %}\
         x{% endfor %}{% endfor %}{% endfor %}",
    )
    .unwrap();
    let packet = dir.path().join("packet");
    let audit = |extra: &[&str]| {
        let mut args = vec![
            "audit",
            "fixtures/bundles/minimal",
            "--out",
            packet.to_str().unwrap(),
            "--templates",
            templates.to_str().unwrap(),
            "--as-of",
            "2026-04-02",
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    let r = audit(&[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("report.html.j2` used up its fuel (100000000 units)")
            && r.stderr.contains("--template-fuel"),
        "{}",
        r.stderr
    );
    assert!(!packet.join("report.html").exists());
    let r = audit(&[
        "--template-fuel",
        "100000000000",
        "--max-report-bytes",
        "1000000",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("wrote more than 1000000 bytes of report.html")
            && r.stderr.contains("--max-report-bytes"),
        "{}",
        r.stderr
    );
    assert!(!packet.join("report.html").exists());
}

/// The shipped templates stay far inside both limits: a small fuel stops them, the default not.
#[test]
fn the_shipped_template_fits_its_limits() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("packet");
    let audit = |extra: &[&str]| {
        let mut args = vec![
            "audit",
            "fixtures/bundles/demo",
            "--out",
            out.to_str().unwrap(),
            "--as-of",
            "2026-04-02",
            "--fail-on",
            "none",
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    let r = audit(&["--template-fuel", "1000"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = audit(&[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// The policies' scripts share one budget of Rhai operations per run: the shipped packs take a
/// few thousand on the demo (most of their checks are answered natively), so 1,000 stops the
/// run with exit 2 and the default does not. (`fixtures/packs/err_script_budget` shows the
/// default stopping a script that takes 400,000 operations on every record.)
#[test]
fn scripts_share_one_budget_per_run() {
    let base = [
        "check",
        "fixtures/bundles/demo",
        "--as-of",
        "2026-04-02",
        "--format",
        "json",
    ];
    let mut small = base.to_vec();
    small.extend_from_slice(&["--max-script-operations", "1000"]);
    let r = run(&small);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("took more than 1000 Rhai operations in all")
            && r.stderr.contains("--max-script-operations"),
        "{}",
        r.stderr
    );
    assert_eq!(run(&base).code, 1);
}

/// All the gzip files of a bundle together decompress to at most
/// `[limits] max_bundle_decompressed_bytes`: past it the bundle is refused (exit 2, naming
/// bundle.toml and the key), whichever file is read first.
#[test]
fn the_bundle_total_of_decompressed_bytes_is_bounded() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let bundle = crate::hostile_fs::generated(dir.path(), "300");
    let mut sizes = Vec::new();
    for month in ["2026-01", "2026-02"] {
        let plain = fs::read(bundle.join(format!("exams/{month}.csv"))).unwrap();
        sizes.push(plain.len());
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&plain).unwrap();
        fs::write(
            bundle.join(format!("exams/{month}.csv.gz")),
            gz.finish().unwrap(),
        )
        .unwrap();
        fs::remove_file(bundle.join(format!("exams/{month}.csv"))).unwrap();
    }
    let manifest = fs::read_to_string(bundle.join("bundle.toml")).unwrap();
    let b = bundle.to_str().unwrap();
    let with_limit = |max: usize| {
        fs::write(
            bundle.join("bundle.toml"),
            format!("{manifest}\n[limits]\nmax_bundle_decompressed_bytes = {max}\n"),
        )
        .unwrap();
        run(&[
            "check",
            b,
            "--as-of",
            "2026-04-02",
            "--format",
            "json",
            "--fail-on",
            "none",
        ])
    };
    let total: usize = sizes.iter().sum();
    let r = with_limit(total - 1);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("bundle.toml")
            && r.stderr.contains(&format!(
                "decompress to more than {} bytes in all",
                total - 1
            ))
            && r.stderr.contains("max_bundle_decompressed_bytes"),
        "{}",
        r.stderr
    );
    let r = with_limit(total);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // Bytes decompressed and then dropped count too: a truncated stream (its last line
    // incomplete) used to count only the lines it kept, so damaged files passed the limit.
    for month in ["2026-01", "2026-02"] {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"exam_id\n").unwrap();
        gz.write_all(&vec![b'x'; 600_000]).unwrap();
        let whole = gz.finish().unwrap();
        fs::write(
            bundle.join(format!("exams/{month}.csv.gz")),
            &whole[..whole.len() - 8],
        )
        .unwrap();
    }
    let r = with_limit(1_000_000);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("decompress to more than 1000000 bytes in all"),
        "{}",
        r.stderr
    );
}

/// A 50 MB facility name used to take 6 GB inside the PDF's layout and abort: now the reports
/// and the text summary show its first 500 characters, findings.json keeps it whole, and the
/// packet verifies.
#[test]
fn a_fifty_megabyte_value_gives_a_complete_packet() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = crate::hostile_fs::generated(dir.path(), "200");
    let name = format!("Big{}", "W".repeat(50 << 20));
    crate::hostile_fs::rename_facilities(&bundle, 1..2, |_| name.clone());
    let packet = dir.path().join("packet");
    // (audit_and_verify also checks that a piped stderr gets no progress line.)
    let html = crate::hostile_fs::audit_and_verify(&bundle, &packet);
    assert!(
        html.contains("more characters"),
        "the name is not cut in report.html"
    );
    assert!(html.len() < 1 << 20, "report.html is {} bytes", html.len());
    let json = fs::read_to_string(packet.join("findings.json")).unwrap();
    assert!(
        json.contains(&name),
        "findings.json does not keep the name whole"
    );
    // `check`'s text summary printed the whole 50 MB to the terminal.
    let text = run(&["check", bundle.to_str().unwrap(), "--fail-on", "none"]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout.len() < 1 << 20,
        "the text summary is {} bytes",
        text.stdout.len()
    );
    // stderr is a pipe here (as in a CI log): no progress line, however long the run.
    assert!(!text.stderr.contains("\u{1b}[2K"), "{}", text.stderr);
}
