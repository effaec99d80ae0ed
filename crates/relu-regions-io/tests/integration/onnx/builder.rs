//! A tiny ONNX model builder for tests: nodes, attributes, tensors (raw and typed), and a
//! one-input one-output graph encoded to bytes with prost. Plus a seeded PRNG.

#![allow(dead_code)]

use prost::Message;
use relu_regions_io::onnx::proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto, attribute_proto::AttributeType,
    tensor_shape_proto, type_proto,
};

pub const FLOAT: i32 = 1;
pub const INT32: i32 = 6;
pub const INT64: i32 = 7;
pub const DOUBLE: i32 = 11;

/// A FLOAT tensor stored in `raw_data` (little-endian).
pub fn tensor_f32(name: &str, dims: &[i64], data: &[f32]) -> TensorProto {
    TensorProto {
        name: Some(name.to_string()),
        dims: dims.to_vec(),
        data_type: Some(FLOAT),
        raw_data: Some(data.iter().flat_map(|v| v.to_le_bytes()).collect()),
        ..Default::default()
    }
}

/// A FLOAT tensor stored in the typed `float_data` field.
pub fn tensor_f32_typed(name: &str, dims: &[i64], data: &[f32]) -> TensorProto {
    TensorProto {
        name: Some(name.to_string()),
        dims: dims.to_vec(),
        data_type: Some(FLOAT),
        float_data: data.to_vec(),
        ..Default::default()
    }
}

/// A DOUBLE tensor stored in `raw_data`.
pub fn tensor_f64(name: &str, dims: &[i64], data: &[f64]) -> TensorProto {
    TensorProto {
        name: Some(name.to_string()),
        dims: dims.to_vec(),
        data_type: Some(DOUBLE),
        raw_data: Some(data.iter().flat_map(|v| v.to_le_bytes()).collect()),
        ..Default::default()
    }
}

/// A DOUBLE tensor stored in the typed `double_data` field.
pub fn tensor_f64_typed(name: &str, dims: &[i64], data: &[f64]) -> TensorProto {
    TensorProto {
        name: Some(name.to_string()),
        dims: dims.to_vec(),
        data_type: Some(DOUBLE),
        double_data: data.to_vec(),
        ..Default::default()
    }
}

/// An INT64 tensor in the typed `int64_data` field.
pub fn tensor_i64(name: &str, dims: &[i64], data: &[i64]) -> TensorProto {
    TensorProto {
        name: Some(name.to_string()),
        dims: dims.to_vec(),
        data_type: Some(INT64),
        int64_data: data.to_vec(),
        ..Default::default()
    }
}

/// An INT64 tensor in `raw_data`.
pub fn tensor_i64_raw(name: &str, dims: &[i64], data: &[i64]) -> TensorProto {
    TensorProto {
        name: Some(name.to_string()),
        dims: dims.to_vec(),
        data_type: Some(INT64),
        raw_data: Some(data.iter().flat_map(|v| v.to_le_bytes()).collect()),
        ..Default::default()
    }
}

/// An INT32 tensor in the typed `int32_data` field.
pub fn tensor_i32(name: &str, dims: &[i64], data: &[i32]) -> TensorProto {
    TensorProto {
        name: Some(name.to_string()),
        dims: dims.to_vec(),
        data_type: Some(INT32),
        int32_data: data.to_vec(),
        ..Default::default()
    }
}

/// An attribute value.
#[allow(clippy::large_enum_variant)]
pub enum Attr {
    I(i64),
    F(f32),
    Ints(Vec<i64>),
    Floats(Vec<f32>),
    S(&'static str),
    T(TensorProto),
}

pub fn attribute(name: &str, value: Attr) -> AttributeProto {
    let mut a = AttributeProto {
        name: Some(name.to_string()),
        ..Default::default()
    };
    match value {
        Attr::I(v) => {
            a.i = Some(v);
            a.set_type(AttributeType::Int);
        }
        Attr::F(v) => {
            a.f = Some(v);
            a.set_type(AttributeType::Float);
        }
        Attr::Ints(v) => {
            a.ints = v;
            a.set_type(AttributeType::Ints);
        }
        Attr::Floats(v) => {
            a.floats = v;
            a.set_type(AttributeType::Floats);
        }
        Attr::S(v) => {
            a.s = Some(v.as_bytes().to_vec());
            a.set_type(AttributeType::String);
        }
        Attr::T(t) => {
            a.t = Some(t);
            a.set_type(AttributeType::Tensor);
        }
    }
    a
}

/// A node; `name` may be empty (unnamed node).
pub fn node(
    op: &str,
    name: &str,
    inputs: &[&str],
    outputs: &[&str],
    attrs: Vec<(&str, Attr)>,
) -> NodeProto {
    NodeProto {
        op_type: Some(op.to_string()),
        name: if name.is_empty() {
            None
        } else {
            Some(name.to_string())
        },
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        attribute: attrs.into_iter().map(|(n, v)| attribute(n, v)).collect(),
        ..Default::default()
    }
}

/// A dimension of a declared shape.
#[derive(Clone, Copy)]
pub enum Dim {
    N(i64),
    Sym(&'static str),
}

pub fn value_info(name: &str, dims: &[Dim]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| tensor_shape_proto::Dimension {
            value: Some(match d {
                Dim::N(v) => tensor_shape_proto::dimension::Value::DimValue(*v),
                Dim::Sym(s) => tensor_shape_proto::dimension::Value::DimParam(s.to_string()),
            }),
            ..Default::default()
        })
        .collect();
    ValueInfoProto {
        name: Some(name.to_string()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(FLOAT),
                shape: Some(TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Fixed dims shorthand.
pub fn dims(d: &[i64]) -> Vec<Dim> {
    d.iter().map(|&v| Dim::N(v)).collect()
}

pub fn model_proto(
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    inputs: Vec<ValueInfoProto>,
    outputs: &[&str],
) -> ModelProto {
    ModelProto {
        ir_version: Some(8),
        opset_import: vec![OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(13),
        }],
        producer_name: Some("relu-regions tests".to_string()),
        graph: Some(GraphProto {
            name: Some("test".to_string()),
            node: nodes,
            initializer: initializers,
            input: inputs,
            output: outputs
                .iter()
                .map(|o| ValueInfoProto {
                    name: Some(o.to_string()),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A model with one declared input `x` and one output.
pub fn model(
    input_dims: &[Dim],
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    output: &str,
) -> Vec<u8> {
    model_proto(
        nodes,
        initializers,
        vec![value_info("x", input_dims)],
        &[output],
    )
    .encode_to_vec()
}

/// `y = x W^T` (Gemm `fc1`, transB) on an input `x` of shape `input`, with the given
/// tensor as `W`.
pub fn gemm_of(input: &[i64], w: TensorProto) -> Vec<u8> {
    model(
        &dims(input),
        vec![node(
            "Gemm",
            "fc1",
            &["x", "W"],
            &["y"],
            vec![("transB", Attr::I(1))],
        )],
        vec![w],
        "y",
    )
}

/// SplitMix64: a small seeded generator, enough for test data.
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// `n` f32 values in [-1, 1).
    pub fn f32s(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.uniform() as f32).collect()
    }

    /// `n` f64 values in [-1, 1).
    pub fn f64s(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.uniform()).collect()
    }
}

/// f32 values widened, as the loader reads them.
pub fn wide(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| f64::from(x)).collect()
}
