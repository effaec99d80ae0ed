//! The ONNX loader must return a model or an error for any bytes, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(model) = relu_regions_io::onnx::load_onnx(data) {
        // A loaded network must evaluate at the origin without panicking.
        let x = vec![0.0; model.network.input_dim()];
        let _ = model.network.forward(&x);
    }
});
