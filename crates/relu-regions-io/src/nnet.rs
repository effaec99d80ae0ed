//! The `.nnet` text format of ACAS Xu / Reluplex (Kyle Julian, Stanford 2016; layout of
//! `sisl/NNet` and Reluplex's `nnet.cpp`):
//!
//! 1. any number of `//` comment lines;
//! 2. `numLayers, numInputs, numOutputs, maxLayerSize`;
//! 3. the `numLayers + 1` layer sizes, input first;
//! 4. an unused flag line;
//! 5. input minima, input maxima (one value per input);
//! 6. means and ranges: one value per input, then one for the outputs;
//! 7. for each layer, its weight rows (one line per output neuron, `in` values), then its
//!    biases (one line per output neuron).
//!
//! ReLU follows every layer but the last. The weights act on normalised inputs
//! `(x - mean) / range`; by default the loaded network takes those normalised
//! coordinates, as VNN-LIB specifications and Reluplex do, and the output is the raw last
//! layer (no output de-normalisation, which would not change the regions). With
//! [`NnetOptions::raw_inputs`] the normalisation is folded into the first layer, so the
//! network takes raw units; the input clipping to `[min, max]` is *not* part of the
//! network (it is a domain restriction, reported by the loader).

use relu_regions::{Affine, Network, NetworkError};
use thiserror::Error;

use crate::{LoadedModel, ModelFormat};

/// Options of the `.nnet` loader.
#[derive(Debug, Clone, Copy, Default)]
pub struct NnetOptions {
    /// Fold `(x - mean) / range` into the first layer (the network takes raw units).
    pub raw_inputs: bool,
}

/// Why a `.nnet` file could not be read. DataLines are 1-based.
#[derive(Debug, Error)]
pub enum NnetError {
    #[error("file is not UTF-8 text")]
    NotText,
    #[error("file ended early: expected {expected}")]
    Truncated { expected: String },
    #[error("line {line}: {message}")]
    Syntax { line: usize, message: String },
    #[error("line {line}: value {value} of {what} is not finite")]
    NonFinite {
        line: usize,
        what: String,
        value: f64,
    },
    #[error("line {line}: input {index} has range {value}; ranges must be positive to normalise")]
    BadRange {
        line: usize,
        index: usize,
        value: f64,
    },
    #[error("line {line}: unexpected content after the last layer")]
    TrailingData { line: usize },
    #[error("invalid network: {0}")]
    Network(#[from] NetworkError),
}

/// The non-comment, non-empty lines with their 1-based line numbers.
struct DataLines<'a> {
    inner: std::iter::Peekable<Box<dyn Iterator<Item = (usize, &'a str)> + 'a>>,
}

impl<'a> DataLines<'a> {
    fn new(text: &'a str) -> Self {
        let it: Box<dyn Iterator<Item = (usize, &'a str)> + 'a> = Box::new(
            text.lines()
                .enumerate()
                .map(|(i, l)| (i + 1, l.trim()))
                .skip_while(|(_, l)| l.starts_with("//") || l.is_empty())
                .filter(|(_, l)| !l.is_empty()),
        );
        Self {
            inner: it.peekable(),
        }
    }

    /// The next line as numbers (comma separated, trailing comma allowed).
    fn numbers(&mut self, expected: &str) -> Result<(usize, Vec<f64>), NnetError> {
        let (line, text) = self.inner.next().ok_or_else(|| NnetError::Truncated {
            expected: expected.to_string(),
        })?;
        let values = text
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| {
                t.parse::<f64>().map_err(|_| NnetError::Syntax {
                    line,
                    message: format!("`{t}` is not a number (reading {expected})"),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((line, values))
    }

    /// The next line as exactly `n` finite numbers.
    fn exactly(&mut self, n: usize, expected: &str) -> Result<(usize, Vec<f64>), NnetError> {
        let (line, values) = self.numbers(expected)?;
        if values.len() < n {
            return Err(NnetError::Syntax {
                line,
                message: format!("{expected}: expected {n} values, found {}", values.len()),
            });
        }
        if values.len() > n {
            return Err(NnetError::Syntax {
                line,
                message: format!(
                    "{expected}: expected {n} values, found {} (layer sizes and rows disagree)",
                    values.len()
                ),
            });
        }
        if let Some(&value) = values.iter().find(|v| !v.is_finite()) {
            return Err(NnetError::NonFinite {
                line,
                what: expected.to_string(),
                value,
            });
        }
        Ok((line, values))
    }

    /// The next line as `n` sizes (non-negative integers), extra values tolerated.
    fn sizes(&mut self, n: usize, expected: &str) -> Result<(usize, Vec<usize>), NnetError> {
        let (line, values) = self.numbers(expected)?;
        if values.len() < n {
            return Err(NnetError::Syntax {
                line,
                message: format!("{expected}: expected {n} values, found {}", values.len()),
            });
        }
        let sizes = values[..n]
            .iter()
            .map(|&v| {
                if v.fract() == 0.0 && (1.0..=1e7).contains(&v) {
                    Ok(v as usize)
                } else {
                    Err(NnetError::Syntax {
                        line,
                        message: format!("{expected}: `{v}` is not a positive size"),
                    })
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((line, sizes))
    }
}

/// Loads a `.nnet` file from its bytes.
pub fn load_nnet(bytes: &[u8], options: NnetOptions) -> Result<LoadedModel, NnetError> {
    let text = std::str::from_utf8(bytes).map_err(|_| NnetError::NotText)?;
    let mut lines = DataLines::new(text);

    let (header_line, header) =
        lines.sizes(4, "header `numLayers, numInputs, numOutputs, maxLayerSize`")?;
    let (num_layers, num_inputs, num_outputs) = (header[0], header[1], header[2]);
    if num_layers > 10_000 {
        return Err(NnetError::Syntax {
            line: header_line,
            message: format!("{num_layers} layers is not plausible"),
        });
    }
    let (sizes_line, sizes) = lines.sizes(num_layers + 1, "layer sizes")?;
    if sizes[0] != num_inputs || sizes[num_layers] != num_outputs {
        return Err(NnetError::Syntax {
            line: sizes_line,
            message: format!(
                "layer sizes start {} and end {}, but the header says {num_inputs} inputs and {num_outputs} outputs",
                sizes[0], sizes[num_layers]
            ),
        });
    }
    lines.numbers("the unused flag line")?;
    let (_, _minimum) = lines.exactly(num_inputs, "input minima")?;
    let (_, _maximum) = lines.exactly(num_inputs, "input maxima")?;
    let (_, means) = lines.exactly(num_inputs + 1, "input means and output mean")?;
    let (range_line, ranges) = lines.exactly(num_inputs + 1, "input ranges and output range")?;

    let mut layers = Vec::with_capacity(num_layers);
    for l in 0..num_layers {
        let (rows, cols) = (sizes[l + 1], sizes[l]);
        let mut weight = Vec::with_capacity(rows * cols);
        for i in 0..rows {
            let (_, row) = lines.exactly(cols, &format!("layer {} weight row {}", l + 1, i + 1))?;
            weight.extend(row);
        }
        let mut bias = Vec::with_capacity(rows);
        for i in 0..rows {
            let (_, b) = lines.exactly(1, &format!("layer {} bias {}", l + 1, i + 1))?;
            bias.push(b[0]);
        }
        layers.push(Affine::from_row_major(rows, cols, &weight, bias)?);
    }
    if let Some((line, _)) = lines.inner.next() {
        return Err(NnetError::TrailingData { line });
    }

    let mut folded = Vec::new();
    if options.raw_inputs {
        if let Some((index, &value)) = ranges[..num_inputs]
            .iter()
            .enumerate()
            .find(|(_, r)| **r <= 0.0)
        {
            return Err(NnetError::BadRange {
                line: range_line,
                index,
                value,
            });
        }
        // (x - mean) / range = s ⊙ x + t with s = 1/range, t = -mean/range.
        let scale: Vec<f64> = ranges[..num_inputs].iter().map(|r| 1.0 / r).collect();
        let shift: Vec<f64> = (0..num_inputs).map(|i| -means[i] / ranges[i]).collect();
        layers[0] = layers[0]
            .precompose_diagonal(&scale, &shift)
            .expect("first layer takes num_inputs inputs");
        folded.push(
            "input normalisation (x - mean) / range folded into layer 1: the network takes raw units (input clipping to [min, max] is not applied)"
                .to_string(),
        );
    } else {
        folded.push(
            "none: the network takes the file's normalised coordinates (x - mean) / range"
                .to_string(),
        );
    }

    Ok(LoadedModel {
        network: Network::new(layers, false)?,
        format: ModelFormat::Nnet,
        input_name: None,
        input_shape: vec![Some(num_inputs)],
        folded,
        assumptions: Vec::new(),
    })
}

/// The input minima and maxima declared in a `.nnet` header, in raw units.
pub fn nnet_input_bounds(bytes: &[u8]) -> Result<(Vec<f64>, Vec<f64>), NnetError> {
    let text = std::str::from_utf8(bytes).map_err(|_| NnetError::NotText)?;
    let mut lines = DataLines::new(text);
    let (_, header) = lines.sizes(4, "header")?;
    let (num_layers, num_inputs) = (header[0], header[1]);
    lines.sizes(num_layers + 1, "layer sizes")?;
    lines.numbers("the unused flag line")?;
    let (_, lo) = lines.exactly(num_inputs, "input minima")?;
    let (_, hi) = lines.exactly(num_inputs, "input maxima")?;
    Ok((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: &str = "// a comment\n// another\n2,2,1,3,\n2,3,1,\n0,\n-1,-1,\n1,1,\n0.5,0.0,0.0,\n2.0,4.0,1.0,\n1,0,\n0,1,\n1,-1,\n0.1,\n0.2,\n-0.3,\n1,2,3,\n0.5,\n";

    #[test]
    fn tiny_network_by_hand() {
        let m = load_nnet(TINY.as_bytes(), NnetOptions::default()).unwrap();
        let net = &m.network;
        assert_eq!(net.layer_widths(), vec![3, 1]);
        // x = (0.3, -0.2): z1 = (0.4, 0.0, 0.2), h = (0.4, 0, 0.2); out = 0.4 + 0.6 + 0.5.
        let y = net.forward(&[0.3, -0.2]).unwrap();
        assert!((y[0] - 1.5).abs() < 1e-12, "{y:?}");
        let p = net.pattern(&[0.3, -0.2]).unwrap();
        assert_eq!(p.to_string(), "101");
    }

    #[test]
    fn raw_inputs_fold_normalisation() {
        let norm = load_nnet(TINY.as_bytes(), NnetOptions::default()).unwrap();
        let raw = load_nnet(TINY.as_bytes(), NnetOptions { raw_inputs: true }).unwrap();
        let x = [1.7, -0.9];
        let xn = [(x[0] - 0.5) / 2.0, (x[1] - 0.0) / 4.0];
        let a = norm.network.forward(&xn).unwrap();
        let b = raw.network.forward(&x).unwrap();
        assert!((a[0] - b[0]).abs() < 1e-12);
    }

    #[test]
    fn errors_name_the_line() {
        let cut = &TINY[..TINY.len() - 20];
        let e = load_nnet(cut.as_bytes(), NnetOptions::default()).unwrap_err();
        assert!(e.to_string().contains("ended early"), "{e}");
        let bad = TINY.replace("0,1,\n1,-1", "0,nan,\n1,-1");
        let e = load_nnet(bad.as_bytes(), NnetOptions::default()).unwrap_err();
        assert!(e.to_string().contains("line 11"), "{e}");
        let bad = TINY.replace("0,1,\n1,-1", "0,1,7\n1,-1");
        let e = load_nnet(bad.as_bytes(), NnetOptions::default()).unwrap_err();
        assert!(e.to_string().contains("expected 2 values, found 3"), "{e}");
        let bad = TINY.replace("0.5,\n", "0.5,\n9,\n");
        let e = load_nnet(bad.as_bytes(), NnetOptions::default()).unwrap_err();
        assert!(matches!(e, NnetError::TrailingData { .. }), "{e}");
        let e = load_nnet(&[0xff, 0xfe], NnetOptions::default()).unwrap_err();
        assert!(matches!(e, NnetError::NotText));
    }
}
