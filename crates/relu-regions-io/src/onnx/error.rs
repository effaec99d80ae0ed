//! Why an ONNX model could not be lowered ([`OnnxError`]), and the node being lowered
//! ([`NodeCtx`]), which builds the error for each kind of fault with the node named.

use std::fmt::Display;

use relu_regions::NetworkError;
use thiserror::Error;

use super::SUPPORTED_OPS;
use super::proto::NodeProto;

/// Why an ONNX model could not be lowered to a network. `node` is `` `name` `` or
/// `#index` (0-based position in the graph) for an unnamed node.
#[derive(Debug, Error)]
pub enum OnnxError {
    #[error("not an ONNX model: {0}")]
    Decode(String),
    #[error("not an ONNX model: the file has no graph")]
    NoGraph,
    #[error("graph input: {0}")]
    Input(String),
    #[error("graph output: {0}")]
    Output(String),
    #[error(
        "node {node} ({op}): unsupported op{domain} (supported: {})",
        SUPPORTED_OPS
    )]
    UnsupportedOp {
        node: String,
        op: String,
        domain: String,
    },
    /// `message` reads `attribute = value: reason`.
    #[error("node {node} ({op}): unsupported attribute {message}")]
    UnsupportedAttribute {
        node: String,
        op: String,
        attribute: &'static str,
        message: String,
    },
    #[error("node {node} ({op}): {input} is missing")]
    MissingInput {
        node: String,
        op: String,
        input: String,
    },
    #[error(
        "node {node} ({op}): input `{input}` is not an initializer, a Constant output or the running activation"
    )]
    MissingInitializer {
        node: String,
        op: String,
        input: String,
    },
    #[error("node {node} ({op}): shape mismatch: {message}")]
    ShapeMismatch {
        node: String,
        op: String,
        message: String,
    },
    #[error("node {node} ({op}): the graph is not a chain: {message}")]
    NotAChain {
        node: String,
        op: String,
        message: String,
    },
    #[error("node {node} ({op}): not affine: {message}")]
    NotAffine {
        node: String,
        op: String,
        message: String,
    },
    #[error("node {node} ({op}): division by zero: entry {index} of `{tensor}` is 0")]
    DivisionByZero {
        node: String,
        op: String,
        tensor: String,
        index: usize,
    },
    /// `message` starts with ``tensor `name`:``.
    #[error("node {node} ({op}): {message}")]
    BadTensor {
        node: String,
        op: String,
        message: String,
    },
    #[error(
        "node {node} ({op}): tensor `{tensor}` keeps its data in an external file (data_location EXTERNAL), \
         which only a model loaded from its file can read (the files beside it)"
    )]
    ExternalDataUnread {
        node: String,
        op: String,
        tensor: String,
    },
    /// A tensor's external data could not be read: `message` says why, naming the file.
    #[error("tensor `{tensor}`: external data: {message}")]
    ExternalData { tensor: String, message: String },
    #[error(
        "node {node} ({op}): tensor `{tensor}` entry {index} is {value}; weights must be finite"
    )]
    NonFinite {
        node: String,
        op: String,
        tensor: String,
        index: usize,
        value: f64,
    },
    #[error("node {node} ({op}): too large: {message}")]
    TooLarge {
        node: String,
        op: String,
        message: String,
    },
    #[error("node {node} ({op}): internal error: {message}")]
    Internal {
        node: String,
        op: String,
        message: String,
    },
    #[error("invalid network after lowering (layers numbered from 0): {0}")]
    Network(#[from] NetworkError),
}

/// The node being lowered, for messages.
#[derive(Debug, Clone)]
pub(crate) struct NodeCtx {
    /// `` `name` `` or `#index`.
    pub label: String,
    pub op: String,
}

impl NodeCtx {
    pub(crate) fn new(node: &NodeProto, index: usize) -> Self {
        let label = if node.name().is_empty() {
            format!("#{index}")
        } else {
            format!("`{}`", node.name())
        };
        Self {
            label,
            op: node.op_type().to_string(),
        }
    }

    pub(crate) fn shape(&self, message: impl Into<String>) -> OnnxError {
        OnnxError::ShapeMismatch {
            node: self.label.clone(),
            op: self.op.clone(),
            message: message.into(),
        }
    }

    pub(crate) fn chain(&self, message: impl Into<String>) -> OnnxError {
        OnnxError::NotAChain {
            node: self.label.clone(),
            op: self.op.clone(),
            message: message.into(),
        }
    }

    pub(crate) fn attribute(
        &self,
        attribute: &'static str,
        value: impl Display,
        reason: impl Into<String>,
    ) -> OnnxError {
        OnnxError::UnsupportedAttribute {
            node: self.label.clone(),
            op: self.op.clone(),
            attribute,
            message: format!("{attribute} = {value}: {}", reason.into()),
        }
    }

    pub(crate) fn too_large(
        &self,
        what: impl Display,
        entries: u128,
        unit: &str,
        limit: u128,
    ) -> OnnxError {
        OnnxError::TooLarge {
            node: self.label.clone(),
            op: self.op.clone(),
            message: format!("{what} needs {entries} {unit}, more than the limit of {limit}"),
        }
    }

    pub(crate) fn bad_tensor(&self, tensor: &str, message: impl Into<String>) -> OnnxError {
        OnnxError::BadTensor {
            node: self.label.clone(),
            op: self.op.clone(),
            message: format!("tensor `{tensor}`: {}", message.into()),
        }
    }

    pub(crate) fn internal(&self, message: &str) -> OnnxError {
        OnnxError::Internal {
            node: self.label.clone(),
            op: self.op.clone(),
            message: message.to_string(),
        }
    }
}
