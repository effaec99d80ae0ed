//! Gemm and MatMul (`src/onnx/ops/dense.rs`), including a MatMul followed by an Add (its
//! bias) and stacks of rows (block-diagonal maps).

use super::builder::*;
use super::reference::*;
use super::{check, has_note};

// ---------------------------------------------------------------------------------------
// Gemm
// ---------------------------------------------------------------------------------------

#[test]
fn gemm_alpha_beta_trans_b_and_bias_shapes() {
    let mut rng = SplitMix64::new(1);
    for trans_b in [false, true] {
        let c_shapes: [Option<Vec<usize>>; 4] =
            [None, Some(vec![]), Some(vec![3]), Some(vec![1, 3])];
        for c_shape in c_shapes {
            let w = rng.f32s(12);
            let w_shape = if trans_b { [3, 4] } else { [4, 3] };
            let c = rng.f32s(if c_shape.as_ref().is_some_and(|s| s.is_empty()) {
                1
            } else {
                3
            });
            let mut inputs = vec!["x", "W"];
            let mut inits = vec![tensor_f32("W", &[w_shape[0] as i64, w_shape[1] as i64], &w)];
            if let Some(s) = &c_shape {
                inputs.push("C");
                let d: Vec<i64> = s.iter().map(|&v| v as i64).collect();
                inits.push(tensor_f32("C", &d, &c));
            }
            let bytes = model(
                &dims(&[1, 4]),
                vec![node(
                    "Gemm",
                    "g",
                    &inputs,
                    &["y"],
                    vec![
                        ("alpha", Attr::F(0.5)),
                        ("beta", Attr::F(2.0)),
                        ("transB", Attr::I(i64::from(trans_b))),
                    ],
                )],
                inits,
                "y",
            );
            let (wv, cv) = (wide(&w), wide(&c));
            let m = check(&bytes, 2, |x| {
                gemm_ref(
                    x,
                    [1, 4],
                    &wv,
                    w_shape,
                    c_shape.as_ref().map(|s| (&cv[..], &s[..])),
                    0.5,
                    2.0,
                    false,
                    trans_b,
                )
            });
            assert_eq!(m.network.layer_widths(), vec![3]);
            assert!(!m.network.output_relu());
            assert_eq!(m.input_name.as_deref(), Some("x"));
            assert_eq!(m.input_shape, vec![Some(1), Some(4)]);
        }
    }
}

#[test]
fn gemm_trans_a_and_activation_as_b() {
    let mut rng = SplitMix64::new(3);
    // transA=1 on a [4, 1] column: A' = [1, 4].
    let w = rng.f32s(12);
    let c = rng.f32s(3);
    let bytes = model(
        &dims(&[4, 1]),
        vec![node(
            "Gemm",
            "g",
            &["x", "W", "C"],
            &["y"],
            vec![("transA", Attr::I(1)), ("alpha", Attr::F(-1.5))],
        )],
        vec![tensor_f32("W", &[4, 3], &w), tensor_f32("C", &[3], &c)],
        "y",
    );
    let (wv, cv) = (wide(&w), wide(&c));
    let m = check(&bytes, 4, |x| {
        gemm_ref(
            x,
            [4, 1],
            &wv,
            [4, 3],
            Some((&cv, &[3])),
            -1.5,
            1.0,
            true,
            false,
        )
    });
    assert_eq!(m.network.layer_widths(), vec![3]);

    // transA=1 on a concrete [2, 3] input (no batch dimension): A' = [3, 2], result [3, 4].
    let w24 = rng.f32s(8);
    let bytes = model(
        &dims(&[2, 3]),
        vec![node(
            "Gemm",
            "g",
            &["x", "W"],
            &["y"],
            vec![("transA", Attr::I(1))],
        )],
        vec![tensor_f32("W", &[2, 4], &w24)],
        "y",
    );
    let w24v = wide(&w24);
    let m = check(&bytes, 7, |x| {
        gemm_ref(x, [2, 3], &w24v, [2, 4], None, 1.0, 1.0, true, false)
    });
    assert_eq!(m.network.layer_widths(), vec![12]);
    assert!(
        has_note(&m, &["no batch dimension", "6 values"]),
        "{:?}",
        m.folded
    );

    // The activation as B: Gemm(W [3, 4], x [4, 1], C [3, 1]) = W x + C.
    let bytes = model(
        &dims(&[4, 1]),
        vec![node("Gemm", "g", &["W", "x", "C"], &["y"], vec![])],
        vec![tensor_f32("W", &[3, 4], &w), tensor_f32("C", &[3, 1], &c)],
        "y",
    );
    check(&bytes, 5, |x| {
        gemm_ref(
            &wv,
            [3, 4],
            x,
            [4, 1],
            Some((&cv, &[3, 1])),
            1.0,
            1.0,
            false,
            false,
        )
    });

    // And with transB on the activation: x [1, 4] as B with transB=1 is a [4, 1] column.
    let bytes = model(
        &dims(&[1, 4]),
        vec![node(
            "Gemm",
            "g",
            &["W", "x"],
            &["y"],
            vec![("transB", Attr::I(1))],
        )],
        vec![tensor_f32("W", &[3, 4], &w)],
        "y",
    );
    check(&bytes, 6, |x| {
        gemm_ref(&wv, [3, 4], x, [1, 4], None, 1.0, 1.0, false, true)
    });
}

// ---------------------------------------------------------------------------------------
// MatMul + Add
// ---------------------------------------------------------------------------------------

#[test]
fn matmul_x_at_w_with_bias_in_both_orders() {
    let mut rng = SplitMix64::new(7);
    let (w1, b1, w2, b2) = (rng.f32s(15), rng.f32s(3), rng.f32s(6), rng.f32s(2));
    for bias_first in [false, true] {
        let add1 = if bias_first {
            node("Add", "a1", &["b1", "m1"], &["h1"], vec![])
        } else {
            node("Add", "a1", &["m1", "b1"], &["h1"], vec![])
        };
        let bytes = model(
            &[Dim::Sym("N"), Dim::N(5)],
            vec![
                node("MatMul", "m1", &["x", "W1"], &["m1"], vec![]),
                add1,
                node("Relu", "r1", &["h1"], &["r1"], vec![]),
                node("MatMul", "m2", &["r1", "W2"], &["m2"], vec![]),
                node("Add", "a2", &["b2", "m2"], &["y"], vec![]),
            ],
            vec![
                tensor_f32("W1", &[5, 3], &w1),
                tensor_f32("b1", &[3], &b1),
                tensor_f32("W2", &[3, 2], &w2),
                tensor_f32("b2", &[2], &b2),
            ],
            "y",
        );
        let m = check(&bytes, 8, |x| {
            let h = relu(&add(&x_at_w(x, &wide(&w1), 3), &wide(&b1)));
            add(&x_at_w(&h, &wide(&w2), 2), &wide(&b2))
        });
        assert_eq!(m.network.layer_widths(), vec![3, 2]);
        assert_eq!(m.input_shape, vec![None, Some(5)]);
        // A bias Add after a MatMul is not worth a note.
        assert!(!has_note(&m, &["Add"]), "{:?}", m.folded);
    }
}

#[test]
fn matmul_w_at_x_with_1d_input() {
    // The test_small layout: a 1-D input, weights on the left.
    let mut rng = SplitMix64::new(9);
    let (w0, b0, w1, b1) = (rng.f32s(6), rng.f32s(3), rng.f32s(3), rng.f32s(1));
    let bytes = model(
        &dims(&[2]),
        vec![
            node("MatMul", "", &["W0", "x"], &["m0"], vec![]),
            node("Add", "", &["m0", "B0"], &["h0"], vec![]),
            node("Relu", "", &["h0"], &["r0"], vec![]),
            node("MatMul", "", &["W1", "r0"], &["m1"], vec![]),
            node("Add", "", &["m1", "B1"], &["y"], vec![]),
        ],
        vec![
            tensor_f32("W0", &[3, 2], &w0),
            tensor_f32("B0", &[3], &b0),
            tensor_f32("W1", &[1, 3], &w1),
            tensor_f32("B1", &[1], &b1),
        ],
        "y",
    );
    let m = check(&bytes, 10, |x| {
        let h = relu(&linear_ref(x, &wide(&w0), &wide(&b0)));
        linear_ref(&h, &wide(&w1), &wide(&b1))
    });
    assert_eq!(m.network.layer_widths(), vec![3, 1]);
    assert_eq!(m.input_shape, vec![Some(2)]);

    // x [1] @ W [1, 1] then Relu (test_nano): a vector on the left of a matrix.
    let bytes = model(
        &dims(&[1]),
        vec![
            node("MatMul", "mm", &["x", "W"], &["h"], vec![]),
            node("Relu", "r", &["h"], &["y"], vec![]),
        ],
        vec![tensor_f32_typed("W", &[1, 1], &[0.5])],
        "y",
    );
    let m = check(&bytes, 11, |x| relu(&[0.5 * x[0]]));
    assert!(m.network.output_relu());
    assert_eq!(m.network.layer_widths(), vec![1]);
}

#[test]
fn matmul_w_at_x_with_column_input_and_vector_weights() {
    let mut rng = SplitMix64::new(12);
    let (w, b) = (rng.f32s(6), rng.f32s(2));
    // x [3, batch] (a column), W [2, 3] on the left, bias [2, 1].
    let bytes = model(
        &[Dim::N(3), Dim::Sym("batch")],
        vec![
            node("MatMul", "mm", &["W", "x"], &["m"], vec![]),
            node("Add", "a", &["m", "B"], &["y"], vec![]),
        ],
        vec![tensor_f32("W", &[2, 3], &w), tensor_f32("B", &[2, 1], &b)],
        "y",
    );
    let m = check(&bytes, 13, |x| linear_ref(x, &wide(&w), &wide(&b)));
    assert_eq!(m.input_shape, vec![Some(3), None]);
    assert_eq!(m.network.input_dim(), 3);

    // x [1, 4] @ w [4] -> [1]; w [4] @ x [4] -> scalar.
    let v = rng.f32s(4);
    let bytes = model(
        &dims(&[1, 4]),
        vec![node("MatMul", "mm", &["x", "v"], &["y"], vec![])],
        vec![tensor_f32("v", &[4], &v)],
        "y",
    );
    check(&bytes, 14, |x| x_at_w(x, &wide(&v), 1));
    let bytes = model(
        &dims(&[4]),
        vec![node("MatMul", "mm", &["v", "x"], &["y"], vec![])],
        vec![tensor_f32("v", &[4], &v)],
        "y",
    );
    check(&bytes, 15, |x| x_at_w(x, &wide(&v), 1));
}

#[test]
fn matmul_on_a_stack_of_rows_is_block_diagonal() {
    let mut rng = SplitMix64::new(16);
    let w = rng.f32s(12);
    // [1, 2, 3] @ [3, 4] -> [1, 2, 4]: each of the two rows multiplied.
    let bytes = model(
        &dims(&[1, 2, 3]),
        vec![node("MatMul", "mm", &["x", "W"], &["y"], vec![])],
        vec![tensor_f32("W", &[3, 4], &w)],
        "y",
    );
    let m = check(&bytes, 17, |x| {
        let mut out = x_at_w(&x[..3], &wide(&w), 4);
        out.extend(x_at_w(&x[3..], &wide(&w), 4));
        out
    });
    assert_eq!(m.network.layer_widths(), vec![8]);
}
