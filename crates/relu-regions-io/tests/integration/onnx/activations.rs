//! Leaky activations: `LeakyRelu` and `PRelu` (constant slopes, scalar or per channel)
//! against onnxruntime on models exported by torch 2.15 and written by hand
//! (`data/networks/leaky/make.py`), their composition, and the slopes refused.

use relu_regions_testkit::{bundled_data, files_with_extension};

use super::*;

#[test]
fn leaky_networks_match_onnxruntime() {
    let files = files_with_extension(&bundled_data("networks/leaky"), "onnx");
    assert_eq!(files.len(), 4, "{files:?}");
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let loaded = load(&std::fs::read(&path).unwrap());
        assert!(!loaded.network.is_relu(), "{name}");
        assert_eq!(assert_matches_reference(&loaded, &path, 1e-5), 6, "{name}");
    }
}

#[test]
fn slopes_are_read_per_neuron_and_consecutive_activations_compose() {
    let read = |name: &str| {
        load(&std::fs::read(bundled_data(&format!("networks/leaky/{name}.onnx"))).unwrap())
    };
    // Conv(1 -> 3 channels) on 6x6 gives 3 x 4 x 4 neurons, one PReLU slope per channel.
    let cnn = read("leaky_cnn_torch");
    let slopes = cnn.network.negative_slopes(0).unwrap();
    assert_eq!(slopes.len(), 48);
    for (c, want) in [0.05f32, 0.3, 0.9].into_iter().enumerate() {
        assert!(
            slopes[16 * c..16 * (c + 1)]
                .iter()
                .all(|&a| a == f64::from(want))
        );
    }
    // LeakyRelu(0.2) then Relu is a Relu; LeakyRelu (the default 0.01, no attribute) then
    // LeakyRelu(0.5) has slope
    // 0.01 * 0.5; the output PRelu(0.3) is an output activation.
    let chain = read("leaky_chain");
    let net = &chain.network;
    assert!(net.output_relu());
    assert_eq!(net.negative_slopes(0), None);
    let second = net.negative_slopes(1).unwrap();
    assert!(second.iter().all(|&a| a == 0.01 * 0.5), "{second:?}");
    assert!(
        net.negative_slopes(2)
            .unwrap()
            .iter()
            .all(|&a| a == f64::from(0.3f32))
    );
    assert!(
        has_note(&chain, &["Relu", "together a Relu"]),
        "{:?}",
        chain.folded
    );
    assert!(
        has_note(&chain, &["LeakyRelu", "slopes multiply"]),
        "{:?}",
        chain.folded
    );
}

#[test]
fn slopes_outside_the_unit_interval_and_unbroadcastable_slopes_are_refused() {
    let w: Vec<f32> = (0..8).map(|i| i as f32 - 3.5).collect();
    let gemm = || {
        node(
            "Gemm",
            "fc",
            &["x", "W"],
            &["z"],
            vec![("transB", Attr::I(1))],
        )
    };
    let with = |act: NodeProto, extra: Vec<TensorProto>| {
        let mut inits = vec![tensor_f32("W", &[2, 4], &w)];
        inits.extend(extra);
        model(&dims(&[1, 4]), vec![gemm(), act], inits, "y")
    };
    let e = load_err(&with(
        node(
            "LeakyRelu",
            "act",
            &["z"],
            &["y"],
            vec![("alpha", Attr::F(1.5))],
        ),
        vec![],
    ));
    let s = e.to_string();
    assert!(
        s.contains("act") && s.contains("alpha") && s.contains("[0, 1]"),
        "{s}"
    );
    let e = load_err(&with(
        node("PRelu", "act", &["z", "s"], &["y"], vec![]),
        vec![tensor_f32("s", &[2], &[0.1, -0.2])],
    ));
    let s = e.to_string();
    assert!(
        s.contains("`s`") && s.contains("entry 1") && s.contains("[0, 1]"),
        "{s}"
    );
    let e = load_err(&with(
        node("PRelu", "act", &["z", "s"], &["y"], vec![]),
        vec![tensor_f32("s", &[3], &[0.1, 0.2, 0.3])],
    ));
    assert!(e.to_string().contains("does not broadcast"), "{e}");
    // A slope from the graph input is not a constant.
    let e = load_err(&model(
        &dims(&[1, 4]),
        vec![node("PRelu", "act", &["x", "x"], &["y"], vec![])],
        vec![],
        "y",
    ));
    assert!(e.to_string().contains("act"), "{e}");
    // A valid scalar PRelu: 4 -> 2 with the slope on the inactive outputs.
    let m = load(&with(
        node("PRelu", "act", &["z", "s"], &["y"], vec![]),
        vec![tensor_f32("s", &[1], &[0.25])],
    ));
    let x = [1.0, 0.0, 0.0, 0.0];
    // z = W x = (-3.5, 0.5): y = (0.25 * -3.5, 0.5).
    assert_eq!(m.network.forward(&x).unwrap(), vec![-0.875, 0.5]);
}
