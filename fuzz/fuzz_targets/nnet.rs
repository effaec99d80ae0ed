//! The .nnet loader must return a model or an error for any bytes, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relu_regions_io::nnet::{NnetOptions, load_nnet};

fuzz_target!(|data: &[u8]| {
    for raw_inputs in [false, true] {
        if let Ok(model) = load_nnet(data, NnetOptions { raw_inputs }) {
            let x = vec![0.0; model.network.input_dim()];
            let _ = model.network.forward(&x);
        }
    }
});
