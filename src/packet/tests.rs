#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on the first surprise"
)]

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::*;
use crate::eval::model::{Finding, Location, Metric, Status, Subject};
use crate::policy::severity::Severity;
use crate::report::fixture::{Run, finding};

fn doc() -> serde_json::Value {
    json!({
        "format": "vigil.findings/1",
        "findings": [
            {
                "id": "0123456789abcdef", "rule": "SUP-004", "severity": "critical", "status": "fail",
                "subject": {"dataset": "exams", "key": "E-1"},
                "location": {"file": "exams/2026-01.csv", "line": 12},
                "message": "said \"no\", then\nleft", "citation": "42 CFR 410.32(b)(3)(ii)"
            },
            {
                "id": "fedcba9876543210", "rule": "DQ-001", "severity": "low", "status": "waived",
                "subject": {"dataset": "exams", "key": "-5"},
                "location": {"file": "exams/2026-01.csv", "line": 3},
                "message": "=cmd()", "citation": "@home"
            }
        ],
        "metrics": [
            {"id": "response.median_s", "group": {}, "value": 21.5, "numerator": null, "denominator": 412.0},
            {"id": "reactions.rate", "group": {"facility_id": "F1", "month": "2026-01", "contrast_class": "iodinated"},
             "value": -1.5, "numerator": 3.0, "denominator": 200.0}
        ]
    })
}

/// The findings and metrics of [`doc`], typed.
fn run() -> Run {
    let mut run = Run::new(vec![
        Finding {
            id: "0123456789abcdef".into(),
            severity: Severity::Critical,
            subject: Subject {
                dataset: "exams".into(),
                key: "E-1".into(),
            },
            location: Location {
                file: "exams/2026-01.csv".into(),
                line: 12,
            },
            message: "said \"no\", then\nleft".into(),
            citation: "42 CFR 410.32(b)(3)(ii)".into(),
            ..finding("SUP-004")
        },
        Finding {
            id: "fedcba9876543210".into(),
            severity: Severity::Low,
            status: Status::Waived,
            subject: Subject {
                dataset: "exams".into(),
                key: "-5".into(),
            },
            location: Location {
                file: "exams/2026-01.csv".into(),
                line: 3,
            },
            message: "=cmd()".into(),
            citation: "@home".into(),
            ..finding("DQ-001")
        },
    ]);
    let group = [
        ("facility_id", "F1"),
        ("month", "2026-01"),
        ("contrast_class", "iodinated"),
    ];
    run.eval.metrics = vec![
        Metric {
            id: "response.median_s".into(),
            policy: "network-benchmarks".into(),
            policy_version: "1.0.0".into(),
            parameters: Default::default(),
            group: Default::default(),
            value: 21.5,
            numerator: None,
            denominator: Some(412.0),
        },
        Metric {
            id: "reactions.rate".into(),
            policy: "-local".into(),
            policy_version: "1.0.0".into(),
            parameters: Default::default(),
            group: group.map(|(k, v)| (k.into(), v.into())).into(),
            value: -1.5,
            numerator: Some(3.0),
            denominator: Some(200.0),
        },
    ];
    run
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap()
}

#[test]
fn findings_csv_quotes_guards_and_ends_lines_with_lf() {
    let csv = text(findings_csv(&run().doc()));
    assert_eq!(
        csv,
        "id,rule,severity,status,dataset,key,file,line,message,citation\n\
         0123456789abcdef,SUP-004,critical,fail,exams,E-1,exams/2026-01.csv,12,\"said \"\"no\"\", then\nleft\",42 CFR 410.32(b)(3)(ii)\n\
         fedcba9876543210,DQ-001,low,waived,exams,'-5,exams/2026-01.csv,3,'=cmd(),'@home\n"
    );
    assert!(!csv.contains('\r'));
}

#[test]
fn findings_csv_of_an_empty_document_is_the_header() {
    assert_eq!(
        text(findings_csv(&Run::new(vec![]).doc())),
        "id,rule,severity,status,dataset,key,file,line,message,citation\n"
    );
}

#[test]
fn findings_csv_guards_plus_and_quotes_a_guarded_comma() {
    let run = Run::new(vec![Finding {
        id: "+1".into(),
        message: "-a,b".into(),
        ..finding("a,b")
    }]);
    let csv = text(findings_csv(&run.doc()));
    assert_eq!(
        csv.lines().nth(1),
        Some("'+1,\"a,b\",info,fail,,,,0,\"'-a,b\",")
    );
}

#[test]
fn metrics_csv_leaves_absent_group_keys_and_nulls_empty() {
    assert_eq!(
        text(metrics_csv(&run().doc())),
        "id,policy,policy_version,facility_id,month,contrast_class,severity,value,numerator,denominator\n\
         response.median_s,network-benchmarks,1.0.0,,,,,21.5,,412.0\n\
         reactions.rate,'-local,1.0.0,F1,2026-01,iodinated,,-1.5,3.0,200.0\n"
    );
}

fn entries() -> Vec<InputEntry> {
    let entry = |kind, path: &str, n: u64| InputEntry {
        kind,
        path: path.to_string(),
        sha256: crate::digest::sha256_hex(path.as_bytes()),
        bytes: n,
    };
    vec![
        entry("script", "builtin:x/sup.rhai", 10),
        entry("bundle", "sessions.csv", 3),
        entry("policy", "builtin:x/1.0.0.toml", 20),
        entry("bundle", "exams/2026-01.csv", 4),
        entry("script", "builtin:x/sup.rhai", 10),
    ]
}

#[test]
fn inputs_json_is_sorted_deduplicated_and_ends_with_a_newline() {
    let bytes = inputs_json(&entries());
    let mut reversed = entries();
    reversed.reverse();
    assert_eq!(bytes, inputs_json(&reversed));
    assert!(bytes.ends_with(b"]\n"));
    let parsed: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let order: Vec<String> = parsed
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["kind"].as_str().unwrap(),
                e["path"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        order,
        [
            "bundle exams/2026-01.csv",
            "bundle sessions.csv",
            "policy builtin:x/1.0.0.toml",
            "script builtin:x/sup.rhai"
        ]
    );
    assert_eq!(parsed[0]["bytes"], 4);
    assert_eq!(parsed[0]["sha256"].as_str().unwrap().len(), 64);
}

#[test]
fn packet_id_hashes_inputs_then_findings() {
    let id = packet_id(b"[]\n", b"{}\n");
    assert_eq!(id.len(), 16);
    assert_eq!(id, packet_id(b"[]\n", b"{}\n"));
    assert_eq!(id, crate::digest::sha256_hex(b"[]\n{}\n")[..16]);
    assert_ne!(id, packet_id(b"{}\n", b"[]\n"));
}

// Packets on disk.

fn files() -> Vec<PacketFile> {
    let findings = serde_json::to_vec_pretty(&doc()).unwrap();
    vec![
        PacketFile::new("report.html", "<!doctype html><title>r</title>\n"),
        PacketFile::new("findings.csv", findings_csv(&run().doc())),
        PacketFile::new("metrics.csv", metrics_csv(&run().doc())),
        PacketFile::new("inputs.json", inputs_json(&entries())),
        PacketFile::new("findings.json", findings),
    ]
}

fn args() -> serde_json::Value {
    json!({"packs": ["builtin:cms-direct-supervision"], "fail_on": "high", "redact": false})
}

const AS_OF: &str = "2026-04-02T00:00:00Z";

fn write(out: &Path, sign: Option<&Path>) {
    write_packet(out, &files(), AS_OF, &args(), sign).unwrap();
}

fn read_all(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut all: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    all.sort();
    all
}

fn problems(dir: &Path) -> Vec<String> {
    verify(dir, None).unwrap().problems
}

#[test]
fn the_same_inputs_give_byte_identical_packets_wherever_written() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("deeper/b"));
    write(&a, None);
    write(&b, None);
    let first = read_all(&a);
    assert_eq!(first, read_all(&b));
    let names: Vec<&str> = first.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "findings.csv",
            "findings.json",
            "inputs.json",
            "manifest.json",
            "metrics.csv",
            "report.html"
        ]
    );
}

#[test]
fn the_manifest_lists_every_file_but_itself_sorted_by_path() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), None);
    let bytes = fs::read(tmp.path().join("manifest.json")).unwrap();
    assert!(bytes.ends_with(b"}\n"));
    let manifest: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(manifest["format"], "vigil.manifest/1");
    assert_eq!(manifest["tool"]["name"], "vigil");
    assert_eq!(manifest["tool"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(manifest["as_of"], AS_OF);
    assert_eq!(manifest["args"], args());
    let listed: Vec<&str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        [
            "findings.csv",
            "findings.json",
            "inputs.json",
            "metrics.csv",
            "report.html"
        ]
    );
    let report = &manifest["files"][4];
    assert_eq!(report["bytes"], 32);
    assert_eq!(
        report["sha256"],
        crate::digest::sha256_hex(b"<!doctype html><title>r</title>\n")
    );
    let text = String::from_utf8(bytes).unwrap();
    assert!(
        text.find("\"format\"") < text.find("\"files\""),
        "format comes first"
    );
}

#[test]
fn a_clean_packet_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), None);
    let v = verify(tmp.path(), None).unwrap();
    assert_eq!(v.problems, Vec::<String>::new());
    assert!(v.is_ok());
    assert_eq!(v.files, 5);
    assert_eq!(v.signature, SignatureStatus::Absent);
}

#[test]
fn one_flipped_byte_in_any_file_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), None);
    for file in files() {
        let path = tmp.path().join(&file.path);
        let mut bytes = file.bytes.clone();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 1;
        fs::write(&path, &bytes).unwrap();
        assert_eq!(problems(tmp.path()), [format!("changed: {}", file.path)]);
        fs::write(&path, &file.bytes).unwrap();
    }
    assert_eq!(problems(tmp.path()), Vec::<String>::new());
}

#[test]
fn a_missing_file_and_an_extra_file_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), None);
    fs::remove_file(tmp.path().join("metrics.csv")).unwrap();
    assert_eq!(problems(tmp.path()), ["missing: metrics.csv"]);
    write(tmp.path(), None);
    fs::write(tmp.path().join("notes.txt"), "hi").unwrap();
    fs::create_dir(tmp.path().join("sub")).unwrap();
    fs::write(tmp.path().join("sub/x.csv"), "x").unwrap();
    assert_eq!(
        problems(tmp.path()),
        ["extra: notes.txt", "extra: sub/x.csv"]
    );
}

#[test]
fn a_missing_or_malformed_manifest_is_a_problem() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), None);
    let manifest = tmp.path().join("manifest.json");
    let good = fs::read(&manifest).unwrap();
    for (bad, expected) in [
        (&b"{not json"[..], "malformed manifest.json: not JSON"),
        (b"{\"format\": \"other/1\", \"files\": []}", "malformed manifest.json: format is `other/1`"),
        (b"{\"format\": \"vigil.manifest/1\"}", "malformed manifest.json: no `files`"),
        (
            b"{\"format\": \"vigil.manifest/1\", \"files\": [{\"path\": \"../x\", \"sha256\": \"\", \"bytes\": 0}]}",
            "malformed manifest.json: file `../x`",
        ),
    ] {
        fs::write(&manifest, bad).unwrap();
        let found = problems(tmp.path());
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with(expected), "{found:?}");
    }
    // One byte changed inside a hash still parses, and names the file.
    let text = String::from_utf8(good).unwrap();
    let report_hash = crate::digest::sha256_hex(b"<!doctype html><title>r</title>\n");
    let flipped = if report_hash.starts_with('0') {
        "1"
    } else {
        "0"
    };
    let forged = text.replace(&report_hash, &format!("{flipped}{}", &report_hash[1..]));
    fs::write(&manifest, forged).unwrap();
    assert_eq!(problems(tmp.path()), ["changed: report.html"]);
    fs::remove_file(&manifest).unwrap();
    let v = verify(tmp.path(), None).unwrap();
    assert_eq!(v.problems, ["missing: manifest.json"]);
    assert_eq!(v.files, 0);
}

#[test]
fn verify_fails_only_when_the_folder_cannot_be_read() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(verify(&tmp.path().join("nope"), None).is_err());
    fs::write(tmp.path().join("file"), "x").unwrap();
    assert!(verify(&tmp.path().join("file"), None).is_err());
    assert_eq!(problems(tmp.path()), ["missing: manifest.json"]);
}

fn keys(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let (private, public) = (
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.pub.pem")),
    );
    keygen(&private, &public).unwrap();
    (private, public)
}

#[test]
fn keygen_writes_pem_and_never_overwrites_a_private_key() {
    let tmp = tempfile::tempdir().unwrap();
    let (private, public) = keys(tmp.path(), "k");
    let private_pem = fs::read_to_string(&private).unwrap();
    // PKCS#8 v1, the form OpenSSL 3.0 reads (v2 would start `MFEC`).
    assert!(
        private_pem.starts_with("-----BEGIN PRIVATE KEY-----\nMC4CAQAw"),
        "{private_pem}"
    );
    let public_pem = fs::read_to_string(&public).unwrap();
    assert!(
        public_pem.starts_with("-----BEGIN PUBLIC KEY-----\n"),
        "{public_pem}"
    );
    let err = keygen(&private, &tmp.path().join("other.pub.pem")).unwrap_err();
    assert!(matches!(err, PacketError::KeyExists(_)), "{err}");
    assert_eq!(fs::read_to_string(&private).unwrap(), private_pem);
    assert!(!tmp.path().join("other.pub.pem").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&private).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "private key readable by others: {mode:o}");
    }
    let (other, _) = keys(tmp.path(), "k2");
    assert_ne!(fs::read(other).unwrap(), private_pem.as_bytes());
}

#[test]
fn signatures_verify_with_the_right_key_only() {
    let tmp = tempfile::tempdir().unwrap();
    let (private, public) = keys(tmp.path(), "right");
    let (_, wrong) = keys(tmp.path(), "wrong");
    let packet = tmp.path().join("packet");
    write(&packet, Some(&private));
    let sig = fs::read_to_string(packet.join("manifest.sig")).unwrap();
    assert!(sig.ends_with('\n') && sig.lines().count() == 1, "{sig:?}");
    assert_eq!(sig.trim().len(), 88, "base64 of 64 bytes");

    let v = verify(&packet, Some(&public)).unwrap();
    assert_eq!(
        (v.problems.clone(), v.signature),
        (vec![], SignatureStatus::Valid)
    );
    let v = verify(&packet, Some(&wrong)).unwrap();
    assert_eq!(v.signature, SignatureStatus::Invalid);
    assert_eq!(v.problems.len(), 1);
    assert!(
        v.problems[0].starts_with("bad signature"),
        "{:?}",
        v.problems
    );
    let v = verify(&packet, None).unwrap();
    assert_eq!(
        (v.problems, v.signature),
        (vec![], SignatureStatus::NotChecked)
    );

    // Ed25519 signatures are deterministic: signing again gives the same packet.
    let again = tmp.path().join("again");
    write(&again, Some(&private));
    assert_eq!(read_all(&packet), read_all(&again));
}

#[test]
fn a_manifest_changed_after_signing_fails_the_signature() {
    let tmp = tempfile::tempdir().unwrap();
    let (private, public) = keys(tmp.path(), "k");
    let packet = tmp.path().join("packet");
    write(&packet, Some(&private));
    // Re-hash a changed report into the manifest, as a forger would: the hashes then agree.
    fs::write(packet.join("report.html"), "forged").unwrap();
    let manifest = packet.join("manifest.json");
    let text = fs::read_to_string(&manifest).unwrap();
    let forged = text
        .replace(
            &crate::digest::sha256_hex(b"<!doctype html><title>r</title>\n"),
            &crate::digest::sha256_hex(b"forged"),
        )
        .replace("\"bytes\": 32", "\"bytes\": 6");
    fs::write(&manifest, forged).unwrap();
    assert_eq!(problems(&packet), Vec::<String>::new(), "hashes agree");
    let v = verify(&packet, Some(&public)).unwrap();
    assert_eq!(v.signature, SignatureStatus::Invalid);
    assert!(
        v.problems[0].starts_with("bad signature"),
        "{:?}",
        v.problems
    );
    // Even one added space.
    fs::write(&manifest, format!("{text} ")).unwrap();
    fs::write(
        packet.join("report.html"),
        "<!doctype html><title>r</title>\n",
    )
    .unwrap();
    assert_eq!(
        verify(&packet, Some(&public)).unwrap().signature,
        SignatureStatus::Invalid
    );
}

#[test]
fn a_stripped_or_garbled_signature_fails_when_a_key_is_given() {
    let tmp = tempfile::tempdir().unwrap();
    let (private, public) = keys(tmp.path(), "k");
    let packet = tmp.path().join("packet");
    write(&packet, Some(&private));
    fs::write(packet.join("manifest.sig"), "not base64!\n").unwrap();
    let v = verify(&packet, Some(&public)).unwrap();
    assert_eq!(v.signature, SignatureStatus::Invalid);
    fs::remove_file(packet.join("manifest.sig")).unwrap();
    let v = verify(&packet, Some(&public)).unwrap();
    assert_eq!(v.signature, SignatureStatus::Absent);
    assert_eq!(v.problems.len(), 1);
    assert!(
        v.problems[0].starts_with("missing: manifest.sig"),
        "{:?}",
        v.problems
    );
}

#[test]
fn a_bad_key_file_is_an_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("key.pem");
    fs::write(&key, "hello").unwrap();
    let err =
        write_packet(&tmp.path().join("p"), &files(), AS_OF, &args(), Some(&key)).unwrap_err();
    assert!(err.to_string().contains("key.pem"), "{err}");
    assert!(
        !tmp.path().join("p").exists(),
        "nothing written with a bad key"
    );
    let err = verify(tmp.path(), Some(&key)).unwrap_err();
    assert!(err.to_string().contains("key.pem"), "{err}");
    let err = verify(tmp.path(), Some(&tmp.path().join("absent.pem"))).unwrap_err();
    assert!(err.to_string().contains("absent.pem"), "{err}");
}

#[test]
fn rewriting_a_packet_replaces_it_and_drops_a_stale_signature() {
    let tmp = tempfile::tempdir().unwrap();
    let (private, _) = keys(tmp.path(), "k");
    let packet = tmp.path().join("packet");
    write(&packet, Some(&private));
    assert!(packet.join("manifest.sig").exists());
    // Written again, unsigned and without the report.
    let fewer: Vec<PacketFile> = files()
        .into_iter()
        .filter(|f| f.path != "report.html")
        .collect();
    write_packet(&packet, &fewer, AS_OF, &args(), None).unwrap();
    assert!(!packet.join("manifest.sig").exists());
    assert!(!packet.join("report.html").exists());
    let v = verify(&packet, None).unwrap();
    assert_eq!((v.problems, v.files), (vec![], 4));
}

#[test]
fn a_non_empty_folder_that_is_not_a_packet_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("thesis.docx"), "precious").unwrap();
    let err = write_packet(tmp.path(), &files(), AS_OF, &args(), None).unwrap_err();
    assert!(matches!(err, PacketError::NotAPacket(_)), "{err}");
    assert_eq!(read_all(tmp.path()).len(), 1);
    // A web app's manifest.json does not make a packet either.
    fs::write(tmp.path().join("manifest.json"), "{\"name\": \"app\"}").unwrap();
    let err = write_packet(tmp.path(), &files(), AS_OF, &args(), None).unwrap_err();
    assert!(matches!(err, PacketError::NotAPacket(_)), "{err}");
    assert_eq!(read_all(tmp.path()).len(), 2);
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    write_packet(&empty, &files(), AS_OF, &args(), None).unwrap();
}

#[test]
fn file_names_outside_the_packet_or_reserved_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for name in [
        "../x",
        "/etc/x",
        "a//b",
        "./a",
        "manifest.json",
        "manifest.sig",
        "a\\b",
        "",
        "C:x",
    ] {
        let err = write_packet(
            tmp.path(),
            &[PacketFile::new(name, "x")],
            AS_OF,
            &args(),
            None,
        )
        .unwrap_err();
        assert!(
            matches!(err, PacketError::BadFileName { .. }),
            "{name}: {err}"
        );
    }
    let twice = [PacketFile::new("a", "x"), PacketFile::new("a", "y")];
    assert!(write_packet(tmp.path(), &twice, AS_OF, &args(), None).is_err());
    assert_eq!(read_all(tmp.path()).len(), 0);
    write_packet(
        tmp.path(),
        &[PacketFile::new("sub/a.txt", "x")],
        AS_OF,
        &args(),
        None,
    )
    .unwrap();
    assert_eq!(
        verify(tmp.path(), None).unwrap().problems,
        Vec::<String>::new()
    );
}
