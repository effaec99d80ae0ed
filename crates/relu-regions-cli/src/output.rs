//! Printing: JSON for scripts, aligned text for people.

use anyhow::Result;
use serde::Serialize;

/// Prints `value` as pretty JSON on stdout.
pub fn print_json<T: Serialize>(value: &T) -> Result<()> {
    let mut out = serde_json::to_string_pretty(value)?;
    out.push('\n');
    print!("{out}");
    Ok(())
}

/// `[a, b, c]` as `a -> b -> c`.
pub fn arrow_list(values: &[usize]) -> String {
    values
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(" -> ")
}

/// A shape with unknown dimensions shown as `?`.
pub fn shape_string(shape: &[Option<usize>]) -> String {
    let dims: Vec<String> = shape
        .iter()
        .map(|d| d.map_or_else(|| "?".to_string(), |v| v.to_string()))
        .collect();
    format!("[{}]", dims.join(", "))
}

/// Numbers in a compact form that round-trips f64 closely enough for reading.
pub fn number_list(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| format!("{v:.6e}"))
        .collect::<Vec<_>>()
        .join(", ")
}
