//! manifest.json (sha256 and size of every packet file, the tool, `as_of` and the arguments)
//! and writing a packet folder.

use std::collections::BTreeSet;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{
    MANIFEST, MANIFEST_FORMAT, PacketError, PacketFile, SIGNATURE, file_name_problem, keys,
    pretty_json,
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
    let stale = prepare_folder(out)?;
    let written: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    for path in stale.iter().filter(|p| !written.contains(p.as_str())) {
        remove_if_present(&out.join(path))?;
    }
    remove_if_present(&out.join(SIGNATURE))?;
    for file in files {
        write_file(&out.join(&file.path), &file.bytes)?;
    }
    let manifest = manifest_bytes(files, as_of, args);
    write_file(&out.join(MANIFEST), &manifest)?;
    if let Some(key) = key {
        write_file(&out.join(SIGNATURE), &keys::sign(&key, &manifest))?;
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

/// Creates `out` or checks that it may be written (it is empty, or an earlier packet with a
/// readable vigil manifest); returns the files that packet listed.
fn prepare_folder(out: &Path) -> Result<Vec<String>, PacketError> {
    let read_err = |source| PacketError::Read {
        path: out.to_path_buf(),
        source,
    };
    match fs::metadata(out) {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            fs::create_dir_all(out).map_err(|source| PacketError::Write {
                path: out.to_path_buf(),
                source,
            })?;
            return Ok(Vec::new());
        }
        Err(e) => return Err(read_err(e)),
        Ok(meta) if !meta.is_dir() => return Err(PacketError::NotAFolder(out.to_path_buf())),
        Ok(_) => {}
    }
    let manifest = out.join(MANIFEST);
    match fs::read(&manifest) {
        // A manifest.json of some other tool does not make the folder ours to write into.
        Ok(bytes) => read_manifest(&bytes)
            .map(|files| files.into_iter().map(|f| f.path).collect())
            .map_err(|_| PacketError::NotAPacket(out.to_path_buf())),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            let mut entries = fs::read_dir(out).map_err(read_err)?;
            if entries.next().is_some() {
                Err(PacketError::NotAPacket(out.to_path_buf()))
            } else {
                Ok(Vec::new())
            }
        }
        Err(source) => Err(PacketError::Read {
            path: manifest,
            source,
        }),
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), PacketError> {
    let write_err = |path: PathBuf| move |source| PacketError::Write { path, source };
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(write_err(parent.to_path_buf()))?;
    }
    fs::write(path, bytes).map_err(write_err(path.to_path_buf()))
}

fn remove_if_present(path: &Path) -> Result<(), PacketError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(PacketError::Write {
            path: path.to_path_buf(),
            source: e,
        }),
        _ => Ok(()),
    }
}
