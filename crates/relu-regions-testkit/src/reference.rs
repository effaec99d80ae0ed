//! Reference outputs: `MODEL.reference.jsonl` beside a model file, one JSON object
//! `{"input": [...], "output": [...]}` per line, computed by onnxruntime (ONNX) or the
//! format's original tools (`.nnet`).

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// One line of a reference file: the network's `output` at `input`.
#[derive(Debug, Clone, Deserialize)]
pub struct ReferencePoint {
    /// The line of the file it was read from (1-based; blank lines count).
    #[serde(skip)]
    pub line: usize,
    /// The input point.
    pub input: Vec<f64>,
    /// The reference output at `input`.
    pub output: Vec<f64>,
}

/// The reference file of `model`: `MODEL.reference.jsonl` (the model's whole file name,
/// extension included, then `.reference.jsonl`).
pub fn reference_file(model: &Path) -> PathBuf {
    PathBuf::from(format!("{}.reference.jsonl", model.display()))
}

/// Every point of `model`'s reference file, in file order (blank lines skipped).
///
/// # Panics
/// When the file cannot be read or a line is not a reference point.
pub fn reference_points(model: &Path) -> Vec<ReferencePoint> {
    let path = reference_file(model);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let mut point: ReferencePoint = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("{} line {}: {e}", path.display(), i + 1));
            point.line = i + 1;
            point
        })
        .collect()
}
