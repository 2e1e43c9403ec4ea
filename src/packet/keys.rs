//! Ed25519 keys as PEM files (PKCS#8 private, SPKI public) and manifest.sig: the base64
//! signature over the exact bytes of manifest.json, on one line.

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::pkcs8::KeypairBytes;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use super::PacketError;

const PRIVATE: &str = "an Ed25519 private key in PKCS#8 PEM (as written by `vigil keygen`)";
const PUBLIC: &str = "an Ed25519 public key in SPKI PEM (as written by `vigil keygen`)";

/// Makes a new Ed25519 key pair from the operating system's random source and writes it as PEM
/// that OpenSSL reads too:
/// the private key (PKCS#8, readable by its owner only on Unix) to `private_out`, the public key
/// (SPKI) to `public_out`. Never overwrites an existing private key.
pub fn keygen(private_out: &Path, public_out: &Path) -> Result<(), PacketError> {
    if private_out == public_out {
        return Err(PacketError::SameKeyPath(private_out.to_path_buf()));
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| PacketError::Random(e.to_string()))?;
    let key = SigningKey::from_bytes(&seed);
    let key_err = |path: &Path, what, e: &dyn std::fmt::Display| PacketError::Key {
        path: path.to_path_buf(),
        what,
        message: format!("cannot encode it ({e})"),
    };
    // PKCS#8 v1 (the seed alone): OpenSSL 3.0 does not read the v2 form that adds the public key.
    let seed_only = KeypairBytes {
        secret_key: key.to_bytes(),
        public_key: None,
    };
    let private_pem = seed_only
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| key_err(private_out, PRIVATE, &e))?;
    let public_pem = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| key_err(public_out, PUBLIC, &e))?;
    write_new_private(private_out, private_pem.as_bytes())?;
    if let Err(source) = fs::write(public_out, public_pem.as_bytes()) {
        // Without its public half the private key is of no use; do not leave it behind.
        let _ = fs::remove_file(private_out);
        return Err(PacketError::Write {
            path: public_out.to_path_buf(),
            source,
        });
    }
    Ok(())
}

fn write_new_private(path: &Path, pem: &[u8]) -> Result<(), PacketError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|source| {
        if source.kind() == ErrorKind::AlreadyExists {
            PacketError::KeyExists(path.to_path_buf())
        } else {
            PacketError::Write {
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    file.write_all(pem).map_err(|source| PacketError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a private key written by [`keygen`] (or by `openssl genpkey -algorithm ed25519`).
pub(super) fn read_signing_key(path: &Path) -> Result<SigningKey, PacketError> {
    let text = read_text(path, PRIVATE)?;
    SigningKey::from_pkcs8_pem(&text).map_err(|e| PacketError::Key {
        path: path.to_path_buf(),
        what: PRIVATE,
        message: e.to_string(),
    })
}

/// Reads a public key written by [`keygen`] (or by `openssl pkey -pubout`).
pub(super) fn read_verifying_key(path: &Path) -> Result<VerifyingKey, PacketError> {
    let text = read_text(path, PUBLIC)?;
    VerifyingKey::from_public_key_pem(&text).map_err(|e| PacketError::Key {
        path: path.to_path_buf(),
        what: PUBLIC,
        message: e.to_string(),
    })
}

fn read_text(path: &Path, what: &'static str) -> Result<String, PacketError> {
    let bytes = fs::read(path).map_err(|source| PacketError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|_| PacketError::Key {
        path: path.to_path_buf(),
        what,
        message: "it is not UTF-8 text".to_string(),
    })
}

/// The bytes of manifest.sig: base64 of the 64-byte signature over `manifest`, and a newline.
pub(super) fn sign(key: &SigningKey, manifest: &[u8]) -> Vec<u8> {
    let mut line = BASE64.encode(key.sign(manifest).to_bytes()).into_bytes();
    line.push(b'\n');
    line
}

/// Whether `signature_file` (manifest.sig) holds a valid signature of `manifest` under `key`.
/// Surrounding whitespace is ignored (an editor may add or drop the final newline; the
/// signature itself cannot be changed that way).
pub(super) fn signature_holds(key: &VerifyingKey, manifest: &[u8], signature_file: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(signature_file) else {
        return false;
    };
    let Ok(raw) = BASE64.decode(text.trim()) else {
        return false;
    };
    let Ok(signature) = Signature::from_slice(&raw) else {
        return false;
    };
    key.verify_strict(manifest, &signature).is_ok()
}
