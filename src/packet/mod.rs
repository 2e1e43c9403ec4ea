//! Evidence packets (docs/audit.md, "The packet"): the CSV tables, inputs.json, the packet id,
//! manifest.json and its Ed25519 signature, and `verify` that checks all of them.
//!
//! The packet is written from bytes the caller already produced (report, findings.json), so the
//! same inputs always give byte-identical files wherever they are written.

mod inputs;
mod keys;
mod manifest;
mod safe;
mod tables;
mod verify;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

pub use inputs::{InputEntry, inputs_json};
pub use keys::keygen;
pub use manifest::write_packet;
pub use tables::{findings_csv, metrics_csv};
pub use verify::{SignatureStatus, Verification, verify};

/// The manifest's file name inside a packet.
pub const MANIFEST: &str = "manifest.json";
/// The signature's file name inside a packet.
pub const SIGNATURE: &str = "manifest.sig";
/// The `format` of manifest.json.
pub const MANIFEST_FORMAT: &str = "vigil.manifest/1";

/// One file of a packet, by name (relative, `/`-separated), with its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

impl PacketFile {
    pub fn new(path: impl Into<String>, bytes: impl Into<Vec<u8>>) -> PacketFile {
        PacketFile {
            path: path.into(),
            bytes: bytes.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PacketError {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write `{path}`: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "`{0}` is not empty and is not a vigil packet (no vigil manifest.json)\nhelp: write the packet into a new or empty folder, or remove the old packet first"
    )]
    NotAPacket(PathBuf),
    #[error("`{0}` is not a folder")]
    NotAFolder(PathBuf),
    #[error("packet file name `{path}` is not allowed: {reason}")]
    BadFileName { path: String, reason: &'static str },
    #[error("`{path}` is not {what}: {message}")]
    Key {
        path: PathBuf,
        what: &'static str,
        message: String,
    },
    #[error(
        "private key `{0}` already exists\nhelp: remove it first or choose another path; vigil never overwrites a key"
    )]
    KeyExists(PathBuf),
    #[error("the private and the public key cannot both be written to `{0}`")]
    SameKeyPath(PathBuf),
    #[error("cannot get random bytes for a new key: {0}")]
    Random(String),
    #[error("`{path}` is {reason}")]
    Unsafe { path: PathBuf, reason: &'static str },
    #[error(
        "`{0}` is in use by another vigil audit\nhelp: wait for it to finish, or write this packet into another folder"
    )]
    InUse(PathBuf),
}

/// The packet id shown on the report cover: the first 16 hex digits of sha256 over the bytes of
/// inputs.json followed by those of findings.json (the manifest cannot be on the cover: it
/// hashes the report).
pub fn packet_id(inputs_json: &[u8], findings_json: &[u8]) -> String {
    let mut id = crate::digest::sha256_hex_of(&[inputs_json, findings_json]);
    id.truncate(16);
    id
}

/// Why a packet file name is refused, if it is: names are relative, `/`-separated, without
/// empty, `.` or `..` parts, so a packet (or a forged manifest) never reaches outside its folder.
fn file_name_problem(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        return Some("it is empty");
    }
    if path.contains('\\') {
        return Some("use `/` to separate folders");
    }
    if path.starts_with('/') || path.contains(':') {
        return Some("it must be relative to the packet folder");
    }
    if path
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Some("empty, `.` and `..` parts are not allowed");
    }
    if path == MANIFEST || path == SIGNATURE {
        return Some("manifest.json and manifest.sig are written by vigil");
    }
    None
}

/// Pretty JSON with a trailing newline, as every JSON file of a packet is written.
fn pretty_json<T: serde::Serialize + ?Sized>(value: &T) -> Vec<u8> {
    // Serializing plain data (strings, numbers, `serde_json::Value`) into memory cannot fail;
    // an empty document would still be caught by `verify` and by the report tests.
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}
