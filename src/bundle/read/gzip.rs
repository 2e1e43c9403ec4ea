//! Gzip decompression, kept apart from the formats: damage to a stream must cost only the records
//! after it, so the bytes up to the last complete line are kept and read as usual.

use std::io::Read;

use super::{ReadProblem, count_newlines, to_line};

/// Decompresses a whole (possibly multi-member) gzip stream, up to `limit` bytes of output.
/// When the stream is truncated or corrupt, or would expand past `limit` (a decompression bomb),
/// keeps the output up to and including its last complete line and returns the problem, placed
/// on the line after that one.
pub(super) fn gunzip(bytes: &[u8], limit: u64) -> (Vec<u8>, Option<ReadProblem>) {
    let capacity = bytes.len().saturating_mul(4).min(limit as usize);
    let mut out = Vec::with_capacity(capacity);
    let mut reader = flate2::read::MultiGzDecoder::new(bytes).take(limit.saturating_add(1));
    match reader.read_to_end(&mut out) {
        Ok(_) if out.len() as u64 > limit => {
            out.truncate(limit as usize);
            let keep = out.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            out.truncate(keep);
            let line = to_line(count_newlines(&out) as u64 + 1);
            let problem = ReadProblem {
                line,
                message: format!(
                    "gzip file expands past {limit} bytes ({} compressed): the rest is not read (raise `[limits] gzip_expansion` or `max_decompressed_bytes` in bundle.toml if the file is genuine)",
                    bytes.len()
                ),
            };
            (out, Some(problem))
        }
        Ok(_) => (out, None),
        Err(err) => {
            let keep = out.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            out.truncate(keep);
            let line = to_line(count_newlines(&out) as u64 + 1);
            let problem = ReadProblem {
                line,
                message: format!("gzip stream is truncated or corrupt: {err}"),
            };
            (out, Some(problem))
        }
    }
}
