//! Point files: CSV (one point a row, comma separated, no header; `#` comments and blank
//! lines skipped) or JSON (a list of lists of numbers). The format is chosen by the
//! `.json` extension or, failing that, by a leading `[`.
//!
//! [`parse_csv_table`] is the one CSV reader of the project: point files use it, and so do
//! labelled data sets (features then an integer label, perhaps under a header line).

use std::path::{Path, PathBuf};

use thiserror::Error;

/// Why a point file could not be read. Rows and columns are 1-based.
#[derive(Debug, Error)]
pub enum PointsError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: line {line}, column {column}: `{text}` is not a number")]
    Number {
        path: PathBuf,
        line: usize,
        column: usize,
        text: String,
    },
    #[error("{path}: line {line}: {found} values, but the first point has {expected}")]
    Ragged {
        path: PathBuf,
        line: usize,
        expected: usize,
        found: usize,
    },
    #[error("{path}: not a JSON list of lists of numbers: {message}")]
    Json { path: PathBuf, message: String },
    #[error("{path}: no points")]
    Empty { path: PathBuf },
}

/// What a CSV table may hold besides comma-separated numbers. Blank lines are always
/// skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CsvLayout {
    /// Lines starting with `#` (after leading blanks) are comments, skipped anywhere.
    pub comments: bool,
    /// Lines whose fields do not all parse as numbers are skipped while no row has been
    /// read (a header); later, such a line is an error.
    pub header: bool,
    /// The last field of every row is a class label, a non-negative integer of at most
    /// `10^6`, returned apart from the row's other values (its features).
    pub label: bool,
}

/// A CSV table of numbers: `rows[i]` holds the values of the `i`-th data line (without
/// its label), all rows of one length; `labels[i]` is its label when the layout has
/// labels, and `labels` is empty otherwise.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CsvTable {
    pub rows: Vec<Vec<f64>>,
    pub labels: Vec<usize>,
}

/// Why CSV text is not a table of numbers. `path` names the source; lines and columns are
/// 1-based.
#[derive(Debug, Error)]
pub enum CsvError {
    #[error("{path}: line {line}, column {column}: `{text}` is not a number")]
    Number {
        path: PathBuf,
        line: usize,
        column: usize,
        text: String,
    },
    #[error("{path}: line {line}: expected features then a label")]
    MissingLabel { path: PathBuf, line: usize },
    #[error("{path}: line {line}: label {value} is not a non-negative integer")]
    Label {
        path: PathBuf,
        line: usize,
        value: f64,
    },
    /// `found` and `expected` count the values of a row without its label.
    #[error("{path}: line {line}: {found} values, but the first row has {expected}")]
    Ragged {
        path: PathBuf,
        line: usize,
        expected: usize,
        found: usize,
    },
}

/// Parses CSV text (fields separated by commas, blanks around them ignored) into rows of
/// numbers as `layout` says; `path` only names the source in errors. The checks of a line
/// come in this order: every field a number (else a header line, skipped, or
/// [`CsvError::Number`] at the first bad field), a label and at least one feature, the
/// label an integer, as many values as the first row.
pub fn parse_csv_table(text: &str, path: &Path, layout: CsvLayout) -> Result<CsvTable, CsvError> {
    let mut table = CsvTable::default();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = line.trim();
        if line.is_empty() || (layout.comments && line.starts_with('#')) {
            continue;
        }
        let parsed = line
            .split(',')
            .map(str::trim)
            .enumerate()
            .map(|(j, t)| {
                t.parse::<f64>().map_err(|_| CsvError::Number {
                    path: path.to_path_buf(),
                    line: line_no,
                    column: j + 1,
                    text: t.to_string(),
                })
            })
            .collect::<Result<Vec<f64>, _>>();
        let mut row = match parsed {
            Ok(row) => row,
            Err(_) if layout.header && table.rows.is_empty() => continue,
            Err(e) => return Err(e),
        };
        if layout.label {
            if row.len() < 2 {
                return Err(CsvError::MissingLabel {
                    path: path.to_path_buf(),
                    line: line_no,
                });
            }
            let value = row.pop().expect("two fields at least");
            if value < 0.0 || value.fract() != 0.0 || value > 1e6 {
                return Err(CsvError::Label {
                    path: path.to_path_buf(),
                    line: line_no,
                    value,
                });
            }
            table.labels.push(value as usize);
        }
        if let Some(first) = table.rows.first()
            && first.len() != row.len()
        {
            return Err(CsvError::Ragged {
                path: path.to_path_buf(),
                line: line_no,
                expected: first.len(),
                found: row.len(),
            });
        }
        table.rows.push(row);
    }
    Ok(table)
}

/// Reads points from a CSV or JSON file.
pub fn read_points(path: &Path) -> Result<Vec<Vec<f64>>, PointsError> {
    let text = std::fs::read_to_string(path).map_err(|source| PointsError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || text.trim_start().starts_with('[');
    let points = if is_json {
        parse_json_points(&text).map_err(|message| PointsError::Json {
            path: path.to_path_buf(),
            message,
        })?
    } else {
        parse_csv_points(&text, path)?
    };
    if points.is_empty() {
        return Err(PointsError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(points)
}

/// Parses a JSON list of lists of numbers (rows may not differ in length).
pub fn parse_json_points(text: &str) -> Result<Vec<Vec<f64>>, String> {
    let rows: Vec<Vec<f64>> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if let Some(first) = rows.first() {
        if let Some((i, r)) = rows
            .iter()
            .enumerate()
            .find(|(_, r)| r.len() != first.len())
        {
            return Err(format!(
                "point {} has {} values, but the first has {}",
                i + 1,
                r.len(),
                first.len()
            ));
        }
    }
    Ok(rows)
}

fn parse_csv_points(text: &str, path: &Path) -> Result<Vec<Vec<f64>>, PointsError> {
    let layout = CsvLayout {
        comments: true,
        ..CsvLayout::default()
    };
    match parse_csv_table(text, path, layout) {
        Ok(table) => Ok(table.rows),
        Err(CsvError::Number {
            path,
            line,
            column,
            text,
        }) => Err(PointsError::Number {
            path,
            line,
            column,
            text,
        }),
        Err(CsvError::Ragged {
            path,
            line,
            expected,
            found,
        }) => Err(PointsError::Ragged {
            path,
            line,
            expected,
            found,
        }),
        Err(e @ (CsvError::MissingLabel { .. } | CsvError::Label { .. })) => {
            unreachable!("a layout without labels: {e}")
        }
    }
}

/// Parses one point written as a comma-separated list (`0.1,-2,3e-4`), as given on a
/// command line.
pub fn parse_point_list(text: &str) -> Result<Vec<f64>, String> {
    text.split(',')
        .map(str::trim)
        .enumerate()
        .map(|(j, t)| {
            t.parse::<f64>()
                .map_err(|_| format!("coordinate {}: `{t}` is not a number", j + 1))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_json() {
        let dir = std::env::temp_dir().join(format!("rr-points-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let csv = dir.join("p.csv");
        std::fs::write(&csv, "# c\n1,2\n\n3, 4.5\n").unwrap();
        assert_eq!(
            read_points(&csv).unwrap(),
            vec![vec![1.0, 2.0], vec![3.0, 4.5]]
        );
        std::fs::write(&csv, "1,2\n3\n").unwrap();
        let e = read_points(&csv).unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("p.csv"), "{e}");
        std::fs::write(&csv, "1,x\n").unwrap();
        let e = read_points(&csv).unwrap_err().to_string();
        assert!(e.contains("column 2"), "{e}");
        let json = dir.join("p.json");
        std::fs::write(&json, "[[1, 2], [3, 4]]").unwrap();
        assert_eq!(read_points(&json).unwrap().len(), 2);
        std::fs::write(&json, "[[1, 2], [3]]").unwrap();
        assert!(read_points(&json).is_err());
        std::fs::write(&json, "[]").unwrap();
        assert!(matches!(read_points(&json), Err(PointsError::Empty { .. })));
        assert_eq!(
            parse_point_list("1, -2,3e-1").unwrap(),
            vec![1.0, -2.0, 0.3]
        );
        assert!(parse_point_list("1,,2").is_err());
    }

    fn labelled(text: &str) -> Result<CsvTable, CsvError> {
        let layout = CsvLayout {
            header: true,
            label: true,
            ..CsvLayout::default()
        };
        parse_csv_table(text, Path::new("t.csv"), layout)
    }

    #[test]
    fn labelled_table_with_header() {
        let t = labelled("a,b,label\n\n1, 2,0\n3,4 ,1\n").unwrap();
        assert_eq!(t.rows, vec![vec![1.0, 2.0], vec![3.0, 4.0]]);
        assert_eq!(t.labels, vec![0, 1]);
        // Header lines are skipped only before the first row.
        let e = labelled("x\n1,2,0\ny,z,1\n").unwrap_err();
        assert!(
            matches!(
                e,
                CsvError::Number {
                    line: 3,
                    column: 1,
                    ..
                }
            ),
            "{e}"
        );
        let e = labelled("1,2,0.5\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.csv: line 1: label 0.5 is not a non-negative integer"
        );
        assert!(matches!(labelled("1,2,-1\n"), Err(CsvError::Label { .. })));
        assert!(matches!(labelled("1,2,2e6\n"), Err(CsvError::Label { .. })));
        let e = labelled("1,2,0\n7\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.csv: line 2: expected features then a label"
        );
        let e = labelled("1,2,0\n1,1\n").unwrap_err();
        assert!(
            matches!(
                e,
                CsvError::Ragged {
                    line: 2,
                    expected: 2,
                    found: 1,
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(labelled("h\n\n").unwrap(), CsvTable::default());
        // Without comments, a `#` line is a header line or an error.
        assert_eq!(labelled("# c\n1,0\n").unwrap().labels, vec![0]);
        assert!(labelled("1,0\n# c\n").is_err());
    }
}
