//! Tensors stored in files beside the model (external data): the bundled models written
//! by onnx's `save_as_external_data` (`data/networks/external/make.py`: one file
//! `model.onnx.data` as PyTorch's default exporter writes it, and one file per tensor
//! with a `Constant`'s value among them) against onnxruntime, then hand-built models whose
//! external data is missing, out of range, or outside the model's folder.

use std::path::Path;

use relu_regions_io::onnx::proto::StringStringEntryProto;
use relu_regions_io::onnx::{OnnxError, load_onnx};
use relu_regions_io::{LoadError, load_model};
use relu_regions_testkit::{bundled_data, temp_dir};

use super::*;

#[test]
fn models_saved_with_external_data_match_onnxruntime() {
    for rel in [
        "networks/external/mlp_one_file.onnx",
        "networks/external/per_tensor/mlp.onnx",
    ] {
        let path = bundled_data(rel);
        let loaded = load_model(&path, Default::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(loaded.network.layer_widths(), vec![8, 8, 3], "{rel}");
        assert_eq!(assert_matches_reference(&loaded, &path, 1e-6), 6);
        // From bytes alone the files cannot be found, and the message says so.
        let e = load_onnx(&std::fs::read(&path).unwrap()).unwrap_err();
        assert!(matches!(e, OnnxError::ExternalDataUnread { .. }), "{e}");
    }
}

/// `y = W x` (Gemm, transB) with `W` (2 x 4, FLOAT) external at `location`, `offset`,
/// `length`.
fn external_gemm(location: &str, offset: Option<u64>, length: Option<u64>) -> Vec<u8> {
    let mut w = tensor_f32("W", &[2, 4], &[]);
    w.raw_data = None;
    w.data_location = Some(1);
    let entry = |k: &str, v: String| StringStringEntryProto {
        key: Some(k.into()),
        value: Some(v),
    };
    w.external_data = vec![entry("location", location.into())];
    w.external_data
        .extend(offset.map(|o| entry("offset", o.to_string())));
    w.external_data
        .extend(length.map(|l| entry("length", l.to_string())));
    gemm_of(&[1, 4], w)
}

fn weights() -> [f32; 8] {
    [0.5, -1.0, 2.0, 0.25, -0.75, 1.5, 0.125, -2.0]
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

/// The error of loading `model` from `dir/model.onnx`, as text.
fn load_message(dir: &Path, model: &[u8]) -> String {
    write(dir, "model.onnx", model);
    match load_model(&dir.join("model.onnx"), Default::default()) {
        Ok(m) => panic!("loaded {:?}", m.network.layer_widths()),
        Err(e @ LoadError::Onnx { .. }) => e.to_string(),
        Err(e) => panic!("not an ONNX error: {e}"),
    }
}

#[test]
fn external_data_is_read_at_its_offset_and_checked() {
    let dir = temp_dir("onnx-external");
    let w = weights();
    let bytes: Vec<u8> = w.iter().flat_map(|v| v.to_le_bytes()).collect();
    // 16 bytes of padding before the tensor, 8 after it.
    let mut padded = vec![0xAB; 16];
    padded.extend(&bytes);
    padded.extend([0xCD; 8]);
    write(&dir, "weights.bin", &padded);
    let inline = load(&gemm_of(&[1, 4], tensor_f32("W", &[2, 4], &w)));
    write(
        &dir,
        "model.onnx",
        &external_gemm("weights.bin", Some(16), Some(32)),
    );
    let loaded = load_model(&dir.join("model.onnx"), Default::default()).unwrap();
    let x = [0.3, -1.2, 0.7, 2.0];
    assert_eq!(
        loaded.network.forward(&x).unwrap(),
        inline.network.forward(&x).unwrap()
    );
    // Without a length, the tensor runs to the end of the file: here 8 bytes too many.
    let m = load_message(&dir, &external_gemm("weights.bin", Some(16), None));
    assert!(
        m.contains("40 bytes from offset 16") && m.contains("needs 32"),
        "{m}"
    );
    // A range past the end of the file.
    let m = load_message(&dir, &external_gemm("weights.bin", Some(40), Some(32)));
    assert!(
        m.contains("beyond the end") && m.contains("weights.bin"),
        "{m}"
    );
    let m = load_message(&dir, &external_gemm("weights.bin", Some(100), Some(4)));
    assert!(m.contains("beyond the end"), "{m}");
    let m = load_message(
        &dir,
        &external_gemm("weights.bin", Some(16), Some(u64::MAX - 8)),
    );
    assert!(m.contains("run beyond the end"), "{m}");
    // A folder is not a data file.
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let m = load_message(&dir, &external_gemm("sub", None, Some(32)));
    assert!(m.contains("not a regular file"), "{m}");
    // A missing file is named.
    let m = load_message(&dir, &external_gemm("missing.bin", None, Some(32)));
    assert!(
        m.contains("missing.bin") && m.contains("cannot read"),
        "{m}"
    );
    // Paths that leave the folder.
    let m = load_message(&dir, &external_gemm("../weights.bin", None, Some(32)));
    assert!(m.contains("leaves the model's folder"), "{m}");
    let absolute = dir.join("weights.bin");
    let m = load_message(
        &dir,
        &external_gemm(absolute.to_str().unwrap(), Some(16), Some(32)),
    );
    assert!(m.contains("absolute path"), "{m}");
    // A symbolic link inside the folder that points out of it.
    #[cfg(unix)]
    {
        let outside = temp_dir("onnx-external-outside");
        write(&outside, "secret.bin", &padded);
        let link = dir.join("link.bin");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(outside.join("secret.bin"), &link).unwrap();
        let m = load_message(&dir, &external_gemm("link.bin", Some(16), Some(32)));
        assert!(m.contains("outside the model's folder"), "{m}");
        let _ = std::fs::remove_dir_all(&outside);
    }
    // A malformed offset and a missing location.
    let mut w = tensor_f32("W", &[2, 4], &[]);
    w.raw_data = None;
    w.data_location = Some(1);
    w.external_data = vec![StringStringEntryProto {
        key: Some("offset".into()),
        value: Some("-3".into()),
    }];
    let m = load_message(&dir, &gemm_of(&[1, 4], w.clone()));
    assert!(m.contains("offset `-3`") && m.contains("tensor `W`"), "{m}");
    w.external_data[0].value = Some("0".into());
    let m = load_message(&dir, &gemm_of(&[1, 4], w));
    assert!(m.contains("no `location`"), "{m}");
    let _ = std::fs::remove_dir_all(&dir);
}
