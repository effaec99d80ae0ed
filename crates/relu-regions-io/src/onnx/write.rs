//! Writing a [`Network`] as ONNX: a chain of `Gemm(transB = 1)` nodes with `Relu` (or, for a
//! leaky layer, `PRelu` with its slopes) between
//! them (and after the last when the network has an output ReLU), float32 weights, input
//! `input` of shape `[batch, input_dim]` and output `output` of shape
//! `[batch, output_dim]`, opset 13. The layout of a PyTorch `nn.Sequential` export, so
//! onnxruntime and PyTorch-based tools read it directly.

use prost::Message;
use relu_regions::Network;

use super::proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto, attribute_proto::AttributeType,
    tensor_shape_proto, type_proto,
};

const FLOAT: i32 = 1;

fn tensor(name: &str, dims: &[i64], data: impl Iterator<Item = f64>) -> TensorProto {
    TensorProto {
        name: Some(name.to_string()),
        dims: dims.to_vec(),
        data_type: Some(FLOAT),
        raw_data: Some(data.flat_map(|v| (v as f32).to_le_bytes()).collect()),
        ..Default::default()
    }
}

fn value_info(name: &str, width: usize) -> ValueInfoProto {
    let dim = vec![
        tensor_shape_proto::Dimension {
            value: Some(tensor_shape_proto::dimension::Value::DimParam(
                "batch".into(),
            )),
            ..Default::default()
        },
        tensor_shape_proto::Dimension {
            value: Some(tensor_shape_proto::dimension::Value::DimValue(width as i64)),
            ..Default::default()
        },
    ];
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

fn node(
    op: &str,
    name: String,
    inputs: Vec<String>,
    output: String,
    attribute: Vec<AttributeProto>,
) -> NodeProto {
    NodeProto {
        op_type: Some(op.to_string()),
        name: Some(name),
        input: inputs,
        output: vec![output],
        attribute,
        ..Default::default()
    }
}

/// The network as ONNX bytes (weights rounded to float32).
pub fn write_onnx(net: &Network) -> Vec<u8> {
    let layers = net.layers();
    let mut nodes = Vec::new();
    let mut initializers = Vec::new();
    let mut current = "input".to_string();
    for (l, layer) in layers.iter().enumerate() {
        let w = layer.weight();
        let (rows, cols) = (w.nrows(), w.ncols());
        let (wn, bn) = (format!("{l}.weight"), format!("{l}.bias"));
        initializers.push(tensor(
            &wn,
            &[rows as i64, cols as i64],
            (0..rows).flat_map(|i| (0..cols).map(move |j| w[(i, j)])),
        ));
        initializers.push(tensor(&bn, &[rows as i64], layer.bias().iter().copied()));
        let relu = l + 1 < layers.len() || net.output_relu();
        let last = l + 1 == layers.len();
        let z = if last && !relu {
            "output".to_string()
        } else {
            format!("z{l}")
        };
        let mut trans_b = AttributeProto {
            name: Some("transB".into()),
            i: Some(1),
            ..Default::default()
        };
        trans_b.set_type(AttributeType::Int);
        nodes.push(node(
            "Gemm",
            format!("gemm{l}"),
            vec![current, wn, bn],
            z.clone(),
            vec![trans_b],
        ));
        current = z;
        if relu {
            let h = if last {
                "output".to_string()
            } else {
                format!("h{l}")
            };
            match net.negative_slopes(l) {
                None => nodes.push(node(
                    "Relu",
                    format!("relu{l}"),
                    vec![current],
                    h.clone(),
                    Vec::new(),
                )),
                Some(alpha) => {
                    // A leaky layer: PRelu with its per-neuron slopes (broadcast over the
                    // batch dimension).
                    let sn = format!("{l}.slope");
                    initializers.push(tensor(&sn, &[alpha.len() as i64], alpha.iter().copied()));
                    nodes.push(node(
                        "PRelu",
                        format!("prelu{l}"),
                        vec![current, sn],
                        h.clone(),
                        Vec::new(),
                    ));
                }
            }
            current = h;
        }
    }
    let model = ModelProto {
        ir_version: Some(8),
        opset_import: vec![OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(13),
        }],
        producer_name: Some("relu-regions".into()),
        producer_version: Some(env!("CARGO_PKG_VERSION").into()),
        graph: Some(GraphProto {
            name: Some("relu_mlp".into()),
            node: nodes,
            initializer: initializers,
            input: vec![value_info("input", net.input_dim())],
            output: vec![value_info("output", net.output_dim())],
            ..Default::default()
        }),
        ..Default::default()
    };
    model.encode_to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use relu_regions::Affine;

    #[test]
    fn round_trip_through_the_loader() {
        for output_relu in [false, true] {
            let net = Network::new(
                vec![
                    Affine::from_row_major(
                        3,
                        2,
                        &[0.5, -1.0, 0.25, 2.0, -0.75, 1.5],
                        vec![0.1, -0.2, 0.3],
                    )
                    .unwrap(),
                    Affine::from_row_major(
                        2,
                        3,
                        &[1.0, -2.0, 0.5, 0.25, 0.125, -1.0],
                        vec![0.0, 0.5],
                    )
                    .unwrap(),
                ],
                output_relu,
            )
            .unwrap();
            let loaded = super::super::load_onnx(&write_onnx(&net)).unwrap();
            assert_eq!(loaded.network.layer_widths(), net.layer_widths());
            assert_eq!(loaded.network.output_relu(), output_relu);
            for x in [[0.3, -0.7], [1.0, 2.0], [-1.5, 0.25]] {
                // Float32 storage: equal up to float32 rounding.
                let (a, b) = (
                    loaded.network.forward(&x).unwrap(),
                    net.forward(&x).unwrap(),
                );
                for (p, q) in a.iter().zip(&b) {
                    assert!((p - q).abs() <= 1e-6 * (1.0 + q.abs()), "{p} vs {q}");
                }
            }
        }
    }
}
