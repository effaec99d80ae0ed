//! Conv lowered to a dense matrix (`src/onnx/ops/conv.rs`), alone and in a small CNN with
//! BatchNormalization, ReLU, Reshape and Gemm.

use super::builder::*;
use super::reference::*;
use super::{bn_inits, bn_params, check, conv_node, has_note};

#[test]
fn conv_padding_strides_dilations_and_bias() {
    let (c, h, w, m, kh, kw) = (2usize, 5usize, 6usize, 3usize, 3usize, 2usize);
    struct ConvCase {
        attrs: Vec<(&'static str, Attr)>,
        spec: ConvSpec,
        bias: bool,
    }
    let cases = vec![
        ConvCase {
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
        ConvCase {
            attrs: vec![("dilations", Attr::Ints(vec![2, 2]))],
            spec: ConvSpec {
                strides: [1, 1],
                pads: [0; 4],
                dilations: [2, 2],
            },
            bias: false,
        },
        ConvCase {
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
        ConvCase {
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
        ConvCase {
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
        ConvCase {
            attrs: vec![("auto_pad", Attr::S("SAME_LOWER"))],
            spec: ConvSpec {
                strides: [1, 1],
                pads: [1, 1, 1, 0],
                dilations: [1, 1],
            },
            bias: false,
        },
        // SAME_UPPER, stride 1: W total 1 -> begin 0, end 1.
        ConvCase {
            attrs: vec![("auto_pad", Attr::S("SAME_UPPER"))],
            spec: ConvSpec {
                strides: [1, 1],
                pads: [1, 0, 1, 1],
                dilations: [1, 1],
            },
            bias: false,
        },
    ];
    let mut rng = SplitMix64::new(70);
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
    let mut rng = SplitMix64::new(80);
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
