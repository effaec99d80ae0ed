"""relu-regions `count` beside nnenum on MNIST-sized L-inf balls, with an independent check.

For each network and MNIST test image this script picks a radius by walking a ladder of
L-inf radii upward with `relu-regions count` (120 s time limit per step), then on the
chosen ball it

1. runs `relu-regions count` on one thread (RAYON_NUM_THREADS=1) and measures the child
   process's CPU time (user + sys, from resource.getrusage(RUSAGE_CHILDREN) deltas) and
   wall time;
2. reruns it with `--regions-out` and checks every region it wrote with a float64 numpy
   forward pass of the ONNX weights (read with the `onnx` package, independently of
   relu-regions): the interior point lies in the L-inf ball, no ReLU pre-activation is
   zero there (nor changes sign when recomputed in x87 extended precision), the sign pattern (`1` = pre-activation > 0, `0` = < 0, one character per
   ReLU in graph order, the ERAN net's ReLU on the logits included) equals the pattern
   written, the patterns are pairwise distinct, and there are exactly `regions` of them;
   (The ERAN net's 10 output ReLUs are part of the region's pattern in relu-regions, and
   nnenum's ONNX loader splits on every Relu node, that one included, so both count
   regions of all 1,610 ReLUs.)
3. runs `relu-regions bound` for the proven upper bound (`local_bound_log2`);
4. runs nnenum (exact settings, one process, zonotope contraction off as in 784-D) on the
   same box in a subprocess with OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 and one-thread
   onnxruntime sessions (nnenum evaluates its linear layers with onnxruntime, whose
   default thread pool ignores those variables), timing `enumerate_network` with
   time.process_time() inside that subprocess;
5. writes one JSON line per (network, image) to --out and prints a markdown table to
   stdout (progress goes to stderr). The counts must be identical; a count mismatch, a
   failed check or a failed run makes the script exit with status 1 after printing
   everything.

Inputs are pixels/255 (the CLI gets `--scale 0.00392156862745098`, and the check and
nnenum use the same float64 product), the box is centre +- radius with NO clipping to
[0, 1], radii are in input units (pixel/255). nnenum receives the box as float32, as in
the reference driver (../shared/tools/nnenum_count.py).

Radius ladders (L-inf, input units):
    mnist-net_256x2        0.005, 0.01, 0.015, 0.02, 0.03
    mnist-net_256x4, x6    0.001, 0.0015, 0.002, 0.003
    mnist_relu_9_200       0.0005, 0.001, 0.0015, 0.002
The ladder stops at the first step that is incomplete (time limit hit), fails, or has
more than MAX_CASE_REGIONS = 2000 regions. The chosen radius is the largest complete step
with at most 2000 regions; if the smallest radius already has more, the smallest is used
(when complete). Every ladder step is recorded; nnenum runs only on the chosen radius.
Images 10 and above were used for tuning the solver; images 0-9 are the acceptance set.

Table columns: ms/region = CPU milliseconds per region (relu-regions: the whole `count`
process; nnenum: `enumerate_network` only); ratio = nnenum CPU / relu-regions CPU (> 1:
relu-regions is faster).

Usage (from the repository root):

    python3 crates/relu-regions-cli/examples/highdim_vs_nnenum.py \
        [--bin PATH] [--nnenum-src DIR] [--shared DIR] [--images 0-4] \
        [--out results.jsonl] [--nnenum-cache FILE] [--nnenum-timeout 300] [--skip-nnenum] \
        [--nets mnist-net_256x2,...]

    --bin             relu-regions binary (a release build; default target/release/relu-regions of this
                      repository: `cargo build --release -p relu-regions-cli`)
    --nnenum-src      nnenum's `src` folder (default /tmp/nnenum/src)
    --shared          the shared networks folder (default ../shared/networks next to the repository)
    --images          MNIST test rows (0-99), e.g. `0-4` or `0,3,7-9` (default 0-4)
    --out             JSON-lines results file (default highdim_results.jsonl)
    --nnenum-cache    JSON file of nnenum results keyed by "net,image,radius" (default
                      nnenum_cache.json); cached cases are not rerun, so rerunning the
                      relu-regions side is cheap
    --nnenum-timeout  nnenum's own time limit in seconds (default 300)
    --skip-nnenum     do not run nnenum (cached results are still shown)
    --nets            comma-separated subset of the network names above (default: all four)

The script calls itself with the single argument `--nnenum-worker` to run nnenum in the
subprocess (a JSON request on stdin, a JSON line on stdout).

Getting nnenum (Bak et al., CAV 2020):

    git clone https://github.com/stanleybak/nnenum /tmp/nnenum
    git -C /tmp/nnenum checkout b18238f
    python3.11 -m pip install numpy scipy "onnx<1.17" onnxruntime skl2onnx swiglpk \
        termcolor threadpoolctl

(skl2onnx is imported by nnenum's ONNX loader.) This script itself needs only numpy and
onnx in the parent process; nnenum is imported from --nnenum-src in the subprocess.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

REPO_ROOT = Path(__file__).resolve().parents[3]
PIXEL_SCALE_TEXT = "0.00392156862745098"  # 1/255 as the CLI parses it
PIXEL_SCALE = float(PIXEL_SCALE_TEXT)
MNIST_PIXELS = 784
COUNT_TIME_LIMIT_S = 120.0
MAX_CASE_REGIONS = 2000
CHILD_TIMEOUT_MARGIN_S = 300.0  # extra wall time before a hung child is killed
NNENUM_WORKER_FLAG = "--nnenum-worker"


@dataclass(frozen=True)
class NetworkCase:
    """A network of the benchmark and its L-inf radius ladder (input units)."""

    name: str
    relative_path: str
    radii: tuple


NETWORKS = (
    NetworkCase("mnist-net_256x2", "mnistfc/mnist-net_256x2.onnx", (0.005, 0.01, 0.015, 0.02, 0.03)),
    NetworkCase("mnist-net_256x4", "mnistfc/mnist-net_256x4.onnx", (0.001, 0.0015, 0.002, 0.003)),
    NetworkCase("mnist-net_256x6", "mnistfc/mnist-net_256x6.onnx", (0.001, 0.0015, 0.002, 0.003)),
    NetworkCase(
        "mnist_relu_9_200", "eran_mnist_relu_9_200/mnist_relu_9_200.onnx", (0.0005, 0.001, 0.0015, 0.002)
    ),
)
IMAGES_CSV = "mnist_test_images/mnist_test_first100.csv"


def log(message):
    """Print a progress line to stderr."""
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- nnenum subprocess side


def single_thread_onnxruntime():
    """Give every onnxruntime session created from now on one intra-op and one inter-op
    thread. nnenum runs each linear part of an ONNX network through an onnxruntime
    session with default options, whose thread pool uses every core and ignores
    OMP_NUM_THREADS (on mnist-net_256x2, image 0, radius 0.005 this took nnenum from
    3.3 s to 2.2 s of CPU time, same 105 stars)."""
    import onnxruntime

    session_class = onnxruntime.InferenceSession

    def single_thread_session(model, sess_options=None, **kwargs):
        options = sess_options or onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        return session_class(model, sess_options=options, **kwargs)

    onnxruntime.InferenceSession = single_thread_session


def nnenum_worker():
    """Count nnenum's stars for one box; request JSON on stdin, result JSON on stdout.

    Request: {"model": path, "centre": [784 floats], "radius": float, "timeout_s": float}.
    Result (last stdout line): regions (finished stars), result ("none" = complete),
    cpu_s (time.process_time around enumerate_network), wall_s, onnxruntime_threads.
    Mirrors ../shared/tools/nnenum_count.py with contraction off (784-D inputs), plus
    one-thread onnxruntime sessions (see single_thread_onnxruntime).
    """
    request = json.load(sys.stdin)
    single_thread_onnxruntime()
    from nnenum.enumerate import enumerate_network
    from nnenum.nnenum import set_exact_settings
    from nnenum.onnx_network import load_onnx_network
    from nnenum.settings import Settings

    set_exact_settings()
    Settings.TIMEOUT = float(request["timeout_s"])
    Settings.NUM_PROCESSES = 1
    Settings.PRINT_OUTPUT = False
    Settings.RESULT_SAVE_STARS = False
    Settings.CONTRACT_ZONOTOPE = False
    Settings.CONTRACT_ZONOTOPE_LP = False
    # Sub/Div by constants (ERAN's identity normalisation) are affine.
    Settings.ONNX_WHITELIST = list(Settings.ONNX_WHITELIST) + ["Div", "Sub"]
    network = load_onnx_network(request["model"])
    centre = np.array(request["centre"], dtype=np.float64)
    radius = float(request["radius"])
    box = np.array([[v - radius, v + radius] for v in centre], dtype=np.float32)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    result = enumerate_network(box, network)
    cpu_s, wall_s = time.process_time() - cpu0, time.perf_counter() - wall0
    print(json.dumps({"regions": result.total_stars, "result": result.result_str, "cpu_s": cpu_s, "wall_s": wall_s,
                      "onnxruntime_threads": 1}))


# ---------------------------------------------------------------- parent side: processes


def children_cpu_seconds():
    """CPU seconds (user + sys) used so far by all waited-for child processes."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_child(command, env=None, stdin_text=None, timeout_s=None):
    """Run a child process to completion.

    Returns (returncode or None when killed on timeout, stdout, stderr, cpu_s, wall_s),
    cpu_s being the child's user + sys CPU seconds and wall_s its wall seconds.
    """
    cpu0, wall0 = children_cpu_seconds(), time.perf_counter()
    try:
        done = subprocess.run(
            command, input=stdin_text, capture_output=True, text=True, env=env, timeout=timeout_s
        )
        returncode, stdout, stderr = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired as expired:
        returncode, stdout, stderr = None, expired.stdout or "", expired.stderr or ""
        stdout = stdout.decode() if isinstance(stdout, bytes) else stdout
        stderr = stderr.decode() if isinstance(stderr, bytes) else stderr
    return returncode, stdout, stderr, children_cpu_seconds() - cpu0, time.perf_counter() - wall0


class ReluRegionsCli:
    """The relu-regions binary, run single-threaded on MNIST centres from the images CSV."""

    def __init__(self, binary, images_csv):
        self.binary = str(binary)
        self.images_csv = str(images_csv)
        self.env = dict(os.environ, RAYON_NUM_THREADS="1")

    def _run_json(self, arguments, timeout_s):
        """Run one subcommand with --json; returns (parsed JSON, cpu_s, wall_s)."""
        command = [self.binary, *arguments, "--json"]
        returncode, stdout, stderr, cpu_s, wall_s = run_child(command, env=self.env, timeout_s=timeout_s)
        if returncode != 0:
            raise RuntimeError(f"{' '.join(command)} exited with {returncode}: {stderr.strip()[-2000:]}")
        return json.loads(stdout), cpu_s, wall_s

    def _ball_arguments(self, model, image, radius):
        """Arguments selecting the L-inf ball of `radius` around image row `image`."""
        return [
            str(model), "--center-file", self.images_csv, "--row", str(image), "--skip-columns", "1",
            "--scale", PIXEL_SCALE_TEXT, "--radius", repr(radius), "--norm", "linf",
        ]

    def inspect(self, model):
        """`inspect --json` of the model."""
        return self._run_json(["inspect", str(model)], timeout_s=CHILD_TIMEOUT_MARGIN_S)[0]

    def count(self, model, image, radius, regions_out=None):
        """`count` with the benchmark's time limit; returns (JSON, cpu_s, wall_s)."""
        arguments = ["count", *self._ball_arguments(model, image, radius), "--time-limit", repr(COUNT_TIME_LIMIT_S)]
        if regions_out is not None:
            arguments += ["--regions-out", str(regions_out)]
        return self._run_json(arguments, timeout_s=COUNT_TIME_LIMIT_S + CHILD_TIMEOUT_MARGIN_S)

    def bound(self, model, image, radius):
        """`bound` (proven local upper bound and sampled lower bound); returns its JSON."""
        arguments = ["bound", *self._ball_arguments(model, image, radius)]
        return self._run_json(arguments, timeout_s=CHILD_TIMEOUT_MARGIN_S)[0]


def run_nnenum(nnenum_src, model, centre, radius, timeout_s):
    """Run nnenum on the box centre +- radius in a one-thread subprocess of this script.

    Returns a dict: regions, result ("none" = complete, "timeout", or "error"/"killed"
    when the subprocess failed), cpu_s and wall_s of enumerate_network, process_cpu_s
    and process_wall_s of the whole subprocess (imports and ONNX loading included), and
    the subprocess's stderr when it printed anything.
    """
    python_path = os.pathsep.join(p for p in (str(nnenum_src), os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", PYTHONPATH=python_path)
    request = json.dumps({"model": str(model), "centre": centre.tolist(), "radius": radius, "timeout_s": timeout_s})
    command = [sys.executable, str(Path(__file__).resolve()), NNENUM_WORKER_FLAG]
    returncode, stdout, stderr, cpu_s, wall_s = run_child(
        command, env=env, stdin_text=request, timeout_s=timeout_s + CHILD_TIMEOUT_MARGIN_S
    )
    lines = stdout.strip().splitlines()
    if returncode == 0 and lines:
        result = json.loads(lines[-1])
    else:
        result = {"regions": None, "result": "killed" if returncode is None else "error", "cpu_s": None, "wall_s": None}
    result.update(process_cpu_s=cpu_s, process_wall_s=wall_s)
    extra_output = "\n".join([*(lines[:-1] if returncode == 0 else lines), stderr])
    if extra_output.strip():
        result["output"] = extra_output.strip()[-4000:]
    return result


def nnenum_commit(nnenum_src):
    """The git commit of the nnenum checkout holding `nnenum_src`, or None."""
    done = subprocess.run(
        ["git", "-C", str(nnenum_src), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() if done.returncode == 0 else None


# ---------------------------------------------------------------- independent check


class OnnxReluNetwork:
    """An evaluator of a feed-forward ONNX graph of Flatten, Gemm, MatMul, Add, Sub, Div,
    Constant and Relu nodes in a chosen floating-point type, recording every Relu's input
    (pre-activation)."""

    SUPPORTED_OPS = {"Constant", "Flatten", "Gemm", "MatMul", "Add", "Sub", "Div", "Relu"}

    def __init__(self, path):
        model = onnx.load(str(path))
        graph = model.graph
        self.constants = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
        inputs = [i for i in graph.input if i.name not in self.constants]
        if len(inputs) != 1 or len(graph.output) != 1:
            raise ValueError(f"{path}: expected one input and one output")
        self.input_name = inputs[0].name
        self.input_shape = tuple(d.dim_value for d in inputs[0].type.tensor_type.shape.dim)
        self.nodes = list(graph.node)
        unsupported = {n.op_type for n in self.nodes} - self.SUPPORTED_OPS
        if unsupported:
            raise ValueError(f"{path}: unsupported ONNX ops {sorted(unsupported)}")
        self.relu_layer_count = sum(1 for n in self.nodes if n.op_type == "Relu")

    def pre_activations(self, points, dtype):
        """Every Relu's input at `points` (N x input_dim), computed in `dtype` (weights
        and constants converted exactly from float32), as one N x (total ReLUs) array in
        graph order (graph order is topological, so layer order)."""
        values = {name: value.astype(dtype) for name, value in self.constants.items()}
        values[self.input_name] = points.astype(dtype).reshape((points.shape[0], *self.input_shape[1:]))
        recorded = []
        for node in self.nodes:
            attributes = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            operands = [values[name] for name in node.input]
            if node.op_type == "Constant":
                result = numpy_helper.to_array(attributes["value"]).astype(dtype)
            elif node.op_type == "Flatten":
                if attributes.get("axis", 1) != 1:
                    raise ValueError(f"Flatten with axis {attributes['axis']}")
                result = operands[0].reshape(operands[0].shape[0], -1)
            elif node.op_type == "Gemm":
                if attributes.get("transA", 0):
                    raise ValueError("Gemm with transA")
                weight = operands[1].T if attributes.get("transB", 0) else operands[1]
                result = dtype(attributes.get("alpha", 1.0)) * (operands[0] @ weight)
                if len(operands) > 2:
                    result = result + dtype(attributes.get("beta", 1.0)) * operands[2]
            elif node.op_type == "MatMul":
                if node.input[0] in self.constants:
                    raise ValueError("MatMul with the weight as first operand")
                result = operands[0] @ operands[1]
            elif node.op_type == "Add":
                result = operands[0] + operands[1]
            elif node.op_type == "Sub":
                result = operands[0] - operands[1]
            elif node.op_type == "Div":
                result = operands[0] / operands[1]
            else:  # Relu
                recorded.append(operands[0].reshape(operands[0].shape[0], -1))
                result = np.maximum(operands[0], dtype(0))
            values[node.output[0]] = result
        return np.concatenate(recorded, axis=1)


def check_regions(regions_file, network, centre, radius, expected_regions):
    """Check a `--regions-out` file independently of relu-regions.

    Returns a dict: lines, pattern_length, distinct_patterns, max_offset_linf (largest
    L-inf distance of an interior point from the centre, input units), min_abs_pre_activation
    (smallest |pre-activation| over all points and ReLUs, float64), max_precision_gap
    (largest |float64 - extended precision| pre-activation difference, a measure of the
    rounding error; every sign must agree in both), min_inner_radius (L2, input units),
    and failures (list of strings; empty = passed).
    """
    patterns, points, inner_radii = [], [], []
    with open(regions_file) as handle:
        for line in handle:
            record = json.loads(line)
            patterns.append(record["pattern"])
            points.append(record["interior_point"])
            inner_radii.append(record["inner_radius"])
    failures = []
    if len(patterns) != expected_regions:
        failures.append(f"{len(patterns)} lines in the regions file, count says {expected_regions}")
    if not patterns:
        return {"lines": 0, "failures": failures}
    points = np.array(points, dtype=np.float64)
    pre = network.pre_activations(points, np.float64)
    pre_extended = network.pre_activations(points, np.longdouble)
    precision_gap = np.abs(pre - pre_extended).astype(np.float64)
    pattern_lengths = {len(p) for p in patterns}
    if pattern_lengths != {pre.shape[1]}:
        failures.append(f"pattern lengths {sorted(pattern_lengths)}, network has {pre.shape[1]} ReLUs")
    if any(set(p) - {"0", "1"} for p in patterns):
        failures.append("pattern characters other than 0/1")
    offsets = np.abs(points - centre).max(axis=1)
    outside = np.flatnonzero(offsets > radius)
    if outside.size:
        failures.append(f"{outside.size} interior points outside the ball, e.g. line {outside[0]} at {offsets[outside[0]]!r}")
    zeros = int(np.count_nonzero(pre == 0.0))
    if zeros:
        failures.append(f"{zeros} pre-activations exactly 0")
    sign_changes = int(np.count_nonzero((pre > 0) != (pre_extended > 0)) + np.count_nonzero(pre_extended == 0))
    if sign_changes:
        failures.append(f"{sign_changes} pre-activations change sign (or are 0) in extended precision")
    computed = [row.tobytes().decode() for row in np.where(pre > 0, ord("1"), ord("0")).astype(np.uint8)]
    mismatched = [i for i, (a, b) in enumerate(zip(computed, patterns)) if a != b]
    if mismatched:
        first = mismatched[0]
        neurons = [j for j, (a, b) in enumerate(zip(computed[first], patterns[first])) if a != b]
        failures.append(
            f"{len(mismatched)} patterns differ from the forward pass, e.g. line {first}: "
            f"{len(neurons)} ReLUs, first ReLU {neurons[0] if neurons else None}"
        )
    distinct = len(set(patterns))
    if distinct != len(patterns):
        failures.append(f"only {distinct} distinct patterns among {len(patterns)}")
    if min(inner_radii) <= 0:
        failures.append(f"nonpositive inner radius {min(inner_radii)!r}")
    return {
        "lines": len(patterns),
        "pattern_length": pre.shape[1],
        "distinct_patterns": distinct,
        "max_offset_linf": float(offsets.max()),
        "min_abs_pre_activation": float(np.abs(pre).min()),
        "max_precision_gap": float(precision_gap.max()),
        "min_inner_radius": float(min(inner_radii)),
        "failures": failures,
    }


# ---------------------------------------------------------------- benchmark driver


def parse_images(text):
    """Image rows from `0-4` or `0,3,7-9` (inclusive ranges)."""
    rows = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        rows.extend(range(int(first), int(last or first) + 1))
    return rows


def load_images(path):
    """MNIST rows of `label,p0..p783` (0-255), no header: a list of (label, pixels)."""
    images = []
    with open(path) as handle:
        for number, line in enumerate(handle, 1):
            values = line.strip().split(",")
            if len(values) != MNIST_PIXELS + 1:
                raise ValueError(f"{path}:{number}: {len(values)} columns, expected {MNIST_PIXELS + 1}")
            images.append((int(values[0]), np.array([int(v) for v in values[1:]], dtype=np.float64)))
    return images


def walk_ladder(cli, model, image, radii):
    """Count at each radius upward; returns (steps, chosen step or None).

    Stops after the first step that fails, is incomplete or has more than
    MAX_CASE_REGIONS regions. The chosen step is the largest complete one with at most
    MAX_CASE_REGIONS regions, else the first step when it is complete.
    """
    steps = []
    for radius in radii:
        step = {"radius": radius}
        try:
            report, cpu_s, wall_s = cli.count(model, image, radius)
            step.update(regions=report["regions"], complete=report["complete"], cpu_s=cpu_s, wall_s=wall_s, count=report)
        except RuntimeError as error:
            step["error"] = str(error)
        steps.append(step)
        if "error" in step:
            log(f"    radius {radius}: ERROR {step['error']}")
            break
        log(f"    radius {radius}: {step['regions']} regions, complete {step['complete']}, {step['cpu_s']:.2f} s CPU")
        if not step["complete"] or step["regions"] > MAX_CASE_REGIONS:
            break
    small = [s for s in steps if s.get("complete") and s["regions"] <= MAX_CASE_REGIONS]
    if small:
        return steps, small[-1]
    return steps, steps[0] if steps[0].get("complete") else None


def cache_key(network_name, image, radius):
    """Key of an nnenum result in the cache: "net,image,radius"."""
    return f"{network_name},{image},{radius!r}"


def check_regions_out(cli, model, image, radius, centre, regions, regions_file, record):
    """Rerun `count` with --regions-out into `regions_file` and check it; adds
    record["check_run"] (regions, cpu_s, wall_s), record["check"] and any failures."""
    try:
        check_report, check_cpu_s, check_wall_s = cli.count(model, image, radius, regions_out=regions_file)
        record["check_run"] = {"regions": check_report["regions"], "cpu_s": check_cpu_s, "wall_s": check_wall_s}
        if check_report["regions"] != regions:
            record["failures"].append(f"rerun with --regions-out counted {check_report['regions']}, first run {regions}")
        network = OnnxReluNetwork(model)
        record["check"] = check_regions(regions_file, network, centre, radius, check_report["regions"])
        record["check"]["relu_layers"] = network.relu_layer_count
        record["failures"] += [f"check: {f}" for f in record["check"]["failures"]]
    except (RuntimeError, ValueError) as error:
        record["failures"].append(f"check: {error}")


def run_case(args, cli, network_case, image, label, centre, nnenum_cache, cache_path):
    """Ladder, timing, check, bound and nnenum for one (network, image); returns the record."""
    model = args.shared / network_case.relative_path
    record = {"net": network_case.name, "model": str(model), "image": image, "label": label, "failures": []}
    log(f"{network_case.name} image {image}: ladder")
    steps, chosen = walk_ladder(cli, model, image, network_case.radii)
    record["ladder"] = [{k: v for k, v in s.items() if k != "count"} for s in steps]
    record["failures"] += [f"count at radius {s['radius']}: {s['error']}" for s in steps if "error" in s]
    if chosen is None:
        record["radius"] = None
        record["failures"].append("no radius of the ladder gave a complete count")
        return record
    radius = chosen["radius"]
    record.update(radius=radius, ours={**chosen["count"], "cpu_s": chosen["cpu_s"], "wall_s": chosen["wall_s"]})
    regions = chosen["regions"]
    if not chosen["count"].get("exact") or chosen["count"].get("unverified", 0) != 0:
        record["failures"].append(f"count not exact or unverified leaves: {chosen['count']}")

    log(f"  radius {radius}: check of --regions-out")
    with tempfile.TemporaryDirectory() as scratch:
        check_regions_out(cli, model, image, radius, centre, regions, Path(scratch) / "regions.jsonl", record)

    log(f"  radius {radius}: bound")
    try:
        bound = cli.bound(model, image, radius)
        record["bound"] = {k: bound[k] for k in ("local_bound", "local_bound_log2", "lower_bound", "samples", "unstable_per_layer")}
    except RuntimeError as error:
        record["failures"].append(f"bound: {error}")

    key = cache_key(network_case.name, image, radius)
    if key not in nnenum_cache and not args.skip_nnenum:
        log(f"  radius {radius}: nnenum (up to {args.nnenum_timeout} s)")
        result = run_nnenum(args.nnenum_src, model, centre, radius, args.nnenum_timeout)
        result["commit"] = nnenum_commit(args.nnenum_src)
        nnenum_cache[key] = result
        cache_path.write_text(json.dumps(nnenum_cache, indent=1, sort_keys=True) + "\n")
    if key in nnenum_cache:
        result = nnenum_cache[key]
        record["nnenum"] = result
        log(f"    nnenum: {result['regions']} regions, result {result['result']}, cpu {result['cpu_s']}")
        if result["result"] == "none" and result["regions"] != regions:
            record["failures"].append(f"count mismatch: relu-regions {regions}, nnenum {result['regions']}")
        elif result["result"] != "none":
            if result["regions"] is not None and result["regions"] > regions:
                record["failures"].append(f"nnenum stopped ({result['result']}) with {result['regions']} > {regions} regions")
            elif result["result"] != "timeout":
                record["failures"].append(f"nnenum {result['result']}: {result.get('output', '')[-500:]}")
    return record


def format_ms_per_region(cpu_s, regions):
    """CPU milliseconds per region with three significant digits."""
    return f"{1000.0 * cpu_s / regions:.3g}" if cpu_s is not None and regions else "—"


def table_row(record):
    """One markdown table row for a record."""
    if record.get("radius") is None:
        return f"| {record['net']} | {record['image']} | — | no complete count | | | | | |"
    ours = record["ours"]
    nnenum = record.get("nnenum")
    if nnenum is None:
        nnenum_regions, nnenum_ms, ratio = "not run", "—", "—"
    else:
        nnenum_regions = str(nnenum["regions"]) if nnenum["result"] == "none" else f"{nnenum['result']} ({nnenum['regions']})"
        nnenum_ms = format_ms_per_region(nnenum["cpu_s"], nnenum["regions"])
        ratio = f"{nnenum['cpu_s'] / ours['cpu_s']:.3g}x" if nnenum["result"] == "none" else "—"
    bound = f"2^{record['bound']['local_bound_log2']:.2f}" if "bound" in record else "—"
    return (
        f"| {record['net']} | {record['image']} | {record['radius']} | {ours['regions']} | {nnenum_regions} | "
        f"{bound} | {format_ms_per_region(ours['cpu_s'], ours['regions'])} | {nnenum_ms} | {ratio} |"
    )


def print_report(records):
    """Print the markdown table, the checks, the failures and the CPU totals to stdout."""
    print("| net | image | L-inf radius | regions (ours) | regions (nnenum) | proven bound | "
          "ours ms/region (CPU) | nnenum ms/region (CPU) | ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for record in records:
        print(table_row(record))
    print()
    print("Checks of --regions-out (numpy forward pass of the ONNX weights at every interior point):")
    for record in records:
        check = record.get("check")
        if check and check.get("lines"):
            print(f"- {record['net']} image {record['image']} radius {record['radius']}: {check['lines']} lines, "
                  f"{check['distinct_patterns']} distinct patterns of {check['pattern_length']} ReLUs, "
                  f"max |x - c|_inf {check['max_offset_linf']:.6g}, min |pre-activation| "
                  f"{check['min_abs_pre_activation']:.3g} (float64 vs extended precision: largest gap "
                  f"{check['max_precision_gap']:.2g}), "
                  f"min inner radius {check['min_inner_radius']:.3g}, "
                  f"{'passed' if not check['failures'] else 'FAILED'}")
    degenerate = [r for r in records if r.get("ours", {}).get("degenerate")]
    for record in degenerate:
        print(f"- note: {record['net']} image {record['image']}: {record['ours']['degenerate']} degenerate sides rejected")
    print()
    failures = [(r, f) for r in records for f in r["failures"]]
    print(f"Failures: {len(failures)}")
    for record, failure in failures:
        print(f"- {record['net']} image {record['image']}: {failure}")
    chosen = [r for r in records if r.get("ours")]
    ours_case_cpu = sum(r["ours"]["cpu_s"] for r in chosen)
    ours_all_cpu = sum(s.get("cpu_s", 0.0) for r in records for s in r["ladder"]) + sum(
        r.get("check_run", {}).get("cpu_s", 0.0) for r in records
    )
    nnenum_cpu = sum(r["nnenum"]["cpu_s"] or 0.0 for r in chosen if r.get("nnenum"))
    print()
    print(f"CPU totals: relu-regions {ours_case_cpu:.1f} s on the chosen cases "
          f"({ours_all_cpu:.1f} s with all ladder steps and the --regions-out reruns); "
          f"nnenum {nnenum_cpu:.1f} s (enumerate_network) on the chosen cases.")
    return len(failures)


def main():
    """Parse arguments, run every case sequentially, write results and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--bin",
        type=Path,
        default=Path(__file__).resolve().parents[3] / "target" / "release" / "relu-regions",
        help="relu-regions binary",
    )
    parser.add_argument("--nnenum-src", type=Path, default=Path("/tmp/nnenum/src"), help="nnenum's src folder")
    parser.add_argument("--shared", type=Path, default=REPO_ROOT.parent / "shared" / "networks",
                        help="the shared networks folder")
    parser.add_argument("--images", default="0-4", help="MNIST test rows, e.g. 0-4 or 0,3,7-9")
    parser.add_argument("--out", type=Path, default=Path("highdim_results.jsonl"), help="JSON-lines results")
    parser.add_argument("--nnenum-cache", type=Path, default=Path("nnenum_cache.json"), help="nnenum result cache")
    parser.add_argument("--nnenum-timeout", type=float, default=300.0, help="nnenum time limit (s)")
    parser.add_argument("--skip-nnenum", action="store_true", help="do not run nnenum (cached results still shown)")
    parser.add_argument("--nets", default=",".join(n.name for n in NETWORKS), help="comma-separated network names")
    args = parser.parse_args()

    selected_names = args.nets.split(",")
    unknown = set(selected_names) - {n.name for n in NETWORKS}
    if unknown:
        parser.error(f"unknown networks {sorted(unknown)}")
    selected_networks = [n for n in NETWORKS if n.name in selected_names]
    images_csv = args.shared / IMAGES_CSV
    images = load_images(images_csv)
    cli = ReluRegionsCli(args.bin, images_csv)
    nnenum_cache = json.loads(args.nnenum_cache.read_text()) if args.nnenum_cache.exists() else {}
    records = []
    with open(args.out, "w") as out:
        for network_case in selected_networks:
            inspect = cli.inspect(args.shared / network_case.relative_path)
            log(f"{network_case.name}: {inspect['relus']} ReLUs, widths {inspect['relu_widths']}, "
                f"output ReLU {inspect['output_relu']}")
            for image in parse_images(args.images):
                label, pixels = images[image]
                record = run_case(args, cli, network_case, image, label, pixels * PIXEL_SCALE, nnenum_cache,
                                  args.nnenum_cache)
                record["relus"] = inspect["relus"]
                record["output_relu"] = inspect["output_relu"]
                check = record.get("check")
                if check and check.get("pattern_length") not in (None, inspect["relus"]):
                    record["failures"].append(f"pattern length {check['pattern_length']}, inspect says {inspect['relus']} ReLUs")
                out.write(json.dumps(record) + "\n")
                out.flush()
                records.append(record)
    return 1 if print_report(records) else 0


if __name__ == "__main__":
    if sys.argv[1:] == [NNENUM_WORKER_FLAG]:
        nnenum_worker()
    else:
        sys.exit(main())
