"""Writes small leaky-ReLU networks that the loader's tests check against onnxruntime.

Run from this folder: python3 make.py (needs numpy, torch, onnx, onnxscript and
onnxruntime). Beside each MODEL.onnx, MODEL.onnx.reference.jsonl holds onnxruntime's
outputs at six inputs ({"input", "output"} per line, the input flattened in row-major
order).

- leaky_mlp_torch: nn.Sequential(Linear(4, 16), LeakyReLU(0.1), Linear(16, 16),
  PReLU(16), Linear(16, 3)), exported by torch.onnx.export with the installed torch's
  default exporter (the dynamo exporter in torch 2.15);
- leaky_cnn_torch: nn.Sequential(Conv2d(1, 3, 3), PReLU(3) (one slope per channel),
  Flatten, Linear(48, 2)) on 1x6x6 images, the same way;
- leaky_chain: by onnx.helper: Gemm -> LeakyRelu(0.2) -> Relu -> Gemm -> LeakyRelu
  (default alpha 0.01) -> LeakyRelu(0.5) -> Gemm -> PRelu(scalar 0.3) on the output;
- leaky_2d: Gemm 2 -> 16 -> 16 -> 1 with LeakyRelu(0.05) between, for the commands'
  tests in the plane.
"""

import json

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import TensorProto, helper, numpy_helper

SEED = 20261130
torch.manual_seed(SEED)
rng = np.random.default_rng(SEED)


def export(module, shape):
    module.eval()
    example = torch.zeros((1, *shape), dtype=torch.float32)
    with torch.no_grad():
        program = torch.onnx.export(module, (example,))
    return program.model_proto


def gemm_chain(name, widths, acts, output_act=None):
    """Gemm layers of the given widths; acts[l] is a list of (op, attrs, slope) after layer l."""
    nodes, inits = [], []
    current = "input"
    for l in range(len(widths) - 1):
        w = (rng.normal(size=(widths[l + 1], widths[l])) / np.sqrt(widths[l])).astype(np.float32)
        b = (rng.normal(size=(widths[l + 1],)) * 0.3).astype(np.float32)
        inits += [numpy_helper.from_array(w, f"w{l}"), numpy_helper.from_array(b, f"b{l}")]
        z = f"z{l}"
        nodes.append(helper.make_node("Gemm", [current, f"w{l}", f"b{l}"], [z], transB=1))
        current = z
        steps = acts[l] if l < len(acts) else (output_act or [])
        for k, (op, attrs, slope) in enumerate(steps):
            out = f"a{l}_{k}"
            ins = [current]
            if slope is not None:
                sname = f"slope{l}_{k}"
                inits.append(numpy_helper.from_array(np.asarray(slope, dtype=np.float32), sname))
                ins.append(sname)
            nodes.append(helper.make_node(op, ins, [out], **attrs))
            current = out
    nodes.append(helper.make_node("Identity", [current], ["output"]))
    g = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, widths[0]])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, widths[-1]])],
        inits,
    )
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


mlp = torch.nn.Sequential(
    torch.nn.Linear(4, 16),
    torch.nn.LeakyReLU(0.1),
    torch.nn.Linear(16, 16),
    torch.nn.PReLU(16),
    torch.nn.Linear(16, 3),
)
with torch.no_grad():
    mlp[3].weight.uniform_(0.0, 0.5)
cnn = torch.nn.Sequential(
    torch.nn.Conv2d(1, 3, 3),
    torch.nn.PReLU(3),
    torch.nn.Flatten(),
    torch.nn.Linear(48, 2),
)
with torch.no_grad():
    cnn[1].weight.copy_(torch.tensor([0.05, 0.3, 0.9]))

MODELS = {
    "leaky_mlp_torch": (export(mlp, (4,)), (1, 4)),
    "leaky_cnn_torch": (export(cnn, (1, 6, 6)), (1, 1, 6, 6)),
    "leaky_chain": (
        gemm_chain(
            "leaky_chain",
            [3, 8, 8, 2],
            [
                [("LeakyRelu", {"alpha": 0.2}, None), ("Relu", {}, None)],
                [("LeakyRelu", {}, None), ("LeakyRelu", {"alpha": 0.5}, None)],
            ],
            output_act=[("PRelu", {}, [0.3])],
        ),
        (1, 3),
    ),
    "leaky_2d": (
        gemm_chain(
            "leaky_2d",
            [2, 16, 16, 1],
            [[("LeakyRelu", {"alpha": 0.05}, None)], [("LeakyRelu", {"alpha": 0.05}, None)]],
        ),
        (1, 2),
    ),
}

for name, (m, shape) in MODELS.items():
    path = name + ".onnx"
    onnx.save_model(m, path)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    input_name = sess.get_inputs()[0].name
    with open(path + ".reference.jsonl", "w") as f:
        for _ in range(6):
            x = rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)
            y = sess.run(None, {input_name: x})[0][0]
            point = {"input": [float(v) for v in x.ravel()], "output": [float(v) for v in np.ravel(y)]}
            f.write(json.dumps(point) + "\n")
    print(path, [n.op_type for n in m.graph.node])
