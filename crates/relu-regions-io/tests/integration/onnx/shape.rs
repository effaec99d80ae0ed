//! Flatten, Reshape, Squeeze, Unsqueeze, Identity, Dropout and Constant nodes
//! (`src/onnx/ops/shape.rs`, Constant values in `src/onnx/tensor.rs`).

use relu_regions_io::onnx::proto::TensorProto;
use relu_regions_io::onnx::{OnnxError, load_onnx};

use super::builder::*;
use super::reference::*;
use super::{check, has_note, load_err};

// ---------------------------------------------------------------------------------------
// Shape-only ops
// ---------------------------------------------------------------------------------------

#[test]
fn flatten_axis() {
    let mut rng = SplitMix64::new(40);
    // axis=2 on [1, 2, 3, 4]: [2, 12], then MatMul by [12, 5] row by row.
    let w = rng.f32s(60);
    let bytes = model(
        &dims(&[1, 2, 3, 4]),
        vec![
            node("Flatten", "f", &["x"], &["f"], vec![("axis", Attr::I(2))]),
            node("MatMul", "mm", &["f", "W"], &["y"], vec![]),
        ],
        vec![tensor_f32("W", &[12, 5], &w)],
        "y",
    );
    let m = check(&bytes, 41, |x| {
        let mut out = x_at_w(&x[..12], &wide(&w), 5);
        out.extend(x_at_w(&x[12..], &wide(&w), 5));
        out
    });
    assert_eq!(m.network.layer_widths(), vec![10]);

    // axis=-1: [6, 4], MatMul by [4, 2].
    let w = rng.f32s(8);
    let bytes = model(
        &dims(&[1, 2, 3, 4]),
        vec![
            node("Flatten", "f", &["x"], &["f"], vec![("axis", Attr::I(-1))]),
            node("MatMul", "mm", &["f", "W"], &["y"], vec![]),
        ],
        vec![tensor_f32("W", &[4, 2], &w)],
        "y",
    );
    check(&bytes, 42, |x| {
        (0..6)
            .flat_map(|r| x_at_w(&x[4 * r..4 * r + 4], &wide(&w), 2))
            .collect()
    });

    // Default axis on the mnistfc layout [1, 6, 1].
    let w = rng.f32s(12);
    let bytes = model(
        &dims(&[1, 6, 1]),
        vec![
            node("Flatten", "", &["x"], &["f"], vec![]),
            node(
                "Gemm",
                "",
                &["f", "W"],
                &["y"],
                vec![("transB", Attr::I(1))],
            ),
        ],
        vec![tensor_f32("W", &[2, 6], &w)],
        "y",
    );
    check(&bytes, 43, |x| linear_ref(x, &wide(&w), &[0.0; 2]));
}

#[test]
fn reshape_with_minus_one_and_zero() {
    let mut rng = SplitMix64::new(44);
    let w = rng.f32s(12);
    let gemm = || {
        node(
            "Gemm",
            "g",
            &["r", "W"],
            &["y"],
            vec![("transB", Attr::I(1))],
        )
    };
    let reference = |x: &[f64]| linear_ref(x, &wide(&w), &[0.0; 2]);
    // [-1, 6] from an int64 initializer (the mnist2x10 layout, symbolic batch).
    let bytes = model(
        &[Dim::Sym("batch"), Dim::N(2), Dim::N(3)],
        vec![
            node("Reshape", "rs", &["x", "shape"], &["r"], vec![]),
            gemm(),
        ],
        vec![
            tensor_i64("shape", &[2], &[-1, 6]),
            tensor_f32("W", &[2, 6], &w),
        ],
        "y",
    );
    let m = check(&bytes, 45, reference);
    assert_eq!(m.input_shape, vec![None, Some(2), Some(3)]);
    // [0, -1] from a Constant node (0 copies the batch dim).
    let bytes = model(
        &[Dim::Sym("batch"), Dim::N(2), Dim::N(3)],
        vec![
            node(
                "Constant",
                "c",
                &[],
                &["shape"],
                vec![("value", Attr::T(tensor_i64_raw("", &[2], &[0, -1])))],
            ),
            node("Reshape", "rs", &["x", "shape"], &["r"], vec![]),
            gemm(),
        ],
        vec![tensor_f32("W", &[2, 6], &w)],
        "y",
    );
    check(&bytes, 46, reference);
    // [1, 6] as int32, typed.
    let bytes = model(
        &dims(&[1, 2, 3]),
        vec![
            node("Reshape", "rs", &["x", "shape"], &["r"], vec![]),
            gemm(),
        ],
        vec![
            tensor_i32("shape", &[2], &[1, 6]),
            tensor_f32("W", &[2, 6], &w),
        ],
        "y",
    );
    check(&bytes, 47, reference);
    // A wrong total is a shape error naming the node.
    let bytes = model(
        &dims(&[1, 2, 3]),
        vec![
            node("Reshape", "rs", &["x", "shape"], &["r"], vec![]),
            gemm(),
        ],
        vec![
            tensor_i64("shape", &[2], &[4, -1]),
            tensor_f32("W", &[2, 6], &w),
        ],
        "y",
    );
    let e = load_err(&bytes);
    assert!(
        matches!(e, OnnxError::ShapeMismatch { .. }) && e.to_string().contains("`rs`"),
        "{e}"
    );
}

#[test]
fn squeeze_and_unsqueeze_are_shape_only() {
    let mut rng = SplitMix64::new(48);
    let w = rng.f32s(8);
    let bytes = model(
        &dims(&[1, 4]),
        vec![
            node("Unsqueeze", "u", &["x", "axes"], &["u"], vec![]),
            node(
                "Squeeze",
                "s",
                &["u"],
                &["s"],
                vec![("axes", Attr::Ints(vec![1]))],
            ),
            node(
                "Unsqueeze",
                "u2",
                &["s"],
                &["u2"],
                vec![("axes", Attr::Ints(vec![0]))],
            ),
            node("Squeeze", "s2", &["u2"], &["s2"], vec![]),
            node("MatMul", "mm", &["s2", "W"], &["y"], vec![]),
        ],
        vec![
            tensor_i64("axes", &[1], &[-2]),
            tensor_f32("W", &[4, 2], &w),
        ],
        "y",
    );
    let m = check(&bytes, 49, |x| x_at_w(x, &wide(&w), 2));
    assert_eq!(m.network.layer_widths(), vec![2]);
}

#[test]
fn identity_and_dropout_are_removed() {
    let mut rng = SplitMix64::new(50);
    let w = rng.f32s(8);
    let bytes = model(
        &dims(&[1, 4]),
        vec![
            node("Identity", "id", &["x"], &["a"], vec![]),
            node("Dropout", "drop", &["a", "ratio"], &["b", "mask"], vec![]),
            node(
                "Gemm",
                "g",
                &["b", "W"],
                &["y"],
                vec![("transB", Attr::I(1))],
            ),
        ],
        vec![
            tensor_f32("ratio", &[], &[0.5]),
            tensor_f32("W", &[2, 4], &w),
        ],
        "y",
    );
    let m = check(&bytes, 51, |x| linear_ref(x, &wide(&w), &[0.0; 2]));
    assert!(has_note(&m, &["Dropout `drop`"]), "{:?}", m.folded);

    // Training-mode Dropout is not the identity.
    let bytes = model(
        &dims(&[1, 4]),
        vec![
            node("Dropout", "drop", &["x", "ratio", "train"], &["b"], vec![]),
            node(
                "Gemm",
                "g",
                &["b", "W"],
                &["y"],
                vec![("transB", Attr::I(1))],
            ),
        ],
        vec![
            tensor_f32("ratio", &[], &[0.5]),
            TensorProto {
                name: Some("train".into()),
                data_type: Some(9),
                raw_data: Some(vec![1]),
                ..Default::default()
            },
            tensor_f32("W", &[2, 4], &w),
        ],
        "y",
    );
    assert!(load_onnx(&bytes).is_err());
    // Using the mask is not a chain.
    let bytes = model(
        &dims(&[1, 4]),
        vec![
            node("Dropout", "drop", &["x"], &["b", "mask"], vec![]),
            node(
                "Gemm",
                "g",
                &["mask", "W"],
                &["y"],
                vec![("transB", Attr::I(1))],
            ),
        ],
        vec![tensor_f32("W", &[2, 4], &w)],
        "y",
    );
    let e = load_err(&bytes);
    assert!(
        matches!(e, OnnxError::NotAChain { .. }) && e.to_string().contains("`g`"),
        "{e}"
    );
}

#[test]
fn constant_nodes_in_every_form() {
    let mut rng = SplitMix64::new(52);
    let w = rng.f32s(8);
    let floats = [0.5f32, -1.0, 2.0, 0.0];
    let sub = [0.1f32, 0.2, 0.3, 0.4];
    let bytes = model(
        &dims(&[1, 4]),
        vec![
            node(
                "Constant",
                "c1",
                &[],
                &["two"],
                vec![("value_float", Attr::F(2.0))],
            ),
            node(
                "Constant",
                "c2",
                &[],
                &["fs"],
                vec![("value_floats", Attr::Floats(floats.to_vec()))],
            ),
            node(
                "Constant",
                "c3",
                &[],
                &["t"],
                vec![("value", Attr::T(tensor_f32_typed("", &[1, 4], &sub)))],
            ),
            node(
                "Constant",
                "c4",
                &[],
                &["three"],
                vec![("value_int", Attr::I(3))],
            ),
            node("Mul", "m", &["x", "two"], &["a"], vec![]),
            node("Add", "a", &["fs", "a"], &["b"], vec![]),
            node("Sub", "s", &["b", "t"], &["c"], vec![]),
            node("Mul", "m3", &["c", "three"], &["d"], vec![]),
            node(
                "Gemm",
                "g",
                &["d", "W"],
                &["y"],
                vec![("transB", Attr::I(1))],
            ),
        ],
        vec![tensor_f32("W", &[2, 4], &w)],
        "y",
    );
    check(&bytes, 53, |x| {
        let h: Vec<f64> = (0..4)
            .map(|i| 3.0 * (2.0 * x[i] + f64::from(floats[i]) - f64::from(sub[i])))
            .collect();
        linear_ref(&h, &wide(&w), &[0.0; 2])
    });
}
