//! AveragePool, lowered as a linear map: small CNNs (`data/networks/pooling/make.py`:
//! Conv -> Relu -> AveragePool -> Relu -> Flatten -> Gemm, with padding excluded from and
//! included in the divisor, strides, SAME padding, dilations) against onnxruntime, and
//! the refused `ceil_mode`.

use relu_regions_testkit::{bundled_data, files_with_extension};

use super::*;

#[test]
fn average_pools_match_onnxruntime() {
    let files = files_with_extension(&bundled_data("networks/pooling"), "onnx");
    assert_eq!(files.len(), 5, "{files:?}");
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let loaded = load(&std::fs::read(&path).unwrap());
        assert_eq!(loaded.network.input_dim(), 36, "{name}");
        assert!(
            loaded.folded.iter().any(|n| n.starts_with("AveragePool")),
            "{name}: {:?}",
            loaded.folded
        );
        assert_eq!(assert_matches_reference(&loaded, &path, 1e-5), 6);
    }
}

#[test]
fn average_pool_refuses_ceil_mode_and_a_missing_kernel() {
    let pool = |attrs: Vec<(&str, Attr)>| {
        model(
            &dims(&[1, 1, 4, 4]),
            vec![node("AveragePool", "pool", &["x"], &["y"], attrs)],
            vec![],
            "y",
        )
    };
    let e = load_err(&pool(vec![
        ("kernel_shape", Attr::Ints(vec![2, 2])),
        ("ceil_mode", Attr::I(1)),
    ]));
    assert!(e.to_string().contains("ceil_mode"), "{e}");
    let e = load_err(&pool(vec![]));
    assert!(e.to_string().contains("kernel_shape"), "{e}");
    // A plain 2x2 pool of a 4x4 image is the 2x2 block averages.
    let m = load(&pool(vec![
        ("kernel_shape", Attr::Ints(vec![2, 2])),
        ("strides", Attr::Ints(vec![2, 2])),
    ]));
    let x: Vec<f64> = (0..16).map(f64::from).collect();
    assert_eq!(m.network.forward(&x).unwrap(), vec![2.5, 4.5, 10.5, 12.5]);
}
