//! Gzip decompression, kept apart from the formats: damage to a stream must cost only the records
//! after it, so the bytes up to the last complete line are kept and read as usual.

use std::io::Read;

use super::{ReadProblem, count_newlines, to_line};

/// Decompresses a whole (possibly multi-member) gzip stream. When the stream is truncated or
/// corrupt, keeps the output up to and including its last complete line and returns the problem,
/// placed on the line after that one.
pub(super) fn gunzip(bytes: &[u8]) -> (Vec<u8>, Option<ReadProblem>) {
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(4));
    match flate2::read::MultiGzDecoder::new(bytes).read_to_end(&mut out) {
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
