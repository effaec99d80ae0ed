"""relu_regions.distributed on a local Ray (`ray.init(num_cpus=2)`): distributed counts,
point maps and study sweeps equal the single process (and the CLI) on the bundled
networks and on random networks in 2-6 dimensions. Skipped where Ray is not installed,
except when RELU_REGIONS_REQUIRE_RAY=1 (scripts/test in CI), where a missing Ray fails.
The two-node cluster and the killed worker are in test_ray_cluster.py."""

import json
import os
import pickle
import subprocess
from pathlib import Path

import numpy as np
import pytest

import relu_regions as rr

if os.environ.get("RELU_REGIONS_REQUIRE_RAY") == "1":
    import ray  # noqa: F401  (a missing Ray fails here)
ray = pytest.importorskip("ray")
from relu_regions import distributed as dist  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
ACAS = ROOT / "data/networks/acasxu/ACASXU_run2a_1_1_batch_2000.nnet"
LEAKY = ROOT / "data/networks/leaky/leaky_2d.onnx"
BIN = Path(os.environ.get("RELU_REGIONS_BIN", ROOT / "target/release/relu-regions"))


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def acas():
    return rr.Network.load(ACAS)


def random_net(rng, d, widths, leaky=False):
    layers, n = [], d
    for w in widths + [2]:
        layers.append((rng.normal(0, np.sqrt(2.0 / n), (w, n)), rng.normal(0, 0.1, w)))
        n = w
    slope = 0.1 if leaky else None
    return rr.Network.from_weights(layers, negative_slope=slope) if leaky else rr.Network.from_weights(layers)


def same_count(a, b):
    for key in ("regions", "exact", "complete", "uncertain", "degenerate", "affine_maps", "exact_layers"):
        assert a.to_dict()[key] == b.to_dict()[key], key


def test_networks_pickle_exactly(acas):
    again = pickle.loads(pickle.dumps(acas))
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (20, 5))
    assert np.array_equal(again.eval(x), acas.eval(x))
    assert again.inspect() == acas.inspect()
    leaky = rr.Network.load(LEAKY)
    back = pickle.loads(pickle.dumps(leaky))
    assert [s.tolist() for s in back.negative_slopes()] == [s.tolist() for s in leaky.negative_slopes()]


@pytest.mark.parametrize("center,radius,norm,extra", [
    ([0, 0, 0, 0, 0], 0.03, "linf", dict(affine_maps=True)),
    ([0.1, -0.1, 0, 0.2, 0], 0.05, "l2", {}),
    ([0.2, 0.1, -0.1, 0.3, 0.1], 0.04, "linf", dict(exact_layers=3)),
])
def test_counts_equal_the_single_process_on_acas(acas, center, radius, norm, extra):
    single = acas.count(center, radius, norm, **extra)
    for budget in (0.002, 0.01):
        d = dist.count(acas, center, radius, norm, budget=budget, **extra)
        same_count(d, single)
        assert d.upper_bound == single.upper_bound
        assert d.open_tasks == 0 and d.tasks >= 1 and d.workers == 2


def test_counts_equal_the_cli(acas):
    theirs = json.loads(subprocess.run([str(BIN), "count", str(ACAS), "--center", "0,0,0,0,0", "--radius", "0.03", "--norm", "linf", "--json"], capture_output=True, text=True, check=True).stdout)
    ours = dist.count(acas, [0, 0, 0, 0, 0], 0.03, "linf", budget=0.005)
    assert ours.regions == theirs["regions"] and ours.exact == theirs["exact"]


def test_random_networks_in_2_to_6_dimensions():
    rng = np.random.default_rng(7)
    for trial in range(10):
        d = 2 + trial % 5
        net = random_net(rng, d, [int(rng.integers(4, 12)) for _ in range(1 + trial % 3)], leaky=trial % 4 == 3)
        c = rng.uniform(-1, 1, d)
        if trial % 2:
            single = net.count(lo=c - 0.4, hi=c + 0.3)
            ours = dist.count(net, lo=c - 0.4, hi=c + 0.3, budget=0.001, fan_out=3)
        else:
            single = net.count(c, 0.5, "l2")
            ours = dist.count(net, c, 0.5, "l2", budget=0.0, fan_out=5)
        same_count(ours, single)


def test_leaky_network_and_limits():
    net = rr.Network.load(LEAKY)
    single = net.count([0, 0], 1.0)
    same_count(dist.count(net, [0, 0], 1.0, budget=0.001), single)
    # A region limit gives the proven interval.
    part = dist.count(net, [0, 0], 1.0, budget=0.0, fan_out=2, max_regions=3)
    lo, hi = part.interval
    assert lo <= single.regions <= hi
    assert part.limited and not part.complete and not part.exact and part.open_tasks > 0
    # So does a time limit; no task runs past it by more than its first neuron.
    acas = rr.Network.load(ROOT / "data/networks/acasxu/ACASXU_run2a_1_1_batch_2000.nnet")
    timed = dist.count(acas, [0] * 5, 0.08, "linf", time_limit=0.5)
    assert timed.limited and not timed.complete and timed.open_tasks > 0
    assert timed.regions < 196_034 <= timed.upper_bound and timed.seconds < 5
    seen = []
    dist.count(net, [0, 0], 1.0, budget=0.0, progress=seen.append)
    assert seen and all(s["regions"] <= single.regions <= s["upper_bound"] for s in seen)
    assert seen[-1]["open"] == 0


def test_bad_arguments_raise_our_errors(acas):
    with pytest.raises(ValueError, match="radius"):
        dist.count(acas, [0] * 5, -1.0)
    with pytest.raises(ValueError, match="budget"):
        dist.count(acas, [0] * 5, 0.1, budget=float("nan"))
    with pytest.raises(ValueError, match="center"):
        dist.count(acas, [0] * 4, 0.1)
    with pytest.raises(ValueError, match="kind"):
        dist.map_points("area", acas, np.zeros((2, 5)))
    with pytest.raises(ValueError, match="radius"):
        dist.map_points("bound", acas, np.zeros((2, 5)))
    with pytest.raises(ValueError, match="unknown study option"):
        dist.study_sweep([dict(dataset="moons", colour="red")])


def test_map_points_equals_the_single_process(acas):
    x = np.random.default_rng(1).uniform(-0.4, 0.4, (257, 5))
    assert np.array_equal(dist.map_points("eval", acas, x, chunk=50), acas.eval(x))
    assert np.array_equal(dist.map_points("patterns", acas, x, chunk=64), acas.patterns(x))
    ours = dist.map_points("distance", acas, x, chunk=100, norm="linf")
    theirs = acas.distance(x, norm="linf")
    for key in ("distance", "nearest_layer", "nearest_neuron"):
        assert np.array_equal(ours.to_dict()[key], theirs.to_dict()[key]), key
    bounds = dist.map_points("bound", acas, x[:6], chunk=4, radius=0.05, norm="linf", samples=100)
    assert len(bounds) == 6
    for b, p in zip(bounds, x[:6]):
        assert b.local_bound == acas.bound(p, 0.05, "linf", samples=100).local_bound


def test_study_sweep_pools_as_the_replicated_study(tmp_path):
    out = tmp_path / "study"
    subprocess.run([str(BIN), "study", "--seeds", "2", "--epochs", "2", "--points", "10", "--radii", "0.1", "--out", str(out), "--quiet"], check=True, capture_output=True)
    theirs = json.loads((out / "summary.json").read_text())
    sweep = dist.study_sweep([dict(dataset="moons", epochs=2, points=10, radii=[0.1], seeds=2), dict(dataset="circles", epochs=2, points=10, radii=[0.1, 0.2], seeds=[3, 4])])
    assert len(sweep.studies) == 2
    ours = sweep.studies[0]
    assert ours["seeds"] == theirs["seeds"] == [0, 1]
    for finding in ("f1", "f2"):
        a, b = ours[finding], theirs[finding]["pooled"]
        assert a["verdict"] == b["verdict"] and a["statement"] == b["statement"]
        for x, y in zip(a["per_radius"], b["per_radius"]):
            assert x["effect"] == pytest.approx(y["effect"], nan_ok=True)
    assert sweep.studies[1]["seeds"] == [3, 4]
    rows = sweep.verdicts
    n = len(rows) if hasattr(rows, "iloc") else len(rows["study"])
    assert n == 2 + 1 + 2  # f1 once and f2 per radius, per study
