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

/// A neuron in JSON: 0-based layer and index within the layer.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct NeuronJson {
    pub layer: usize,
    pub neuron: usize,
}

impl From<relu_regions::NeuronId> for NeuronJson {
    fn from(n: relu_regions::NeuronId) -> Self {
        Self {
            layer: n.layer,
            neuron: n.index,
        }
    }
}

/// The `--norm` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum NormArg {
    L2,
    Linf,
}

impl From<NormArg> for relu_regions::Norm {
    fn from(n: NormArg) -> Self {
        match n {
            NormArg::L2 => Self::L2,
            NormArg::Linf => Self::LInf,
        }
    }
}

/// A progress bar on a terminal's stderr; hidden when `quiet` (JSON output) or when
/// stderr is not a terminal.
pub fn progress_bar(len: u64, what: &str, quiet: bool) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// Minimum, quartiles and maximum (linear interpolation), or `None` for no values.
pub fn quantiles(values: &[f64]) -> Option<[f64; 5]> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let pos = q * (v.len() - 1) as f64;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
    };
    Some([v[0], at(0.25), at(0.5), at(0.75), v[v.len() - 1]])
}
