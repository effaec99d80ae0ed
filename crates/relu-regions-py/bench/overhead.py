"""What Python adds over the same Rust calls: ``Network.distance`` and ``Network.bound``
against the library calls the bindings make, and the time of ``Network.from_torch``.

    python crates/relu-regions-py/bench/overhead.py [--repeat 5] [--threads 1 2] [--out FILE]

The goal (the project's issue): for ``distance`` on 10 000 MNIST points and ``bound`` on
100 points, Python adds at most 5% over the same Rust call; ``from_torch`` of a
784-256-256-10 MLP takes under 1 s.

Measures, on ``mnist-net_256x6`` (``../shared/networks/mnistfc``) at the 100 MNIST test
images of ``../shared/networks/mnist_test_images`` (pixels / 255) cycled to ``--n``
points (default 10 000), with each thread count of ``--threads`` (``RAYON_NUM_THREADS``,
set in a fresh process before ``relu_regions`` is imported, and inherited by the Rust
side):

1. ``net.distance(points, norm)`` (one call over every point) and ``net.bound(center,
   radius, norm)`` with the defaults (CROWN, ``samples`` 10 000, ``lc_directions`` 16,
   seed 0) at the first ``--bound-points`` points (default 100, one call each), for an
   L-inf ball of radius 0.02 and an L2 ball of radius 0.5 (``distance`` in the same norm);
2. the same computations in Rust, by the example ``python_reference``
   (``crates/relu-regions-cli/examples/python_reference.rs``: the library calls of
   ``crates/relu-regions-py/src/lib.rs``, on the same points written to a CSV file with
   17 significant digits, which read back to the same doubles);
3. ``Network.from_torch`` of a freshly initialised ``Flatten, Linear(784, 256), ReLU,
   Linear(256, 256), ReLU, Linear(256, 10)`` with ``input_shape=(1, 28, 28)`` (when torch
   is importable; default threads): the first call (it may include the exporter's
   warm-up), the fastest of the next five, and the fastest of five bare
   ``torch.onnx.export`` calls (the part of it that is PyTorch's).

Each configuration runs ``--repeat`` rounds, each one run of the Rust example (a fresh
process, after an untimed warm-up) and one run of the Python calls (after the same
warm-up), alternating which goes first so that a drift of the machine's speed
favours neither. The overhead is ``(Python - Rust) / Rust`` of the fastest runs, and
of the medians to show the noise. The Python results are checked to equal the Rust ones (the sum of the distances
in point order, the sum of the nearest neurons, and per bound point
``local_bound_log2``, ``lower_bound``, ``lc_per_layer``, ``certified_radius``,
``exact_distance``), so both sides provably did the same work. Prints a Markdown table;
``--out FILE`` writes every number as JSON.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
SHARED = ROOT.parent / "shared" / "networks"
MODEL = SHARED / "mnistfc" / "mnist-net_256x6.onnx"
IMAGES = SHARED / "mnist_test_images" / "mnist_test_first100.csv"
EXAMPLE = ROOT / "target" / "release" / "examples" / "python_reference"
BALLS = [("linf", 0.02), ("l2", 0.5)]
GOAL_PERCENT = 5.0
TORCH_GOAL_SECONDS = 1.0


def fastest(repeat: int, f):
    """The fastest of ``repeat`` runs of ``f`` and the first run's result."""
    best, first = float("inf"), None
    for k in range(repeat):
        start = time.perf_counter()
        value = f()
        best = min(best, time.perf_counter() - start)
        if k == 0:
            first = value
    return best, first


def sequential_sum(values) -> float:
    """Left to right in float64, as Rust's ``Iterator::sum`` adds (not ``math.fsum``)."""
    s = 0.0
    for v in values:
        s += v
    return s


def worker(args: argparse.Namespace) -> None:
    """One thread count and one ball, in this fresh process: ``--repeat`` rounds, each one
    run of the Rust example (a fresh process, after its warm-up) and one run of the same
    calls from Python, in alternating order; prints JSON."""
    threads = int(os.environ["RAYON_NUM_THREADS"])
    import relu_regions as rr

    defaults = inspect.signature(rr.Network.bound).parameters
    samples, lc_directions = defaults["samples"].default, defaults["lc_directions"].default
    cmd = [str(args.example), str(args.model), args.points_csv, "--norm", args.norm, "--radius", repr(args.radius), "--samples", str(samples), "--lc-directions", str(lc_directions), "--bound-points", str(args.bound_points), "--repeat", "1"]

    net = rr.Network.load(args.model)
    x = np.load(args.points_npy)
    centers = x[: args.bound_points]

    def bounds():
        return [net.bound(c, args.radius, args.norm, method="crown", seed=0) for c in centers]

    net.distance(x[:100], args.norm)  # warm-up, as the Rust example's
    net.bound(centers[0], args.radius, args.norm, method="crown", seed=0)
    rust_runs, py_distance, py_bound, mismatched = [], [], [], set()
    python = None
    for k in range(args.repeat):
        for side in ("rust", "python") if k % 2 == 0 else ("python", "rust"):
            if side == "rust":
                rust_runs.append(json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout))
                assert rust_runs[-1]["threads"] == threads, (rust_runs[-1]["threads"], threads)
                continue
            t, d = fastest(1, lambda: net.distance(x, args.norm))
            py_distance.append(t)
            t, b = fastest(1, bounds)
            py_bound.append(t)
            python = dict(
                distance_sum=sequential_sum(d.distance.tolist()),
                nearest_neuron_sum=int(d.nearest_neuron.sum()),
                local_bound_log2=[r.local_bound_log2 for r in b],
                lower_bound=[r.lower_bound for r in b],
                lc_per_layer=[list(r.lc_per_layer) for r in b],
                certified_radius=[r.certified_radius for r in b],
                exact_distance=[r.exact_distance for r in b],
            )
        mismatched |= {key for key, v in python.items() if v != rust_runs[-1][key]}
    rust = dict(rust_runs[0], distance_seconds=min(r["distance_seconds"] for r in rust_runs), bound_seconds=min(r["bound_seconds"] for r in rust_runs), repeat=args.repeat)
    times = dict(
        rust_distance=[r["distance_seconds"] for r in rust_runs],
        rust_bound=[r["bound_seconds"] for r in rust_runs],
        python_distance=py_distance,
        python_bound=py_bound,
    )
    print(json.dumps(dict(threads=threads, norm=args.norm, radius=args.radius, samples=samples, lc_directions=lc_directions, points=len(x), bound_points=len(centers), repeat=args.repeat, rust=rust, python_distance_seconds=min(py_distance), python_bound_seconds=min(py_bound), times=times, mismatched=sorted(mismatched), python_results=python)))


def torch_worker(args: argparse.Namespace) -> None:
    """``Network.from_torch`` of a fresh 784-256-256-10 MLP; prints JSON."""
    try:
        import torch
        from torch import nn
    except ImportError:
        print(json.dumps(None))
        return
    import relu_regions as rr

    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    start = time.perf_counter()
    net = rr.Network.from_torch(model, input_shape=(1, 28, 28))
    first = time.perf_counter() - start
    best, _ = fastest(5, lambda: rr.Network.from_torch(model, input_shape=(1, 28, 28)))
    example = torch.zeros((1, 1, 28, 28))

    def export():
        with torch.no_grad():
            return torch.onnx.export(model.eval(), (example,))

    export_best, _ = fastest(5, export)
    # The network computes what torch does.
    x = np.load(args.points_npy)[:100]
    with torch.no_grad():
        want = model(torch.from_numpy(x.reshape(-1, 1, 28, 28)).float()).double().numpy()
    err = float(np.max(np.abs(net.eval(x) - want)))
    print(json.dumps(dict(torch=torch.__version__, torch_threads=torch.get_num_threads(), first_seconds=first, fastest_seconds=best, repeat=5, export_fastest_seconds=export_best, max_abs_output_difference=err)))


def run(argv: list, threads) -> dict:
    env = dict(os.environ)
    env.pop("RAYON_NUM_THREADS", None)
    if threads is not None:
        env["RAYON_NUM_THREADS"] = str(threads)
    out = subprocess.run([sys.executable, __file__, *argv], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def percent(py: float, rust: float) -> float:
    return 100.0 * (py - rust) / rust


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5, help="rounds per configuration (Rust once, Python once); each time is the fastest of them")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="RAYON_NUM_THREADS of each configuration")
    ap.add_argument("--n", type=int, default=10_000, help="distance points (the 100 images cycled)")
    ap.add_argument("--bound-points", type=int, default=100)
    ap.add_argument("--model", type=Path, default=MODEL)
    ap.add_argument("--example", type=Path, default=EXAMPLE, help="the built python_reference example")
    ap.add_argument("--no-build", action="store_true", help="do not run cargo build first")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--out", type=Path, help="write every number here as JSON")
    # Internal: one configuration in a fresh process.
    ap.add_argument("--worker", choices=["ball", "torch"], help=argparse.SUPPRESS)
    ap.add_argument("--points-csv", help=argparse.SUPPRESS)
    ap.add_argument("--points-npy", help=argparse.SUPPRESS)
    ap.add_argument("--norm", help=argparse.SUPPRESS)
    ap.add_argument("--radius", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker == "ball":
        return worker(args)
    if args.worker == "torch":
        return torch_worker(args)

    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-p", "relu-regions-cli", "--example", "python_reference"], cwd=ROOT, check=True)
    images = np.loadtxt(IMAGES, delimiter=",", dtype=np.float64)[:, 1:] / 255.0
    x = np.ascontiguousarray(images[np.arange(args.n) % len(images)])
    results: dict = dict(model=str(args.model.name), n=args.n, bound_points=args.bound_points, repeat=args.repeat, runs=[], from_torch=None)
    with tempfile.TemporaryDirectory() as tmp:
        csv, npy = os.path.join(tmp, "points.csv"), os.path.join(tmp, "points.npy")
        np.savetxt(csv, x, fmt="%.17g", delimiter=",")
        np.save(npy, x)
        common = ["--worker", "ball", "--points-csv", csv, "--points-npy", npy, "--model", str(args.model), "--example", str(args.example), "--repeat", str(args.repeat), "--bound-points", str(args.bound_points)]
        for threads in args.threads:
            for norm, radius in BALLS:
                r = run([*common, "--norm", norm, "--radius", repr(radius)], threads)
                print(f"threads {threads}, {norm} {radius}: done{'' if not r['mismatched'] else ', MISMATCH in ' + ', '.join(r['mismatched'])}", file=sys.stderr)
                results["runs"].append(r)
        if not args.no_torch:
            results["from_torch"] = run(["--worker", "torch", "--points-npy", npy], None)

    print(f"{args.model.name}, {args.n} points for distance, {args.bound_points} for bound (CROWN, samples {results['runs'][0]['samples']}, lc_directions {results['runs'][0]['lc_directions']}, seed 0); fastest of {args.repeat} alternating rounds; overhead = (Python - Rust) / Rust")
    print()
    print(f"| operation | threads | Rust (s) | Python (s) | overhead | goal <= {GOAL_PERCENT:g}% | medians Rust / Python (s) | overhead of medians | results equal |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results["runs"]:
        equal = "yes" if not r["mismatched"] else "NO: " + ", ".join(r["mismatched"])
        norm = "L-inf" if r["norm"] == "linf" else "L2"
        t = r["times"]
        rows = [
            (f"distance, {r['points']} points, {norm}", r["rust"]["distance_seconds"], r["python_distance_seconds"], t["rust_distance"], t["python_distance"]),
            (f"bound, {r['bound_points']} points, {norm} {r['radius']:g}", r["rust"]["bound_seconds"], r["python_bound_seconds"], t["rust_bound"], t["python_bound"]),
        ]
        for name, rust, py, rust_all, py_all in rows:
            p = percent(py, rust)
            mr, mp = statistics.median(rust_all), statistics.median(py_all)
            print(f"| {name} | {r['threads']} | {rust:.3f} | {py:.3f} | {p:+.1f}% | {'yes' if p <= GOAL_PERCENT else 'NO'} | {mr:.3f} / {mp:.3f} | {percent(mp, mr):+.1f}% | {equal} |")
    t = results["from_torch"]
    if t is not None:
        print()
        print(f"Network.from_torch, 784-256-256-10 MLP, input_shape (1, 28, 28), torch {t['torch']} ({t['torch_threads']} threads), goal < {TORCH_GOAL_SECONDS:g} s:")
        print()
        print("| call | seconds |")
        print("|---|---|")
        print(f"| first call | {t['first_seconds']:.3f} |")
        print(f"| fastest of the next {t['repeat']} | {t['fastest_seconds']:.3f} |")
        print(f"| of which torch.onnx.export (fastest of {t['repeat']}) | {t['export_fastest_seconds']:.3f} |")
        print(f"\nmax |outputs - torch's| at 100 images: {t['max_abs_output_difference']:.2e}")
    elif not args.no_torch:
        print("\nfrom_torch: torch is not importable, not measured")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    if any(r["mismatched"] for r in results["runs"]):
        sys.exit("the Python results differ from the Rust ones")


if __name__ == "__main__":
    main()
