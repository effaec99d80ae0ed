//! Add, Sub, Mul, Div with a constant and BatchNormalization
//! (`src/onnx/ops/elementwise.rs`).

use relu_regions_io::onnx::OnnxError;

use super::builder::*;
use super::reference::*;
use super::{bn_inits, bn_params, check, has_note, load_err};

// ---------------------------------------------------------------------------------------
// Elementwise ops
// ---------------------------------------------------------------------------------------

#[test]
fn sub_mul_div_add_per_channel_on_nchw() {
    let mut rng = SplitMix64::new(20);
    let sub = rng.f32s(2);
    let mul = rng.f32s(2);
    let div: Vec<f32> = rng.f32s(2).iter().map(|v| v + 2.0).collect();
    let w = rng.f32s(4 * 18);
    let bytes = model(
        &dims(&[1, 2, 3, 3]),
        vec![
            node("Sub", "sub", &["x", "s"], &["a"], vec![]),
            node("Mul", "mul", &["m", "a"], &["b"], vec![]),
            node("Div", "div", &["b", "d"], &["c"], vec![]),
            node("Add", "add", &["k", "c"], &["e"], vec![]),
            node("Flatten", "f", &["e"], &["f"], vec![]),
            node(
                "Gemm",
                "g",
                &["f", "W"],
                &["y"],
                vec![("transB", Attr::I(1))],
            ),
        ],
        vec![
            tensor_f32("s", &[2, 1, 1], &sub),
            tensor_f32("m", &[1, 2, 1, 1], &mul),
            tensor_f32("d", &[2, 1, 1], &div),
            tensor_f32("k", &[], &[0.25]),
            tensor_f32("W", &[4, 18], &w),
        ],
        "y",
    );
    let m = check(&bytes, 21, |x| {
        let h: Vec<f64> = (0..18)
            .map(|i| {
                let ch = i / 9;
                (x[i] - f64::from(sub[ch])) * f64::from(mul[ch]) / f64::from(div[ch]) + 0.25
            })
            .collect();
        linear_ref(&h, &wide(&w), &[0.0; 4])
    });
    assert_eq!(m.network.layer_widths(), vec![4]);
    assert!(
        has_note(
            &m,
            &[
                "Sub `sub`",
                "Mul `mul`",
                "Div `div`",
                "Add `add`",
                "layer 1",
                "input normalisation"
            ]
        ),
        "{:?}",
        m.folded
    );
}

#[test]
fn constant_minus_x_is_folded_and_constant_over_x_is_refused() {
    let mut rng = SplitMix64::new(22);
    let c = rng.f32s(4);
    let w = rng.f32s(12);
    let bytes = model(
        &dims(&[1, 4]),
        vec![
            node("Sub", "neg", &["c", "x"], &["a"], vec![]),
            node("Gemm", "g", &["a", "W"], &["y"], vec![]),
        ],
        vec![tensor_f32("c", &[4], &c), tensor_f32("W", &[4, 3], &w)],
        "y",
    );
    check(&bytes, 23, |x| {
        let h: Vec<f64> = (0..4).map(|i| f64::from(c[i]) - x[i]).collect();
        x_at_w(&h, &wide(&w), 3)
    });

    let bytes = model(
        &dims(&[1, 4]),
        vec![
            node("Div", "inv", &["c", "x"], &["a"], vec![]),
            node("Gemm", "g", &["a", "W"], &["y"], vec![]),
        ],
        vec![tensor_f32("c", &[4], &c), tensor_f32("W", &[4, 3], &w)],
        "y",
    );
    let e = load_err(&bytes);
    assert!(matches!(e, OnnxError::NotAffine { .. }), "{e}");
    assert!(
        e.to_string().contains("`inv`") && e.to_string().contains("Div"),
        "{e}"
    );
}

#[test]
fn division_by_a_zero_constant_names_the_node() {
    let bytes = model(
        &dims(&[1, 3]),
        vec![node("Div", "scale", &["x", "d"], &["y"], vec![])],
        vec![tensor_f32("d", &[3], &[1.0, 2.0, 0.0])],
        "y",
    );
    let e = load_err(&bytes);
    assert!(
        matches!(&e, OnnxError::DivisionByZero { node, tensor, index: 2, .. } if node == "`scale`" && tensor == "d"),
        "{e}"
    );
    assert!(e.to_string().contains("`scale` (Div)"), "{e}");
}

#[test]
fn batch_normalization_is_folded() {
    let mut rng = SplitMix64::new(60);
    let p = bn_params(&mut rng, 3);
    let w = rng.f32s(24);
    let mut inits = bn_inits(&p, "bn_");
    inits.push(tensor_f32("W", &[2, 12], &w));
    let bytes = model(
        &dims(&[1, 3, 2, 2]),
        vec![
            node(
                "BatchNormalization",
                "bn",
                &["x", "bn_scale", "bn_B", "bn_mean", "bn_var"],
                &["h"],
                vec![("epsilon", Attr::F(1e-3))],
            ),
            node("Flatten", "f", &["h"], &["f"], vec![]),
            node(
                "Gemm",
                "g",
                &["f", "W"],
                &["y"],
                vec![("transB", Attr::I(1))],
            ),
        ],
        inits,
        "y",
    );
    let pw: Vec<Vec<f64>> = p.iter().map(|v| wide(v)).collect();
    let eps = f64::from(1e-3f32);
    let m = check(&bytes, 61, |x| {
        let h = bn_ref(x, 3, [&pw[0], &pw[1], &pw[2], &pw[3]], eps);
        linear_ref(&h, &wide(&w), &[0.0; 2])
    });
    assert_eq!(m.network.layer_widths(), vec![2]);
    assert!(
        has_note(&m, &["BatchNormalization `bn`", "layer 1"]),
        "{:?}",
        m.folded
    );
}
