//! Evidence packets: `vigil audit --out`, `vigil verify`, `vigil keygen`, and the stored packet in
//! `fixtures/packet/signed/` (signed with `fixtures/packet/test-key.pem`, an OpenSSL-made test key).

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use vigil::packet::{self, PacketFile, SignatureStatus};

use crate::common::{bundle, root, run};

const AS_OF: &str = "2026-04-02";
const STORED: &str = "fixtures/packet/signed";
const TEST_KEY: &str = "fixtures/packet/test-key.pem";
const TEST_PUB: &str = "fixtures/packet/test-key.pub.pem";

fn audit(out: &Path, extra: &[&str]) {
    let out = out.to_str().unwrap();
    let mut args = vec![
        "audit",
        "fixtures/bundles/mixed",
        "--out",
        out,
        "--as-of",
        AS_OF,
    ];
    args.extend_from_slice(&["--fail-on", "none"]);
    args.extend_from_slice(extra);
    let r = run(&args);
    assert_eq!(r.code, 0, "vigil {args:?}:\n{}", r.stderr);
}

fn verify(dir: &Path, pubkey: Option<&Path>) -> crate::common::Run {
    let dir = dir.to_str().unwrap();
    match pubkey {
        Some(key) => run(&["verify", dir, "--pubkey", key.to_str().unwrap()]),
        None => run(&["verify", dir]),
    }
}

#[test]
fn the_same_audit_gives_byte_identical_packets_wherever_written() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("elsewhere/b"));
    audit(&a, &[]);
    audit(&b, &[]);
    let first = crate::common::folder_contents(&a);
    assert_eq!(first, crate::common::folder_contents(&b));
    let names: Vec<&str> = first.iter().map(|(n, _)| n.as_str()).collect();
    for name in [
        "findings.csv",
        "findings.json",
        "inputs.json",
        "manifest.json",
        "metrics.csv",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    assert!(!names.contains(&"manifest.sig"));
}

#[test]
fn redacted_packets_are_reproducible_with_a_fixed_salt() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    audit(&a, &["--redact", "--redact-salt", "pepper"]);
    audit(&b, &["--redact", "--redact-salt", "pepper"]);
    assert_eq!(
        crate::common::folder_contents(&a),
        crate::common::folder_contents(&b)
    );
}

#[test]
fn the_manifest_lists_every_file_with_its_hash() {
    let tmp = tempfile::tempdir().unwrap();
    audit(tmp.path(), &[]);
    let manifest: Value =
        serde_json::from_slice(&fs::read(tmp.path().join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["format"], "vigil.manifest/1");
    assert_eq!(manifest["as_of"], "2026-04-02T00:00:00Z");
    assert_eq!(manifest["tool"]["name"], "vigil");
    let args = manifest["args"].to_string();
    assert!(
        !args.contains(tmp.path().to_str().unwrap()),
        "--out leaked into args: {args}"
    );
    let mut listed = Vec::new();
    for file in manifest["files"].as_array().unwrap() {
        let path = file["path"].as_str().unwrap();
        let bytes = fs::read(tmp.path().join(path)).unwrap();
        assert_eq!(file["sha256"], vigil::digest::sha256_hex(&bytes), "{path}");
        assert_eq!(file["bytes"], bytes.len(), "{path}");
        listed.push(path.to_string());
    }
    let mut on_disk: Vec<String> = crate::common::folder_contents(tmp.path())
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    on_disk.retain(|n| n != "manifest.json");
    assert_eq!(
        listed, on_disk,
        "every file but the manifest, sorted by path"
    );
}

#[test]
fn findings_csv_has_one_row_per_finding_of_findings_json() {
    let tmp = tempfile::tempdir().unwrap();
    audit(tmp.path(), &[]);
    let doc: Value =
        serde_json::from_slice(&fs::read(tmp.path().join("findings.json")).unwrap()).unwrap();
    let csv_bytes = fs::read(tmp.path().join("findings.csv")).unwrap();
    assert!(!csv_bytes.contains(&b'\r'), "LF line ends");
    let mut reader = csv::Reader::from_reader(&csv_bytes[..]);
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header.join(","),
        "id,rule,severity,status,dataset,key,file,line,message,citation"
    );
    let ids: Vec<String> = reader
        .records()
        .map(|r| r.unwrap().get(0).unwrap().to_string())
        .collect();
    let expected: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(ids, expected);
    let metrics = fs::read_to_string(tmp.path().join("metrics.csv")).unwrap();
    assert!(
        metrics.starts_with(
            "id,policy,policy_version,facility_id,month,contrast_class,severity,value,numerator,denominator\n"
        ),
        "{metrics}"
    );
}

#[test]
fn verify_exits_0_on_a_fresh_packet_and_3_naming_each_difference() {
    let tmp = tempfile::tempdir().unwrap();
    audit(tmp.path(), &[]);
    let r = verify(tmp.path(), None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("not signed"), "{}", r.stdout);

    let report = tmp.path().join("findings.csv");
    let original = fs::read(&report).unwrap();
    let mut changed = original.clone();
    changed[original.len() / 2] ^= 1;
    fs::write(&report, changed).unwrap();
    fs::remove_file(tmp.path().join("metrics.csv")).unwrap();
    fs::write(tmp.path().join("notes.txt"), "added").unwrap();
    let r = verify(tmp.path(), None);
    assert_eq!(r.code, 3, "{}", r.stderr);
    for line in [
        "changed: findings.csv",
        "missing: metrics.csv",
        "extra: notes.txt",
    ] {
        assert!(r.stderr.contains(line), "no `{line}` in:\n{}", r.stderr);
    }
}

#[test]
fn verify_exits_3_on_a_missing_or_malformed_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    audit(tmp.path(), &[]);
    let manifest = tmp.path().join("manifest.json");
    fs::write(
        &manifest,
        "{\"format\": \"vigil.manifest/1\", \"files\": 3}",
    )
    .unwrap();
    let r = verify(tmp.path(), None);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("malformed manifest.json"), "{}", r.stderr);
    fs::remove_file(&manifest).unwrap();
    let r = verify(tmp.path(), None);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("missing: manifest.json"), "{}", r.stderr);
}

#[test]
fn verify_of_a_folder_that_does_not_exist_exits_2() {
    let r = run(&["verify", "fixtures/packet/no-such-packet"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("no-such-packet"), "{}", r.stderr);
}

#[test]
fn keygen_sign_and_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let (private, public) = (tmp.path().join("vigil.key"), tmp.path().join("vigil.pub"));
    let keygen = [
        "keygen",
        "--private",
        private.to_str().unwrap(),
        "--public",
        public.to_str().unwrap(),
    ];
    let r = run(&keygen);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let key_text = fs::read_to_string(&private).unwrap();
    let r = run(&keygen);
    assert_eq!(r.code, 2, "a second keygen must not overwrite the key");
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);
    assert_eq!(fs::read_to_string(&private).unwrap(), key_text);

    let packet = tmp.path().join("packet");
    audit(&packet, &["--sign-key", private.to_str().unwrap()]);
    let r = verify(&packet, Some(&public));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("signature valid"), "{}", r.stdout);
    let r = verify(&packet, None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("not checked"), "{}", r.stdout);
    let r = verify(&packet, Some(&root().join(TEST_PUB)));
    assert_eq!(r.code, 3, "the wrong key: {}", r.stderr);
    assert!(r.stderr.contains("bad signature"), "{}", r.stderr);

    // A manifest edited after signing (one added newline) breaks the signature.
    let manifest = packet.join("manifest.json");
    let mut bytes = fs::read(&manifest).unwrap();
    bytes.push(b'\n');
    fs::write(&manifest, bytes).unwrap();
    let r = verify(&packet, Some(&public));
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("bad signature"), "{}", r.stderr);
}

#[test]
fn audit_refuses_a_non_empty_folder_that_is_not_a_packet() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("thesis.docx"), "precious").unwrap();
    let r = run(&[
        "audit",
        &bundle("mixed"),
        "--out",
        tmp.path().to_str().unwrap(),
        "--as-of",
        AS_OF,
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not a vigil packet"), "{}", r.stderr);
    assert_eq!(crate::common::folder_contents(tmp.path()).len(), 1);
}

// The stored packet: written once by vigil and signed, then kept as data. It must keep verifying,
// and writing its files again must give the same manifest and signature.

#[test]
fn the_stored_packet_verifies_with_its_key() {
    let r = run(&["verify", STORED, "--pubkey", TEST_PUB]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("signature valid"), "{}", r.stdout);
    let v = packet::verify(&root().join(STORED), Some(&root().join(TEST_PUB))).unwrap();
    assert_eq!(
        (v.problems, v.files, v.signature),
        (vec![], 5, SignatureStatus::Valid)
    );
}

#[test]
fn writing_the_stored_packet_again_reproduces_its_manifest_and_signature() {
    let stored = root().join(STORED);
    let manifest: Value =
        serde_json::from_slice(&fs::read(stored.join("manifest.json")).unwrap()).unwrap();
    let files: Vec<PacketFile> = crate::common::folder_contents(&stored)
        .into_iter()
        .filter(|(name, _)| !name.starts_with("manifest."))
        .map(|(name, bytes)| PacketFile::new(name, bytes))
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let out: PathBuf = tmp.path().join("again");
    let as_of = manifest["as_of"].as_str().unwrap();
    packet::write_packet(
        &out,
        &files,
        as_of,
        &manifest["args"],
        Some(&root().join(TEST_KEY)),
    )
    .unwrap();
    let again: Value =
        serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap();
    if manifest["tool"]["version"] == again["tool"]["version"] {
        assert_eq!(
            crate::common::folder_contents(&stored),
            crate::common::folder_contents(&out)
        );
    } else {
        // A new vigil version changes `tool.version` (and so the signature), nothing else.
        let mut stored_manifest = manifest.clone();
        stored_manifest["tool"]["version"] = again["tool"]["version"].clone();
        assert_eq!(stored_manifest, again);
    }
}
