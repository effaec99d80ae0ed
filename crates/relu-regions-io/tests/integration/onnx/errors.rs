//! Malformed models: every error names the node, the op and the attribute, tensor or value
//! at fault.

use prost::Message;
use relu_regions_io::onnx::proto::TensorProto;
use relu_regions_io::onnx::{OnnxError, load_onnx};

use super::builder::*;
use super::{conv_node, load_err};

fn one_gemm(input: &[i64], w_dims: &[i64], w: &[f32]) -> Vec<u8> {
    gemm_of(input, tensor_f32("W", w_dims, w))
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
        assert!(s.contains("not piecewise linear"), "{s}");
    }
    // Well-known ops say why they are not lowered.
    for (op, why) in [
        ("MaxPool", "not affine"),
        ("GlobalMaxPool", "not affine"),
        ("Erf", "supported: "),
    ] {
        let e = load_err(&model(
            &dims(&[1, 1, 4, 4]),
            vec![node(op, "n", &["x"], &["y"], vec![])],
            vec![],
            "y",
        ));
        let s = e.to_string();
        assert!(s.contains(op) && s.contains(why), "{s}");
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
    let bytes = gemm_of(&[1, 4], t);
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
    let bytes = gemm_of(&[1, 4], t);
    let e = load_err(&bytes);
    assert!(matches!(e, OnnxError::ExternalDataUnread { .. }), "{e}");
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
        let bytes = gemm_of(&[1, 4], t);
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
