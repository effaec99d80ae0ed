//! `.nnet` files against their references, and the 45 ACAS Xu `.nnet` files against their
//! ONNX twins. Uses the bundled ACAS Xu 1_1 always, and `../shared/networks` where it
//! exists (mandatory when `RELU_REGIONS_REQUIRE_SHARED=1`, as in CI).

use std::path::Path;

use relu_regions_io::{LoadOptions, load_model};
use relu_regions_testkit::{
    Lcg, bundled_data, files_with_extension, load_network, reference_points, shared_networks,
};

/// Checks a model against `MODEL.reference.jsonl`; returns the number of points checked
/// and the largest relative deviation.
fn check_references(model: &Path) -> (usize, f64) {
    let net = load_network(model);
    let mut worst: f64 = 0.0;
    let mut n = 0;
    for r in reference_points(model) {
        let y = net.forward(&r.input).unwrap();
        assert_eq!(y.len(), r.output.len(), "{}", model.display());
        for (a, b) in y.iter().zip(&r.output) {
            let dev = (a - b).abs() / b.abs().max(1.0);
            worst = worst.max(dev);
            assert!(
                dev <= 1e-9,
                "{}: output {a} vs reference {b}",
                model.display()
            );
        }
        n += 1;
    }
    (n, worst)
}

#[test]
fn bundled_acasxu_matches_reference() {
    let model = bundled_data("networks/acasxu/ACASXU_run2a_1_1_batch_2000.nnet");
    let (n, _) = check_references(&model);
    assert!(n >= 6);
    let net = load_network(&model);
    assert_eq!(net.layer_widths(), vec![50, 50, 50, 50, 50, 50, 5]);
    assert_eq!(net.relu_count(), 300);
    assert_eq!(net.param_count(), 13_305);
    assert!(!net.output_relu());
}

#[test]
fn shared_nnet_files_match_references() {
    let Some(dir) = shared_networks() else { return };
    let files = files_with_extension(&dir, "nnet");
    assert_eq!(files.len(), 49, "45 ACAS Xu + 4 Marabou MNIST .nnet files");
    for f in &files {
        let (n, worst) = check_references(f);
        assert!(n > 0, "{}: empty reference", f.display());
        eprintln!(
            "{}: {n} points, max rel dev {worst:.1e}",
            f.file_name().unwrap().to_string_lossy()
        );
    }
}

/// Pseudo-random points in the normalised ACAS Xu box (a fixed LCG: no test randomness).
fn acas_points(n: usize) -> Vec<Vec<f64>> {
    let mut rng = Lcg::new(0x9e37_79b9_7f4a_7c15);
    let lo = [-0.3284, -0.5, -0.5, -0.5, -0.5];
    let hi = [0.6799, 0.5, 0.5, 0.5, 0.5];
    (0..n)
        .map(|_| {
            (0..5)
                .map(|i| lo[i] + (hi[i] - lo[i]) * rng.uniform())
                .collect()
        })
        .collect()
}

fn nnet_equals_onnx(nnet: &Path, onnx: &Path) {
    let a = load_network(nnet);
    let b = load_network(onnx);
    assert_eq!(a.layer_widths(), b.layer_widths(), "{}", onnx.display());
    assert_eq!(a.output_relu(), b.output_relu());
    // The ONNX weights are the .nnet weights rounded to float32.
    for (l, (la, lb)) in a.layers().iter().zip(b.layers()).enumerate() {
        for i in 0..la.output_dim() {
            for j in 0..la.input_dim() {
                let (wa, wb) = (la.weight()[(i, j)], lb.weight()[(i, j)]);
                assert!(
                    (wa - wb).abs() <= 1e-6 * wa.abs().max(1e-3),
                    "{}: layer {l} W[{i},{j}] {wa} vs {wb}",
                    onnx.display()
                );
            }
            let (ba, bb) = (la.bias()[i], lb.bias()[i]);
            assert!(
                (ba - bb).abs() <= 1e-6 * ba.abs().max(1e-3),
                "{}: layer {l} b[{i}] {ba} vs {bb}",
                onnx.display()
            );
        }
    }
    for x in acas_points(50) {
        let (ya, yb) = (a.forward(&x).unwrap(), b.forward(&x).unwrap());
        for (p, q) in ya.iter().zip(&yb) {
            assert!(
                (p - q).abs() <= 1e-5,
                "{}: at {x:?}: {p} vs {q}",
                onnx.display()
            );
        }
    }
}

#[test]
fn bundled_acasxu_nnet_equals_onnx() {
    let dir = bundled_data("networks/acasxu");
    nnet_equals_onnx(
        &dir.join("ACASXU_run2a_1_1_batch_2000.nnet"),
        &dir.join("ACASXU_run2a_1_1_batch_2000.onnx"),
    );
}

#[test]
fn all_45_acasxu_nnet_equal_onnx_twins() {
    let Some(dir) = shared_networks() else { return };
    let mut count = 0;
    for i in 1..=5 {
        for j in 1..=9 {
            let name = format!("ACASXU_run2a_{i}_{j}_batch_2000");
            nnet_equals_onnx(
                &dir.join(format!("acasxu/nnet/{name}.nnet")),
                &dir.join(format!("acasxu/onnx/{name}.onnx")),
            );
            count += 1;
        }
    }
    assert_eq!(count, 45);
}

#[test]
fn raw_input_option_folds_normalisation() {
    let model = bundled_data("networks/acasxu/ACASXU_run2a_1_1_batch_2000.nnet");
    let norm = load_network(&model);
    let raw = load_model(
        &model,
        LoadOptions {
            nnet_raw_inputs: true,
            ..LoadOptions::default()
        },
    )
    .unwrap()
    .network;
    // Reluplex point 1: raw (31843.291 ft, -0.6283185307 rad, 0, 320 ft/s, 1080 ft/s) is
    // normalised (0.2, -0.1, 0, -0.3, 0.4).
    let raw_x = [31843.291, -0.6283185307, 0.0, 320.0, 1080.0];
    let norm_x = [0.2, -0.1, 0.0, -0.3, 0.4];
    let (a, b) = (norm.forward(&norm_x).unwrap(), raw.forward(&raw_x).unwrap());
    for (p, q) in a.iter().zip(&b) {
        assert!((p - q).abs() <= 1e-9 * p.abs().max(1.0), "{p} vs {q}");
    }
    assert_eq!(norm.pattern(&norm_x).unwrap(), raw.pattern(&raw_x).unwrap());
}
