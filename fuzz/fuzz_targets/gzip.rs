//! The gzip layer under every reader: multi-member streams, damaged members, the expansion
//! limit. The first byte picks the format of the decompressed text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil::bundle::read::{Format, read_bytes};
use vigil::bundle::schema::Dataset;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let format = [Format::Csv, Format::Json, Format::Ndjson][usize::from(pick % 3)];
    let read = read_bytes(bytes, format, true, Dataset::Exams.fields());
    for record in &read.records {
        assert_eq!(record.cells.len(), Dataset::Exams.fields().len());
    }
});
