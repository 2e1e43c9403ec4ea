//! `vigil verify`: recompute every hash of a packet and check its signature.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use super::manifest::{ManifestFile, read_manifest};
use super::safe::{self, NotPlain, ReadProblem};
use super::{MANIFEST, PacketError, SIGNATURE, keys};
use crate::digest::sha256_hex;

/// What `verify` found. The packet is sound when `problems` is empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// One line each, in this order: the manifest (`missing: manifest.json`, `malformed
    /// manifest.json: ...`), the listed files by path (`changed: report.html`, `missing: x`,
    /// `unreadable: x (...)`), files the manifest does not list (`extra: y`), the signature
    /// (`bad signature: ...`, `missing: manifest.sig (...)`).
    pub problems: Vec<String>,
    /// How many files the manifest lists (all checked).
    pub files: usize,
    pub signature: SignatureStatus,
}

impl Verification {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureStatus {
    /// manifest.sig holds a signature of manifest.json under the given public key.
    Valid,
    /// There is no manifest.sig (a problem only when a public key was given).
    Absent,
    /// manifest.sig is present but no public key was given: only the hashes were checked.
    NotChecked,
    /// manifest.sig does not match manifest.json under the given public key.
    Invalid,
}

/// Checks the packet in `dir` against its manifest.json: every listed file must exist with the
/// listed size and sha256, no other file may be present (besides manifest.json and
/// manifest.sig), and, with `pubkey`, manifest.sig must be a valid signature over the exact
/// bytes of manifest.json. Every difference is a problem; `Err` only when `dir` cannot be read
/// or `pubkey` is not a readable public key (a wrong argument, not a wrong packet).
pub fn verify(dir: &Path, pubkey: Option<&Path>) -> Result<Verification, PacketError> {
    let key = pubkey.map(keys::read_verifying_key).transpose()?;
    let present = list_files(dir)?;
    let mut problems = Vec::new();
    let manifest_bytes = read_optional(dir, MANIFEST, &mut problems);
    let listed = match manifest_bytes.as_deref().map(read_manifest) {
        None => None,
        Some(Ok(files)) => Some(files),
        Some(Err(reason)) => {
            problems.push(format!("malformed {MANIFEST}: {reason}"));
            None
        }
    };
    // Without a readable manifest every file would be "extra": the manifest problem says enough.
    if let Some(files) = &listed {
        for file in files {
            check_file(dir, file, &mut problems);
        }
        let known: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
        for path in &present {
            if !known.contains(path.as_str()) && path != MANIFEST && path != SIGNATURE {
                problems.push(format!("extra: {path}"));
            }
        }
    }
    let signature = check_signature(dir, key.as_ref(), manifest_bytes.as_deref(), &mut problems);
    Ok(Verification {
        problems,
        files: listed.map_or(0, |files| files.len()),
        signature,
    })
}

fn check_file(dir: &Path, file: &ManifestFile, problems: &mut Vec<String>) {
    // A name no packet can hold (`..`, an absolute path) is not looked up at all.
    if let Some(reason) = super::file_name_problem(&file.path) {
        problems.push(format!("bad name in {MANIFEST}: {} ({reason})", file.path));
        return;
    }
    let Some(bytes) = read_optional(dir, &file.path, problems) else {
        return;
    };
    if bytes.len() as u64 != file.bytes || sha256_hex(&bytes) != file.sha256 {
        problems.push(format!("changed: {}", file.path));
    }
}

/// The bytes of a packet file; `None` (and a problem) when it is missing, a symbolic link, not a
/// regular file (a FIFO is never opened) or unreadable.
fn read_optional(dir: &Path, name: &str, problems: &mut Vec<String>) -> Option<Vec<u8>> {
    match safe::read_plain(dir, name) {
        Ok(bytes) => Some(bytes),
        Err(ReadProblem::Not(NotPlain::Missing)) => {
            problems.push(format!("missing: {name}"));
            None
        }
        Err(ReadProblem::Not(not)) => {
            problems.push(format!("unsafe: {name} is {}", not.describe()));
            None
        }
        Err(ReadProblem::Io(e)) => {
            problems.push(format!("unreadable: {name} ({e})"));
            None
        }
    }
}

fn check_signature(
    dir: &Path,
    key: Option<&ed25519_dalek::VerifyingKey>,
    manifest: Option<&[u8]>,
    problems: &mut Vec<String>,
) -> SignatureStatus {
    let signature = match safe::read_plain(dir, SIGNATURE) {
        Ok(bytes) => bytes,
        Err(ReadProblem::Not(NotPlain::Missing)) => {
            if key.is_some() {
                problems.push(format!(
                    "missing: {SIGNATURE} (a public key was given but the packet is not signed)"
                ));
            }
            return SignatureStatus::Absent;
        }
        Err(e) => {
            let why = match e {
                ReadProblem::Not(not) => not.describe().to_string(),
                ReadProblem::Io(e) => e.to_string(),
            };
            problems.push(format!("unreadable: {SIGNATURE} ({why})"));
            return if key.is_some() {
                SignatureStatus::Invalid
            } else {
                SignatureStatus::NotChecked
            };
        }
    };
    let Some(key) = key else {
        return SignatureStatus::NotChecked;
    };
    match manifest {
        Some(manifest) if keys::signature_holds(key, manifest, &signature) => {
            SignatureStatus::Valid
        }
        _ => {
            problems.push(format!(
                "bad signature: {SIGNATURE} is not a signature of {MANIFEST} by the given key"
            ));
            SignatureStatus::Invalid
        }
    }
}

/// Every file under `dir`, as `/`-separated relative paths, sorted. Symbolic links are listed,
/// not followed, so a link cannot make the walk loop.
fn list_files(dir: &Path) -> Result<Vec<String>, PacketError> {
    let meta = fs::metadata(dir).map_err(|source| PacketError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(PacketError::NotAFolder(dir.to_path_buf()));
    }
    let mut files = Vec::new();
    let mut pending = vec![(dir.to_path_buf(), String::new())];
    while let Some((folder, prefix)) = pending.pop() {
        let entries = fs::read_dir(&folder).map_err(|source| PacketError::Read {
            path: folder.clone(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| PacketError::Read {
                path: folder.clone(),
                source,
            })?;
            let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if is_dir {
                pending.push((entry.path(), format!("{name}/")));
            } else {
                files.push(name);
            }
        }
    }
    files.sort();
    Ok(files)
}
