"""The Python package against the command-line tool: every function's fields equal the
CLI's JSON on the bundled networks, and bad input raises our exceptions with the CLI's
messages. Run from the repository root after `pip install ./crates/relu-regions-py`;
the CLI binary is `target/release/relu-regions` (built by `cargo build --release`) or
`$RELU_REGIONS_BIN`."""

import json
import math
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import relu_regions as rr

ROOT = Path(__file__).resolve().parents[3]
ACAS = ROOT / "data/networks/acasxu/ACASXU_run2a_1_1_batch_2000.onnx"
ACAS_NNET = ROOT / "data/networks/acasxu/ACASXU_run2a_1_1_batch_2000.nnet"
POINTS = ROOT / "data/networks/acasxu/points_1_1.csv"
BIN = Path(os.environ.get("RELU_REGIONS_BIN", ROOT / "target/release/relu-regions"))


def cli(*args):
    if not BIN.exists():
        pytest.fail(f"the CLI binary {BIN} is missing: run `cargo build --release` first")
    out = subprocess.run([str(BIN), *map(str, args), "--json"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def cli_error(*args):
    out = subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True)
    assert out.returncode != 0
    return out.stderr


@pytest.fixture(scope="module")
def acas():
    return rr.Network.load(ACAS)


@pytest.fixture(scope="module")
def points():
    return np.loadtxt(POINTS, delimiter=",", ndmin=2)


def coords(x):
    return ",".join(repr(float(v)) for v in x)


def center_args(x):
    return ["--center", coords(x)]


def test_inspect_equals_the_cli(acas):
    ours = acas.inspect()
    theirs = cli("inspect", ACAS)
    ours["model"] = theirs["model"]
    assert ours == theirs
    assert rr.Network.load(ACAS_NNET).inspect()["format"] == "nnet"


def test_eval_and_patterns_equal_the_cli(acas, points):
    theirs = cli("eval", ACAS, "--points", POINTS)
    outputs = acas.eval(points)
    assert outputs.shape == (len(points), 5)
    np.testing.assert_allclose(outputs, np.array(theirs["outputs"]), rtol=0, atol=1e-12)
    pats = acas.patterns(points)
    assert pats.dtype == bool and pats.shape == (len(points), 300)
    for p, q in zip(pats, theirs["points"]):
        assert int(p.sum()) == q["active"]
    # One point in, one row out.
    np.testing.assert_array_equal(acas.eval(points[0]), outputs[0])
    np.testing.assert_array_equal(acas.patterns(points[0]), pats[0])
    # The module-level function takes a path too.
    np.testing.assert_array_equal(rr.eval(ACAS, points), outputs)


@pytest.mark.parametrize("norm", ["l2", "linf"])
def test_distance_equals_the_cli(acas, points, norm):
    theirs = cli("distance", ACAS, "--points", POINTS, "--norm", norm)
    ours = acas.distance(points, norm=norm)
    for i, q in enumerate(theirs["points"]):
        assert ours.distance[i] == pytest.approx(q["distance"], rel=1e-12)
        assert ours.nearest_layer[i] == q["nearest"]["layer"]
        assert ours.nearest_neuron[i] == q["nearest"]["neuron"]
        np.testing.assert_allclose(ours.nearest_point[i], q["nearest_point"], rtol=1e-12, atol=1e-15)
    one = acas.distance(points[0], norm=norm)
    assert one.distance == ours.distance[0]


def test_bound_equals_the_cli(acas, points):
    x = points[1]
    for kwargs, flags in [
        (dict(radius=0.05, norm="linf"), ["--radius", "0.05", "--norm", "linf"]),
        (dict(radius=0.1, norm="l2", method="ibp"), ["--radius", "0.1", "--norm", "l2", "--method", "ibp"]),
    ]:
        theirs = cli("bound", ACAS, *center_args(x), *flags, "--samples", "3000")
        ours = acas.bound(x, samples=3000, **kwargs)
        assert ours.local_bound == int(theirs["local_bound"])
        for key in ["lower_bound", "local_bound_log2", "global_bound_log2", "unstable_per_layer", "lc_per_layer", "certified_radius", "exact_distance", "method", "domain_dim"]:
            assert getattr(ours, key) == theirs[key], key
    box = acas.bound(lo=x - 0.01, hi=x + 0.02)
    assert box.certified_radius is None and box.local_bound >= box.lower_bound >= 1


def vnnlib_box(path, lo, hi):
    lines = [f"(declare-const X_{j} Real)" for j in range(len(lo))]
    lines += [f"(declare-const Y_{k} Real)" for k in range(5)]
    for j, (a, b) in enumerate(zip(lo, hi)):
        lines += [f"(assert (>= X_{j} {float(a)!r}))", f"(assert (<= X_{j} {float(b)!r}))"]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_count_equals_the_cli(acas, points, tmp_path):
    x = points[1]
    theirs = cli("count", ACAS, *center_args(x), "--radius", "0.02", "--norm", "linf", "--affine-maps")
    ours = acas.count(x, 0.02, "linf", affine_maps=True, regions_out=True)
    for key in ["regions", "degenerate", "uncertain", "complete", "exact", "affine_maps", "unverified", "upper_bound_log2", "local_bound_log2"]:
        assert getattr(ours, key) == theirs[key], key
    assert ours.exact and ours.interval == (ours.regions, ours.regions)
    # Every region's interior point has the region's pattern, inside the ball.
    assert ours.patterns.shape == (ours.regions, 300)
    np.testing.assert_array_equal(acas.patterns(ours.interior_points), ours.patterns)
    assert np.all(np.abs(ours.interior_points - x) < 0.02)
    assert np.all(ours.inner_radius > 0)
    assert len({p.tobytes() for p in ours.patterns}) == ours.regions
    # A limit gives the proven interval.
    partial = acas.count(x, 0.05, "linf", max_regions=50)
    assert not partial.complete and not partial.exact
    lo, hi = partial.interval
    assert lo >= 50 and hi >= acas.count(x, 0.05, "linf").regions
    # A box.
    theirs_box = cli("count", ACAS, "--vnnlib", vnnlib_box(tmp_path / "box.vnnlib", x - 0.01, x + 0.01))
    assert acas.count(lo=x - 0.01, hi=x + 0.01).regions == theirs_box["regions"]


def test_line_and_slice_equal_the_cli(acas, points):
    a, b = points[0], points[3]
    theirs = cli("line", ACAS, "--from", coords(a), "--to", coords(b))
    ours = acas.line(a, b)
    for key in ["regions", "pieces", "segment_pieces", "unverified", "length"]:
        assert getattr(ours, key) == theirs[key], key
    assert ours.piece_bounds.shape == (ours.regions, 2)
    np.testing.assert_allclose(ours.crossings, [c["t"] for c in theirs["crossings"]], rtol=0, atol=0)
    u = np.eye(5)[0]
    v = np.eye(5)[2]
    theirs = cli("slice", ACAS, *center_args(a), "--dirs", coords(u) + ";" + coords(v), "--radius", "0.05")
    s = acas.slice(a, u, v, radius=0.05)
    for key in ["regions", "pieces", "unverified", "merged_slivers", "uncertain", "exact"]:
        assert getattr(s, key) == theirs[key], key
    assert len(s.polygons) == s.regions and all(p.shape[1] == 2 for p in s.polygons)
    # Without directions: the CLI's --random-dirs plane for the same seed.
    theirs = cli("slice", ACAS, *center_args(a), "--random-dirs", "3", "--radius", "0.05", "--shape", "square")
    s = acas.slice(a, seed=3, radius=0.05, shape="square")
    assert s.regions == theirs["regions"] and s.pieces == theirs["pieces"]
    assert abs(float(np.dot(s.u, s.v))) < 1e-12
    assert sum(s.areas) == pytest.approx(s.shape_area, rel=1e-9)


def test_slice_plots_with_matplotlib(acas, points):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    s = acas.slice(points[0], radius=0.05, shape="disc", seed=3)
    ax = s.plot()
    assert len(ax.collections) == 1


def test_from_weights_matches_the_loaded_network(acas, points):
    copy = rr.Network.from_weights(acas.weights())
    np.testing.assert_array_equal(copy.eval(points), acas.eval(points))
    assert copy.inspect()["relus"] == 300
    tiny = rr.Network.from_weights([(np.array([[1.0], [-1.0]]), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))])
    # |x| on the segment [-1, 1]: two regions.
    assert tiny.line([-1.0], [1.0]).regions == 2
    assert tiny.count([0.0], 1.0).regions == 2


def test_errors_are_python_exceptions_with_the_cli_messages(acas, tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        rr.Network.load(tmp_path / "missing.onnx")
    assert "missing.onnx" in str(e.value)
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(rr.RegionsError) as e:
        rr.Network.load(bad)
    assert str(e.value) in cli_error("inspect", bad)
    with pytest.raises(ValueError, match="5 values"):
        acas.eval(np.zeros(4))
    with pytest.raises(ValueError, match="not finite"):
        acas.eval([0.0, float("nan"), 0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="radius"):
        acas.count(np.zeros(5), -0.01)
    with pytest.raises(ValueError, match="radius"):
        acas.count(np.zeros(5), 0.0)
    with pytest.raises(ValueError, match="radius"):
        acas.bound(np.zeros(5), float("nan"))
    with pytest.raises(ValueError, match="norm"):
        acas.distance(np.zeros(5), norm="l3")
    with pytest.raises(ValueError, match="lo < hi"):
        acas.count(lo=np.zeros(5), hi=np.zeros(5))
    with pytest.raises(ValueError, match="time_limit"):
        acas.count(np.zeros(5), 0.1, time_limit=-1)
    with pytest.raises(ValueError, match="coincide"):
        acas.line(np.zeros(5), np.zeros(5))
    with pytest.raises(ValueError, match="layers\\[0\\]"):
        rr.Network.from_weights([(np.zeros((2, 3)), np.zeros(3))])
    with pytest.raises(ValueError, match="takes 4 inputs"):
        rr.Network.from_weights([(np.zeros((2, 3)), np.zeros(2)), (np.zeros((1, 4)), np.zeros(1))])
    with pytest.raises(AttributeError):
        acas.count(np.zeros(5), 0.01, "linf").nonexistent


def test_the_gil_is_released_during_a_count(acas):
    import threading
    import time

    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.005)

    t = threading.Thread(target=tick)
    t.start()
    start = time.perf_counter()
    result = acas.count(np.zeros(5), 0.05, "linf", time_limit=1.0)
    elapsed = time.perf_counter() - start
    stop.set()
    t.join()
    assert result.regions > 0
    during = [x for x in ticks if start < x < start + elapsed]
    # The other thread kept running while Rust worked.
    assert len(during) >= max(2, int(elapsed / 0.005) // 4), (len(during), elapsed)


def test_ctrl_c_stops_a_count_with_its_partial_answer(acas):
    import signal
    import threading
    import time

    timer = threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt) as e:
        # Minutes of work (ACAS Xu at L-inf 0.4 passes 500 000 regions in 20 s).
        acas.count(np.zeros(5), 0.4, "linf")
    elapsed = time.perf_counter() - start
    timer.join()
    partial = e.value.partial
    assert partial.interrupted and not partial.complete and not partial.exact
    lo, hi = partial.interval
    assert 0 < lo <= hi
    assert elapsed < 10, elapsed
