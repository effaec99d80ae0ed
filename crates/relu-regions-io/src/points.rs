//! Point files: CSV (one point a row, comma separated; `#` comments and blank lines
//! skipped; a first line that is not numbers, with as many fields as the rows, is a
//! header, skipped with a note) or JSON (a list of lists of numbers). The format is
//! chosen by the `.json` extension or, failing that, by a leading `[`. Files may be
//! gzipped (`.gz`, or gzip's magic bytes), start with a UTF-8 byte-order mark, and end
//! their lines with CRLF.
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
    #[error("{path}: not gzip data: {source}")]
    Gzip {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not UTF-8 text (byte {offset})")]
    NotText { path: PathBuf, offset: usize },
}

/// What a CSV table may hold besides comma-separated numbers. Blank lines are always
/// skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CsvLayout {
    /// Lines starting with `#` (after leading blanks) are comments, skipped anywhere.
    pub comments: bool,
    /// One line before the first row whose fields are all nonempty and none a number is
    /// skipped (a header); any other line that is not numbers is an error.
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
    /// The header line skipped (1-based line number, its text), if any.
    pub header: Option<(usize, String)>,
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

/// Whether a line reads as a header: every field a nonempty name, none a number (so a
/// data row with a missing value or a typo is an error, not a header).
fn is_header(line: &str) -> bool {
    line.split(',')
        .map(str::trim)
        .all(|f| !f.is_empty() && f.parse::<f64>().is_err())
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
            Err(_)
                if layout.header
                    && table.rows.is_empty()
                    && table.header.is_none()
                    && is_header(line) =>
            {
                table.header = Some((line_no, line.to_string()));
                continue;
            }
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

/// Reads points from a CSV or JSON file (see the module documentation).
pub fn read_points(path: &Path) -> Result<Vec<Vec<f64>>, PointsError> {
    Ok(read_points_file(path)?.points)
}

/// A points file as read, with what a user should be told about how it was read.
#[derive(Debug, Clone, PartialEq)]
pub struct PointsFile {
    pub points: Vec<Vec<f64>>,
    /// Notes such as a skipped header line, each naming the file.
    pub notes: Vec<String>,
}

/// Reads points from a CSV or JSON file (see the module documentation), with notes.
pub fn read_points_file(path: &Path) -> Result<PointsFile, PointsError> {
    let bytes = std::fs::read(path).map_err(|source| PointsError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let gz = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
        || bytes.starts_with(&[0x1f, 0x8b]);
    let bytes = if gz {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&bytes[..]), &mut out)
            .map_err(|source| PointsError::Gzip {
                path: path.to_path_buf(),
                source,
            })?;
        out
    } else {
        bytes
    };
    let text = String::from_utf8(bytes).map_err(|e| PointsError::NotText {
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to(),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    // The name without `.gz` decides JSON.
    let inner = if gz {
        path.file_stem().map(Path::new)
    } else {
        Some(path)
    };
    let is_json = inner
        .and_then(Path::extension)
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || text.trim_start().starts_with('[');
    let mut notes = Vec::new();
    let points = if is_json {
        parse_json_points(text).map_err(|message| PointsError::Json {
            path: path.to_path_buf(),
            message,
        })?
    } else {
        let (points, header) = parse_csv_points(text, path)?;
        if let Some((line, text)) = header {
            notes.push(format!(
                "{}: line {line} is not numbers (`{}`): read as a header and skipped",
                path.display(),
                shorten(&text, 60)
            ));
        }
        points
    };
    if points.is_empty() {
        return Err(PointsError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(PointsFile { points, notes })
}

/// `text` cut to at most `n` characters, with `...` when cut.
fn shorten(text: &str, n: usize) -> String {
    if text.chars().count() <= n {
        text.to_string()
    } else {
        format!("{}...", text.chars().take(n).collect::<String>())
    }
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

/// The points of a CSV text and the header line skipped, if any: a first line that is
/// not all numbers is a header only when it has as many fields as the first row (else it
/// is the error it would be without the header rule).
#[allow(clippy::type_complexity)]
fn parse_csv_points(
    text: &str,
    path: &Path,
) -> Result<(Vec<Vec<f64>>, Option<(usize, String)>), PointsError> {
    let layout = CsvLayout {
        comments: true,
        header: true,
        ..CsvLayout::default()
    };
    let plain = CsvLayout {
        header: false,
        ..layout
    };
    let parsed = match parse_csv_table(text, path, layout) {
        Ok(table) => match &table.header {
            Some((_, header))
                if table
                    .rows
                    .first()
                    .is_none_or(|r| r.len() != header.split(',').count()) =>
            {
                parse_csv_table(text, path, plain)
            }
            _ => Ok(table),
        },
        Err(e) => Err(e),
    };
    match parsed {
        Ok(table) => Ok((table.rows, table.header)),
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

    #[test]
    fn headers_gzip_bom_and_crlf() {
        let dir = std::env::temp_dir().join(format!("rr-points-more-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let csv = dir.join("h.csv");
        let want = vec![vec![1.0, 2.0], vec![3.0, 4.5]];
        // A header as pandas writes it, with a BOM and CRLF line ends: skipped, with a note.
        std::fs::write(&csv, "\u{feff}x0,x1\r\n1,2\r\n3,4.5\r\n").unwrap();
        let f = read_points_file(&csv).unwrap();
        assert_eq!(f.points, want);
        assert_eq!(f.notes.len(), 1);
        assert!(
            f.notes[0].contains("h.csv")
                && f.notes[0].contains("line 1")
                && f.notes[0].contains("x0,x1"),
            "{:?}",
            f.notes
        );
        // Without a header, no note.
        std::fs::write(&csv, "1,2\n3,4.5\n").unwrap();
        assert!(read_points_file(&csv).unwrap().notes.is_empty());
        // A first line of another length is not a header but the error it always was.
        std::fs::write(&csv, "x0,x1,x2\n1,2\n").unwrap();
        let e = read_points(&csv).unwrap_err().to_string();
        assert!(e.contains("line 1, column 1: `x0`"), "{e}");
        // A first row with a missing value or a typo is an error, not a header.
        for row in ["1.5,,3\n1,2,3\n", "1.5,x,3\n1,2,3\n"] {
            std::fs::write(&csv, row).unwrap();
            let e = read_points(&csv).unwrap_err().to_string();
            assert!(e.contains("line 1, column 2"), "{e}");
        }
        // A second non-number line is an error.
        std::fs::write(&csv, "x0,x1\n1,2\nfoo,3\n").unwrap();
        let e = read_points(&csv).unwrap_err().to_string();
        assert!(e.contains("line 3"), "{e}");
        // Gzipped CSV and JSON, by extension or by magic bytes.
        let gz = |text: &str| {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            std::io::Write::write_all(&mut enc, text.as_bytes()).unwrap();
            enc.finish().unwrap()
        };
        for (name, text) in [
            ("p.csv.gz", "# c\n1,2\n3,4.5\n"),
            ("p.json.gz", "[[1, 2], [3, 4.5]]"),
            ("p.dat", "1,2\n3,4.5\n"),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, gz(text)).unwrap();
            assert_eq!(read_points(&path).unwrap(), want, "{name}");
        }
        let bad = dir.join("bad.csv.gz");
        std::fs::write(&bad, b"1,2\n").unwrap();
        let e = read_points(&bad).unwrap_err().to_string();
        assert!(e.contains("bad.csv.gz") && e.contains("gzip"), "{e}");
        let latin = dir.join("latin.csv");
        std::fs::write(&latin, b"1,2\n\xe9\n").unwrap();
        let e = read_points(&latin).unwrap_err().to_string();
        assert!(e.contains("not UTF-8"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
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
        assert_eq!(
            labelled("h\n\n").unwrap(),
            CsvTable {
                header: Some((1, "h".into())),
                ..CsvTable::default()
            }
        );
        // Without comments, a `#` line is a header line or an error.
        assert_eq!(labelled("# c\n1,0\n").unwrap().labels, vec![0]);
        assert!(labelled("1,0\n# c\n").is_err());
    }
}
