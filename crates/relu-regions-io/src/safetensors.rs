//! safetensors files holding a PyTorch `nn.Sequential` of `Linear` layers.
//!
//! Tensors are grouped by module: `P.weight` (shape `[out, in]`, PyTorch's layout) and an
//! optional `P.bias` (`[out]`; absent for `Linear(bias=False)`). Modules are ordered by
//! the natural order of their prefixes (`0 < 2 < 10`, `fc1 < fc2`, `net.0 < net.2`), the
//! order of `state_dict()` for an `nn.Sequential`. ReLU follows every layer but the last:
//! the file cannot say otherwise, so the loaded model states it as an assumption
//! ([`ASSUMED_ACTIVATION`]).
//! Float32, float64, float16 and bfloat16 tensors are read and widened to `f64`.
//!
//! Writing ([`to_safetensors_bytes`], [`write_safetensors`]) is the inverse for float32:
//! layer `l` (0-based) becomes `{2l}.weight` `[out, in]` and `{2l}.bias` `[out]` (the odd
//! indices are the ReLU modules, which hold no tensors), every parameter rounded to the
//! nearest `f32`. Reading such a file gives back the network exactly when its parameters
//! are `f32` values.

use std::path::{Path, PathBuf};

use relu_regions::{Affine, Network, NetworkError};
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};
use thiserror::Error;

use crate::{LoadedModel, ModelFormat};

/// What a loaded safetensors model assumes ([`LoadedModel::assumptions`]): the file holds
/// weights only, so nothing says which activation follows each layer.
pub const ASSUMED_ACTIVATION: &str = "the activation after every layer but the last is assumed to be ReLU (a safetensors file holds weights only; for a LeakyReLU network say --activation leaky_relu:ALPHA; an ONNX export names its activations)";

/// Why a safetensors file could not be read as an MLP.
#[derive(Debug, Error)]
pub enum SafetensorsError {
    #[error("not a safetensors file: {0}")]
    Format(String),
    #[error("tensor `{name}` has dtype {dtype}; only F32, F64, F16 and BF16 are supported")]
    Dtype { name: String, dtype: String },
    #[error("tensor `{name}` has shape {shape:?}; expected {expected}")]
    Shape {
        name: String,
        shape: Vec<usize>,
        expected: String,
    },
    #[error(
        "no `*.weight` tensors: expected a PyTorch nn.Sequential of Linear layers (keys like `0.weight`, `0.bias`)"
    )]
    NoLayers,
    #[error("tensor `{name}` has no matching `{prefix}.weight`")]
    Orphan { name: String, prefix: String },
    #[error(
        "tensor `{name}` is not a Linear weight or bias (expected keys ending in .weight or .bias)"
    )]
    UnknownTensor { name: String },
    #[error(
        "layers `{previous}` and `{next}` do not chain: {previous} has {out} outputs, {next} takes {inputs} inputs"
    )]
    Chain {
        previous: String,
        next: String,
        out: usize,
        inputs: usize,
    },
    #[error("invalid network (layer numbers count Linear modules from 0): {0}")]
    Network(#[from] NetworkError),
}

/// Why a network could not be written as safetensors.
#[derive(Debug, Error)]
pub enum SafetensorsWriteError {
    #[error(
        "the network has a ReLU after its last layer; a PyTorch nn.Sequential state dict of Linear layers cannot say so (write ONNX instead)"
    )]
    OutputRelu,
    #[error(
        "the network has leaky ReLUs; a state dict of Linear layers holds weights only and would be read back as ReLU (write ONNX instead)"
    )]
    LeakyActivation,
    #[error("safetensors: {0}")]
    Format(String),
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A network as float32 safetensors bytes in PyTorch's `nn.Sequential` layout:
/// `0.weight` `[out, in]` (row-major), `0.bias` `[out]`, then `2.weight`, `2.bias` (index
/// 1 is the ReLU), ... Every parameter is rounded to the nearest `f32`. A network with an
/// output ReLU is refused ([`SafetensorsWriteError::OutputRelu`]): the layout has no
/// place for it, and the reader would load the network without it.
pub fn to_safetensors_bytes(net: &Network) -> Result<Vec<u8>, SafetensorsWriteError> {
    if net.output_relu() {
        return Err(SafetensorsWriteError::OutputRelu);
    }
    if !net.is_relu() {
        return Err(SafetensorsWriteError::LeakyActivation);
    }
    let mut buffers: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (l, layer) in net.layers().iter().enumerate() {
        let w = layer.weight();
        let mut weight = Vec::with_capacity(w.nrows() * w.ncols() * 4);
        for i in 0..w.nrows() {
            for j in 0..w.ncols() {
                weight.extend_from_slice(&(w[(i, j)] as f32).to_le_bytes());
            }
        }
        let bias: Vec<u8> = layer
            .bias()
            .iter()
            .flat_map(|&b| (b as f32).to_le_bytes())
            .collect();
        buffers.push((
            format!("{}.weight", 2 * l),
            vec![w.nrows(), w.ncols()],
            weight,
        ));
        buffers.push((format!("{}.bias", 2 * l), vec![layer.bias().len()], bias));
    }
    let views = buffers
        .iter()
        .map(|(name, shape, data)| {
            TensorView::new(Dtype::F32, shape.clone(), data)
                .map(|view| (name.clone(), view))
                .map_err(|e| SafetensorsWriteError::Format(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    safetensors::serialize(views, None).map_err(|e| SafetensorsWriteError::Format(e.to_string()))
}

/// Writes [`to_safetensors_bytes`] of `net` to `path`.
pub fn write_safetensors(net: &Network, path: &Path) -> Result<(), SafetensorsWriteError> {
    let bytes = to_safetensors_bytes(net)?;
    std::fs::write(path, bytes).map_err(|source| SafetensorsWriteError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn to_f64(
    name: &str,
    view: &safetensors::tensor::TensorView<'_>,
) -> Result<Vec<f64>, SafetensorsError> {
    let data = view.data();
    let out = match view.dtype() {
        Dtype::F64 => data
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect(),
        Dtype::F32 => data
            .chunks_exact(4)
            .map(|c| f64::from(f32::from_le_bytes(c.try_into().expect("4 bytes"))))
            .collect(),
        Dtype::BF16 => data
            .chunks_exact(2)
            .map(|c| {
                f64::from(f32::from_bits(
                    u32::from(u16::from_le_bytes([c[0], c[1]])) << 16,
                ))
            })
            .collect(),
        Dtype::F16 => data
            .chunks_exact(2)
            .map(|c| f16_to_f64(u16::from_le_bytes([c[0], c[1]])))
            .collect(),
        other => {
            return Err(SafetensorsError::Dtype {
                name: name.to_string(),
                dtype: format!("{other:?}"),
            });
        }
    };
    Ok(out)
}

/// IEEE 754 binary16 to f64.
fn f16_to_f64(h: u16) -> f64 {
    let sign = if h >> 15 == 1 { -1.0 } else { 1.0 };
    let exponent = i32::from((h >> 10) & 0x1f);
    let mantissa = f64::from(h & 0x3ff);
    match exponent {
        0 => sign * mantissa * 2f64.powi(-24),
        31 if mantissa == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        e => sign * (1.0 + mantissa / 1024.0) * 2f64.powi(e - 15),
    }
}

/// Natural-order key: digit runs compare as numbers.
fn natural_key(s: &str) -> Vec<(u8, u64, String)> {
    let mut key = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        let mut run = String::new();
        let digit = c.is_ascii_digit();
        while let Some(&c) = chars.peek() {
            if c.is_ascii_digit() != digit {
                break;
            }
            run.push(c);
            chars.next();
        }
        if digit {
            key.push((0, run.parse().unwrap_or(u64::MAX), run));
        } else {
            key.push((1, 0, run));
        }
    }
    key
}

/// Loads an MLP from safetensors bytes.
pub fn load_safetensors(bytes: &[u8]) -> Result<LoadedModel, SafetensorsError> {
    load_safetensors_with(bytes, None)
}

/// [`load_safetensors`] with the activation given ([`crate::LoadOptions::activation`]):
/// `None` assumes ReLU and says so in the model's assumptions.
pub fn load_safetensors_with(
    bytes: &[u8],
    activation: Option<crate::Activation>,
) -> Result<LoadedModel, SafetensorsError> {
    let tensors =
        SafeTensors::deserialize(bytes).map_err(|e| SafetensorsError::Format(e.to_string()))?;
    let mut prefixes: Vec<String> = Vec::new();
    for name in tensors.names() {
        if let Some(p) = name.strip_suffix(".weight") {
            prefixes.push(p.to_string());
        } else if let Some(p) = name.strip_suffix(".bias") {
            if tensors.tensor(&format!("{p}.weight")).is_err() {
                return Err(SafetensorsError::Orphan {
                    name: name.to_string(),
                    prefix: p.to_string(),
                });
            }
        } else {
            return Err(SafetensorsError::UnknownTensor {
                name: name.to_string(),
            });
        }
    }
    if prefixes.is_empty() {
        return Err(SafetensorsError::NoLayers);
    }
    prefixes.sort_by_key(|p| natural_key(p));

    let mut layers = Vec::with_capacity(prefixes.len());
    for (l, prefix) in prefixes.iter().enumerate() {
        let name = format!("{prefix}.weight");
        let w = tensors
            .tensor(&name)
            .map_err(|e| SafetensorsError::Format(e.to_string()))?;
        let shape = w.shape().to_vec();
        if shape.len() != 2 {
            return Err(SafetensorsError::Shape {
                name,
                shape,
                expected: "2 dimensions [out, in]".into(),
            });
        }
        let (rows, cols) = (shape[0], shape[1]);
        let weight = to_f64(&name, &w)?;
        let bias_name = format!("{prefix}.bias");
        let bias = match tensors.tensor(&bias_name) {
            Ok(b) => {
                if b.shape() != [rows] {
                    return Err(SafetensorsError::Shape {
                        name: bias_name,
                        shape: b.shape().to_vec(),
                        expected: format!("[{rows}] (the rows of {prefix}.weight)"),
                    });
                }
                to_f64(&bias_name, &b)?
            }
            Err(_) => vec![0.0; rows],
        };
        if let Some(prev) = layers.last().map(Affine::output_dim)
            && prev != cols
        {
            return Err(SafetensorsError::Chain {
                previous: prefixes[l - 1].clone(),
                next: prefix.clone(),
                out: prev,
                inputs: cols,
            });
        }
        layers.push(Affine::from_row_major(rows, cols, &weight, bias)?);
    }
    let input_dim = layers[0].input_dim();
    let network = Network::new(layers, false)?;
    let (network, folded, assumptions) = match activation {
        None => (network, Vec::new(), vec![ASSUMED_ACTIVATION.to_string()]),
        Some(a) => {
            let slopes = network
                .relu_widths()
                .into_iter()
                .map(|w| vec![a.negative_slope(); w])
                .collect();
            (
                network.with_negative_slopes(slopes)?,
                vec![format!(
                    "activation after every layer but the last: {a} (as given)"
                )],
                Vec::new(),
            )
        }
    };
    Ok(LoadedModel {
        network,
        format: ModelFormat::Safetensors,
        input_name: None,
        input_shape: vec![Some(input_dim)],
        folded,
        assumptions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use relu_regions::random::{Init, random_network};
    use std::collections::HashMap;

    fn f32_bytes(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn sequential_round_trip_by_hand() {
        // nn.Sequential(Linear(2, 3), ReLU(), Linear(3, 1)) as keys 0.* and 2.*; and a
        // third layer key 10.* to check natural ordering.
        let w0 = f32_bytes(&[1.0, 0.0, 0.0, 1.0, 1.0, -1.0]);
        let b0 = f32_bytes(&[0.1, 0.2, -0.3]);
        let w2 = f32_bytes(&[1.0, 2.0, 3.0, -1.0, 0.0, 0.5]);
        let b2 = f32_bytes(&[0.5, 0.0]);
        let w10 = f32_bytes(&[2.0, 1.0]);
        let mut map = HashMap::new();
        map.insert(
            "0.weight".to_string(),
            TensorView::new(Dtype::F32, vec![3, 2], &w0).unwrap(),
        );
        map.insert(
            "0.bias".to_string(),
            TensorView::new(Dtype::F32, vec![3], &b0).unwrap(),
        );
        map.insert(
            "2.weight".to_string(),
            TensorView::new(Dtype::F32, vec![2, 3], &w2).unwrap(),
        );
        map.insert(
            "2.bias".to_string(),
            TensorView::new(Dtype::F32, vec![2], &b2).unwrap(),
        );
        map.insert(
            "10.weight".to_string(),
            TensorView::new(Dtype::F32, vec![1, 2], &w10).unwrap(),
        );
        let bytes = safetensors::serialize(&map, None).unwrap();
        let m = load_safetensors(&bytes).unwrap();
        assert_eq!(m.network.layer_widths(), vec![3, 2, 1]);
        // The file cannot say which activation it had: the model says what it assumed.
        assert_eq!(m.assumptions, vec![ASSUMED_ACTIVATION.to_string()]);
        // x = (0.3, -0.2): z1 = (0.4, 0.0, 0.2) (f32 biases), h1 = (0.4, 0, 0.2)
        // z2 = (0.4 + 0.6 + 0.5, -0.4 + 0.1) = (1.5, -0.3); h2 = (1.5, 0); out = 3.0.
        let y = m.network.forward(&[0.3, -0.2]).unwrap();
        assert!((y[0] - 3.0).abs() < 1e-6, "{y:?}");
    }

    #[test]
    fn errors() {
        let w = f32_bytes(&[1.0, 2.0]);
        let mut map = HashMap::new();
        map.insert(
            "0.weight".to_string(),
            TensorView::new(Dtype::F32, vec![2], &w).unwrap(),
        );
        let bytes = safetensors::serialize(&map, None).unwrap();
        let e = load_safetensors(&bytes).unwrap_err();
        assert!(e.to_string().contains("0.weight"), "{e}");
        assert!(load_safetensors(b"garbage").is_err());
        assert!(load_safetensors(&bytes[..bytes.len() - 3]).is_err());
    }

    /// A seeded network with every parameter rounded to `f32`.
    fn f32_network(widths: &[usize], seed: u64) -> Network {
        use rand::SeedableRng;
        let net = random_network(
            widths,
            Init::He,
            false,
            &mut rand::rngs::StdRng::seed_from_u64(seed),
        );
        let layers = net
            .layers()
            .iter()
            .map(|l| {
                let w = l.weight();
                Affine::new(
                    faer::Mat::from_fn(w.nrows(), w.ncols(), |i, j| w[(i, j)] as f32 as f64),
                    l.bias().iter().map(|&b| b as f32 as f64).collect(),
                )
                .unwrap()
            })
            .collect();
        Network::new(layers, false).unwrap()
    }

    #[test]
    fn writer_round_trips_through_the_reader_bit_exactly() {
        for (widths, seed) in [(&[2, 7, 5, 3][..], 2), (&[12, 1][..], 5), (&[3, 4][..], 9)] {
            let net = f32_network(widths, seed);
            let bytes = to_safetensors_bytes(&net).unwrap();
            let names: Vec<String> = SafeTensors::deserialize(&bytes)
                .unwrap()
                .names()
                .into_iter()
                .map(str::to_string)
                .collect();
            assert_eq!(names.len(), 2 * net.layers().len());
            assert!(names.contains(&format!("{}.weight", 2 * (net.layers().len() - 1))));
            let loaded = load_safetensors(&bytes).unwrap().network;
            assert_eq!(loaded.input_dim(), net.input_dim());
            assert_eq!(loaded.layer_widths(), net.layer_widths());
            assert!(!loaded.output_relu());
            for (a, b) in loaded.layers().iter().zip(net.layers()) {
                let (wa, wb) = (a.weight(), b.weight());
                for i in 0..wa.nrows() {
                    for j in 0..wa.ncols() {
                        assert_eq!(wa[(i, j)].to_bits(), wb[(i, j)].to_bits());
                    }
                }
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(a.bias()), bits(b.bias()));
            }
        }
    }

    /// A LeakyReLU checkpoint: read as ReLU by default (with the assumption stated), and
    /// as the leaky network when the activation is given; the writer refuses leaky
    /// networks, whose slopes the layout cannot hold.
    #[test]
    fn the_activation_option_reads_a_leaky_checkpoint() {
        let relu = f32_network(&[3, 6, 5, 2], 4);
        let leaky = relu
            .clone()
            .with_negative_slopes(vec![vec![0.2; 6], vec![0.2; 5]])
            .unwrap();
        let bytes = to_safetensors_bytes(&relu).unwrap();
        let as_relu = load_safetensors(&bytes).unwrap();
        assert_eq!(as_relu.assumptions, vec![ASSUMED_ACTIVATION.to_string()]);
        let as_leaky =
            load_safetensors_with(&bytes, Some(crate::Activation::LeakyRelu(0.2))).unwrap();
        assert!(as_leaky.assumptions.is_empty());
        assert!(
            as_leaky.folded[0].contains("leaky_relu:0.2"),
            "{:?}",
            as_leaky.folded
        );
        assert_eq!(as_leaky.network, leaky);
        let x = [-0.7, 0.3, -1.1];
        assert_eq!(
            as_leaky.network.forward(&x).unwrap(),
            leaky.forward(&x).unwrap()
        );
        assert!(matches!(
            to_safetensors_bytes(&leaky),
            Err(SafetensorsWriteError::LeakyActivation)
        ));
        // Parsing the option.
        use crate::Activation;
        assert_eq!("relu".parse::<Activation>(), Ok(Activation::Relu));
        assert_eq!(
            "leaky_relu:0.1".parse::<Activation>(),
            Ok(Activation::LeakyRelu(0.1))
        );
        assert_eq!(
            "leaky_relu".parse::<Activation>(),
            Ok(Activation::LeakyRelu(0.01))
        );
        assert!(
            "leaky_relu:2"
                .parse::<Activation>()
                .unwrap_err()
                .contains("[0, 1]")
        );
        assert!(
            "leaky_relu:x"
                .parse::<Activation>()
                .unwrap_err()
                .contains("`x`")
        );
        assert!(
            "gelu"
                .parse::<Activation>()
                .unwrap_err()
                .contains("unknown activation")
        );
    }

    #[test]
    fn writer_rounds_to_f32_and_refuses_an_output_relu() {
        let layer = Affine::new(faer::Mat::from_fn(1, 1, |_, _| 0.1), vec![1.0 / 3.0]).unwrap();
        let net = Network::new(vec![layer.clone()], false).unwrap();
        let loaded = load_safetensors(&to_safetensors_bytes(&net).unwrap())
            .unwrap()
            .network;
        assert_eq!(loaded.layers()[0].weight()[(0, 0)], f64::from(0.1f32));
        assert_eq!(loaded.layers()[0].bias()[0], f64::from(1.0f32 / 3.0));
        let relu_out = Network::new(vec![layer], true).unwrap();
        assert!(matches!(
            to_safetensors_bytes(&relu_out),
            Err(SafetensorsWriteError::OutputRelu)
        ));
        let dir = std::env::temp_dir().join(format!("rr-st-write-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("net.safetensors");
        write_safetensors(&net, &path).unwrap();
        assert_eq!(
            std::fs::read(&path).unwrap(),
            to_safetensors_bytes(&net).unwrap()
        );
        let e = write_safetensors(&net, &dir.join("missing/net.safetensors")).unwrap_err();
        assert!(e.to_string().contains("missing"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn half_precision() {
        assert_eq!(f16_to_f64(0x3c00), 1.0);
        assert_eq!(f16_to_f64(0xc000), -2.0);
        assert_eq!(f16_to_f64(0x0001), 2f64.powi(-24));
        assert!(f16_to_f64(0x7e00).is_nan());
    }
}
