//! ONNX loader (being written).

use thiserror::Error;

use crate::LoadedModel;

/// The protobuf types generated from the vendored `proto/onnx.proto`.
#[allow(clippy::all, missing_docs)]
pub mod proto {
    include!(concat!(env!("OUT_DIR"), "/onnx.rs"));
}

/// Why an ONNX model could not be lowered to a network.
#[derive(Debug, Error)]
pub enum OnnxError {
    #[error("not an ONNX model: {0}")]
    Decode(String),
}

/// Loads an ONNX model from its bytes.
pub fn load_onnx(bytes: &[u8]) -> Result<LoadedModel, OnnxError> {
    use prost::Message;
    let _model = proto::ModelProto::decode(bytes).map_err(|e| OnnxError::Decode(e.to_string()))?;
    Err(OnnxError::Decode("not yet supported".into()))
}
