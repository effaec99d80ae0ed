//! The ONNX loader op by op: small models built in the test, loaded, and compared at
//! random points with straightforward reference implementations written here (nested
//! loops over the tensors, not the loader's code). Then malformed files (errors, never
//! panics), and every `.onnx` under `../shared/networks` against its reference outputs.
//!
//! Its modules follow the loader's op families (`src/onnx/ops/`):
//! [`shape`], [`elementwise`], [`dense`], [`conv`]; then [`layers`] (where ReLUs cut the
//! chain, composition of consecutive affine ops), [`initializers`] (tensor storage),
//! [`errors`] (the messages of malformed models), [`external`] (external data), [`corruption`] (damaged files never
//! panic) and [`shared_networks`] (real models against their reference outputs).
//! [`builder`] writes the ONNX protobufs, [`reference`] holds the reference implementations.

mod builder;
mod reference;

mod activations;
mod conv;
mod corruption;
mod dense;
mod elementwise;
mod errors;
mod external;
mod initializers;
mod layers;
mod pooling;
mod shape;
mod shared_networks;

use builder::*;
use relu_regions_io::onnx::proto::{NodeProto, TensorProto};
use relu_regions_io::onnx::{OnnxError, load_onnx};
use relu_regions_io::{LoadedModel, ModelFormat};

// ---------------------------------------------------------------------------------------
// Checking helpers
// ---------------------------------------------------------------------------------------

fn load(bytes: &[u8]) -> LoadedModel {
    load_onnx(bytes).unwrap_or_else(|e| panic!("load failed: {e}"))
}

/// Asserts that `loaded` gives the outputs of `path`'s reference file (onnxruntime's)
/// within `tolerance`, relative to `max(|reference|, 1)`; returns the number of points.
fn assert_matches_reference(loaded: &LoadedModel, path: &std::path::Path, tolerance: f64) -> usize {
    let points = relu_regions_testkit::reference_points(path);
    for r in &points {
        let y = loaded.network.forward(&r.input).unwrap();
        assert_eq!(y.len(), r.output.len(), "{}", path.display());
        for (a, b) in y.iter().zip(&r.output) {
            assert!(
                (a - b).abs() <= tolerance * b.abs().max(1.0),
                "{} line {}: {a} vs {b}",
                path.display(),
                r.line
            );
        }
    }
    points.len()
}

fn load_err(bytes: &[u8]) -> OnnxError {
    match load_onnx(bytes) {
        Ok(m) => panic!(
            "expected an error, loaded a network with widths {:?}",
            m.network.layer_widths()
        ),
        Err(e) => e,
    }
}

fn assert_close(ours: &[f64], reference: &[f64], tol: f64) {
    assert_eq!(ours.len(), reference.len(), "output lengths differ");
    for (i, (a, b)) in ours.iter().zip(reference).enumerate() {
        assert!(
            (a - b).abs() <= tol * (1.0 + b.abs()),
            "output {i}: ours {a}, reference {b} (ours {ours:?}, reference {reference:?})"
        );
    }
}

/// Loads `bytes` and compares the network with `reference` at a few random points
/// (coordinates in [-2, 2)); returns the loaded model.
fn check(bytes: &[u8], seed: u64, reference: impl Fn(&[f64]) -> Vec<f64>) -> LoadedModel {
    let model = load(bytes);
    assert_eq!(model.format, ModelFormat::Onnx);
    let mut rng = SplitMix64::new(seed);
    for _ in 0..6 {
        let x: Vec<f64> = (0..model.network.input_dim())
            .map(|_| 2.0 * rng.uniform())
            .collect();
        let ours = model.network.forward(&x).unwrap();
        assert_close(&ours, &reference(&x), 1e-10);
    }
    model
}

fn has_note(model: &LoadedModel, words: &[&str]) -> bool {
    model
        .folded
        .iter()
        .any(|n| words.iter().all(|w| n.contains(w)))
}

// ---------------------------------------------------------------------------------------
// Model pieces shared by several modules
// ---------------------------------------------------------------------------------------

fn bn_params(rng: &mut SplitMix64, c: usize) -> [Vec<f32>; 4] {
    let var: Vec<f32> = rng.f32s(c).iter().map(|v| v.abs() + 0.5).collect();
    [rng.f32s(c), rng.f32s(c), rng.f32s(c), var]
}

fn bn_inits(p: &[Vec<f32>; 4], prefix: &str) -> Vec<TensorProto> {
    let c = p[0].len() as i64;
    ["scale", "B", "mean", "var"]
        .iter()
        .zip(p)
        .map(|(n, v)| tensor_f32(&format!("{prefix}{n}"), &[c], v))
        .collect()
}

fn conv_node(name: &str, inputs: &[&str], out: &str, attrs: Vec<(&str, Attr)>) -> NodeProto {
    node("Conv", name, inputs, &[out], attrs)
}
