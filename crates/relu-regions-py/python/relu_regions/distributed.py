"""relu_regions on a Ray cluster: exact counts split into tasks, point maps, study sweeps.

Results equal the single process's: a count is the region tree of
:meth:`relu_regions.Network.count` cut into tasks (one node of the tree each: the
network's digest, the domain, the decided neurons and the node's proven bound). A worker
explores a task's subtree for at most ``budget`` seconds and returns what it found and
the nodes it left open, which become new tasks (dynamic scheduling: no straggler holds
the run longer than a budget). Outcomes merge by exact sums in a ledger that accepts one
outcome per task it handed out, so a task run twice (a worker killed and its task
retried) counts once, and nothing is lost: the count is complete exactly when no task is
open. While tasks are open, the answer is the proven interval ``[regions found, regions
found + the open tasks' bounds]`` (the CLI's ``count --emit-tasks/--run-task/--merge``
is the same mechanism on files, for batch schedulers).

The network goes to Ray's object store once per call (``ray.put``) and every task reads
it from there. Ray must be installed (``pip install ray``); when it is not initialised,
``ray.init()`` starts a local one, as Ray itself does on first use.
"""

from __future__ import annotations

import math
import os
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import numpy as np

from . import (
    ArrayLike,
    BoundResult,
    CountResult,
    DistanceResult,
    Network,
    PathLike,
    RegionsError,
    _Result,
    _domain,
    _native,
    _net,
    _norm,
    _points,
)

__all__ = ["count", "map_points", "study_sweep", "SweepResult"]


def _ray() -> Any:
    try:
        import ray
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("relu_regions.distributed needs Ray: pip install ray") from e
    if not ray.is_initialized():
        ray.init(log_to_driver=False)
    return ray


# The tasks: module-level functions, so that Ray ships them by reference (workers import
# relu_regions) and they stay cheap to submit.


# The networks a worker process has read from the object store, by object id (the
# driver passes the reference inside a list, so that Ray hands it over unresolved and a
# worker reads each network once, not once per task).
_NETWORKS: Dict[str, Network] = {}


def _network(ref: Any) -> Network:
    key = ref.hex()
    net = _NETWORKS.get(key)
    if net is None:
        import ray

        net = ray.get(ref)
        if len(_NETWORKS) >= 4:
            _NETWORKS.pop(next(iter(_NETWORKS)))
        _NETWORKS[key] = net
    return net


def _count_task(net_ref: List[Any], task: str, budget: Optional[float], emit_depth: Optional[int]) -> tuple:
    net = _network(net_ref[0])
    start = time.perf_counter()
    outcome = _native.run_count_task(net._native, task, budget, emit_depth, False)
    return outcome, os.getpid(), time.perf_counter() - start


def _map_chunk(kind: str, net: Network, points: np.ndarray, kwargs: Dict[str, Any]) -> Any:
    if kind == "eval":
        return net.eval(points)
    if kind == "patterns":
        return net.patterns(points)
    if kind == "distance":
        return net.distance(points, **kwargs).to_dict()
    if kind == "bound":
        return [net.bound(center=p, **kwargs).to_dict() for p in points]
    raise ValueError(f"kind must be 'eval', 'patterns', 'distance' or 'bound', not {kind!r}")


def _study_task(config: Dict[str, Any], seeds: List[int], threads: int) -> str:
    return _native.replicated_study(config, seeds, threads)


# The most levels of splits one task makes (2^6 = 64 tasks).
SPLIT_STAGE = 6


def _system_errors(ray: Any) -> tuple:
    """Ray's exceptions for lost work (a worker or node died, an object was lost), which
    a resubmission repairs; an exception raised by our own code is not among them."""
    ex = ray.exceptions
    names = ["WorkerCrashedError", "NodeDiedError", "ObjectLostError", "OwnerDiedError", "ActorDiedError", "LocalRayletDiedError", "ObjectReconstructionFailedError", "OutOfMemoryError"]
    return tuple(getattr(ex, n) for n in names if hasattr(ex, n))


def _task_error(ray: Any, e: Exception) -> Exception:
    """Our exception inside a RayTaskError, with its own message."""
    cause = getattr(e, "cause", None)
    if isinstance(cause, (ValueError, RegionsError)):
        return cause
    return RegionsError(str(e))


def count(
    net: Union[Network, PathLike],
    center: Optional[ArrayLike] = None,
    radius: Optional[float] = None,
    norm: str = "l2",
    *,
    lo: Optional[ArrayLike] = None,
    hi: Optional[ArrayLike] = None,
    budget: float = 1.0,
    fan_out: Optional[int] = None,
    time_limit: Optional[float] = None,
    max_regions: Optional[int] = None,
    exact_layers: Optional[int] = None,
    affine_maps: bool = False,
    progress: Union[bool, Callable[[Dict[str, Any]], None]] = False,
    max_attempts: int = 4,
    trace: Optional[List[Dict[str, Any]]] = None,
) -> CountResult:
    """The exact number of activation regions whose interior meets the ball
    ``B(center, radius)`` (``norm``) or the box ``[lo, hi]``, counted by Ray tasks; the
    same answer as :meth:`relu_regions.Network.count`.

    ``budget`` (seconds): the longest a task explores before it returns its open nodes
    as new tasks. ``fan_out``: how many tasks to keep in flight (default four per CPU of
    the cluster): the first task splits into about that many, and whenever fewer are in
    flight, the nodes a task left open at its budget split down a few levels of the tree
    before they explore. ``time_limit`` (seconds) and ``max_regions`` stop the count
    early: the answer is then the proven interval (``complete`` false). ``progress``:
    ``True`` prints the running interval to stderr every 2 s; a callable receives a dict
    (``regions``, ``upper_bound``, ``open``, ``merged``, ``seconds``, ``pids``) after
    every merged task. ``max_attempts``: how often a task whose worker died is run
    (by this driver; Ray's own retries are off) before the count fails. ``trace``: a list that receives one dict per merged task
    (``id``, ``parent``, ``seconds`` of work, ``submitted``/``finished`` on the driver's
    clock, ``merge_seconds`` the driver spent merging it, ``pid``, ``opened``, ``regions``), for scaling studies.

    The result has the fields of :meth:`relu_regions.Network.count` (``seconds`` is the
    wall time), plus ``tasks`` (outcomes merged), ``open_tasks``, ``resubmitted`` (tasks
    run again after a lost worker, by this driver; Ray also retries on its own) and
    ``workers`` (the cluster's CPUs).
    """
    net = _net(net)
    c, r, lo_v, hi_v = _domain(net, center, radius, lo, hi)
    if not (isinstance(budget, (int, float)) and math.isfinite(budget) and budget >= 0):
        raise ValueError(f"budget must be a number of seconds >= 0, not {budget!r}")
    if time_limit is not None and not (math.isfinite(float(time_limit)) and float(time_limit) >= 0):
        raise ValueError(f"time_limit must be a number of seconds >= 0, not {time_limit!r}")
    if max_regions is not None and int(max_regions) < 0:
        raise ValueError(f"max_regions must be >= 0, not {max_regions!r}")
    if int(max_attempts) < 1:
        raise ValueError("max_attempts must be at least 1")
    ray = _ray()
    workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
    fan_out = 4 * workers if fan_out is None else int(fan_out)
    if fan_out < 1:
        raise ValueError("fan_out must be at least 1")
    root = _native.count_root_task(net._native, c, r, _norm(norm), lo_v, hi_v, None if exact_layers is None else int(exact_layers), bool(affine_maps))
    ledger = _native.NativeCountLedger(net._native, root)
    # Lost tasks are resubmitted by the loop below (Ray's own retries are off, so that
    # `max_attempts` is the whole story and the resubmissions are counted).
    remote = ray.remote(num_cpus=1, max_retries=0)(_count_task)
    net_ref = ray.put(net)
    lost = _system_errors(ray)
    start = time.perf_counter()
    inflight: Dict[Any, tuple] = {}
    pids: set = set()
    resubmitted = 0

    def submit(task: str, attempts: int = 1, plan: int = 0) -> None:
        # `plan`: the levels of splits still to make below this task; a task makes at
        # most SPLIT_STAGE of them and leaves the rest to its children, so that no one
        # task splits into thousands.
        emit = min(plan, SPLIT_STAGE) if plan > 0 else None
        # No task runs past the time limit by more than its first neuron.
        left = float(budget)
        if time_limit is not None:
            left = max(0.0, min(left, float(time_limit) - (time.perf_counter() - start)))
        ref = remote.remote([net_ref], task, left, emit)
        inflight[ref] = (task, attempts, plan, time.perf_counter() - start)

    # The root's subtree goes down ceil(log2 fan_out) splits, in stages: about fan_out
    # tasks soon after the start.
    submit(root, plan=math.ceil(math.log2(fan_out)) if fan_out > 1 else 0)
    last_print = 0.0
    limited = False
    try:
        while inflight:
            refs = list(inflight)
            ready, _ = ray.wait(refs, num_returns=1, timeout=0.2)
            if ready:
                # Every outcome ready now, in one call (one wait per outcome would cost
                # quadratic time with many tasks in flight).
                ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
            for ref in ready:
                task, attempts, plan, submitted = inflight.pop(ref)
                try:
                    outcome, pid, seconds = ray.get(ref)
                except lost as e:
                    if attempts >= int(max_attempts):
                        raise RegionsError(f"a count task failed {attempts} times (its worker died): {e}") from None
                    resubmitted += 1
                    submit(task, attempts + 1, plan)
                    continue
                except ray.exceptions.RayTaskError as e:
                    raise _task_error(ray, e) from None
                merging = time.perf_counter()
                opened = ledger.merge(outcome)
                merge_seconds = time.perf_counter() - merging
                pids.add(pid)
                if trace is not None:
                    import json

                    o = json.loads(outcome)
                    tid = o["task"]
                    trace.append(dict(id=tid, parent=tid.rpartition(".")[0] or None, seconds=seconds, submitted=submitted, finished=time.perf_counter() - start, merge_seconds=merge_seconds, pid=pid, opened=len(opened), regions=o["regions"]))
                # Too few tasks to keep fan_out workers busy (the tail of the count): the
                # nodes a task left open at its budget (a large subtree) split down a few
                # levels before they explore. The nodes of a split do not split again
                # until they too run out of budget, so the tasks stay few.
                short = fan_out - len(inflight)
                rest = max(plan - SPLIT_STAGE, 0)
                if opened and plan == 0 and short > len(opened):
                    rest = max(1, math.ceil(math.log2(short / len(opened))))
                for child in opened:
                    submit(child, plan=rest)
            elapsed = time.perf_counter() - start
            if progress:
                lo_n, hi_n = ledger.interval()
                info = dict(regions=lo_n, upper_bound=hi_n, open=ledger.open_count, merged=ledger.merged, seconds=elapsed, pids=sorted(pids))
                if callable(progress):
                    progress(info)
                elif elapsed - last_print >= 2.0:
                    last_print = elapsed
                    print(f"relu_regions.distributed.count: {lo_n} regions, interval [{lo_n}, {hi_n}], {ledger.open_count} tasks open, {ledger.merged} merged, {elapsed:.1f} s", file=sys.stderr)
            over_time = time_limit is not None and elapsed >= float(time_limit)
            over_count = max_regions is not None and ledger.regions >= int(max_regions)
            if (over_time or over_count) and inflight:
                # The tasks still running stay open in the ledger: their bounds close the
                # interval.
                for ref in inflight:
                    ray.cancel(ref)
                inflight.clear()
                limited = True
    finally:
        # On an error (or Ctrl-C), the tasks still running are of no use.
        for ref in inflight:
            ray.cancel(ref)
    fields = ledger.result(time.perf_counter() - start)
    fields.update(tasks=ledger.merged, open_tasks=ledger.open_count, resubmitted=resubmitted, workers=workers, limited=limited)
    return CountResult(fields)


def map_points(
    kind: str,
    net: Union[Network, PathLike],
    points: ArrayLike,
    *,
    chunk: int = 10_000,
    **kwargs: Any,
) -> Any:
    """``kind`` over many points, in chunks of ``chunk`` rows run as Ray tasks, in
    order; the same answer as the single-process call.

    - ``"eval"``: outputs, ``(n, output_dim)``;
    - ``"patterns"``: activation patterns, bool ``(n, relu_count)``;
    - ``"distance"``: a :class:`relu_regions.DistanceResult` with arrays (``norm=`` as
      :meth:`relu_regions.Network.distance`);
    - ``"bound"``: one :class:`relu_regions.BoundResult` per point, centred there
      (``radius=``, ``norm=``, ``method=``, ``samples=``, ... as
      :meth:`relu_regions.Network.bound`).
    """
    if kind not in ("eval", "patterns", "distance", "bound"):
        raise ValueError(f"kind must be 'eval', 'patterns', 'distance' or 'bound', not {kind!r}")
    net = _net(net)
    x, single = _points(points, net.input_dim)
    if int(chunk) < 1:
        raise ValueError(f"chunk must be at least 1, not {chunk!r}")
    if kind == "bound" and "radius" not in kwargs:
        raise ValueError("map_points('bound', ...) needs radius= (input units)")
    ray = _ray()
    remote = ray.remote(num_cpus=1)(_map_chunk)
    net_ref = ray.put(net)
    refs = [remote.remote(kind, net_ref, x[i : i + int(chunk)], kwargs) for i in range(0, len(x), int(chunk))]
    try:
        parts = ray.get(refs)
    except ray.exceptions.RayTaskError as e:
        raise _task_error(ray, e) from None
    if kind in ("eval", "patterns"):
        out = np.concatenate(parts, axis=0) if parts else np.zeros((0, 0))
        return out[0] if single else out
    if kind == "distance":
        fields: Dict[str, Any] = {"norm": parts[0]["norm"]}
        for key in ("distance", "nearest_layer", "nearest_neuron", "nearest_point"):
            fields[key] = np.concatenate([p[key] for p in parts], axis=0)
        if single:
            fields = dict(norm=fields["norm"], distance=float(fields["distance"][0]), nearest_layer=int(fields["nearest_layer"][0]), nearest_neuron=int(fields["nearest_neuron"][0]), nearest_point=fields["nearest_point"][0])
        return DistanceResult(fields)
    results = [BoundResult(d) for p in parts for d in p]
    return results[0] if single else results


class SweepResult(_Result):
    """A study sweep (:func:`study_sweep`): ``studies``, one dict per configuration
    (``config``, and the replication of ``study --seeds``: ``seeds``, ``per_seed``,
    ``f1``, ``f2``, ``effects``, ``late_phase``, ``late_phase_statement``), and
    ``verdicts``, one row per configuration, finding and radius (``study``, ``finding``,
    ``radius``, ``metric``, ``effect``, ``ci_low``, ``ci_high``, ``p``, ``verdict``): a
    pandas DataFrame when pandas is installed, else a dict of lists."""


def study_sweep(
    configs: Sequence[Dict[str, Any]],
    *,
    threads_per_study: int = 1,
) -> SweepResult:
    """Runs replicated studies as Ray tasks, one per configuration, and pools each over
    its seeds exactly as ``relu-regions study --seeds N`` does (sign test and
    random-effects mean per finding, radius and metric).

    A configuration is a dict of the ``study`` command's options with ``_`` for ``-``:
    ``dataset`` (required: ``moons``, ``circles``, ``spirals``, ``blobs``, ``digits``,
    ``mnist``, ``csv:FILE``), ``arch``, ``init``, ``optimizer``, ``lr``, ``epochs``,
    ``batch``, ``points``, ``radii``, ``samples``, ``noise``, ``arbitrary_noise``,
    ``ball_seconds``, ``ball_max_regions``, ``ball_max_radius``, ``adversarial`` (``"linf:0.05:20"``),
    ``backdoor`` (a fraction), ``backdoor_target``; and ``seeds`` (a number N for seeds
    ``seed .. seed+N-1``, default 5, or a list) and ``seed`` (default 0). Each task asks
    Ray for ``threads_per_study`` CPUs and runs its seeds on that many threads.
    """
    import json

    if int(threads_per_study) < 1:
        raise ValueError("threads_per_study must be at least 1")
    jobs = []
    for i, config in enumerate(configs):
        if not isinstance(config, dict):
            raise ValueError(f"configuration {i} must be a dict, not {type(config).__name__}")
        cfg = dict(config)
        seeds = cfg.pop("seeds", 5)
        first = int(cfg.pop("seed", 0))
        if isinstance(seeds, int):
            if seeds < 1:
                raise ValueError(f"configuration {i}: seeds must be at least 1")
            seeds = list(range(first, first + seeds))
        seeds = [int(s) for s in seeds]
        jobs.append((config, cfg, seeds))
    ray = _ray()
    remote = ray.remote(num_cpus=int(threads_per_study))(_study_task)
    refs = [remote.remote(cfg, seeds, int(threads_per_study)) for _, cfg, seeds in jobs]
    try:
        outs = ray.get(refs)
    except ray.exceptions.RayTaskError as e:
        raise _task_error(ray, e) from None
    studies = []
    rows: Dict[str, List[Any]] = {k: [] for k in ("study", "finding", "radius", "metric", "effect", "ci_low", "ci_high", "p", "verdict")}
    for i, ((config, _, _), out) in enumerate(zip(jobs, outs)):
        replication = json.loads(out)
        studies.append(dict(config=config, **replication))
        for finding in ("f1", "f2"):
            for v in replication[finding]["per_radius"]:
                rows["study"].append(i)
                rows["finding"].append(finding)
                rows["radius"].append(v["radius"])
                rows["metric"].append(v["metric"])
                rows["effect"].append(v["effect"])
                rows["ci_low"].append(v["ci95"][0])
                rows["ci_high"].append(v["ci95"][1])
                rows["p"].append(v["p"])
                rows["verdict"].append(v["verdict"])
    verdicts: Any = rows
    try:
        import pandas as pd

        verdicts = pd.DataFrame(rows)
    except ImportError:
        pass
    return SweepResult(dict(studies=studies, verdicts=verdicts))
