//! Finding the columns of a PPRRVU file by name, wherever they are.
//!
//! The header row is the first row whose first cell is `HCPCS`. CMS splits long column titles
//! over several rows stacked above it (`GLOB` over `DAYS`), or over lines inside one quoted cell,
//! so a column is found by its own cell first and, failing that, by its stacked title: the cells of
//! the rows directly above the header row, top to bottom, joined with the header cell.

use super::text::normalize_name;

pub const HCPCS: &str = "HCPCS";
pub const MOD: &str = "MOD";
pub const DESCRIPTION: &str = "DESCRIPTION";
pub const GLOB_DAYS: &str = "GLOB DAYS";
pub const SUPERVISION: &str = "PHYSICIAN SUPERVISION OF DIAGNOSTIC PROCEDURES";

/// How many rows above the header row may hold parts of stacked column titles.
pub const MAX_STACKED_ROWS: usize = 8;

/// Positions of the columns the import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Columns {
    pub hcpcs: usize,
    pub modifier: usize,
    pub description: usize,
    pub global_days: usize,
    pub indicator: usize,
}

/// A required column the header does not have, and the closest name it does have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingColumn {
    pub name: &'static str,
    pub suggestion: Option<String>,
}

/// Whether a row is the header row: its first cell, normalized, is `HCPCS`. A title line with
/// commas (`CY 2026, HCPCS codes`) has a different first cell, so it never qualifies.
pub fn is_header_row(cells: &[String]) -> bool {
    cells
        .first()
        .is_some_and(|first| normalize_name(first) == HCPCS)
}

/// Maps the required columns. `header`: the header row; `stacked`: the rows directly above it, top
/// to bottom (possibly title lines; their text only ever prefixes a stacked title).
pub fn find_columns(header: &[String], stacked: &[Vec<String>]) -> Result<Columns, MissingColumn> {
    let own: Vec<String> = header.iter().map(|c| normalize_name(c)).collect();
    let titles: Vec<String> = (0..header.len())
        .map(|i| {
            let parts = stacked
                .iter()
                .filter_map(|row| row.get(i))
                .chain(header.get(i))
                .map(|c| normalize_name(c))
                .filter(|c| !c.is_empty());
            parts.collect::<Vec<_>>().join(" ")
        })
        .collect();
    let find = |name: &'static str| -> Result<usize, MissingColumn> {
        let suffix = format!(" {name}");
        own.iter()
            .position(|c| c == name)
            .or_else(|| titles.iter().position(|t| t == name))
            .or_else(|| titles.iter().position(|t| t.ends_with(&suffix)))
            .ok_or_else(|| MissingColumn {
                name,
                suggestion: suggest(name, &own, &titles),
            })
    };
    Ok(Columns {
        hcpcs: find(HCPCS)?,
        modifier: find(MOD)?,
        description: find(DESCRIPTION)?,
        global_days: find(GLOB_DAYS)?,
        indicator: find(SUPERVISION)?,
    })
}

/// The header name closest to `name`, own cells first, then stacked titles.
fn suggest(name: &str, own: &[String], titles: &[String]) -> Option<String> {
    let known = own.iter().chain(titles).map(String::as_str);
    crate::suggest::did_you_mean(name, known).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| (*c).to_owned()).collect()
    }

    #[test]
    fn columns_come_from_the_header_not_fixed_positions() {
        let header = row(&[
            " hcpcs ",
            "DESCRIPTION",
            "Mod",
            "PHYSICIAN SUPERVISION OF\r\nDIAGNOSTIC  PROCEDURES",
            "X",
            "GLOB DAYS",
        ]);
        let cols = find_columns(&header, &[]);
        assert_eq!(
            cols,
            Ok(Columns {
                hcpcs: 0,
                modifier: 2,
                description: 1,
                global_days: 5,
                indicator: 3
            })
        );
    }

    #[test]
    fn stacked_titles_are_joined_top_to_bottom() {
        let stacked = [
            row(&["CY 2026 Relative Value File"]),
            row(&["", "", "", "PHYSICIAN SUPERVISION", "GLOB"]),
            row(&["", "", "", "OF DIAGNOSTIC", ""]),
        ];
        let header = row(&["HCPCS", "MOD", "DESCRIPTION", "PROCEDURES", "DAYS", "DAYS"]);
        let cols = find_columns(&header, &stacked);
        assert_eq!(cols.map(|c| (c.global_days, c.indicator)), Ok((4, 3)));
    }

    #[test]
    fn a_missing_column_suggests_the_nearest_name() {
        let header = row(&[
            "HCPCS",
            "MOD",
            "DESCRIPTION",
            "GLOBAL DAYS",
            "PHYSICIAN SUPERVISION",
        ]);
        assert_eq!(
            find_columns(&header, &[]),
            Err(MissingColumn {
                name: GLOB_DAYS,
                suggestion: Some("GLOBAL DAYS".into())
            })
        );
        let header = row(&["HCPCS", "MOD", "DESCRIPTION", "GLOB DAYS"]);
        assert_eq!(
            find_columns(&header, &[]).map_err(|m| m.name),
            Err(SUPERVISION)
        );
    }

    #[test]
    fn only_a_first_cell_of_hcpcs_makes_a_header_row() {
        assert!(is_header_row(&row(&["  HCPCS\n", "MOD"])));
        assert!(!is_header_row(&row(&["CY 2026", "HCPCS", "MOD"])));
        assert!(!is_header_row(&row(&["HCPCS codes, 2026"])));
        assert!(!is_header_row(&[]));
    }
}
