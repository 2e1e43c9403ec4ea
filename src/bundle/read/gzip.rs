//! Gzip decompression, kept apart from the formats: damage to a stream must cost only the records
//! after it, so the bytes up to the last complete line are kept and read as usual.

use std::io::{ErrorKind, Read};

use super::{ReadProblem, count_newlines, to_line};

/// Decompresses a whole (possibly multi-member) gzip stream, up to `limit` bytes of output,
/// one member at a time:
/// - a stream cut short (a truncated file) keeps the output up to and including its last
///   complete line: deflate output before the cut is what was compressed;
/// - a member that fails its check (corrupt deflate data, a CRC or length mismatch) loses every
///   byte it produced: corrupt data can decode to plausible text, so only members that verified
///   are kept, up to their last complete line;
/// - output past `limit` (a decompression bomb) is cut at the last complete line within it.
///
/// The problem, if any, is placed on the line after the last line kept. The `u64` is every byte
/// decompressed, kept or not (`limit + 1` when the output reached past `limit`): what the
/// bundle's total of decompressed bytes counts.
pub(super) fn gunzip(bytes: &[u8], limit: u64) -> (Vec<u8>, Option<ReadProblem>, u64) {
    let capacity = bytes.len().saturating_mul(4).min(limit as usize);
    let mut out = Vec::with_capacity(capacity);
    let mut rest = bytes;
    while !rest.is_empty() {
        let verified = out.len();
        let budget = limit.saturating_add(1).saturating_sub(out.len() as u64);
        let mut member = flate2::bufread::GzDecoder::new(rest);
        let read = (&mut member).take(budget).read_to_end(&mut out);
        let produced = out.len() as u64;
        if produced > limit {
            out.truncate(limit as usize);
            let message = format!(
                "gzip file expands past {limit} bytes ({} compressed): the rest is not read (raise `[limits] gzip_expansion` or `max_decompressed_bytes` in bundle.toml if the file is genuine)",
                bytes.len()
            );
            let (out, problem) = cut(out, message);
            return (out, problem, produced);
        }
        match read {
            Ok(_) => rest = member.into_inner(),
            Err(err) if err.kind() == ErrorKind::UnexpectedEof => {
                let (out, problem) =
                    cut(out, format!("gzip stream is truncated or corrupt: {err}"));
                return (out, problem, produced);
            }
            Err(err) => {
                out.truncate(verified);
                let (out, problem) = cut(
                    out,
                    format!(
                        "gzip member failed its integrity check ({err}): the records it held are not read"
                    ),
                );
                return (out, problem, produced);
            }
        }
    }
    let produced = out.len() as u64;
    (out, None, produced)
}

/// Keeps `out` up to and including its last complete line, with `message` on the line after it.
fn cut(mut out: Vec<u8>, message: String) -> (Vec<u8>, Option<ReadProblem>) {
    let keep = out.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    out.truncate(keep);
    let line = to_line(count_newlines(&out) as u64 + 1);
    (out, Some(ReadProblem { line, message }))
}
