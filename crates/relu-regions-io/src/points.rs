//! Point files: CSV (one point a row, comma separated, no header; `#` comments and blank
//! lines skipped) or JSON (a list of lists of numbers). The format is chosen by the
//! `.json` extension or, failing that, by a leading `[`.

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
    let mut rows: Vec<Vec<f64>> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let row = line
            .split(',')
            .map(str::trim)
            .enumerate()
            .map(|(j, t)| {
                t.parse::<f64>().map_err(|_| PointsError::Number {
                    path: path.to_path_buf(),
                    line: i + 1,
                    column: j + 1,
                    text: t.to_string(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(first) = rows.first()
            && first.len() != row.len()
        {
            return Err(PointsError::Ragged {
                path: path.to_path_buf(),
                line: i + 1,
                expected: first.len(),
                found: row.len(),
            });
        }
        rows.push(row);
    }
    Ok(rows)
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
}
