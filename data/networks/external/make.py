"""Writes the ONNX models with external data that the loader's tests read.

Run from this folder: python3 make.py (needs numpy, onnx and onnxruntime). It writes

- mlp_one_file.onnx + mlp_one_file.onnx.data: a 4-8-8-3 MLP (MatMul + Add + Relu, the
  weights of PyTorch's Linear as initializers) saved the way torch's default (dynamo)
  ONNX exporter saves a model: every initializer in one file named after the model,
  `model.onnx.data`, with offsets and lengths;
- per_tensor/mlp.onnx + one file per tensor beside it (onnx's
  all_tensors_to_one_file=False), including a Constant node's value
  (convert_attribute=True);
- MODEL.reference.jsonl beside each model: onnxruntime's outputs at a few inputs, one
  JSON object per line ({"input": [...], "output": [...]}), equal for both models.

The weights are drawn from a fixed seed; the files are small (about 1 KB of weights).
"""

import json
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(20261130)
widths = [4, 8, 8, 3]


def layers():
    out = []
    for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
        bound = 1.0 / np.sqrt(n_in)
        w = rng.uniform(-bound, bound, size=(n_in, n_out)).astype(np.float32)
        b = rng.uniform(-bound, bound, size=(n_out,)).astype(np.float32)
        out.append((w, b))
    return out


def graph(params, constant_bias: bool):
    nodes, inits = [], []
    x = "input"
    for i, (w, b) in enumerate(params):
        inits.append(numpy_helper.from_array(w, f"layer{i}.weight_t"))
        if constant_bias and i == len(params) - 1:
            nodes.append(
                helper.make_node(
                    "Constant",
                    [],
                    [f"layer{i}.bias"],
                    value=numpy_helper.from_array(b, f"layer{i}.bias_value"),
                )
            )
        else:
            inits.append(numpy_helper.from_array(b, f"layer{i}.bias"))
        nodes.append(helper.make_node("MatMul", [x, f"layer{i}.weight_t"], [f"mm{i}"]))
        nodes.append(helper.make_node("Add", [f"mm{i}", f"layer{i}.bias"], [f"z{i}"]))
        x = f"z{i}"
        if i + 1 < len(params):
            nodes.append(helper.make_node("Relu", [x], [f"h{i}"]))
            x = f"h{i}"
    g = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, widths[0]])],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, widths[-1]])],
        inits,
    )
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


params = layers()
for f in os.listdir("."):
    if f.startswith("mlp"):
        os.remove(f)
if os.path.isdir("per_tensor"):
    for f in os.listdir("per_tensor"):
        os.remove(os.path.join("per_tensor", f))
else:
    os.mkdir("per_tensor")
one = graph(params, constant_bias=False)
onnx.save_model(
    one,
    "mlp_one_file.onnx",
    save_as_external_data=True,
    all_tensors_to_one_file=True,
    location="mlp_one_file.onnx.data",
    size_threshold=0,
)
per = graph(params, constant_bias=True)
onnx.save_model(
    per,
    "per_tensor/mlp.onnx",
    save_as_external_data=True,
    all_tensors_to_one_file=False,
    size_threshold=0,
    convert_attribute=True,
)
inputs = rng.uniform(-1.0, 1.0, size=(6, widths[0])).astype(np.float32)
lines = []
outputs = {}
for name in ["mlp_one_file.onnx", "per_tensor/mlp.onnx"]:
    sess = ort.InferenceSession(name, providers=["CPUExecutionProvider"])
    outputs[name] = [sess.run(None, {"input": x[None, :]})[0][0] for x in inputs]
for a, b in zip(outputs["mlp_one_file.onnx"], outputs["per_tensor/mlp.onnx"]):
    assert np.array_equal(a, b)
for name, ys in outputs.items():
    with open(name + ".reference.jsonl", "w") as f:
        for x, y in zip(inputs, ys):
            point = {"input": [float(v) for v in x], "output": [float(v) for v in y]}
            f.write(json.dumps(point) + "\n")
print(sorted(os.listdir(".")), sorted(os.listdir("per_tensor")))
