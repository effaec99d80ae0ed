"""RegionTracker against `relu-regions study`: the same networks (the study's own
checkpoints) at the same points (its points_<set>.csv) give the same findings, statistics
and wording; the frame holds every measurement; a PyTorch training loop can use it."""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import relu_regions as rr

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(os.environ.get("RELU_REGIONS_BIN", ROOT / "target/release/relu-regions"))


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("study")
    run = subprocess.run([str(BIN), "study", "--epochs", "3", "--points", "20", "--out", str(out), "--quiet"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return out, json.loads((out / "report.json").read_text())


def tracker_like(out, report):
    points = {s: np.loadtxt(out / f"points_{s}.csv", delimiter=",", comments="#", ndmin=2) for s in ["train", "test", "arbitrary"]}
    return rr.RegionTracker(points, report["config"]["radii"], lc_directions=report["lc_directions"], seed=report["config"]["seed"], ball_seconds=report["ball_budget"]["seconds"], ball_max_regions=report["ball_budget"]["max_regions"])


def test_findings_equal_the_studys(study):
    out, report = study
    tracker = tracker_like(out, report)
    checkpoints = sorted((out / "checkpoints").glob("epoch_*.safetensors"))
    assert len(checkpoints) == 4
    for epoch, path in enumerate(checkpoints):
        tracker.observe(rr.Network.load(path), epoch)
    assert len(tracker) == 4
    ours, theirs = tracker.findings(), report["findings"]
    for finding in ["f1", "f2"]:
        assert ours[finding]["holds"] == theirs[finding]["holds"]
        assert ours[finding]["verdict"] == theirs[finding]["verdict"]
        assert ours[finding]["statement"] == theirs[finding]["statement"]
    assert len(ours["f2"]["comparisons"]) == len(theirs["f2"]["comparisons"])
    for a, b in zip(ours["f2"]["comparisons"], theirs["f2"]["comparisons"]):
        assert (a["metric"], a["radius"], a["against"], a["epoch"]) == (b["metric"], b["radius"], b["against"], b["epoch"])
        assert a["test"] == pytest.approx(b["test"], rel=1e-12, abs=1e-12)
    for a, b in zip(ours["f1"]["sets"], theirs["f1"]["sets"]):
        assert a["wilcoxon_first_last"] == pytest.approx(b["wilcoxon_first_last"], rel=1e-12, abs=1e-12)


def test_frame_holds_every_measurement(study):
    out, report = study
    tracker = tracker_like(out, report)
    for epoch, path in enumerate(sorted((out / "checkpoints").glob("epoch_*.safetensors"))[:2]):
        tracker.observe(path, epoch, train_loss=0.5 - 0.1 * epoch)
    frame = tracker.frame()
    columns = frame if isinstance(frame, dict) else {c: frame[c].to_numpy() for c in frame.columns}
    radii = report["config"]["radii"]
    per_point = 1 + len(radii) * 6  # the distance, then six metrics per radius
    assert len(columns["value"]) == 2 * 3 * 20 * per_point
    assert set(columns["set"]) == {"train", "test", "arbitrary"}
    distance = columns["metric"] == "distance"
    assert np.all(np.isnan(columns["radius"][distance]))
    assert np.all(columns["value"][distance] > 0)
    balls = columns["metric"] == "ball_regions"
    # Moons' balls finish within the budget: exact counts, at least one region each.
    assert np.all(columns["value"][balls] >= 1)
    slices = columns["metric"] == "slice_regions"
    assert np.all(columns["value"][slices] >= 1)


def test_frame_is_a_dataframe_with_pandas_and_arrays_without(study, monkeypatch):
    out, report = study
    tracker = tracker_like(out, report)
    path = sorted((out / "checkpoints").glob("epoch_*.safetensors"))[0]
    tracker.observe(path, 0)
    pd = pytest.importorskip("pandas")
    frame = tracker.frame()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["epoch", "set", "point", "radius", "metric", "value"]
    monkeypatch.setitem(__import__("sys").modules, "pandas", None)
    columns = tracker.frame()
    assert isinstance(columns, dict)
    np.testing.assert_array_equal(columns["value"], frame["value"].to_numpy())


def test_bad_use_raises_value_errors():
    x = np.zeros((3, 2))
    with pytest.raises(ValueError, match="keys"):
        rr.RegionTracker({"train": x, "test": x}, [0.1])
    with pytest.raises(ValueError, match="values per point"):
        rr.RegionTracker({"train": x, "test": np.zeros((3, 4)), "arbitrary": x}, [0.1])
    with pytest.raises(ValueError, match="radius"):
        rr.RegionTracker({"train": x, "test": x, "arbitrary": x}, [-0.1])
    with pytest.raises(ValueError, match="metrics"):
        rr.RegionTracker({"train": x, "test": x, "arbitrary": x}, [0.1], metrics=["volume"])
    t = rr.RegionTracker({"train": x, "test": x, "arbitrary": x}, [0.1], metrics=["distance"])
    net = rr.Network.from_weights([(np.ones((3, 2)), np.zeros(3)), (np.ones((2, 3)), np.zeros(2))])
    with pytest.raises(ValueError, match="at least two"):
        t.findings()
    t.observe(net, 0)
    with pytest.raises(ValueError, match="epochs must increase"):
        t.observe(net, 0)
    with pytest.raises(ValueError, match="inputs"):
        t.observe(rr.Network.from_weights([(np.ones((3, 5)), np.zeros(3))]), 1)


def test_a_pytorch_training_loop():
    torch = pytest.importorskip("torch")
    g = torch.Generator().manual_seed(0)
    x = torch.randn(400, 2, generator=g)
    y = (x[:, 0] * x[:, 1] > 0).long()
    model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    tracker = rr.RegionTracker({"train": x[:20].numpy(), "test": x[300:320].numpy(), "arbitrary": 2 * torch.rand(20, 2, generator=g).numpy() - 1}, radii=[0.1])
    for epoch in range(4):
        for i in range(0, 300, 50):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x[i:i + 50]), y[i:i + 50])
            loss.backward()
            opt.step()
        tracker.observe(model, epoch, train_loss=loss.item())
    f = tracker.findings()
    assert f["f1"]["verdict"] in ("holds", "does_not_hold", "inconclusive")
    assert f["f1"]["statement"].startswith("F1")
