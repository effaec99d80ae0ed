//! The loaders on files: one test binary (the crate's only one), a module per format.
//! Helpers come from `relu-regions-testkit`.
//!
//! - [`onnx`]: the ONNX loader op by op against reference implementations written here,
//!   malformed and damaged files, and every `.onnx` under `../shared/networks` against its
//!   onnxruntime outputs;
//! - [`nnet`]: `.nnet` files against their references, and the 45 ACAS Xu `.nnet` files
//!   against their ONNX twins;
//! - [`vnnlib`]: every VNN-LIB file under `../shared/networks` gives its input box.
//!
//! The shared-network tests skip with a note when `../shared/networks` is absent, and
//! fail instead when `RELU_REGIONS_REQUIRE_SHARED=1` (as in CI).

mod nnet;
mod onnx;
mod vnnlib;
