//! Initializer storage (`src/onnx/tensor.rs`): float64 and typed fields, and initializers
//! that the graph also lists among its inputs.

use prost::Message;

use super::builder::*;
use super::check;
use super::reference::*;

#[test]
fn float64_and_typed_initializers() {
    let mut rng = SplitMix64::new(100);
    let w1 = rng.f64s(12);
    let b1 = rng.f64s(3);
    let w2 = rng.f32s(6);
    let b2 = rng.f64s(2);
    let bytes = model(
        &dims(&[1, 4]),
        vec![
            node(
                "Gemm",
                "g1",
                &["x", "W1", "b1"],
                &["a"],
                vec![("transB", Attr::I(1))],
            ),
            node("Relu", "r", &["a"], &["b"], vec![]),
            node(
                "Gemm",
                "g2",
                &["b", "W2", "b2"],
                &["y"],
                vec![("transB", Attr::I(1))],
            ),
        ],
        vec![
            tensor_f64("W1", &[3, 4], &w1),
            tensor_f64_typed("b1", &[3], &b1),
            tensor_f32_typed("W2", &[2, 3], &w2),
            tensor_f64_typed("b2", &[2], &b2),
        ],
        "y",
    );
    let m = check(&bytes, 101, |x| {
        let h = relu(&linear_ref(x, &w1, &b1));
        linear_ref(&h, &wide(&w2), &b2)
    });
    // Double weights are read exactly.
    assert_eq!(m.network.layers()[0].weight()[(1, 2)], w1[6]);
    assert_eq!(m.network.layers()[0].bias(), &b1[..]);
}

#[test]
fn initializers_listed_as_graph_inputs_are_not_inputs() {
    // The ACAS Xu (IR 3) layout: every initializer also appears in graph.input.
    let mut rng = SplitMix64::new(110);
    let w = rng.f32s(6);
    let mut m = model_proto(
        vec![node("MatMul", "mm", &["x", "W"], &["y"], vec![])],
        vec![tensor_f32("W", &[3, 2], &w)],
        vec![
            value_info("W", &dims(&[3, 2])),
            value_info("x", &dims(&[1, 3])),
        ],
        &["y"],
    );
    m.ir_version = Some(3);
    let loaded = check(&m.encode_to_vec(), 111, |x| x_at_w(x, &wide(&w), 2));
    assert_eq!(loaded.input_name.as_deref(), Some("x"));
}
