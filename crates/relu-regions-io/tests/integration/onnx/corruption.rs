//! Damaged files never panic: every prefix of a valid file, random byte flips, and
//! mutations of the model's structure give an error or a model.

use prost::Message;
use relu_regions_io::onnx::load_onnx;

use super::builder::*;
use super::{bn_inits, bn_params, conv_node, load};

/// A small model exercising most code paths, for the corruption tests.
fn fuzz_seed_model() -> Vec<u8> {
    let mut rng = SplitMix64::new(120);
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
    let mut rng = SplitMix64::new(121);
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
    let mut rng = SplitMix64::new(4242);
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
