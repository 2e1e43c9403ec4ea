//! CSV, JSON and NDJSON readers and value typing: the first byte picks the format and the
//! dataset whose schema the rest is read against; every cell read is then typed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil::bundle::read::{Format, read_bytes};
use vigil::bundle::schema::Dataset;
use vigil::bundle::typing::type_value;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let format = [Format::Csv, Format::Json, Format::Ndjson][usize::from(pick % 3)];
    let dataset = Dataset::ALL[usize::from(pick / 3) % Dataset::ALL.len()];
    let fields = dataset.fields();
    let read = read_bytes(bytes, format, false, fields);
    let mut last = 0;
    for record in &read.records {
        // Records come back in file order, each with one cell per field of the schema.
        assert!(record.line >= last, "records out of file order");
        last = record.line;
        assert_eq!(record.cells.len(), fields.len());
        for (cell, field) in record.cells.iter().zip(fields) {
            if let Some(raw) = cell {
                let _ = type_value(raw, field.ty);
            }
        }
    }
    for problem in &read.problems {
        assert!(problem.line >= 1, "a problem at line 0");
    }
});
