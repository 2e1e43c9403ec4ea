//! manifest.json (sha256 and size of every packet file, the tool, `as_of` and the arguments)
//! and writing a packet folder.

use std::collections::BTreeSet;
use std::fs;
use std::io::ErrorKind;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{
    MANIFEST, MANIFEST_FORMAT, PacketError, PacketFile, SIGNATURE, file_name_problem, keys,
    pretty_json, safe,
};
use crate::digest::sha256_hex;

#[derive(Serialize)]
struct Manifest<'a> {
    format: &'static str,
    tool: Tool,
    as_of: &'a str,
    args: &'a Json,
    files: Vec<ManifestFile>,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

/// One file as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ManifestFile {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// The bytes of manifest.json over `files` (sorted by path), pretty-printed with a newline.
fn manifest_bytes(files: &[PacketFile], as_of: &str, args: &Json) -> Vec<u8> {
    let mut listed: Vec<ManifestFile> = files
        .iter()
        .map(|f| ManifestFile {
            path: f.path.clone(),
            sha256: sha256_hex(&f.bytes),
            bytes: f.bytes.len() as u64,
        })
        .collect();
    listed.sort_by(|a, b| a.path.cmp(&b.path));
    pretty_json(&Manifest {
        format: MANIFEST_FORMAT,
        tool: Tool {
            name: "vigil",
            version: env!("CARGO_PKG_VERSION"),
        },
        as_of,
        args,
        files: listed,
    })
}

/// The files a manifest lists, or why it is not a vigil manifest. Every name is checked, so a
/// forged manifest cannot point outside the packet folder.
pub(super) fn read_manifest(bytes: &[u8]) -> Result<Vec<ManifestFile>, String> {
    let doc: Json = serde_json::from_slice(bytes).map_err(|e| format!("not JSON ({e})"))?;
    match doc.get("format").and_then(Json::as_str) {
        Some(MANIFEST_FORMAT) => {}
        Some(other) => return Err(format!("format is `{other}`, expected `{MANIFEST_FORMAT}`")),
        None => return Err(format!("no `format`, expected `{MANIFEST_FORMAT}`")),
    }
    let files = doc.get("files").ok_or("no `files` list")?;
    let files: Vec<ManifestFile> =
        serde_json::from_value(files.clone()).map_err(|e| format!("bad `files` list ({e})"))?;
    let mut seen = BTreeSet::new();
    for file in &files {
        if let Some(reason) = file_name_problem(&file.path) {
            return Err(format!("file `{}`: {reason}", file.path));
        }
        if !seen.insert(file.path.as_str()) {
            return Err(format!("file `{}` is listed twice", file.path));
        }
        let is_hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
        if file.sha256.len() != 64 || !file.sha256.chars().all(is_hex) {
            return Err(format!("file `{}`: sha256 is not 64 hex digits", file.path));
        }
    }
    Ok(files)
}

/// Writes `files`, manifest.json over them and, with `sign_key` (a PKCS#8 PEM Ed25519 private
/// key), manifest.sig. `out` is created if needed; an existing folder must be empty or an earlier
/// packet, whose files are replaced (files it listed that are not written again are removed, and
/// so is a stale manifest.sig). The same arguments give byte-identical files wherever written.
pub fn write_packet(
    out: &Path,
    files: &[PacketFile],
    as_of: &str,
    args: &Json,
    sign_key: Option<&Path>,
) -> Result<(), PacketError> {
    check_names(files)?;
    // Read the key before touching the folder: a wrong key leaves an earlier packet intact.
    let key = sign_key.map(keys::read_signing_key).transpose()?;
    create_folder(out)?;
    // Held until the packet is complete: a second audit into `out` stops with exit 2.
    let _lock = safe::lock(out)?;
    let stale = earlier_packet(out)?;
    let written: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    for path in stale.iter().filter(|p| !written.contains(p.as_str())) {
        // A name an earlier (possibly tampered) manifest lists is checked like one we write.
        if file_name_problem(path).is_none() {
            safe::remove(out, path)?;
        }
    }
    safe::remove(out, SIGNATURE)?;
    for file in files {
        safe::write(out, &file.path, &file.bytes)?;
    }
    let manifest = manifest_bytes(files, as_of, args);
    safe::write(out, MANIFEST, &manifest)?;
    if let Some(key) = key {
        safe::write(out, SIGNATURE, &keys::sign(&key, &manifest))?;
    }
    Ok(())
}

fn check_names(files: &[PacketFile]) -> Result<(), PacketError> {
    let mut seen = BTreeSet::new();
    for file in files {
        if let Some(reason) = file_name_problem(&file.path) {
            return Err(PacketError::BadFileName {
                path: file.path.clone(),
                reason,
            });
        }
        if !seen.insert(file.path.as_str()) {
            return Err(PacketError::BadFileName {
                path: file.path.clone(),
                reason: "it is given twice",
            });
        }
    }
    Ok(())
}

/// Creates `out` if needed; it must be a folder.
fn create_folder(out: &Path) -> Result<(), PacketError> {
    match fs::metadata(out) {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            fs::create_dir_all(out).map_err(|source| PacketError::Write {
                path: out.to_path_buf(),
                source,
            })
        }
        Err(source) => Err(PacketError::Read {
            path: out.to_path_buf(),
            source,
        }),
        Ok(meta) if !meta.is_dir() => Err(PacketError::NotAFolder(out.to_path_buf())),
        Ok(_) => Ok(()),
    }
}

/// Checks that `out` may be written (it is empty, or an earlier packet with a readable vigil
/// manifest that is a regular file); returns the files that packet listed.
fn earlier_packet(out: &Path) -> Result<Vec<String>, PacketError> {
    let read_err = |source| PacketError::Read {
        path: out.to_path_buf(),
        source,
    };
    match safe::read_plain(out, MANIFEST) {
        // A manifest.json of some other tool does not make the folder ours to write into.
        Ok(bytes) => read_manifest(&bytes)
            .map(|files| files.into_iter().map(|f| f.path).collect())
            .map_err(|_| PacketError::NotAPacket(out.to_path_buf())),
        Err(safe::ReadProblem::Not(safe::NotPlain::Missing)) => {
            let mut entries = fs::read_dir(out).map_err(read_err)?;
            if entries.next().is_some() {
                Err(PacketError::NotAPacket(out.to_path_buf()))
            } else {
                Ok(Vec::new())
            }
        }
        Err(safe::ReadProblem::Not(_)) => Err(PacketError::Unsafe {
            path: out.join(MANIFEST),
            reason: "a symbolic link or not a regular file: not a packet vigil wrote",
        }),
        Err(safe::ReadProblem::Io(source)) => Err(PacketError::Read {
            path: out.join(MANIFEST),
            source,
        }),
    }
}
