#![allow(clippy::panic, reason = "tests fail by panicking")]

use super::*;

const SMALL: &[u8] = include_bytes!("../../fixtures/reference/pprrvu_small.csv");
const STACKED: &[u8] = include_bytes!("../../fixtures/reference/pprrvu_stacked_header.csv");

fn import(bytes: &[u8]) -> (String, ImportSummary) {
    match import_rvu(bytes, "in.csv", 2026) {
        Ok(done) => done,
        Err(e) => panic!("import failed: {e}"),
    }
}

fn import_err(bytes: &[u8]) -> String {
    match import_rvu(bytes, "in.csv", 2026) {
        Ok((text, _)) => panic!("import succeeded: {text}"),
        Err(e) => e.to_string(),
    }
}

const HEADER: &str =
    "HCPCS,MOD,DESCRIPTION,GLOB DAYS,PHYSICIAN SUPERVISION OF DIAGNOSTIC PROCEDURES\n";

fn check_counts(s: &ImportSummary) {
    assert_eq!(
        s.rows_read,
        s.written + s.skipped_modifier + s.replaced_by_global + s.duplicates + s.skipped_no_code
    );
}

#[test]
fn small_fixture_gives_exact_procedure_codes() {
    let (text, summary) = import(SMALL);
    assert_eq!(
        text,
        "cpt_code,year,supervision_indicator,global_days,description\n\
         70450,2026,01,XXX,Ct head/brain w/o dye\n\
         70460,2026,02,XXX,Ct head/brain w/dye\n\
         74177,2026,02,XXX,Ct abd & pelv w/contrast\n\
         70553,2026,02,XXX,Mri brain stem w/o & w/dye\n\
         72193,2026,02,XXX,\"Ct pelvis, w/dye\"\n\
         36000,2026,09,010,Introduce needle into vein\n\
         93000,2026,01,XXX,Electrocardiogram complete\n\
         95907,2026,6A,XXX,Motor/sens 1-2 nrv cndj test\n\
         76000,2026,X,XXX,Fluoroscopy <1 hr phys/qhp\n\
         77012,2026,,XXX,Ct guidance needle placemnt\n\
         70551,2026,09,XXX,Mri brain stem w/o dye \u{2013} caf\u{e9}\n"
    );
    assert_eq!(
        summary,
        ImportSummary {
            rows_read: 15,
            written: 11,
            skipped_modifier: 2,
            replaced_by_global: 2,
            duplicates: 0,
            skipped_no_code: 0,
            bad_indicator: vec![(20, "X".into()), (21, String::new())],
            windows_1252_rows: 1,
        }
    );
    check_counts(&summary);
}

#[test]
fn stacked_header_rows_name_the_columns() {
    let (text, summary) = import(STACKED);
    assert_eq!(
        text,
        "cpt_code,year,supervision_indicator,global_days,description\n\
         70460,2026,02,XXX,Ct head/brain w/dye\n\
         36000,2026,09,XXX,Introduce needle into vein\n"
    );
    assert_eq!((summary.rows_read, summary.skipped_modifier), (3, 1));
}

#[test]
fn global_row_wins_in_either_order_and_first_row_wins_otherwise() {
    let input = format!(
        "{HEADER}\
         A1,TC,tc first,XXX,01\n\
         A1,,global second,XXX,02\n\
         B2,,global first,XXX,03\n\
         B2,tc,tc second,XXX,01\n\
         C3,TC,only tc,XXX,21\n\
         C3,TC,tc again,XXX,22\n\
         D4,,global,XXX,77\n\
         D4,,global again,XXX,7A\n\
         E5,53,discontinued,XXX,01\n"
    );
    let (text, summary) = import(input.as_bytes());
    assert_eq!(
        text,
        "cpt_code,year,supervision_indicator,global_days,description\n\
         A1,2026,02,XXX,global second\n\
         B2,2026,03,XXX,global first\n\
         C3,2026,21,XXX,only tc\n\
         D4,2026,77,XXX,global\n"
    );
    assert_eq!(summary.replaced_by_global, 2);
    assert_eq!(summary.duplicates, 2);
    assert_eq!(summary.skipped_modifier, 1);
    check_counts(&summary);
}

#[test]
fn indicators_are_padded_and_bad_ones_kept_and_listed() {
    let input = format!(
        "{HEADER}\
         A1,,a,XXX,2\n\
         A2,,b,XXX,9\n\
         A3,,c,XXX, 6A \n\
         A4,,d,XXX,6a\n\
         A5,,e,XXX,\n\
         A6,,f,XXX,123\n\
         A7,TC,g,XXX,Z\n\
         A7,,g,XXX,01\n"
    );
    let (text, summary) = import(input.as_bytes());
    let indicators: Vec<&str> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(2))
        .collect();
    assert_eq!(indicators, ["02", "09", "6A", "6a", "", "123", "01"]);
    // A bad indicator on a replaced TC row is not in the output, so it is not listed.
    assert_eq!(
        summary.bad_indicator,
        vec![(5, "6a".into()), (6, String::new()), (7, "123".into())]
    );
}

#[test]
fn title_lines_with_commas_and_header_cells_with_spaces_and_line_breaks() {
    let input = "\u{feff}\"HCPCS, MOD and more: CY 2026 file\",,,\n\
                 HCPCS codes,MOD,DESCRIPTION\n\
                 \n\
                 \" hcpcs \",\"Mod \",\"glob\r\n days\",\"Physician Supervision of\r\nDiagnostic   Procedures\",x,DESCRIPTION\n\
                 70460,,XXX,02,y,Ct head\n";
    let (text, summary) = import(input.as_bytes());
    assert_eq!(
        text,
        "cpt_code,year,supervision_indicator,global_days,description\n\
         70460,2026,02,XXX,Ct head\n"
    );
    assert_eq!(summary.written, 1);
}

#[test]
fn blank_lines_empty_rows_short_rows_and_rows_without_a_code() {
    let input = format!(
        "{HEADER}\
         \n\
         ,,,,\n\
         \x20 ,  ,,,\n\
         A1,,short\n\
         ,,a footnote,,\n\
         \r\n\
         A2,,long,XXX,01,,,,\n"
    );
    let (text, summary) = import(input.as_bytes());
    assert_eq!(
        text,
        "cpt_code,year,supervision_indicator,global_days,description\n\
         A1,2026,,,short\n\
         A2,2026,01,XXX,long\n"
    );
    assert_eq!((summary.rows_read, summary.skipped_no_code), (3, 1));
    assert_eq!(summary.bad_indicator, vec![(5, String::new())]);
    check_counts(&summary);
}

#[test]
fn lines_are_physical_lines_across_quoted_line_breaks() {
    let input = format!(
        "{HEADER}\
         A1,,\"two\nlines\",XXX,X\n\
         \n\
         A2,,one,XXX,Y\n"
    );
    let (text, summary) = import(input.as_bytes());
    assert!(text.contains("A1,2026,X,XXX,\"two\nlines\"\n"), "{text}");
    assert_eq!(
        summary.bad_indicator,
        vec![(2, "X".into()), (5, "Y".into())]
    );
}

#[test]
fn errors_name_the_file_and_what_is_wrong() {
    assert_eq!(
        import_err(b"title\n70460,,x\n"),
        "no header row (`HCPCS`) found in `in.csv`\nhelp: the header row is the first row whose \
         first cell is `HCPCS`; is this the PPRRVU CSV of the relative value file?"
    );
    assert_eq!(import_err(b""), import_err(b"\n\n"));
    assert_eq!(
        import_err(b"title\nHCPCS,MOD,DESCRIPTION,GLOBAL DAYS,PHYSICIAN SUPERVISION\n"),
        "`in.csv`, line 2: header lacks column `GLOB DAYS` (did you mean `GLOBAL DAYS`?)"
    );
    assert_eq!(
        import_err(b"HCPCS,MOD,DESCRIPTION,GLOB DAYS\n"),
        "`in.csv`, line 1: header lacks column `PHYSICIAN SUPERVISION OF DIAGNOSTIC PROCEDURES`"
    );
    let truncated = format!("{HEADER}A1,,ok,XXX,01\nA2,,\"never closed,XXX,01\nA3\n");
    assert_eq!(
        import_err(truncated.as_bytes()),
        "`in.csv`, line 3: quoted field is never closed, the file is truncated or damaged"
    );
}

#[test]
fn unreadable_file_is_an_error_with_its_path() {
    let missing = Path::new("fixtures/reference/no-such-file.csv");
    match read_rvu_file(missing, 2026) {
        Err(e @ ReferenceError::Read { .. }) => {
            assert_eq!(
                e.to_string(),
                "cannot read `fixtures/reference/no-such-file.csv`"
            );
        }
        other => panic!("expected a read error, got {other:?}"),
    }
}

#[test]
fn quote_tracking_follows_rfc_4180() {
    assert!(ends_inside_quotes(b"a,\"b"));
    assert!(ends_inside_quotes(b"a,\"b\"\"c"));
    assert!(!ends_inside_quotes(b"a,\"b\"\"\""));
    assert!(!ends_inside_quotes(b"a,5\" x 7\",c"));
    assert!(!ends_inside_quotes(b"a,\"b\",c\n"));
}

#[test]
fn a_blank_line_cuts_stacked_titles_off() {
    let input = b"x,,,,GLOB\r\n\r\nHCPCS,MOD,DESCRIPTION,PHYSICIAN SUPERVISION OF DIAGNOSTIC PROCEDURES,DAYS\r\n";
    assert_eq!(
        import_err(input),
        "`in.csv`, line 3: header lacks column `GLOB DAYS`"
    );
    let input = b"x,,,,GLOB\r\nHCPCS,MOD,DESCRIPTION,PHYSICIAN SUPERVISION OF DIAGNOSTIC PROCEDURES,DAYS\r\n";
    assert_eq!(import(input).1.written, 0);
}
