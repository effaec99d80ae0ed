"""relu_regions.distributed.count on a two-node Ray cluster on this machine (`ray start
--head` and a second `ray start --address` on loopback, one CPU each): ACAS Xu balls of
more than 10^5 regions count exactly as in one process, also when a worker is killed
(SIGKILL) in the middle of a task. Skipped where Ray is not installed, except when
RELU_REGIONS_REQUIRE_RAY=1 (CI)."""

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import relu_regions as rr

if os.environ.get("RELU_REGIONS_REQUIRE_RAY") == "1":
    import ray  # noqa: F401
ray = pytest.importorskip("ray")
from relu_regions import distributed as dist  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
ACAS = ROOT / "data/networks/acasxu/ACASXU_run2a_1_1_batch_2000.nnet"
PORT = int(os.environ.get("RELU_REGIONS_RAY_PORT", "6391"))


def ray_cli():
    exe = Path(sys.executable).with_name("ray")
    return str(exe) if exe.exists() else shutil.which("ray")


@pytest.fixture(scope="module")
def cluster():
    env = dict(os.environ, RAY_AUTH_MODE="disabled")
    os.environ["RAY_AUTH_MODE"] = "disabled"
    if ray.is_initialized():
        ray.shutdown()
    exe = ray_cli()
    common = ["--node-ip-address=127.0.0.1", "--num-cpus=1", "--disable-usage-stats"]
    subprocess.run([exe, "start", "--head", f"--port={PORT}", "--include-dashboard=false", *common], check=True, env=env, capture_output=True)
    try:
        subprocess.run([exe, "start", f"--address=127.0.0.1:{PORT}", *common], check=True, env=env, capture_output=True)
        ray.init(address=f"127.0.0.1:{PORT}", log_to_driver=False)
        deadline = time.time() + 60
        while sum(n["Alive"] for n in ray.nodes()) < 2 and time.time() < deadline:
            time.sleep(0.5)
        yield
    finally:
        ray.shutdown()
        subprocess.run([exe, "stop", "--force"], env=env, capture_output=True)


@pytest.fixture(scope="module")
def acas():
    return rr.Network.load(ACAS)


@pytest.fixture(scope="module")
def single(acas):
    result = acas.count([0] * 5, 0.08, "linf")
    assert result.exact and result.regions >= 100_000
    return result


def test_two_nodes_count_exactly(cluster, acas, single):
    alive = [n for n in ray.nodes() if n["Alive"]]
    assert len(alive) == 2 and all(n["Resources"].get("CPU") == 1 for n in alive)
    ours = dist.count(acas, [0] * 5, 0.08, "linf", budget=0.25)
    assert ours.workers == 2
    assert ours.regions == single.regions and ours.exact and ours.open_tasks == 0


def count_task_pids():
    pids = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if f.read().startswith(b"ray::_count_task"):
                        pids.append(int(pid))
            except OSError:
                pass
    return pids


def test_a_killed_worker_loses_nothing_and_counts_nothing_twice(cluster, acas, single):
    killed = []
    done = threading.Event()

    def killer():
        # Waits until a worker is running a count task, lets it work a little, kills it.
        while not done.is_set() and not killed:
            pids = count_task_pids()
            if pids:
                time.sleep(0.1)
                if pids[0] in count_task_pids():
                    os.kill(pids[0], signal.SIGKILL)
                    killed.append(pids[0])
            time.sleep(0.02)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    try:
        ours = dist.count(acas, [0] * 5, 0.08, "linf", budget=0.3)
    finally:
        done.set()
        thread.join()
    assert killed, "no worker was running a count task to kill"
    # The killed worker's task ran again (by the driver: Ray's own retries are off).
    assert ours.resubmitted >= 1
    assert ours.regions == single.regions and ours.exact and ours.open_tasks == 0
