"""Writes small CNNs with AveragePool that the ONNX loader's tests check against onnxruntime.

Run from this folder: python3 make.py (needs numpy, onnx and onnxruntime). Each model is
Conv(1 -> 2 channels, 3x3, pads 1) -> Relu -> AveragePool(variant) -> Relu -> Flatten ->
Gemm(-> 3) on a 1x1x6x6 input, with random weights from a fixed seed; beside each,
MODEL.reference.jsonl holds onnxruntime's outputs at six inputs ({"input", "output"} per
line, the input flattened in row-major order).
"""

import json

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

VARIANTS = {
    "avgpool_k2_s2": dict(kernel_shape=[2, 2], strides=[2, 2]),
    "avgpool_k3_pad1_exclude": dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
    "avgpool_k3_s2_pad1_include": dict(
        kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1
    ),
    "avgpool_k2_same_upper": dict(kernel_shape=[2, 2], auto_pad="SAME_UPPER"),
    "avgpool_k2_dilated": dict(kernel_shape=[2, 2], dilations=[2, 2]),
}


def model(name, attrs, rng):
    conv_w = rng.normal(size=(2, 1, 3, 3)).astype(np.float32)
    conv_b = rng.normal(size=(2,)).astype(np.float32)
    x = rng.normal(size=(1, 1, 6, 6)).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["input", "conv_w", "conv_b"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("AveragePool", ["r"], ["p"], **attrs),
        helper.make_node("Relu", ["p"], ["q"]),
        helper.make_node("Flatten", ["q"], ["f"]),
    ]
    # The pooled size, from a run of the model without its head.
    probe = helper.make_graph(
        nodes,
        "probe",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 6, 6])],
        [helper.make_tensor_value_info("f", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(conv_w, "conv_w"), numpy_helper.from_array(conv_b, "conv_b")],
    )
    m = helper.make_model(probe, opset_imports=[helper.make_opsetid("", 19)])
    m.ir_version = 9
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    width = sess.run(None, {"input": x})[0].shape[1]
    fc_w = rng.normal(size=(3, width)).astype(np.float32)
    fc_b = rng.normal(size=(3,)).astype(np.float32)
    nodes.append(helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["output"], transB=1))
    g = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 6, 6])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3])],
        [
            numpy_helper.from_array(conv_w, "conv_w"),
            numpy_helper.from_array(conv_b, "conv_b"),
            numpy_helper.from_array(fc_w, "fc_w"),
            numpy_helper.from_array(fc_b, "fc_b"),
        ],
    )
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 19)])
    m.ir_version = 9
    onnx.checker.check_model(m)
    return m


rng = np.random.default_rng(20261130)
for name, attrs in VARIANTS.items():
    m = model(name, attrs, rng)
    path = name + ".onnx"
    onnx.save_model(m, path)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    with open(path + ".reference.jsonl", "w") as f:
        for _ in range(6):
            x = rng.uniform(-1.0, 1.0, size=(1, 1, 6, 6)).astype(np.float32)
            y = sess.run(None, {"input": x})[0][0]
            point = {"input": [float(v) for v in x.ravel()], "output": [float(v) for v in y]}
            f.write(json.dumps(point) + "\n")
    print(path, sess.run(None, {"input": x})[0].shape)
