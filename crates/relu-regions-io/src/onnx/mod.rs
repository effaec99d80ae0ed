//! ONNX models lowered to the canonical [`Network`].
//!
//! The protobuf is decoded with prost (types generated at build time from the vendored
//! `proto/onnx.proto`), then the graph is walked once, in node order, as a *chain*: every
//! node consumes the running activation (exactly one input that is neither an initializer
//! nor a `Constant` output) and the next node consumes its output. Between two ReLUs
//! every op is an affine map of the flattened activation, and these maps are composed
//! into one pending map; each `Relu` turns the pending map into a layer. So the loaded
//! network has one layer per ReLU, plus a last layer without ReLU when the graph does not
//! end with `Relu` (`output_relu` is set when it does).
//!
//! # Shapes and the batch dimension
//!
//! The network is the graph evaluated on **one sample**. Its input is the graph input
//! tensor flattened in row-major order, with the batch dimension taken as 1:
//! - the *batch dimension* is a symbolic (or absent, or non-positive) dimension, allowed
//!   only at position 0 of an input of rank >= 2 (`[batch, 1, 28, 28]`, `[N, 8]`), or at
//!   the last position of a rank-2 input (a column `[features, batch]` fed to `W @ x`);
//!   any other symbolic dimension, or more than one, is an error (spatial and feature
//!   sizes must be known);
//! - every declared size is used as declared: `[1, 784, 1]` and `[1, 1, 28, 28]` have 784
//!   inputs, `[1, 1, 1, 5]` has 5, a rank-1 input `[5]` (no batch dimension) has 5;
//! - a concrete leading size larger than 1 is *not* treated as a batch: the network then
//!   takes the whole tensor (what the graph computes), and `folded` says so.
//!
//! After that every shape is concrete and tracked exactly with ONNX/numpy semantics, so
//! all ops are lowered exactly, including any batch-like dimension larger than 1 (as a
//! block-diagonal map).
//!
//! # Supported ops
//!
//! | op | lowering |
//! |---|---|
//! | `Gemm` | dense; `alpha`, `beta`, `transA`, `transB`, optional `C` broadcast to `[M, N]`; the activation may be `A` or `B` |
//! | `MatMul` | dense; `x @ W` (`W` `[K, N]` or `[K]`) and `W @ x` (`W` `[M, K]` or `[K]`, `x` `[K]` or `[..., K, N]`) |
//! | `Add`, `Sub`, `Mul`, `Div` | elementwise with a constant, numpy broadcasting to the activation's shape; `c - x` is folded, `c / x` is refused (not affine), and so is division by a zero constant |
//! | `BatchNormalization` | elementwise per channel (dim 1), inference form; `epsilon` (default 1e-5) |
//! | `Conv` | 2-D NCHW, `group = 1`, `strides`, `pads`, `dilations`, `auto_pad` (`NOTSET`, `VALID`, `SAME_UPPER`, `SAME_LOWER`), optional bias; lowered to a dense matrix for the tracked input shape |
//! | `AveragePool` | 2-D NCHW, `kernel_shape`, `strides`, `pads`, `auto_pad`, `dilations`, `count_include_pad`; lowered as Conv is (`ceil_mode = 1` refused) |
//! | `Relu` | ends the pending layer; a `Relu` right after a `Relu` is a no-op |
//! | `LeakyRelu`, `PRelu` | a leaky ReLU (`alpha`, default 0.01; PRelu's constant `slope`, a scalar or per channel, broadcast to the activation); ends the pending layer as `Relu` does. The activation regions are ReLU's, only the maps change. Slopes outside `[0, 1]` are refused; consecutive activations compose (the slopes multiply) |
//! | `Flatten`, `Reshape`, `Squeeze`, `Unsqueeze`, `Identity`, `Dropout` (inference) | shape only |
//! | `Constant` | `value`, `value_float(s)`, `value_int(s)` |
//!
//! Initializers and constants may be FLOAT, DOUBLE, INT32 or INT64, from `raw_data`, the
//! typed fields, or a file beside the model (external data, as PyTorch's default exporter
//! writes `model.onnx.data`: see [`external`]). Every float constant must be finite.
//! Dense maps are capped at [`MAX_DENSE_ENTRIES`] entries and activations at
//! [`MAX_TENSOR_ELEMENTS`] values, so a hostile file cannot exhaust memory; malformed
//! input of any kind gives an [`OnnxError`] naming the node (`` `name` `` or `#index` when
//! unnamed), the op, and the attribute, tensor or value at fault; it never panics.

mod error;
mod external;
mod ops;
mod tensor;
mod write;

pub(crate) use error::NodeCtx;
pub use error::OnnxError;
pub use write::write_onnx;

use std::collections::HashMap;
use std::path::Path;

use prost::Message;
use relu_regions::{Affine, Network};

use crate::{LoadedModel, ModelFormat};

use ops::{Lowered, NodeInputs, Pending};
use proto::tensor_shape_proto::dimension::Value as DimValue;
use proto::{GraphProto, NodeProto, TensorProto, ValueInfoProto, type_proto};
use tensor::{Constant, checked_product, constant_node_value, decode_tensor, fmt_shape};

/// The protobuf types generated from the vendored `proto/onnx.proto`.
#[allow(clippy::all, missing_docs)]
pub mod proto {
    include!(concat!(env!("OUT_DIR"), "/onnx.rs"));
}

/// The largest dense matrix the loader builds (a lowered Conv, a composed layer, an
/// identity layer), in entries: 2^28 (2 GiB of `f64`).
pub const MAX_DENSE_ENTRIES: usize = 1 << 28;

/// The largest activation tensor the loader tracks, in values: 2^24.
pub const MAX_TENSOR_ELEMENTS: usize = 1 << 24;

/// The most multiply-adds spent composing two dense maps (or lowering one Conv).
pub(crate) const MAX_COMPOSE_FLOPS: u128 = 1 << 38;

/// The ops the loader lowers, for messages.
pub const SUPPORTED_OPS: &str = "Gemm, MatMul, Add, Sub, Mul, Div, BatchNormalization, Conv, \
     AveragePool, Relu, LeakyRelu, PRelu, Flatten, Reshape, Squeeze, Unsqueeze, Identity, Dropout, Constant";

/// Loads an ONNX model from its bytes (see the module documentation for what is
/// supported). A tensor stored in an external file is an error: see
/// [`load_onnx_beside`].
pub fn load_onnx(bytes: &[u8]) -> Result<LoadedModel, OnnxError> {
    load_onnx_beside(bytes, None)
}

/// Loads an ONNX model from its bytes, reading tensors stored in external files from
/// `folder` (the model file's folder), as [`external`] describes.
pub fn load_onnx_beside(bytes: &[u8], folder: Option<&Path>) -> Result<LoadedModel, OnnxError> {
    let mut model =
        proto::ModelProto::decode(bytes).map_err(|e| OnnxError::Decode(e.to_string()))?;
    let graph = model.graph.as_mut().ok_or(OnnxError::NoGraph)?;
    if let Some(folder) = folder {
        external::inline_external_data(graph, folder)?;
    }
    lower(graph)
}

/// The declared graph input: its name, declared shape, and the concrete shape of one
/// sample (batch dimension 1).
struct GraphInput {
    name: String,
    declared: Vec<Option<usize>>,
    shape: Vec<usize>,
    note: Option<String>,
}

fn graph_input(graph: &GraphProto) -> Result<GraphInput, OnnxError> {
    let initializers: std::collections::HashSet<&str> =
        graph.initializer.iter().map(|t| t.name()).collect();
    let candidates: Vec<&ValueInfoProto> = graph
        .input
        .iter()
        .filter(|v| !initializers.contains(v.name()))
        .collect();
    let input = match candidates.as_slice() {
        [one] => *one,
        [] => {
            return Err(OnnxError::Input(
                "the graph has no input besides its initializers".to_string(),
            ));
        }
        many => {
            let names: Vec<String> = many.iter().map(|v| format!("`{}`", v.name())).collect();
            return Err(OnnxError::Input(format!(
                "the graph has {} inputs that are not initializers ({}); a chain takes exactly one",
                many.len(),
                names.join(", ")
            )));
        }
    };
    let name = input.name().to_string();
    if name.is_empty() {
        return Err(OnnxError::Input("the graph input has no name".to_string()));
    }
    let Some(type_proto::Value::TensorType(tensor)) =
        input.r#type.as_ref().and_then(|t| t.value.as_ref())
    else {
        return Err(OnnxError::Input(format!("input `{name}` is not a tensor")));
    };
    if let Some(code) = tensor.elem_type {
        // UNDEFINED, FLOAT, FLOAT16, DOUBLE, BFLOAT16.
        if ![0, 1, 10, 11, 16].contains(&code) {
            return Err(OnnxError::Input(format!(
                "input `{name}` has element type {}; only floating-point inputs are supported",
                tensor::data_type_name(code)
            )));
        }
    }
    let shape_proto = tensor.shape.as_ref().ok_or_else(|| {
        OnnxError::Input(format!(
            "input `{name}` has no declared shape; the loader needs its rank and sizes"
        ))
    })?;
    let declared: Vec<Option<usize>> = shape_proto
        .dim
        .iter()
        .map(|d| match d.value {
            Some(DimValue::DimValue(v)) if v > 0 => usize::try_from(v).ok(),
            _ => None,
        })
        .collect();
    let rank = declared.len();
    let unknown = declared.iter().filter(|d| d.is_none()).count();
    if unknown > 1 {
        return Err(OnnxError::Input(format!(
            "input `{name}` has {unknown} unknown dimensions in {declared:?}; only the batch dimension may be unknown"
        )));
    }
    let mut shape = Vec::with_capacity(rank);
    for (i, d) in declared.iter().enumerate() {
        match d {
            Some(v) => shape.push(*v),
            None if rank >= 2 && (i == 0 || (rank == 2 && i == 1)) => shape.push(1),
            None => {
                let symbol = match shape_proto.dim.get(i).and_then(|d| d.value.as_ref()) {
                    Some(DimValue::DimParam(p)) => format!("symbolic `{p}`"),
                    Some(DimValue::DimValue(v)) => format!("{v}"),
                    None => "absent".to_string(),
                };
                return Err(OnnxError::Input(format!(
                    "input `{name}` has dimension {i} {symbol} in a rank-{rank} shape; only the batch \
                     dimension (dim 0, or the last dim of a rank-2 column input) may be unknown"
                )));
            }
        }
    }
    let size = checked_product(&shape).filter(|&n| n <= MAX_TENSOR_ELEMENTS);
    if size.is_none() {
        return Err(OnnxError::Input(format!(
            "input `{name}` of shape {declared:?} has more than {MAX_TENSOR_ELEMENTS} values"
        )));
    }
    let batch_like = declared.iter().any(Option::is_none)
        || rank < 2
        || shape[0] == 1
        || (rank == 2 && shape[1] == 1);
    let note = (!batch_like).then(|| {
        format!(
            "input `{name}` of shape {} has no batch dimension of size 1 or symbolic: the network takes the whole tensor ({} values)",
            fmt_shape(&shape),
            size.unwrap_or(0)
        )
    });
    Ok(GraphInput {
        name,
        declared,
        shape,
        note,
    })
}

fn lower(graph: &GraphProto) -> Result<LoadedModel, OnnxError> {
    let input = graph_input(graph)?;
    let n0 = checked_product(&input.shape).unwrap_or(0);
    let mut state = Lowering {
        initializers: graph
            .initializer
            .iter()
            .map(|t| (t.name().to_string(), t))
            .collect(),
        constants: HashMap::new(),
        act: input.name.clone(),
        shape: input.shape.clone(),
        pending: Some(Pending::Identity(n0)),
        pending_ops: Vec::new(),
        layers: Vec::new(),
        slopes: Vec::new(),
        folded: input.note.into_iter().collect(),
        consumed: HashMap::new(),
        secondary: HashMap::new(),
        last_relu: None,
        last_node: None,
    };
    for (index, node) in graph.node.iter().enumerate() {
        state.node(index, node)?;
    }
    let network = state.finish(graph)?;
    Ok(LoadedModel {
        network: network.0,
        format: ModelFormat::Onnx,
        input_name: Some(input.name),
        input_shape: input.declared,
        folded: network.1,
        assumptions: Vec::new(),
    })
}

/// What kind of map an op contributed to the pending layer (for the `folded` notes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Gemm, MatMul, Conv; `bias` when the op had its own bias.
    Linear {
        bias: bool,
    },
    Elementwise,
    BatchNorm,
}

struct FoldedOp {
    op: String,
    label: String,
    kind: Kind,
}

impl FoldedOp {
    fn describe(&self) -> String {
        format!("{} {}", self.op, self.label)
    }
}

/// The state of the walk along the chain.
struct Lowering<'g> {
    initializers: HashMap<String, &'g TensorProto>,
    /// Outputs of `Constant` nodes.
    constants: HashMap<String, Constant>,
    /// Name of the running activation.
    act: String,
    /// Its concrete shape.
    shape: Vec<usize>,
    /// The affine map since the last ReLU; `None` right after a ReLU.
    pending: Option<Pending>,
    pending_ops: Vec<FoldedOp>,
    layers: Vec<Affine>,
    /// The negative slopes of each activation pushed after a layer (empty for Relu).
    slopes: Vec<Vec<f64>>,
    folded: Vec<String>,
    /// Earlier activations, with the node that consumed each.
    consumed: HashMap<String, String>,
    /// Secondary outputs (Dropout masks, BatchNorm training outputs), which must be unused.
    secondary: HashMap<String, String>,
    last_relu: Option<String>,
    last_node: Option<NodeCtx>,
}

const KNOWN_OPS: &[&str] = &[
    "Gemm",
    "MatMul",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "BatchNormalization",
    "Conv",
    "AveragePool",
    "Relu",
    "LeakyRelu",
    "PRelu",
    "Flatten",
    "Reshape",
    "Squeeze",
    "Unsqueeze",
    "Identity",
    "Dropout",
];

/// Why a well-known op is not lowered, for the message.
fn unsupported_reason(op: &str) -> Option<&'static str> {
    Some(match op {
        "MaxPool" | "GlobalMaxPool" | "Max" | "Min" => {
            "a maximum is piecewise linear but not affine, and between two ReLUs only affine maps are lowered (max(a, b) = a + relu(b - a) would add neurons, and regions)"
        }
        "Sigmoid" | "Tanh" | "Softmax" | "LogSoftmax" | "Gelu" | "Elu" | "Selu" | "Softplus"
        | "HardSigmoid" | "Exp" | "Log" => {
            "not piecewise linear, so the network has no activation regions in this sense (a final Softmax can be removed: it does not change the argmax)"
        }
        _ => return None,
    })
}

impl Lowering<'_> {
    fn node(&mut self, index: usize, node: &NodeProto) -> Result<(), OnnxError> {
        let ctx = NodeCtx::new(node, index);
        self.last_node = Some(ctx.clone());
        let domain = node.domain();
        let op = node.op_type();
        if !(domain.is_empty() || domain == "ai.onnx") {
            return Err(OnnxError::UnsupportedOp {
                node: ctx.label,
                op: ctx.op,
                domain: format!(" in domain `{domain}`"),
            });
        }
        if op == "Constant" {
            return self.constant_node(&ctx, node);
        }
        if !KNOWN_OPS.contains(&op) {
            return Err(OnnxError::UnsupportedOp {
                node: ctx.label,
                op: ctx.op,
                domain: unsupported_reason(op).map_or(String::new(), |r| format!(": {r}")),
            });
        }
        let inputs = self.classify_inputs(&ctx, node)?;
        let output = match node.output.first() {
            Some(o) if !o.is_empty() => o.clone(),
            _ => return Err(ctx.chain("the node has no output")),
        };
        let lowered = match op {
            "Relu" => {
                inputs.act_at(&ctx, 0, "X")?;
                self.relu(&ctx, Vec::new())?;
                Lowered::Shape(self.shape.clone())
            }
            "LeakyRelu" | "PRelu" => {
                inputs.act_at(&ctx, 0, "X")?;
                let slopes = ops::elementwise::negative_slopes(&ctx, node, &inputs, &self.shape)?;
                self.relu(&ctx, slopes)?;
                Lowered::Shape(self.shape.clone())
            }
            "Identity" => {
                inputs.act_at(&ctx, 0, "input")?;
                Lowered::Shape(self.shape.clone())
            }
            "Dropout" => {
                let l = ops::shape::dropout(&ctx, &inputs, &self.shape)?;
                self.folded.push(format!(
                    "Dropout {} removed (the identity at inference)",
                    ctx.label
                ));
                l
            }
            "Flatten" => ops::shape::flatten(&ctx, node, &inputs, &self.shape)?,
            "Reshape" => ops::shape::reshape(&ctx, node, &inputs, &self.shape)?,
            "Squeeze" => ops::shape::squeeze(&ctx, node, &inputs, &self.shape)?,
            "Unsqueeze" => ops::shape::unsqueeze(&ctx, node, &inputs, &self.shape)?,
            "Add" | "Sub" | "Mul" | "Div" => {
                ops::elementwise::arithmetic(&ctx, &inputs, &self.shape)?
            }
            "BatchNormalization" => ops::elementwise::batch_norm(&ctx, node, &inputs, &self.shape)?,
            "Gemm" => ops::dense::gemm(&ctx, node, &inputs, &self.shape)?,
            "MatMul" => ops::dense::matmul(&ctx, &inputs, &self.shape)?,
            "Conv" => {
                let (l, note) = ops::conv::conv(&ctx, node, &inputs, &self.shape)?;
                self.folded.push(note);
                l
            }
            "AveragePool" => {
                let (l, note) = ops::conv::average_pool(&ctx, node, &inputs, &self.shape)?;
                self.folded.push(note);
                l
            }
            _ => return Err(ctx.internal("op listed as known but not dispatched")),
        };
        let kind = match op {
            "Gemm" | "Conv" => Kind::Linear {
                bias: inputs.optional(2).is_some(),
            },
            "MatMul" | "AveragePool" => Kind::Linear { bias: false },
            "BatchNormalization" => Kind::BatchNorm,
            _ => Kind::Elementwise,
        };
        let new_shape = match lowered {
            Lowered::Shape(shape) => shape,
            Lowered::Elementwise {
                scale,
                shift,
                shape,
            } => {
                let pending = self.take_pending();
                self.pending = Some(pending.then_elementwise(&ctx, scale, shift)?);
                self.record(&ctx, kind);
                shape
            }
            Lowered::Dense { map, shape } => {
                let pending = self.take_pending();
                self.pending = Some(pending.then_dense(&ctx, map)?);
                self.record(&ctx, kind);
                shape
            }
        };
        match checked_product(&new_shape) {
            Some(0) => {
                return Err(ctx.shape(format!(
                    "the result has an empty shape {}",
                    fmt_shape(&new_shape)
                )));
            }
            Some(n) if n <= MAX_TENSOR_ELEMENTS => {}
            _ => {
                return Err(ctx.too_large(
                    format!("the result of shape {new_shape:?}"),
                    new_shape
                        .iter()
                        .fold(1u128, |acc, &d| acc.saturating_mul(d as u128)),
                    "values",
                    MAX_TENSOR_ELEMENTS as u128,
                ));
            }
        }
        self.shape = new_shape;
        for extra in node.output.iter().skip(1).filter(|o| !o.is_empty()) {
            self.secondary.insert(extra.clone(), ctx.label.clone());
        }
        let previous = std::mem::replace(&mut self.act, output);
        self.consumed.insert(previous, ctx.label.clone());
        Ok(())
    }

    /// The pending map, or the identity on the current activation right after a ReLU.
    fn take_pending(&mut self) -> Pending {
        let n = checked_product(&self.shape).unwrap_or(0);
        self.pending.take().unwrap_or(Pending::Identity(n))
    }

    fn record(&mut self, ctx: &NodeCtx, kind: Kind) {
        self.pending_ops.push(FoldedOp {
            op: ctx.op.clone(),
            label: ctx.label.clone(),
            kind,
        });
    }

    /// Finds the running activation among the inputs and decodes the constant ones.
    fn classify_inputs(&self, ctx: &NodeCtx, node: &NodeProto) -> Result<NodeInputs, OnnxError> {
        let mut act = Vec::new();
        let mut consts = Vec::with_capacity(node.input.len());
        for (pos, name) in node.input.iter().enumerate() {
            if name.is_empty() {
                consts.push(None);
            } else if *name == self.act {
                act.push(pos);
                consts.push(None);
            } else if let Some(c) = self.constants.get(name) {
                consts.push(Some(c.clone()));
            } else if let Some(t) = self.initializers.get(name) {
                consts.push(Some(
                    decode_tensor(t, name).map_err(|e| e.into_error(ctx, name))?,
                ));
            } else if let Some(by) = self.consumed.get(name) {
                return Err(ctx.chain(format!(
                    "it reads `{name}`, an earlier activation already consumed by node {by} \
                     (the graph branches; the running activation is `{}`)",
                    self.act
                )));
            } else if let Some(by) = self.secondary.get(name) {
                return Err(ctx.chain(format!(
                    "it reads `{name}`, a secondary output of node {by}; only the first output of a node may be used"
                )));
            } else {
                return Err(OnnxError::MissingInitializer {
                    node: ctx.label.clone(),
                    op: ctx.op.clone(),
                    input: name.clone(),
                });
            }
        }
        match act.as_slice() {
            [one] => Ok(NodeInputs { act: *one, consts }),
            [] => Err(ctx.chain(format!(
                "it does not consume the running activation `{}` (its inputs: {:?})",
                self.act, node.input
            ))),
            _ => Err(ctx.chain(format!(
                "it uses the running activation `{}` more than once",
                self.act
            ))),
        }
    }

    fn constant_node(&mut self, ctx: &NodeCtx, node: &NodeProto) -> Result<(), OnnxError> {
        if node.input.iter().any(|i| !i.is_empty()) {
            return Err(ctx.chain(format!(
                "a Constant node takes no inputs, found {:?}",
                node.input
            )));
        }
        let output = match node.output.first() {
            Some(o) if !o.is_empty() => o,
            _ => return Err(ctx.chain("the node has no output")),
        };
        let value = constant_node_value(ctx, node, output)?;
        self.constants.insert(output.clone(), value);
        Ok(())
    }

    /// `Relu`: the pending map becomes a layer; nothing pending means a second ReLU.
    /// An activation: `slopes` are its negative slopes per element (empty for Relu).
    fn relu(&mut self, ctx: &NodeCtx, slopes: Vec<f64>) -> Result<(), OnnxError> {
        match self.pending.take() {
            Some(p) => {
                self.layers.push(p.into_affine(ctx)?);
                self.slopes.push(slopes);
                self.note_layer(Some(ctx));
            }
            None => {
                // σ_b(σ_a(z)) = σ_{ab}(z) for slopes in [0, 1]: the slopes multiply (a Relu
                // after a Relu is a no-op, and after or before a leaky one gives a Relu).
                let previous = self.last_relu.as_deref().unwrap_or("?");
                let last = self.slopes.last_mut();
                let note = match last {
                    Some(old) if !old.is_empty() && !slopes.is_empty() => {
                        old.iter_mut().zip(&slopes).for_each(|(a, b)| *a *= b);
                        "the negative slopes multiply"
                    }
                    Some(old) if !old.is_empty() => {
                        old.clear();
                        "together a Relu"
                    }
                    _ if slopes.is_empty() => "a no-op",
                    _ => "a no-op (its input is nonnegative)",
                };
                self.folded.push(format!(
                    "{} {} directly after the activation {previous}: {note}",
                    ctx.op, ctx.label
                ));
            }
        }
        self.last_relu = Some(ctx.label.clone());
        Ok(())
    }

    /// Notes on what the layer just pushed was made of.
    fn note_layer(&mut self, relu: Option<&NodeCtx>) {
        let l = self.layers.len();
        let ops = std::mem::take(&mut self.pending_ops);
        let first_linear = ops
            .iter()
            .position(|o| matches!(o.kind, Kind::Linear { .. }));
        let lead_end = first_linear.unwrap_or(ops.len());
        let leading: Vec<String> = ops[..lead_end]
            .iter()
            .filter(|o| o.kind == Kind::Elementwise)
            .map(FoldedOp::describe)
            .collect();
        if !leading.is_empty() {
            let why = if l == 1 { " (input normalisation)" } else { "" };
            self.folded
                .push(format!("{} folded into layer {l}{why}", leading.join(", ")));
        }
        for (i, o) in ops.iter().enumerate() {
            let note = match o.kind {
                Kind::BatchNorm => true,
                Kind::Elementwise if i > lead_end => {
                    // An Add right after a bias-less MatMul/Gemm/Conv is its bias.
                    let is_bias = o.op == "Add"
                        && matches!(
                            ops.get(i - 1).map(|p| p.kind),
                            Some(Kind::Linear { bias: false })
                        );
                    !is_bias
                }
                _ => false,
            };
            if note {
                self.folded
                    .push(format!("{} folded into layer {l}", o.describe()));
            }
        }
        let linear: Vec<String> = ops
            .iter()
            .filter(|o| matches!(o.kind, Kind::Linear { .. }))
            .map(FoldedOp::describe)
            .collect();
        if linear.len() >= 2 {
            let (last, rest) = linear
                .split_last()
                .map_or((String::new(), &[][..]), |(a, b)| (a.clone(), b));
            self.folded.push(format!(
                "{} and {last} composed into layer {l} (no ReLU between them)",
                rest.join(", ")
            ));
        }
        if linear.is_empty() {
            let what = if ops.is_empty() {
                "the identity"
            } else {
                "elementwise only"
            };
            let context = match relu {
                Some(r) => format!("no Gemm, MatMul or Conv before Relu {}", r.label),
                None if l == 1 => "the graph has no Gemm, MatMul or Conv".to_string(),
                None => "no Gemm, MatMul or Conv after the last Relu".to_string(),
            };
            self.folded.push(format!("layer {l} is {what} ({context})"));
        }
    }

    fn finish(mut self, graph: &GraphProto) -> Result<(Network, Vec<String>), OnnxError> {
        let output_relu = self.pending.is_none();
        if let Some(p) = self.pending.take() {
            let ctx = self.last_node.clone().unwrap_or(NodeCtx {
                label: "(none)".to_string(),
                op: "graph".to_string(),
            });
            self.layers.push(p.into_affine(&ctx)?);
            self.note_layer(None);
        }
        match graph.output.as_slice() {
            [one] if one.name() == self.act => {}
            [one] => {
                let source = match &self.last_node {
                    Some(n) => format!("the output of the last node {} ({})", n.label, n.op),
                    None => "the graph input (there are no nodes)".to_string(),
                };
                return Err(OnnxError::Output(format!(
                    "the graph output is `{}` but the chain ends at `{}`, {source}; \
                     a node after the output, or an output taken from the middle, is not a chain",
                    one.name(),
                    self.act
                )));
            }
            outputs => {
                let names: Vec<String> =
                    outputs.iter().map(|v| format!("`{}`", v.name())).collect();
                return Err(OnnxError::Output(format!(
                    "the graph has {} outputs ({}); a chain has exactly one",
                    outputs.len(),
                    names.join(", ")
                )));
            }
        }
        let mut slopes = self.slopes;
        slopes.truncate(if output_relu {
            self.layers.len()
        } else {
            self.layers.len() - 1
        });
        let network = Network::new(self.layers, output_relu)?.with_negative_slopes(slopes)?;
        Ok((network, self.folded))
    }
}
