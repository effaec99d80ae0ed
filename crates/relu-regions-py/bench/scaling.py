"""Scaling of relu_regions.distributed.count: measured on this machine with 1 and 2 Ray
workers, then simulated on 10, 100 and 1 000 workers.

    python crates/relu-regions-py/bench/scaling.py [--out docs/distributed_scaling]

Measures (ACAS Xu 1_1, L-inf balls at the origin, one thread per worker):

Efficiencies are against the serial count in one process (``T0 / (N T_N)``), so every
cost of the tasks counts against them.

1. the serial time ``T0`` of the same count (``relu-regions count`` with
   ``RAYON_NUM_THREADS=1``), and the distributed count with 1 worker (``T1``) and
   2 workers (``T2``) at the default budget (1 s): the speed-up ``T1 / T2`` and the
   overhead ``(T1 - T0) / T1`` (scheduling, transfer, merging, and the setup each task
   repeats: the root's CROWN bounds, the frozen maps, the bounds of the nodes it leaves
   open);
2. the task times of a count of 10^6 regions (the trace), run here as the driver would
   run it on N workers (``fan_out = 4 N`` tasks in flight, the default budget), whose
   tree of tasks (each task's work and the tasks it opened) feeds a discrete-event
   simulation of N workers. The simulation models each task as its measured work plus
   the measured per-task overhead, and the driver as one server that merges outcomes
   one at a time (each taking its measured merge time) before their children can
   start. It is checked against the measured runs with 1 and 2 workers.

Writes OUT.json (every number), OUT.png (the predicted efficiency, labelled as a
simulation, and the distribution of task times) and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import statistics
import subprocess
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
ACAS = ROOT / "data/networks/acasxu/ACASXU_run2a_1_1_batch_2000.nnet"
BIN = Path(os.environ.get("RELU_REGIONS_BIN", ROOT / "target/release/relu-regions"))


def serial_seconds(radius: float) -> tuple:
    env = dict(os.environ, RAYON_NUM_THREADS="1")
    out = subprocess.run([str(BIN), "count", str(ACAS), "--center", "0,0,0,0,0", "--radius", str(radius), "--norm", "linf", "--json", "--quiet"], capture_output=True, text=True, check=True, env=env)
    d = json.loads(out.stdout)
    return d["seconds"], d["regions"]


def ray_count(ray, dist, net, workers: int, radius: float, **kwargs):
    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    # Warm the workers up (process start, imports) outside the timed count.
    dist.count(net, [0] * 5, 0.01, "linf", budget=1.0)
    trace: list = []
    start = time.perf_counter()
    result = dist.count(net, [0] * 5, radius, "linf", trace=trace, **kwargs)
    return time.perf_counter() - start, result, trace


def simulate(trace: list, workers: int, overhead: float) -> float:
    """The makespan of the trace's task tree on `workers` workers (see the module docs)."""
    by_id = {t["id"]: t for t in trace}
    children: dict = {}
    for t in trace:
        if t["parent"] is not None and t["parent"] in by_id:
            children.setdefault(t["parent"], []).append(t["id"])
    roots = [t["id"] for t in trace if t["parent"] is None or t["parent"] not in by_id]
    ready = list(roots)  # FIFO of tasks ready to run
    free = [0.0] * workers  # heap of the times workers become free
    heapq.heapify(free)
    done: list = []  # heap of (finish time, id): outcomes on their way to the driver
    driver = 0.0  # when the driver is free
    clock = 0.0
    end = 0.0
    pending = len(trace)
    while pending:
        # Start every ready task on the earliest free worker.
        while ready:
            tid = ready.pop(0)
            t0 = max(heapq.heappop(free), clock)
            t1 = t0 + by_id[tid]["seconds"] + overhead
            heapq.heappush(free, t1)
            heapq.heappush(done, (t1, tid))
        t1, tid = heapq.heappop(done)
        driver = max(driver, t1) + by_id[tid]["merge_seconds"]
        clock = driver
        end = max(end, driver)
        pending -= 1
        ready.extend(children.get(tid, []))
    return end


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--radius", type=float, default=0.08, help="L-inf radius of the measured count (about 2e5 regions)")
    ap.add_argument("--radius-large", type=float, default=0.11, help="L-inf radius of the traced count (about 1e6 regions)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--budget", type=float, default=1.0, help="the task budget (count's default: 1 s)")
    ap.add_argument("--simulate", type=int, nargs="+", default=[10, 100, 1000], help="worker counts to simulate")
    ap.add_argument("--out", default=str(ROOT / "docs/distributed_scaling"))
    args = ap.parse_args()
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    import ray

    import relu_regions as rr
    from relu_regions import distributed as dist

    net = rr.Network.load(ACAS)
    t0s = [serial_seconds(args.radius) for _ in range(args.repeats)]
    t0, regions = statistics.median(s for s, _ in t0s), t0s[0][1]
    measured = {}
    traces = {}
    for workers in (1, 2):
        runs = [ray_count(ray, dist, net, workers, args.radius, budget=args.budget) for _ in range(args.repeats)]
        for _, r, _ in runs:
            assert r.regions == regions and r.exact, (r.regions, regions)
        wall = statistics.median(w for w, _, _ in runs)
        tr = runs[0][2]
        measured[workers] = dict(seconds=wall, tasks=runs[0][1].tasks, work=sum(t["seconds"] for t in tr))
        traces[workers] = tr
    t1, t2 = measured[1]["seconds"], measured[2]["seconds"]
    per_task = (t1 - measured[1]["work"]) / measured[1]["tasks"]
    overhead = dict(
        total_fraction=(t1 - t0) / t1,
        scheduling_fraction=(t1 - measured[1]["work"]) / t1,
        setup_fraction=(measured[1]["work"] - t0) / t1,
        per_task_seconds=per_task,
        mean_task_seconds=measured[1]["work"] / measured[1]["tasks"],
    )
    # The traced count of about 10^6 regions, on the 2 workers here, with a fan-out
    # meant for 1 000 workers.
    t0_large, regions_large = serial_seconds(args.radius_large)
    sim_overhead = max(per_task, 0.0)
    check = {n: simulate(traces[n], n, sim_overhead) for n in (1, 2)}
    traced = {}
    for n in args.simulate:
        # The driver's decomposition for n workers: fan_out = 4 n tasks in flight.
        wall_large, large, trace = ray_count(ray, dist, net, 2, args.radius_large, budget=args.budget, fan_out=4 * n)
        assert large.exact and large.regions == regions_large
        makespan = simulate(trace, n, sim_overhead)
        times = np.array([t["seconds"] for t in trace])
        traced[n] = dict(
            workers=n,
            fan_out=4 * n,
            tasks=len(trace),
            work_seconds=sum(t["seconds"] for t in trace),
            measured_2=wall_large,
            simulated_2_check=simulate(trace, 2, sim_overhead),
            root_seconds=next(t["seconds"] for t in trace if t["parent"] is None),
            task_seconds_quantiles={str(q): float(np.quantile(times, q)) for q in (0.1, 0.5, 0.9, 0.99, 1.0)},
            seconds=makespan,
            speedup=t0_large / makespan,
            efficiency=t0_large / (n * makespan),
            times=times,
        )
    ray.shutdown()
    result = dict(
        network=ACAS.name,
        measured=dict(radius=args.radius, regions=regions, serial_seconds=t0, workers=measured, speedup_2_over_1=t1 / t2, overhead=overhead),
        model_check=dict(simulated_1=check[1], measured_1=t1, simulated_2=check[2], measured_2=t2),
        traced=dict(radius=args.radius_large, regions=regions_large, serial_seconds=t0_large, budget=args.budget, runs=[{k: v for k, v in t.items() if k != "times"} for t in traced.values()]),
        command="python crates/relu-regions-py/bench/scaling.py",
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
        ns = sorted(traced)
        a.plot(ns, [traced[n]["efficiency"] for n in ns], "o-", label=f"simulated ({regions_large:,} regions)")
        a.plot([1, 2], [t0 / t1, t0 / (2 * t2)], "s", label=f"measured here ({regions:,} regions)")
        for n in ns:
            b.hist(traced[n]["times"], bins=np.logspace(-4, 0.1, 40), alpha=0.5, label=f"fan-out {4 * n}: {traced[n]['tasks']} tasks")
        a.set_xscale("log")
        a.set_ylim(0, 1.05)
        a.set_xlabel("workers")
        a.set_ylabel("efficiency against one process")
        a.set_title("SIMULATION (discrete-event): ACAS Xu count")
        a.legend(fontsize=8)
        b.set_xscale("log")
        b.set_xlabel("task time (s, measured)")
        b.set_ylabel("tasks")
        b.set_title(f"task times of the traced counts (budget {args.budget} s)")
        b.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out.with_suffix(".png"), dpi=110)
    except ImportError:
        pass
    print(f"measured on {regions:,} regions: serial {t0:.2f} s, 1 worker {t1:.2f} s, 2 workers {t2:.2f} s, speed-up {t1 / t2:.2f}x, overhead {100 * overhead['total_fraction']:.1f}% ({1000 * per_task:.2f} ms per task)")
    print(f"model check: 1 worker simulated {check[1]:.2f} s vs measured {t1:.2f} s; 2 workers {check[2]:.2f} vs {t2:.2f}")
    print()
    print(f"SIMULATION of the count of {regions_large:,} regions (serial {t0_large:.1f} s), budget {args.budget} s, fan-out 4 per worker:")
    print("| workers | tasks | predicted time (s) | speed-up | efficiency | model check: 2 workers simulated / measured (s) |")
    print("|---|---|---|---|---|---|")
    for n, t in sorted(traced.items()):
        print(f"| {n} | {t['tasks']} | {t['seconds']:.2f} | {t['speedup']:.1f} | {100 * t['efficiency']:.0f}% | {t['simulated_2_check']:.1f} / {t['measured_2']:.1f} |")


if __name__ == "__main__":
    main()
