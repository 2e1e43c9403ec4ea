//! SHA-256 digests written as lowercase hex: file and pack hashes, finding ids, packet ids and
//! the salted references of `--redact`. The lowest layer: it uses nothing of vigil.

use sha2::{Digest, Sha256};

/// The SHA-256 of `bytes`, as 64 lowercase hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The SHA-256 of the concatenation of `parts`, as 64 lowercase hex digits.
pub fn sha256_hex_of(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hex(&hasher.finalize())
}

/// The salted reference `--redact` writes in place of a value: `r:` and the first 16 hex digits
/// of sha256(salt || value).
pub fn salted_ref(salt: &[u8], value: &str) -> String {
    format!("r:{}", &sha256_hex_of(&[salt, value.as_bytes()])[..16])
}

/// Bytes as lowercase hex, two digits a byte.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_lowercase_hex_of_the_bytes() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(sha256_hex_of(&[b"a", b"bc"]), sha256_hex(b"abc"));
        assert_eq!(hex(&[0x00, 0xff, 0x1a]), "00ff1a");
    }

    #[test]
    fn salted_refs_depend_on_salt_and_value() {
        let r = salted_ref(b"salt", "P-123");
        assert!(r.starts_with("r:") && r.len() == 18, "{r}");
        assert_eq!(r, format!("r:{}", &sha256_hex(b"saltP-123")[..16]));
        assert_ne!(r, salted_ref(b"other", "P-123"));
    }
}
