//! The ONNX loader op by op: small models built in the test, loaded, and compared at
//! random points with straightforward reference implementations written here (nested
//! loops over the tensors, not the loader's code). Then malformed files (errors, never
//! panics), and every `.onnx` under `../shared/networks` against its reference outputs.

#[path = "common/onnx_builder.rs"]
mod onnx_builder;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use onnx_builder::*;
use prost::Message;
use relu_regions_io::onnx::proto::{NodeProto, TensorProto};
use relu_regions_io::onnx::{OnnxError, load_onnx};
use relu_regions_io::{LoadedModel, ModelFormat};

#[path = "../../../tests-support/shared.rs"]
mod support;
use support::shared_networks as shared_dir;

// ---------------------------------------------------------------------------------------
// Reference implementations
// ---------------------------------------------------------------------------------------

/// A row-major matrix as rows.
fn rows(data: &[f64], r: usize, c: usize) -> Vec<Vec<f64>> {
    (0..r).map(|i| data[i * c..(i + 1) * c].to_vec()).collect()
}

fn transpose(m: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let (r, c) = (m.len(), m[0].len());
    (0..c).map(|j| (0..r).map(|i| m[i][j]).collect()).collect()
}

/// Plain matrix product of row lists.
fn matmul_rows(a: &[Vec<f64>], b: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let (m, k, n) = (a.len(), b.len(), b[0].len());
    assert_eq!(a[0].len(), k);
    let mut out = vec![vec![0.0; n]; m];
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0;
            for l in 0..k {
                s += a[i][l] * b[l][j];
            }
            out[i][j] = s;
        }
    }
    out
}

/// ONNX Gemm: `alpha * A' B' + beta * C`, C of shape `[]`, `[N]`, `[1, N]`, `[M, 1]` or
/// `[M, N]`. Returns the `[M, N]` result flattened.
#[allow(clippy::too_many_arguments)]
fn gemm_ref(
    a: &[f64],
    a_shape: [usize; 2],
    b: &[f64],
    b_shape: [usize; 2],
    c: Option<(&[f64], &[usize])>,
    alpha: f64,
    beta: f64,
    trans_a: bool,
    trans_b: bool,
) -> Vec<f64> {
    let mut am = rows(a, a_shape[0], a_shape[1]);
    if trans_a {
        am = transpose(&am);
    }
    let mut bm = rows(b, b_shape[0], b_shape[1]);
    if trans_b {
        bm = transpose(&bm);
    }
    let p = matmul_rows(&am, &bm);
    let (m, n) = (p.len(), p[0].len());
    let mut out = Vec::new();
    for i in 0..m {
        for j in 0..n {
            let cv = match c {
                None => 0.0,
                Some((c, shape)) => match shape {
                    [] => c[0],
                    [_] => c[j],
                    [1, _] => c[j],
                    [_, 1] => c[i],
                    _ => c[i * n + j],
                },
            };
            out.push(alpha * p[i][j] + beta * cv);
        }
    }
    out
}

/// `x W^T + b` for `W` `[out, in]` (PyTorch Linear).
fn linear_ref(x: &[f64], w: &[f64], b: &[f64]) -> Vec<f64> {
    let out = b.len();
    let inp = x.len();
    assert_eq!(w.len(), out * inp);
    (0..out)
        .map(|o| b[o] + (0..inp).map(|i| w[o * inp + i] * x[i]).sum::<f64>())
        .collect()
}

/// `x @ W` for `x` a vector and `W` `[in, out]`.
fn x_at_w(x: &[f64], w: &[f64], out: usize) -> Vec<f64> {
    let inp = x.len();
    (0..out)
        .map(|o| (0..inp).map(|i| x[i] * w[i * out + o]).sum())
        .collect()
}

fn relu(v: &[f64]) -> Vec<f64> {
    v.iter().map(|&x| x.max(0.0)).collect()
}

fn add(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x + y).collect()
}

struct ConvSpec {
    strides: [usize; 2],
    /// top, left, bottom, right
    pads: [usize; 4],
    dilations: [usize; 2],
}

/// 2-D convolution of one image `[C, H, W]` with `W` `[M, C, kH, kW]`: the definition,
/// one output at a time. Returns the output and its `[M, OH, OW]`.
fn conv_ref(
    x: &[f64],
    [c, h, w]: [usize; 3],
    wt: &[f64],
    [m, kh, kw]: [usize; 3],
    bias: Option<&[f64]>,
    spec: &ConvSpec,
) -> (Vec<f64>, [usize; 3]) {
    let [sh, sw] = spec.strides;
    let [pt, pl, pb, pr] = spec.pads;
    let [dh, dw] = spec.dilations;
    let oh = (h + pt + pb - (dh * (kh - 1) + 1)) / sh + 1;
    let ow = (w + pl + pr - (dw * (kw - 1) + 1)) / sw + 1;
    let mut out = Vec::new();
    for o in 0..m {
        for y in 0..oh {
            for xx in 0..ow {
                let mut s = bias.map_or(0.0, |b| b[o]);
                for ci in 0..c {
                    for ky in 0..kh {
                        for kx in 0..kw {
                            let iy = (y * sh + ky * dh) as i64 - pt as i64;
                            let ix = (xx * sw + kx * dw) as i64 - pl as i64;
                            if iy < 0 || ix < 0 || iy >= h as i64 || ix >= w as i64 {
                                continue;
                            }
                            let (iy, ix) = (iy as usize, ix as usize);
                            s += wt[((o * c + ci) * kh + ky) * kw + kx] * x[(ci * h + iy) * w + ix];
                        }
                    }
                }
                out.push(s);
            }
        }
    }
    (out, [m, oh, ow])
}

/// BatchNormalization at inference on `[C, inner]` (one sample).
fn bn_ref(x: &[f64], c: usize, p: [&[f64]; 4], eps: f64) -> Vec<f64> {
    let [scale, b, mean, var] = p;
    let inner = x.len() / c;
    (0..x.len())
        .map(|i| {
            let ch = i / inner;
            scale[ch] * (x[i] - mean[ch]) / (var[ch] + eps).sqrt() + b[ch]
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Checking helpers
// ---------------------------------------------------------------------------------------

fn load(bytes: &[u8]) -> LoadedModel {
    load_onnx(bytes).unwrap_or_else(|e| panic!("load failed: {e}"))
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
    let mut rng = Rng::new(seed);
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
// Gemm
// ---------------------------------------------------------------------------------------

#[test]
fn gemm_alpha_beta_trans_b_and_bias_shapes() {
    let mut rng = Rng::new(1);
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
    let mut rng = Rng::new(3);
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
    let mut rng = Rng::new(7);
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
    let mut rng = Rng::new(9);
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
    let mut rng = Rng::new(12);
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
    let mut rng = Rng::new(16);
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

// ---------------------------------------------------------------------------------------
// Elementwise ops
// ---------------------------------------------------------------------------------------

#[test]
fn sub_mul_div_add_per_channel_on_nchw() {
    let mut rng = Rng::new(20);
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
    let mut rng = Rng::new(22);
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

// ---------------------------------------------------------------------------------------
// Relu placement
// ---------------------------------------------------------------------------------------

#[test]
fn relu_at_the_end_sets_output_relu() {
    let mut rng = Rng::new(30);
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
    let mut rng = Rng::new(32);
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
    let mut rng = Rng::new(34);
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
// Shape-only ops
// ---------------------------------------------------------------------------------------

#[test]
fn flatten_axis() {
    let mut rng = Rng::new(40);
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
    let mut rng = Rng::new(44);
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
    let mut rng = Rng::new(48);
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
    let mut rng = Rng::new(50);
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
    let mut rng = Rng::new(52);
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

// ---------------------------------------------------------------------------------------
// BatchNormalization and Conv
// ---------------------------------------------------------------------------------------

fn bn_params(rng: &mut Rng, c: usize) -> [Vec<f32>; 4] {
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

#[test]
fn batch_normalization_is_folded() {
    let mut rng = Rng::new(60);
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

fn conv_node(name: &str, inputs: &[&str], out: &str, attrs: Vec<(&str, Attr)>) -> NodeProto {
    node("Conv", name, inputs, &[out], attrs)
}

#[test]
fn conv_padding_strides_dilations_and_bias() {
    let (c, h, w, m, kh, kw) = (2usize, 5usize, 6usize, 3usize, 3usize, 2usize);
    struct Case {
        attrs: Vec<(&'static str, Attr)>,
        spec: ConvSpec,
        bias: bool,
    }
    let cases = vec![
        Case {
            attrs: vec![
                ("pads", Attr::Ints(vec![1, 1, 1, 1])),
                ("strides", Attr::Ints(vec![2, 2])),
            ],
            spec: ConvSpec {
                strides: [2, 2],
                pads: [1, 1, 1, 1],
                dilations: [1, 1],
            },
            bias: true,
        },
        Case {
            attrs: vec![("dilations", Attr::Ints(vec![2, 2]))],
            spec: ConvSpec {
                strides: [1, 1],
                pads: [0; 4],
                dilations: [2, 2],
            },
            bias: false,
        },
        Case {
            attrs: vec![
                ("pads", Attr::Ints(vec![1, 0, 2, 1])),
                ("strides", Attr::Ints(vec![1, 2])),
                ("dilations", Attr::Ints(vec![2, 1])),
                ("kernel_shape", Attr::Ints(vec![3, 2])),
            ],
            spec: ConvSpec {
                strides: [1, 2],
                pads: [1, 0, 2, 1],
                dilations: [2, 1],
            },
            bias: true,
        },
        Case {
            attrs: vec![
                ("auto_pad", Attr::S("VALID")),
                ("strides", Attr::Ints(vec![2, 1])),
            ],
            spec: ConvSpec {
                strides: [2, 1],
                pads: [0; 4],
                dilations: [1, 1],
            },
            bias: true,
        },
        // SAME_UPPER, strides 2: out = ceil(5/2)=3, ceil(6/2)=3; total pads
        // H: (3-1)*2+3-5 = 2 -> 1,1; W: (3-1)*2+2-6 = 0.
        Case {
            attrs: vec![
                ("auto_pad", Attr::S("SAME_UPPER")),
                ("strides", Attr::Ints(vec![2, 2])),
            ],
            spec: ConvSpec {
                strides: [2, 2],
                pads: [1, 0, 1, 0],
                dilations: [1, 1],
            },
            bias: true,
        },
        // SAME_LOWER, stride 1: H total 2 -> 1,1; W total 1 -> begin 1, end 0.
        Case {
            attrs: vec![("auto_pad", Attr::S("SAME_LOWER"))],
            spec: ConvSpec {
                strides: [1, 1],
                pads: [1, 1, 1, 0],
                dilations: [1, 1],
            },
            bias: false,
        },
        // SAME_UPPER, stride 1: W total 1 -> begin 0, end 1.
        Case {
            attrs: vec![("auto_pad", Attr::S("SAME_UPPER"))],
            spec: ConvSpec {
                strides: [1, 1],
                pads: [1, 0, 1, 1],
                dilations: [1, 1],
            },
            bias: false,
        },
    ];
    let mut rng = Rng::new(70);
    for (i, case) in cases.into_iter().enumerate() {
        let wt = rng.f32s(m * c * kh * kw);
        let b = rng.f32s(m);
        let mut inputs = vec!["x", "W"];
        let mut inits = vec![tensor_f32(
            "W",
            &[m as i64, c as i64, kh as i64, kw as i64],
            &wt,
        )];
        if case.bias {
            inputs.push("B");
            inits.push(tensor_f32("B", &[m as i64], &b));
        }
        let bytes = model(
            &[
                Dim::Sym("N"),
                Dim::N(c as i64),
                Dim::N(h as i64),
                Dim::N(w as i64),
            ],
            vec![conv_node("conv", &inputs, "y", case.attrs)],
            inits,
            "y",
        );
        let (wv, bv) = (wide(&wt), wide(&b));
        let spec = case.spec;
        let loaded = check(&bytes, 71 + i as u64, |x| {
            conv_ref(
                x,
                [c, h, w],
                &wv,
                [m, kh, kw],
                case.bias.then_some(&bv[..]),
                &spec,
            )
            .0
        });
        let (_, [om, oh, ow]) = conv_ref(
            &vec![0.0; c * h * w],
            [c, h, w],
            &wv,
            [m, kh, kw],
            None,
            &spec,
        );
        assert_eq!(
            loaded.network.layer_widths(),
            vec![om * oh * ow],
            "case {i}"
        );
        assert_eq!(loaded.network.input_dim(), c * h * w);
        let note = format!("dense {}x{} affine map", om * oh * ow, c * h * w);
        assert!(
            has_note(&loaded, &["Conv `conv`", &note]),
            "case {i}: {:?}",
            loaded.folded
        );
    }
}

#[test]
fn small_cnn_conv_bn_relu_conv_relu_reshape_gemm() {
    let mut rng = Rng::new(80);
    let w1 = rng.f32s(2 * 9);
    let b1 = rng.f32s(2);
    let p = bn_params(&mut rng, 2);
    let w2 = rng.f32s(3 * 2 * 9);
    let b2 = rng.f32s(3);
    let w3 = rng.f32s(4 * 27);
    let b3 = rng.f32s(4);
    let mut inits = vec![
        tensor_f32("W1", &[2, 1, 3, 3], &w1),
        tensor_f32("B1", &[2], &b1),
        tensor_f32("W2", &[3, 2, 3, 3], &w2),
        tensor_f32("B2", &[3], &b2),
        tensor_f32("W3", &[4, 27], &w3),
        tensor_f32("B3", &[4], &b3),
        tensor_i64("shape", &[2], &[-1, 27]),
    ];
    inits.extend(bn_inits(&p, "bn1_"));
    let bytes = model(
        &[Dim::Sym("batch"), Dim::N(1), Dim::N(6), Dim::N(6)],
        vec![
            conv_node(
                "conv1",
                &["x", "W1", "B1"],
                "c1",
                vec![("pads", Attr::Ints(vec![1, 1, 1, 1]))],
            ),
            node(
                "BatchNormalization",
                "bn1",
                &["c1", "bn1_scale", "bn1_B", "bn1_mean", "bn1_var"],
                &["n1"],
                vec![],
            ),
            node("Relu", "relu1", &["n1"], &["r1"], vec![]),
            conv_node(
                "conv2",
                &["r1", "W2", "B2"],
                "c2",
                vec![
                    ("pads", Attr::Ints(vec![1, 1, 1, 1])),
                    ("strides", Attr::Ints(vec![2, 2])),
                ],
            ),
            node("Relu", "relu2", &["c2"], &["r2"], vec![]),
            node("Reshape", "flat", &["r2", "shape"], &["f"], vec![]),
            node(
                "Gemm",
                "fc",
                &["f", "W3", "B3"],
                &["y"],
                vec![("transB", Attr::I(1))],
            ),
        ],
        inits,
        "y",
    );
    let pw: Vec<Vec<f64>> = p.iter().map(|v| wide(v)).collect();
    let pad1 = ConvSpec {
        strides: [1, 1],
        pads: [1; 4],
        dilations: [1, 1],
    };
    let pad1s2 = ConvSpec {
        strides: [2, 2],
        pads: [1; 4],
        dilations: [1, 1],
    };
    let m = check(&bytes, 81, |x| {
        let (h1, s1) = conv_ref(x, [1, 6, 6], &wide(&w1), [2, 3, 3], Some(&wide(&b1)), &pad1);
        assert_eq!(s1, [2, 6, 6]);
        let h1 = relu(&bn_ref(&h1, 2, [&pw[0], &pw[1], &pw[2], &pw[3]], 1e-5));
        let (h2, s2) = conv_ref(
            &h1,
            [2, 6, 6],
            &wide(&w2),
            [3, 3, 3],
            Some(&wide(&b2)),
            &pad1s2,
        );
        assert_eq!(s2, [3, 3, 3]);
        linear_ref(&relu(&h2), &wide(&w3), &wide(&b3))
    });
    assert_eq!(m.network.layer_widths(), vec![72, 27, 4]);
    assert!(!m.network.output_relu());
    assert_eq!(m.input_shape, vec![None, Some(1), Some(6), Some(6)]);
    assert!(
        has_note(&m, &["Conv `conv1`", "dense 72x36"]),
        "{:?}",
        m.folded
    );
    assert!(
        has_note(&m, &["Conv `conv2`", "dense 27x72"]),
        "{:?}",
        m.folded
    );
    assert!(
        has_note(&m, &["BatchNormalization `bn1`", "layer 1"]),
        "{:?}",
        m.folded
    );
}

// ---------------------------------------------------------------------------------------
// Composition, precision, storage
// ---------------------------------------------------------------------------------------

#[test]
fn consecutive_affine_ops_are_composed_into_one_layer() {
    let mut rng = Rng::new(90);
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

#[test]
fn float64_and_typed_initializers() {
    let mut rng = Rng::new(100);
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
    let mut rng = Rng::new(110);
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

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

fn one_gemm(input: &[i64], w_dims: &[i64], w: &[f32]) -> Vec<u8> {
    model(
        &dims(input),
        vec![node(
            "Gemm",
            "fc1",
            &["x", "W"],
            &["y"],
            vec![("transB", Attr::I(1))],
        )],
        vec![tensor_f32("W", w_dims, w)],
        "y",
    )
}

#[test]
fn unsupported_op_names_node_and_op() {
    let w = vec![0.5f32; 8];
    for (name, label) in [("act1", "`act1`"), ("", "#1")] {
        let bytes = model(
            &dims(&[1, 4]),
            vec![
                node(
                    "Gemm",
                    "g",
                    &["x", "W"],
                    &["h"],
                    vec![("transB", Attr::I(1))],
                ),
                node("Sigmoid", name, &["h"], &["y"], vec![]),
            ],
            vec![tensor_f32("W", &[2, 4], &w)],
            "y",
        );
        let e = load_err(&bytes);
        assert!(matches!(e, OnnxError::UnsupportedOp { .. }), "{e}");
        let s = e.to_string();
        assert!(s.contains(label) && s.contains("Sigmoid"), "{s}");
    }
    // A custom domain is unsupported too.
    let mut n = node("Relu", "r", &["x"], &["y"], vec![]);
    n.domain = Some("com.microsoft".into());
    let e = load_err(&model(&dims(&[1, 4]), vec![n], vec![], "y"));
    assert!(e.to_string().contains("com.microsoft"), "{e}");
}

#[test]
fn unsupported_attributes() {
    let w = vec![0.1f32; 18];
    let bytes = model(
        &dims(&[1, 2, 4, 4]),
        vec![conv_node(
            "conv",
            &["x", "W"],
            "y",
            vec![("group", Attr::I(2))],
        )],
        vec![tensor_f32("W", &[2, 1, 3, 3], &w)],
        "y",
    );
    let e = load_err(&bytes);
    assert!(
        matches!(&e, OnnxError::UnsupportedAttribute { attribute, message, .. } if *attribute == "group" && message.starts_with("group = 2")),
        "{e}"
    );
    assert!(e.to_string().contains("`conv` (Conv)"), "{e}");

    let bytes = model(
        &dims(&[1, 4]),
        vec![node(
            "Gemm",
            "g",
            &["x", "W"],
            &["y"],
            vec![("transA", Attr::I(2))],
        )],
        vec![tensor_f32("W", &[4, 2], &[0.0; 8])],
        "y",
    );
    assert!(matches!(
        load_err(&bytes),
        OnnxError::UnsupportedAttribute { .. }
    ));

    let bytes = model(
        &dims(&[1, 1, 4, 4]),
        vec![conv_node(
            "conv",
            &["x", "W"],
            "y",
            vec![("auto_pad", Attr::S("SAME_SIDEWAYS"))],
        )],
        vec![tensor_f32("W", &[1, 1, 3, 3], &[0.1; 9])],
        "y",
    );
    assert!(load_err(&bytes).to_string().contains("auto_pad"));
}

#[test]
fn shape_mismatch_gives_both_sizes() {
    let bytes = one_gemm(&[1, 784], &[10, 20], &[0.0; 200]);
    let e = load_err(&bytes);
    assert!(matches!(e, OnnxError::ShapeMismatch { .. }), "{e}");
    let s = e.to_string();
    for part in ["`fc1`", "Gemm", "784", "20", "[10, 20]"] {
        assert!(s.contains(part), "{part} missing from: {s}");
    }
}

#[test]
fn branches_and_dangling_nodes_are_not_chains() {
    let w = vec![0.5f32; 8];
    // Two nodes read `h`.
    let bytes = model(
        &dims(&[1, 4]),
        vec![
            node(
                "Gemm",
                "g",
                &["x", "W"],
                &["h"],
                vec![("transB", Attr::I(1))],
            ),
            node("Relu", "r1", &["h"], &["a"], vec![]),
            node("Relu", "r2", &["h"], &["y"], vec![]),
        ],
        vec![tensor_f32("W", &[2, 4], &w)],
        "y",
    );
    let e = load_err(&bytes);
    assert!(matches!(e, OnnxError::NotAChain { .. }), "{e}");
    assert!(
        e.to_string().contains("`r2`") && e.to_string().contains("`r1`"),
        "{e}"
    );

    // A node computing on the activation after the graph output.
    let bytes = model(
        &dims(&[1, 4]),
        vec![
            node(
                "Gemm",
                "g",
                &["x", "W"],
                &["y"],
                vec![("transB", Attr::I(1))],
            ),
            node("Relu", "dangling", &["y"], &["z"], vec![]),
        ],
        vec![tensor_f32("W", &[2, 4], &w)],
        "y",
    );
    let e = load_err(&bytes);
    assert!(matches!(e, OnnxError::Output(_)), "{e}");
    assert!(e.to_string().contains("`dangling`"), "{e}");

    // Adding the activation to itself.
    let bytes = model(
        &dims(&[1, 4]),
        vec![node("Add", "twice", &["x", "x"], &["y"], vec![])],
        vec![],
        "y",
    );
    assert!(matches!(load_err(&bytes), OnnxError::NotAChain { .. }));

    // Two graph inputs.
    let m = model_proto(
        vec![node("Add", "a", &["x", "z"], &["y"], vec![])],
        vec![],
        vec![
            value_info("x", &dims(&[1, 4])),
            value_info("z", &dims(&[1, 4])),
        ],
        &["y"],
    );
    let e = load_err(&m.encode_to_vec());
    assert!(
        matches!(e, OnnxError::Input(_)) && e.to_string().contains("`z`"),
        "{e}"
    );

    // A missing initializer.
    let bytes = model(
        &dims(&[1, 4]),
        vec![node("Gemm", "g", &["x", "nowhere"], &["y"], vec![])],
        vec![],
        "y",
    );
    let e = load_err(&bytes);
    assert!(
        matches!(&e, OnnxError::MissingInitializer { input, .. } if input == "nowhere"),
        "{e}"
    );
}

#[test]
fn non_finite_weights_name_the_tensor() {
    let mut w = vec![0.5f32; 8];
    w[5] = f32::NAN;
    let e = load_err(&one_gemm(&[1, 4], &[2, 4], &w));
    assert!(
        matches!(&e, OnnxError::NonFinite { tensor, index: 5, .. } if tensor == "W"),
        "{e}"
    );
    assert!(e.to_string().contains("`fc1`"), "{e}");
    // In a Constant node.
    let bytes = model(
        &dims(&[1, 2]),
        vec![
            node(
                "Constant",
                "k",
                &[],
                &["c"],
                vec![("value_floats", Attr::Floats(vec![1.0, f32::INFINITY]))],
            ),
            node("Add", "a", &["x", "c"], &["y"], vec![]),
        ],
        vec![],
        "y",
    );
    assert!(matches!(
        load_err(&bytes),
        OnnxError::NonFinite { index: 1, .. }
    ));
}

#[test]
fn bad_tensor_storage() {
    // raw_data one float short.
    let mut t = tensor_f32("W", &[2, 4], &[0.5; 8]);
    t.raw_data.as_mut().unwrap().truncate(28);
    let bytes = model(
        &dims(&[1, 4]),
        vec![node(
            "Gemm",
            "fc1",
            &["x", "W"],
            &["y"],
            vec![("transB", Attr::I(1))],
        )],
        vec![t],
        "y",
    );
    let e = load_err(&bytes);
    assert!(
        matches!(&e, OnnxError::BadTensor { message, .. } if message.starts_with("tensor `W`")),
        "{e}"
    );
    assert!(e.to_string().contains("28"), "{e}");

    // External data.
    let mut t = tensor_f32("W", &[2, 4], &[]);
    t.raw_data = None;
    t.data_location = Some(1);
    t.external_data = vec![relu_regions_io::onnx::proto::StringStringEntryProto {
        key: Some("location".into()),
        value: Some("weights.bin".into()),
    }];
    let bytes = model(
        &dims(&[1, 4]),
        vec![node(
            "Gemm",
            "fc1",
            &["x", "W"],
            &["y"],
            vec![("transB", Attr::I(1))],
        )],
        vec![t],
        "y",
    );
    let e = load_err(&bytes);
    assert!(matches!(e, OnnxError::ExternalData { .. }), "{e}");
    assert!(e.to_string().contains("external"), "{e}");

    // Negative dims, typed data of the wrong length, unsupported type.
    for t in [
        tensor_f32_typed("W", &[2, -4], &[0.5; 8]),
        tensor_f32_typed("W", &[2, 4], &[0.5; 7]),
        TensorProto {
            data_type: Some(10),
            ..tensor_f32("W", &[2, 4], &[0.5; 4])
        },
        tensor_f32_typed("W", &[i64::MAX, 4], &[]),
    ] {
        let bytes = model(
            &dims(&[1, 4]),
            vec![node(
                "Gemm",
                "fc1",
                &["x", "W"],
                &["y"],
                vec![("transB", Attr::I(1))],
            )],
            vec![t],
            "y",
        );
        assert!(matches!(load_err(&bytes), OnnxError::BadTensor { .. }));
    }
}

#[test]
fn oversized_and_unknown_shapes_are_refused() {
    // A 1x1 Conv on a 2048x2048 image would be a (2^22)^2 dense matrix.
    let bytes = model(
        &dims(&[1, 1, 2048, 2048]),
        vec![conv_node("big", &["x", "W"], "y", vec![])],
        vec![tensor_f32("W", &[1, 1, 1, 1], &[1.0])],
        "y",
    );
    let e = load_err(&bytes);
    assert!(
        matches!(e, OnnxError::TooLarge { .. }) && e.to_string().contains("`big`"),
        "{e}"
    );
    // A symbolic spatial dimension.
    let bytes = model(
        &[Dim::N(1), Dim::N(1), Dim::Sym("H"), Dim::N(4)],
        vec![node("Relu", "r", &["x"], &["y"], vec![])],
        vec![],
        "y",
    );
    let e = load_err(&bytes);
    assert!(
        matches!(e, OnnxError::Input(_)) && e.to_string().contains("`H`"),
        "{e}"
    );
    // Two unknown dimensions.
    let bytes = model(
        &[Dim::Sym("N"), Dim::Sym("F")],
        vec![node("Relu", "r", &["x"], &["y"], vec![])],
        vec![],
        "y",
    );
    assert!(matches!(load_err(&bytes), OnnxError::Input(_)));
    // Not a model at all.
    assert!(matches!(load_onnx(b""), Err(OnnxError::NoGraph)));
    assert!(matches!(
        load_onnx(b"\xff\xff\xff"),
        Err(OnnxError::Decode(_))
    ));
}

/// A small model exercising most code paths, for the corruption tests.
fn fuzz_seed_model() -> Vec<u8> {
    let mut rng = Rng::new(120);
    let mut inits = vec![
        tensor_f32("mean", &[1, 1, 1, 1], &[0.1]),
        tensor_f32("W1", &[2, 1, 3, 3], &rng.f32s(18)),
        tensor_f32("B1", &[2], &rng.f32s(2)),
        tensor_i64("shape", &[2], &[-1, 32]),
        tensor_f32("W2", &[3, 32], &rng.f32s(96)),
        tensor_f64("b2", &[3], &rng.f64s(3)),
    ];
    let p = bn_params(&mut rng, 2);
    inits.extend(bn_inits(&p, "bn_"));
    model(
        &[Dim::Sym("N"), Dim::N(1), Dim::N(4), Dim::N(4)],
        vec![
            node(
                "Constant",
                "k",
                &[],
                &["two"],
                vec![("value_float", Attr::F(2.0))],
            ),
            node("Sub", "sub", &["x", "mean"], &["a"], vec![]),
            node("Div", "div", &["a", "two"], &["b"], vec![]),
            conv_node(
                "conv",
                &["b", "W1", "B1"],
                "c",
                vec![("pads", Attr::Ints(vec![1, 1, 1, 1]))],
            ),
            node(
                "BatchNormalization",
                "bn",
                &["c", "bn_scale", "bn_B", "bn_mean", "bn_var"],
                &["d"],
                vec![],
            ),
            node("Relu", "r", &["d"], &["e"], vec![]),
            node("Reshape", "rs", &["e", "shape"], &["f"], vec![]),
            node(
                "Gemm",
                "fc",
                &["f", "W2", "b2"],
                &["y"],
                vec![("transB", Attr::I(1))],
            ),
        ],
        inits,
        "y",
    )
}

#[test]
fn every_prefix_of_a_valid_file_is_an_error_or_a_model_never_a_panic() {
    let bytes = fuzz_seed_model();
    let full = load(&bytes);
    assert_eq!(full.network.layer_widths(), vec![32, 3]);
    let mut ok = 0;
    for len in 0..bytes.len() {
        if load_onnx(&bytes[..len]).is_ok() {
            ok += 1;
        }
    }
    // Almost every prefix cuts a field or loses the graph's tail.
    assert!(
        ok < bytes.len() / 10,
        "{ok} of {} prefixes loaded",
        bytes.len()
    );
}

#[test]
fn random_byte_flips_never_panic() {
    let bytes = fuzz_seed_model();
    let mut rng = Rng::new(121);
    let mut errors = 0;
    for _ in 0..400 {
        let mut b = bytes.clone();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(b.len());
            match rng.below(3) {
                0 => b[i] ^= 1 << rng.below(8),
                1 => b[i] = rng.next_u64() as u8,
                _ => b[i] = b[i].wrapping_add(1),
            }
        }
        if load_onnx(&b).is_err() {
            errors += 1;
        }
    }
    assert!(errors > 0);
}

// ---------------------------------------------------------------------------------------
// The shared networks
// ---------------------------------------------------------------------------------------

fn onnx_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            onnx_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "onnx") {
            out.push(path);
        }
    }
}

#[derive(serde::Deserialize)]
struct Reference {
    input: Vec<f64>,
    output: Vec<f64>,
}

#[test]
fn shared_onnx_networks_match_their_references() {
    let Some(dir) = shared_dir() else {
        return;
    };
    let mut files = Vec::new();
    onnx_files(&dir, &mut files);
    assert!(files.len() >= 59, "found only {} .onnx files", files.len());
    // family -> (networks, points, max abs deviation, max relative deviation)
    let mut stats: BTreeMap<String, (usize, usize, f64, f64)> = BTreeMap::new();
    for path in &files {
        let name = path.strip_prefix(&dir).unwrap().display().to_string();
        let bytes = std::fs::read(path).unwrap();
        let loaded = load_onnx(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let reference = PathBuf::from(format!("{}.reference.jsonl", path.display()));
        let text = std::fs::read_to_string(&reference)
            .unwrap_or_else(|e| panic!("{}: {e}", reference.display()));
        let family = name.split('/').next().unwrap().to_string();
        let entry = stats.entry(family).or_insert((0, 0, 0.0, 0.0));
        entry.0 += 1;
        for (line_no, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let r: Reference = serde_json::from_str(line).unwrap();
            let y = loaded
                .network
                .forward(&r.input)
                .unwrap_or_else(|e| panic!("{name} line {}: {e}", line_no + 1));
            assert_eq!(y.len(), r.output.len(), "{name} line {}", line_no + 1);
            for (a, b) in y.iter().zip(&r.output) {
                let abs = (a - b).abs();
                assert!(
                    abs <= 1e-4 * b.abs().max(1.0),
                    "{name} line {}: ours {a}, reference {b}",
                    line_no + 1
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

/// Mutations of the model's structure rather than its bytes: dims of initializers and of
/// the input, attribute values (including extremes), op types, node order and inputs.
#[test]
fn structured_mutations_never_panic() {
    use relu_regions_io::onnx::proto::{
        ModelProto, tensor_shape_proto::dimension::Value as DimValue, type_proto,
    };
    let base = ModelProto::decode(&fuzz_seed_model()[..]).unwrap();
    let ops = [
        "Gemm",
        "MatMul",
        "Add",
        "Sub",
        "Mul",
        "Div",
        "BatchNormalization",
        "Conv",
        "Relu",
        "Flatten",
        "Reshape",
        "Squeeze",
        "Unsqueeze",
        "Identity",
        "Dropout",
        "Constant",
    ];
    let attrs = [
        "axis",
        "pads",
        "strides",
        "dilations",
        "transA",
        "transB",
        "group",
        "allowzero",
        "axes",
        "auto_pad",
        "kernel_shape",
    ];
    // Small values keep the lowered maps small; the extremes exercise the overflow checks.
    let values = [
        0i64,
        1,
        2,
        3,
        -1,
        -2,
        5,
        7,
        32,
        1 << 31,
        i64::MAX,
        i64::MIN,
        -(1 << 40),
    ];
    let mut rng = Rng::new(4242);
    let (mut ok, mut err) = (0, 0);
    for _ in 0..2000 {
        let mut m = base.clone();
        let g = m.graph.as_mut().unwrap();
        for _ in 0..1 + rng.below(3) {
            let v = values[rng.below(values.len())];
            let k = rng.below(g.node.len());
            match rng.below(8) {
                0 => {
                    let t = rng.below(g.initializer.len());
                    let t = &mut g.initializer[t];
                    if t.dims.is_empty() {
                        t.dims.push(v);
                    } else {
                        let i = rng.below(t.dims.len());
                        t.dims[i] = v;
                    }
                }
                1 => {
                    let n = &mut g.node[k];
                    if !n.attribute.is_empty() {
                        let a = rng.below(n.attribute.len());
                        let a = &mut n.attribute[a];
                        if a.ints.is_empty() {
                            a.i = Some(v);
                        } else {
                            let i = rng.below(a.ints.len());
                            a.ints[i] = v;
                        }
                    }
                }
                2 => g.node[k].op_type = Some(ops[rng.below(ops.len())].to_string()),
                3 => {
                    let value = g.input[0].r#type.as_mut().and_then(|t| t.value.as_mut());
                    if let Some(type_proto::Value::TensorType(t)) = value {
                        let d = &mut t.shape.as_mut().unwrap().dim;
                        match rng.below(3) {
                            0 if !d.is_empty() => {
                                let i = rng.below(d.len());
                                d[i].value = Some(DimValue::DimValue(v));
                            }
                            1 => {
                                d.pop();
                            }
                            _ => d.push(d.first().cloned().unwrap_or_default()),
                        }
                    }
                }
                4 => {
                    let j = rng.below(g.node.len());
                    g.node.swap(k, j);
                }
                5 => {
                    let n = &mut g.node[k];
                    if !n.input.is_empty() {
                        let i = rng.below(n.input.len());
                        let j = rng.below(n.input.len());
                        n.input.swap(i, j);
                    }
                }
                6 => {
                    let value = if rng.below(2) == 0 {
                        Attr::I(v)
                    } else {
                        Attr::Ints(vec![v, 1, v, 0])
                    };
                    let a = attrs[rng.below(attrs.len())];
                    g.node[k].attribute.push(attribute(a, value));
                }
                _ => {
                    g.node.remove(k);
                    if g.node.is_empty() {
                        g.node.push(node("Relu", "r", &["x"], &["y"], vec![]));
                    }
                }
            }
        }
        match load_onnx(&m.encode_to_vec()) {
            Ok(_) => ok += 1,
            Err(_) => err += 1,
        }
    }
    assert!(ok > 0 && err > 0, "{ok} loaded, {err} refused");
}
