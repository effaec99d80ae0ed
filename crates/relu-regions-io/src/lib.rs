//! File formats for relu-regions: every model format is lowered to the canonical
//! [`relu_regions::Network`] (affine layers + ReLU), and point files are read into
//! plain `Vec<Vec<f64>>`.
//!
//! This crate computes no geometry; it only parses, checks and folds (normalisation,
//! BatchNorm, Conv lowering, composition of consecutive affine layers).
//!
//! | format | module | notes |
//! |---|---|---|
//! | ONNX (`.onnx`) | [`onnx`] | pure-Rust protobuf decoding; the op set of the README |
//! | NNet (`.nnet`) | [`nnet`] | ACAS Xu / Reluplex text format; normalised inputs by default |
//! | safetensors | [`safetensors`] | a PyTorch `nn.Sequential` of `Linear` layers |

pub mod nnet;
pub mod onnx;
pub mod points;
pub mod safetensors;
pub mod vnnlib;

use std::path::{Path, PathBuf};

use relu_regions::Network;
use thiserror::Error;

pub use nnet::{NnetError, NnetOptions};
pub use onnx::OnnxError;
pub use points::{
    CsvError, CsvLayout, CsvTable, PointsError, PointsFile, parse_csv_table, read_points,
    read_points_file,
};
pub use safetensors::{
    SafetensorsError, SafetensorsWriteError, to_safetensors_bytes, write_safetensors,
};
pub use vnnlib::{VnnlibBox, VnnlibError, parse_vnnlib_box};

/// The model file formats relu-regions reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelFormat {
    Onnx,
    Nnet,
    Safetensors,
}

impl ModelFormat {
    /// The format named by a file's extension (`.onnx`, `.nnet`, `.safetensors`/`.st`).
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "onnx" => Some(Self::Onnx),
            "nnet" => Some(Self::Nnet),
            "safetensors" | "st" => Some(Self::Safetensors),
            _ => None,
        }
    }

    /// Lower-case name, as printed by `inspect`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Onnx => "onnx",
            Self::Nnet => "nnet",
            Self::Safetensors => "safetensors",
        }
    }
}

/// A network read from a file, with what the loader learnt on the way.
#[derive(Debug, Clone)]
pub struct LoadedModel {
    /// The canonical network, in `f64`.
    pub network: Network,
    /// The file's format.
    pub format: ModelFormat,
    /// The name of the graph input, where the format has one.
    pub input_name: Option<String>,
    /// The model's declared input shape (`None` for a symbolic or unknown dimension such
    /// as a batch size). The network's input is this tensor flattened in row-major order.
    pub input_shape: Vec<Option<usize>>,
    /// Human-readable notes on what was folded or lowered at load time, in graph order
    /// (e.g. "Sub, Div (input normalisation) folded into layer 1").
    pub folded: Vec<String>,
    /// What the loader assumed because the file does not say it (e.g. that a safetensors
    /// checkpoint's activation is ReLU); a tool should show these to its user.
    pub assumptions: Vec<String>,
}

/// The activation of each activated layer of `net`, for display: `relu`,
/// `leaky_relu:ALPHA` (one slope for the layer), or `prelu:MIN..MAX` (per-neuron slopes).
pub fn activation_names(net: &Network) -> Vec<String> {
    (0..net.relu_layer_count())
        .map(|l| match net.negative_slopes(l) {
            None => "relu".to_string(),
            Some(alpha) => {
                let (lo, hi) = alpha
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                        (a.min(v), b.max(v))
                    });
                // An f32 slope (as ONNX files hold them) shows its shortest f32 form.
                let show = |v: f64| {
                    if f64::from(v as f32) == v {
                        (v as f32).to_string()
                    } else {
                        v.to_string()
                    }
                };
                if lo == hi {
                    format!("leaky_relu:{}", show(lo))
                } else {
                    format!("prelu:{}..{}", show(lo), show(hi))
                }
            }
        })
        .collect()
}

/// Options for [`load_model`].
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadOptions {
    /// For `.nnet`: fold the file's input normalisation `(x - mean) / range` into the
    /// first layer, so that the network takes raw units. Default: the network takes its
    /// own normalised coordinates (as VNN-LIB specifications do).
    pub nnet_raw_inputs: bool,
    /// For `.safetensors`: the activation after every layer but the last, which the file
    /// cannot say. `None` assumes ReLU and says so in [`LoadedModel::assumptions`]. Other
    /// formats name their activations, and refuse the option.
    pub activation: Option<Activation>,
}

/// The activation of a weights-only checkpoint ([`LoadOptions::activation`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activation {
    /// `max(z, 0)`.
    Relu,
    /// `z` for `z > 0`, `alpha z` otherwise (PyTorch's `LeakyReLU(negative_slope=alpha)`),
    /// `alpha` in `[0, 1]`.
    LeakyRelu(f64),
}

impl Activation {
    /// The negative slope: `0` for ReLU.
    pub fn negative_slope(self) -> f64 {
        match self {
            Self::Relu => 0.0,
            Self::LeakyRelu(alpha) => alpha,
        }
    }
}

impl std::fmt::Display for Activation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Relu => write!(f, "relu"),
            Self::LeakyRelu(alpha) => write!(f, "leaky_relu:{alpha}"),
        }
    }
}

impl std::str::FromStr for Activation {
    type Err = String;

    /// `relu` or `leaky_relu:ALPHA` (`ALPHA` in `[0, 1]`; `leaky_relu` alone is PyTorch's
    /// default 0.01).
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        match s.split_once(':') {
            None if s.eq_ignore_ascii_case("relu") => Ok(Self::Relu),
            None if s.eq_ignore_ascii_case("leaky_relu") => Ok(Self::LeakyRelu(0.01)),
            Some((name, alpha)) if name.trim().eq_ignore_ascii_case("leaky_relu") => {
                let a: f64 = alpha.trim().parse().map_err(|_| {
                    format!(
                        "`{}` is not a number (expected leaky_relu:ALPHA, e.g. leaky_relu:0.01)",
                        alpha.trim()
                    )
                })?;
                if !(0.0..=1.0).contains(&a) {
                    return Err(format!(
                        "negative slope {a} is outside [0, 1], where the activation is convex and non-decreasing (which the bounds assume)"
                    ));
                }
                Ok(Self::LeakyRelu(a))
            }
            _ => Err(format!(
                "unknown activation `{s}`: expected `relu` or `leaky_relu:ALPHA` (e.g. leaky_relu:0.01)"
            )),
        }
    }
}

/// Why a model file could not be loaded. The message names the file and, inside it, the
/// node, op, layer or value at fault.
#[derive(Debug, Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: unknown model format (expected extension .onnx, .nnet or .safetensors)")]
    UnknownFormat { path: PathBuf },
    #[error("{path}: {source}")]
    Onnx {
        path: PathBuf,
        source: Box<OnnxError>,
    },
    #[error("{path}: {source}")]
    Nnet { path: PathBuf, source: NnetError },
    #[error("{path}: {source}")]
    Safetensors {
        path: PathBuf,
        source: SafetensorsError,
    },
    #[error(
        "{path}: an activation ({activation}) was given, but a .{format} file names its own activations; the option is for .safetensors checkpoints, which hold weights only"
    )]
    ActivationOption {
        path: PathBuf,
        format: &'static str,
        activation: Activation,
    },
}

/// Loads a model file, choosing the format by extension.
pub fn load_model(path: &Path, options: LoadOptions) -> Result<LoadedModel, LoadError> {
    let format = ModelFormat::from_path(path).ok_or_else(|| LoadError::UnknownFormat {
        path: path.to_path_buf(),
    })?;
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let path = path.to_path_buf();
    if let Some(activation) = options.activation
        && format != ModelFormat::Safetensors
    {
        return Err(LoadError::ActivationOption {
            path,
            format: format.name(),
            activation,
        });
    }
    match format {
        ModelFormat::Onnx => {
            let folder = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            onnx::load_onnx_beside(&bytes, Some(&folder)).map_err(|source| LoadError::Onnx {
                path,
                source: Box::new(source),
            })
        }
        ModelFormat::Nnet => nnet::load_nnet(
            &bytes,
            NnetOptions {
                raw_inputs: options.nnet_raw_inputs,
            },
        )
        .map_err(|source| LoadError::Nnet { path, source }),
        ModelFormat::Safetensors => safetensors::load_safetensors_with(&bytes, options.activation)
            .map_err(|source| LoadError::Safetensors { path, source }),
    }
}
