//! Where the walk cuts the chain into layers: Relu placement, and consecutive affine ops
//! composed into one layer (`src/onnx/mod.rs`, `src/onnx/ops/pending.rs`).

use super::builder::*;
use super::reference::*;
use super::{check, has_note};

// ---------------------------------------------------------------------------------------
// Relu placement
// ---------------------------------------------------------------------------------------

#[test]
fn relu_at_the_end_sets_output_relu() {
    let mut rng = SplitMix64::new(30);
    let (w, b) = (rng.f32s(8), rng.f32s(2));
    let bytes = model(
        &dims(&[1, 4]),
        vec![
            node(
                "Gemm",
                "g",
                &["x", "W", "b"],
                &["h"],
                vec![("transB", Attr::I(1))],
            ),
            node("Relu", "r", &["h"], &["y"], vec![]),
        ],
        vec![tensor_f32("W", &[2, 4], &w), tensor_f32("b", &[2], &b)],
        "y",
    );
    let m = check(&bytes, 31, |x| relu(&linear_ref(x, &wide(&w), &wide(&b))));
    assert!(m.network.output_relu());
    assert_eq!(m.network.layer_widths(), vec![2]);
    assert_eq!(m.network.relu_count(), 2);
}

#[test]
fn two_relus_in_a_row_are_one() {
    let mut rng = SplitMix64::new(32);
    let (w1, w2) = (rng.f32s(12), rng.f32s(6));
    let bytes = model(
        &dims(&[1, 4]),
        vec![
            node(
                "Gemm",
                "g1",
                &["x", "W1"],
                &["h"],
                vec![("transB", Attr::I(1))],
            ),
            node("Relu", "r1", &["h"], &["r1"], vec![]),
            node("Relu", "r2", &["r1"], &["r2"], vec![]),
            node(
                "Gemm",
                "g2",
                &["r2", "W2"],
                &["y"],
                vec![("transB", Attr::I(1))],
            ),
        ],
        vec![
            tensor_f32("W1", &[3, 4], &w1),
            tensor_f32("W2", &[2, 3], &w2),
        ],
        "y",
    );
    let m = check(&bytes, 33, |x| {
        let h = relu(&linear_ref(x, &wide(&w1), &[0.0; 3]));
        linear_ref(&h, &wide(&w2), &[0.0; 2])
    });
    assert_eq!(m.network.layer_widths(), vec![3, 2]);
    assert!(!m.network.output_relu());
    assert!(has_note(&m, &["Relu `r2`", "no-op"]), "{:?}", m.folded);
}

#[test]
fn relu_before_any_affine_op_makes_an_identity_or_elementwise_layer() {
    let mut rng = SplitMix64::new(34);
    let w = rng.f32s(6);
    // Relu directly on the input.
    let bytes = model(
        &dims(&[1, 3]),
        vec![
            node("Relu", "r", &["x"], &["h"], vec![]),
            node(
                "Gemm",
                "g",
                &["h", "W"],
                &["y"],
                vec![("transB", Attr::I(1))],
            ),
        ],
        vec![tensor_f32("W", &[2, 3], &w)],
        "y",
    );
    let m = check(&bytes, 35, |x| linear_ref(&relu(x), &wide(&w), &[0.0; 2]));
    assert_eq!(m.network.layer_widths(), vec![3, 2]);
    assert!(has_note(&m, &["layer 1 is the identity"]), "{:?}", m.folded);

    // Normalisation, then Relu: an elementwise first layer.
    let bytes = model(
        &dims(&[1, 3]),
        vec![
            node("Sub", "s", &["x", "mean"], &["a"], vec![]),
            node("Relu", "r", &["a"], &["h"], vec![]),
            node(
                "Gemm",
                "g",
                &["h", "W"],
                &["y"],
                vec![("transB", Attr::I(1))],
            ),
        ],
        vec![
            tensor_f32("mean", &[3], &[0.5, -0.5, 0.25]),
            tensor_f32("W", &[2, 3], &w),
        ],
        "y",
    );
    let m = check(&bytes, 36, |x| {
        let h: Vec<f64> = x
            .iter()
            .zip([0.5, -0.5, 0.25])
            .map(|(a, b)| a - b)
            .collect();
        linear_ref(&relu(&h), &wide(&w), &[0.0; 2])
    });
    assert_eq!(m.network.layer_widths(), vec![3, 2]);
    assert!(
        has_note(&m, &["layer 1 is elementwise only"]),
        "{:?}",
        m.folded
    );

    // Only a Relu: one identity layer with an output ReLU.
    let bytes = model(
        &dims(&[1, 3]),
        vec![node("Relu", "r", &["x"], &["y"], vec![])],
        vec![],
        "y",
    );
    let m = check(&bytes, 37, relu);
    assert!(m.network.output_relu());
    assert_eq!(m.network.layer_widths(), vec![3]);
}

// ---------------------------------------------------------------------------------------
// Composition
// ---------------------------------------------------------------------------------------

#[test]
fn consecutive_affine_ops_are_composed_into_one_layer() {
    let mut rng = SplitMix64::new(90);
    let (w1, b1, w2, b2, w3, w4, b4) = (
        rng.f32s(20),
        rng.f32s(4),
        rng.f32s(12),
        rng.f32s(3),
        rng.f32s(6),
        rng.f32s(4),
        rng.f32s(2),
    );
    let bytes = model(
        &dims(&[1, 5]),
        vec![
            node(
                "Gemm",
                "g1",
                &["x", "W1", "b1"],
                &["a"],
                vec![("transB", Attr::I(1))],
            ),
            node("MatMul", "m2", &["a", "W2"], &["b"], vec![]),
            node("Add", "add2", &["b", "b2"], &["c"], vec![]),
            node("Mul", "half", &["c", "h"], &["d"], vec![]),
            node("Relu", "r", &["d"], &["e"], vec![]),
            node(
                "Gemm",
                "g3",
                &["e", "W3"],
                &["f"],
                vec![("transB", Attr::I(1))],
            ),
            node(
                "Gemm",
                "g4",
                &["f", "W4", "b4"],
                &["y"],
                vec![("transB", Attr::I(1))],
            ),
        ],
        vec![
            tensor_f32("W1", &[4, 5], &w1),
            tensor_f32("b1", &[4], &b1),
            tensor_f32("W2", &[4, 3], &w2),
            tensor_f32("b2", &[3], &b2),
            tensor_f32("h", &[], &[0.5]),
            tensor_f32("W3", &[2, 3], &w3),
            tensor_f32("W4", &[2, 2], &w4),
            tensor_f32("b4", &[2], &b4),
        ],
        "y",
    );
    let m = check(&bytes, 91, |x| {
        let a = linear_ref(x, &wide(&w1), &wide(&b1));
        let c = add(&x_at_w(&a, &wide(&w2), 3), &wide(&b2));
        let e = relu(&c.iter().map(|v| 0.5 * v).collect::<Vec<_>>());
        let f = linear_ref(&e, &wide(&w3), &[0.0; 2]);
        linear_ref(&f, &wide(&w4), &wide(&b4))
    });
    assert_eq!(m.network.layer_widths(), vec![3, 2]);
    assert!(
        has_note(&m, &["Gemm `g1` and MatMul `m2` composed into layer 1"]),
        "{:?}",
        m.folded
    );
    assert!(
        has_note(&m, &["Gemm `g3` and Gemm `g4` composed into layer 2"]),
        "{:?}",
        m.folded
    );
    assert!(
        has_note(&m, &["Mul `half` folded into layer 1"]),
        "{:?}",
        m.folded
    );
}
