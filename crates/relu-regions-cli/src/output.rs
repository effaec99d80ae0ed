//! Printing: JSON for scripts, aligned text for people.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

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

/// How often [`Progress`] prints a line when stderr is not a terminal.
pub const LINE_EVERY: Duration = Duration::from_secs(5);

/// Progress of a long command on stderr: an indicatif bar (or spinner) on a terminal;
/// otherwise (stderr piped or redirected) a line every [`LINE_EVERY`] with what is done
/// so far; nothing when `quiet` (`--quiet`).
pub struct Progress {
    bar: indicatif::ProgressBar,
    lines: Option<PlainProgress>,
}

struct PlainProgress {
    what: String,
    start: Instant,
    last: Mutex<Instant>,
    position: AtomicU64,
    length: AtomicU64,
    message: Mutex<String>,
}

impl Progress {
    /// A bar of `len` steps.
    pub fn bar(len: u64, what: &str, quiet: bool) -> Self {
        Self::new(len, what, quiet, false)
    }

    /// A spinner with a message (no known length).
    pub fn spinner(what: &str, quiet: bool) -> Self {
        Self::new(0, what, quiet, true)
    }

    fn new(len: u64, what: &str, quiet: bool, spinner: bool) -> Self {
        use std::io::IsTerminal;
        let hidden = Self {
            bar: indicatif::ProgressBar::hidden(),
            lines: None,
        };
        if quiet {
            return hidden;
        }
        if !std::io::stderr().is_terminal() {
            let now = Instant::now();
            return Self {
                lines: Some(PlainProgress {
                    what: what.to_string(),
                    start: now,
                    last: Mutex::new(now),
                    position: AtomicU64::new(0),
                    length: AtomicU64::new(len),
                    message: Mutex::new(String::new()),
                }),
                ..hidden
            };
        }
        let bar = if spinner {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {prefix}: {msg} ({elapsed})")
                    .expect("valid template"),
            );
            bar.set_prefix(what.to_string());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        } else {
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
        };
        Self { bar, lines: None }
    }

    /// The spinner's message (what is done so far).
    pub fn set_message(&self, message: String) {
        match &self.lines {
            Some(l) => {
                *l.message.lock().expect("no panics hold the lock") = message;
                self.line();
            }
            None => self.bar.set_message(message),
        }
    }

    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
        if let Some(l) = &self.lines {
            l.position.fetch_add(n, Ordering::Relaxed);
            self.line();
        }
    }

    pub fn set_position(&self, position: u64) {
        self.bar.set_position(position);
        if let Some(l) = &self.lines {
            l.position.store(position, Ordering::Relaxed);
            self.line();
        }
    }

    pub fn set_length(&self, length: u64) {
        self.bar.set_length(length);
        if let Some(l) = &self.lines {
            l.length.store(length, Ordering::Relaxed);
        }
    }

    pub fn finish_and_clear(&self) {
        self.bar.finish_and_clear();
    }

    /// Prints a progress line when [`LINE_EVERY`] has passed since the last one.
    fn line(&self) {
        let Some(l) = &self.lines else { return };
        let now = Instant::now();
        {
            let mut last = l.last.lock().expect("no panics hold the lock");
            if now.duration_since(*last) < LINE_EVERY {
                return;
            }
            *last = now;
        }
        let (pos, len) = (
            l.position.load(Ordering::Relaxed),
            l.length.load(Ordering::Relaxed),
        );
        let done = if len > 0 {
            format!(" {pos}/{len}")
        } else {
            String::new()
        };
        let message = l.message.lock().expect("no panics hold the lock").clone();
        let message = if message.is_empty() {
            String::new()
        } else {
            format!(" {message}")
        };
        eprintln!(
            "{}:{done}{message} after {:.0} s",
            l.what,
            now.duration_since(l.start).as_secs_f64()
        );
    }
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
