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

/// Minimum, quartiles and maximum (linear interpolation between order statistics, numpy's
/// default: [`relu_regions_study::stats::quantile`]), or `None` for no values (NaNs are
/// left out).
pub fn quantiles(values: &[f64]) -> Option<[f64; 5]> {
    relu_regions_study::stats::quantiles(values, [0.0, 0.25, 0.5, 0.75, 1.0])
}

#[cfg(test)]
mod tests {
    use super::quantiles;

    #[test]
    fn quantiles_interpolate_like_numpy() {
        // np.quantile([0.5, -2, 7.25, 3], [0, .25, .5, .75, 1]) = [-2, -0.125, 1.75, 4.0625, 7.25].
        assert_eq!(
            quantiles(&[0.5, -2.0, 7.25, 3.0]),
            Some([-2.0, -0.125, 1.75, 4.0625, 7.25])
        );
        assert_eq!(quantiles(&[2.5]), Some([2.5; 5]));
        assert_eq!(quantiles(&[]), None);
        // The same numbers as the sort-and-interpolate the CLI computed before.
        let values: Vec<f64> = (0..102)
            .map(|i| ((i * 37 % 101) as f64 * 0.7).sin())
            .collect();
        let mut v = values.clone();
        v.sort_by(f64::total_cmp);
        let at = |q: f64| {
            let pos = q * (v.len() - 1) as f64;
            let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
            v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
        };
        assert_eq!(
            quantiles(&values),
            Some([v[0], at(0.25), at(0.5), at(0.75), v[101]])
        );
    }
}
