//! Every `.onnx` under `../shared/networks` against its reference outputs
//! (`MODEL.onnx.reference.jsonl`), and the layer widths of a few known models.

use std::collections::BTreeMap;

use relu_regions_io::onnx::load_onnx;
use relu_regions_testkit::{files_with_extension, reference_points, shared_networks};

use super::has_note;

#[test]
fn shared_onnx_networks_match_their_references() {
    let Some(dir) = shared_networks() else {
        return;
    };
    let files = files_with_extension(&dir, "onnx");
    assert!(files.len() >= 59, "found only {} .onnx files", files.len());
    // family -> (networks, points, max abs deviation, max relative deviation)
    let mut stats: BTreeMap<String, (usize, usize, f64, f64)> = BTreeMap::new();
    for path in &files {
        let name = path.strip_prefix(&dir).unwrap().display().to_string();
        let bytes = std::fs::read(path).unwrap();
        let loaded = load_onnx(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let family = name.split('/').next().unwrap().to_string();
        let entry = stats.entry(family).or_insert((0, 0, 0.0, 0.0));
        entry.0 += 1;
        for r in reference_points(path) {
            let y = loaded
                .network
                .forward(&r.input)
                .unwrap_or_else(|e| panic!("{name} line {}: {e}", r.line));
            assert_eq!(y.len(), r.output.len(), "{name} line {}", r.line);
            for (a, b) in y.iter().zip(&r.output) {
                let abs = (a - b).abs();
                assert!(
                    abs <= 1e-4 * b.abs().max(1.0),
                    "{name} line {}: ours {a}, reference {b}",
                    r.line
                );
                entry.2 = entry.2.max(abs);
                entry.3 = entry.3.max(abs / b.abs().max(1.0));
            }
            entry.1 += 1;
        }
    }
    for (family, (nets, points, abs, rel)) in &stats {
        eprintln!(
            "{family}: {nets} networks, {points} points, max |ours - ref| = {abs:.3e}, max relative = {rel:.3e}"
        );
    }

    let widths = |rel: &str| {
        let m = load_onnx(&std::fs::read(dir.join(rel)).unwrap()).unwrap();
        (m.network.layer_widths(), m.network.output_relu(), m)
    };
    let (w, relu_out, m) = widths("acasxu/onnx/ACASXU_run2a_1_1_batch_2000.onnx");
    assert_eq!(w, vec![50, 50, 50, 50, 50, 50, 5]);
    assert!(!relu_out);
    assert_eq!(m.network.input_dim(), 5);
    assert_eq!(m.input_shape, vec![Some(1), Some(1), Some(1), Some(5)]);
    assert!(
        has_note(&m, &["Sub", "layer 1", "input normalisation"]),
        "{:?}",
        m.folded
    );
    let (w, relu_out, m) = widths("eran_mnist_relu_9_200/mnist_relu_9_200.onnx");
    assert_eq!(w, [vec![200; 8], vec![10]].concat());
    assert!(relu_out);
    assert_eq!(m.network.relu_count(), 1610);
    assert!(
        has_note(&m, &["Sub", "Div", "input normalisation"]),
        "{:?}",
        m.folded
    );
    let (w, relu_out, _) = widths("vnncomp_test_tiny/test_nano.onnx");
    assert_eq!(w, vec![1]);
    assert!(relu_out);
    let (w, relu_out, _) = widths("vnncomp_test_tiny/test_small.onnx");
    assert_eq!(w, vec![2, 2, 1]);
    assert!(!relu_out);
    let (w, _, m) = widths("marabou_mnist/mnist2x10.onnx");
    assert_eq!(w, vec![10, 10, 10]);
    assert_eq!(m.input_shape, vec![None, Some(1), Some(28), Some(28)]);
    let (w, _, m) = widths("mnistfc/mnist-net_256x6.onnx");
    assert_eq!(w, [vec![256; 6], vec![10]].concat());
    assert_eq!(m.network.input_dim(), 784);
    let (w, _, m) = widths("vnncomp2022_rl/onnx/dubinsrejoin.onnx");
    assert_eq!(w, vec![256, 256, 8]);
    assert_eq!(m.input_shape, vec![None, Some(8)]);
}
