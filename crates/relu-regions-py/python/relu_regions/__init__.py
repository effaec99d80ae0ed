"""relu_regions: the local geometry of ReLU networks, from Python.

Around an input ``x``, inside a ball ``B(x, r)`` (L2 or L-inf) or a box: how many
activation regions there are (exact counts and proven upper bounds), how far ``x`` is
from the boundary of its region, and the exact pieces along a segment or in a 2-D slice.
numpy arrays in and out; the work runs in Rust with the GIL released, on all cores.

Conventions (as in the command-line tool ``relu-regions`` and its ``docs/math.md``):

- A network is affine layers with ReLU between them (and optionally on the output);
  inputs are in the model's own units (whatever its first layer reads; a folded input
  normalisation is part of the network).
- A point is a 1-D array of ``input_dim`` float64 values; many points are a 2-D array,
  one point per row. Functions given one point return one result row.
- Distances and radii are in input units, in the L2 norm (``"l2"``) or the L-inf norm
  (``"linf"``).
- An activation pattern is a bool per ReLU neuron, ``True`` where the pre-activation is
  positive, neurons in network order (layer by layer).
- Counts follow the certified semantics (docs/math.md §5.2): a region counts when a point
  of it is certified by a forward pass with a rounding-error bound; what is neither
  certified nor proven absent is ``uncertain`` and the answer is then an interval.

Errors: bad arguments raise ``ValueError`` (naming the argument), a missing model file
``FileNotFoundError``, and a failed analysis ``RegionsError``, with the CLI's message.
"""

from __future__ import annotations

import math
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _native
from ._native import RegionsError

__all__ = [
    "Network",
    "RegionTracker",
    "RegionsError",
    "CountResult",
    "BoundResult",
    "DistanceResult",
    "LineResult",
    "SliceResult",
    "eval",
    "patterns",
    "distance",
    "bound",
    "count",
    "line",
    "slice",
]

ArrayLike = Union[np.ndarray, Sequence[float], Sequence[Sequence[float]]]
PathLike = Union[str, "os.PathLike[str]"]


def _points(points: ArrayLike, dim: int, name: str = "points") -> Tuple[np.ndarray, bool]:
    """``points`` as a C-contiguous float64 ``(n, dim)`` array, and whether one point
    (a 1-D array) was given."""
    x = np.asarray(points, dtype=np.float64)
    single = x.ndim == 1
    if single:
        x = x[None, :]
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 1-D point or a 2-D array of points, one per row; got {x.ndim} dimensions")
    if x.shape[1] != dim:
        raise ValueError(f"{name} must have {dim} values per point (the network's input), got {x.shape[1]}")
    if not np.all(np.isfinite(x)):
        i, j = np.argwhere(~np.isfinite(x))[0]
        raise ValueError(f"{name}: value {x[i, j]} at point {i}, coordinate {j} is not finite")
    return np.ascontiguousarray(x), single


def _vector(v: ArrayLike, dim: int, name: str) -> List[float]:
    x = np.asarray(v, dtype=np.float64)
    if x.ndim != 1 or x.shape[0] != dim:
        raise ValueError(f"{name} must be one point of {dim} values (the network's input), got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} has a value that is not finite")
    return [float(t) for t in x]


def _radius(radius: float, name: str = "radius") -> float:
    r = float(radius)
    if not math.isfinite(r) or r <= 0.0:
        raise ValueError(f"{name} must be a finite number > 0, not {radius!r}")
    return r


def _norm(norm: str) -> str:
    n = str(norm).lower().replace("-", "").replace("_", "")
    if n in ("l2", "2"):
        return "l2"
    if n in ("linf", "inf", "infinity"):
        return "linf"
    raise ValueError(f"norm must be 'l2' or 'linf', not {norm!r}")


def _domain(net: "Network", center: Optional[ArrayLike], radius: Optional[float], lo: Optional[ArrayLike], hi: Optional[ArrayLike]) -> Tuple[Any, Any, Any, Any]:
    d = net.input_dim
    if lo is not None or hi is not None:
        if center is not None or radius is not None:
            raise ValueError("give either center and radius (a ball) or lo and hi (a box), not both")
        if lo is None or hi is None:
            raise ValueError("a box needs both lo and hi")
        lo_v, hi_v = _vector(lo, d, "lo"), _vector(hi, d, "hi")
        bad = [j for j in range(d) if not lo_v[j] < hi_v[j]]
        if bad:
            raise ValueError(f"the box needs lo < hi in every coordinate; not in coordinate {bad[0]}")
        return None, None, lo_v, hi_v
    if center is None or radius is None:
        raise ValueError("give center and radius (a ball) or lo and hi (a box)")
    return _vector(center, d, "center"), _radius(radius), None, None


class _Result:
    """Fields as attributes (the CLI's JSON keys); ``to_dict()`` gives them back."""

    _fields: Dict[str, Any]

    def __init__(self, fields: Dict[str, Any]):
        object.__setattr__(self, "_fields", dict(fields))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._fields[name]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no field {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def to_dict(self) -> Dict[str, Any]:
        """The fields, as the CLI's ``--json`` prints them (arrays as numpy arrays)."""
        return dict(self._fields)

    def __dir__(self) -> List[str]:
        return sorted(set(super().__dir__()) | set(self._fields))

    def __repr__(self) -> str:
        shown = {k: v for k, v in self._fields.items() if not isinstance(v, (np.ndarray, list))}
        inner = ", ".join(f"{k}={v!r}" for k, v in shown.items())
        return f"{type(self).__name__}({inner})"


class CountResult(_Result):
    """An exact count (``relu-regions count``).

    ``regions``: activation regions whose interior meets the domain, each certified
    (of the first k layers with ``exact_layers=k``). ``complete``: the search ran to the
    end. ``exact``: ``regions`` is the count (complete, every layer, nothing uncertain).
    ``interval``: ``(regions, upper_bound)``, the proven bracket of the true count.
    ``uncertain``: sides neither certified nor proven empty (docs/math.md §5.2).
    ``degenerate``: neurons decided by an exactly proportional twin. ``upper_bound``:
    a proven upper bound (a Python int, possibly beyond 2^128). ``seconds``: wall time.
    With ``regions_out=True``: ``patterns`` (bool, one row per region),
    ``interior_points`` (one certified interior point per region, input units) and
    ``inner_radius`` (each point's exact L2 distance to its region's boundary).
    """

    @property
    def interval(self) -> Tuple[int, int]:
        return (self.regions, self.upper_bound)


class BoundResult(_Result):
    """Bounds on the regions meeting a domain (``relu-regions bound``): the proven
    ``local_bound`` (an int) and its ``local_bound_log2``, the sampled ``lower_bound``
    (distinct patterns among ``samples`` uniform samples), the global bounds for
    comparison, per-layer neuron counts (``unstable_per_layer``, ``active_per_layer``,
    ``inactive_per_layer``) and the LC proxy (``lc_per_layer``); for a ball also the
    ``certified_radius`` (largest radius the method proves one region at, input units)
    and the ``exact_distance`` from the centre to its region's boundary."""


class LineResult(_Result):
    """The exact pieces along a segment (``relu-regions line``): ``regions`` crossed,
    ``pieces`` (distinct affine maps), ``segment_pieces`` (distinct slopes along it),
    ``piece_bounds`` (``(k, 2)``: each region's ``[t0, t1]``, the segment being
    ``a + t (b - a)``), ``crossings`` (the ``t`` of each boundary), ``length`` (L2, input
    units), ``unverified`` and ``exact``."""


class DistanceResult(_Result):
    """Exact distances to the region boundary (``relu-regions distance``): ``distance``
    (input units, ``inf`` for a region that is the whole space), ``nearest_layer`` and
    ``nearest_neuron`` of a nearest hyperplane (-1 when none), ``nearest_point`` (a closest
    boundary point, NaN when none), ``norm``. For one point the fields are scalars and
    a 1-D point."""


class SliceResult(_Result):
    """The exact activation regions of a 2-D slice ``{c + a u + b v}`` (``relu-regions
    slice``): ``regions``, ``pieces``, ``polygons`` (one ``(m, 2)`` array of ``(a, b)``
    vertices per region), ``areas``, ``patterns``, ``argmax_at_interior`` (the predicted
    class in each region), ``uncertain``/``exact`` (docs/math.md §5.2), ``shape_area``,
    ``area_total``."""

    def plot(self, ax: Any = None, *, color_by: str = "argmax", edgecolor: str = "black", linewidth: float = 0.3, cmap: str = "tab10") -> Any:
        """Draws the regions with matplotlib (``pip install matplotlib``) on ``ax`` (a new
        figure's axes when ``None``), coloured by predicted class (``color_by="argmax"``)
        or one colour per region (``"region"``); returns the axes."""
        try:
            import matplotlib.pyplot as plt
            from matplotlib.collections import PolyCollection
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("SliceResult.plot needs matplotlib: pip install matplotlib") from e
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 6))
        if color_by == "argmax":
            values = np.asarray(self.argmax_at_interior, dtype=float)
        elif color_by == "region":
            values = np.arange(len(self.polygons), dtype=float) % 20
        else:
            raise ValueError(f"color_by must be 'argmax' or 'region', not {color_by!r}")
        collection = PolyCollection(self.polygons, array=values, cmap=cmap, edgecolors=edgecolor, linewidths=linewidth)
        ax.add_collection(collection)
        ax.autoscale_view()
        ax.set_aspect("equal")
        ax.set_xlabel("a (along u)")
        ax.set_ylabel("b (along v)")
        ax.set_title(f"{self.regions} activation regions")
        return ax


class Network:
    """A ReLU network in float64: affine layers, ReLU between them (and on the output
    when ``output_relu``).

    Build one with :meth:`load` (ONNX, ``.nnet``, safetensors: every format the CLI
    reads), :meth:`from_weights`, or :meth:`from_torch`.
    """

    def __init__(self, native: "_native.NativeNetwork"):
        self._native = native

    @staticmethod
    def load(path: PathLike, activation: Optional[str] = None) -> "Network":
        """Loads a model file (``.onnx``, ``.nnet``, ``.safetensors``), as the CLI does.

        ``activation``: for a ``.safetensors`` checkpoint (weights only), the activation
        after every layer but the last, ``"relu"`` (assumed when absent) or
        ``"leaky_relu:ALPHA"`` (``nn.LeakyReLU(negative_slope=ALPHA)``, ALPHA in
        [0, 1]); the CLI's ``--activation``. ONNX files name their own activations."""
        return Network(_native.NativeNetwork.load(os.fspath(path), activation))

    @staticmethod
    def from_weights(
        layers: Sequence[Tuple[ArrayLike, ArrayLike]],
        output_relu: bool = False,
        negative_slope: Union[float, Sequence[ArrayLike]] = 0.0,
    ) -> "Network":
        """A network from ``[(W_1, b_1), (W_2, b_2), ...]``, ``W_l`` of shape
        ``(out, in)`` (PyTorch's ``Linear.weight`` layout), ``b_l`` of length ``out``.
        ReLU follows every layer but the last (and the last too with ``output_relu``);
        with ``negative_slope`` = alpha in (0, 1], a leaky ReLU (``z`` for ``z > 0``,
        ``alpha z`` otherwise), whose activation regions are ReLU's; or one entry per
        activated layer, each a number or one slope per neuron (PReLU), as
        :meth:`negative_slopes` returns them."""
        if len(layers) == 0:
            raise ValueError("layers must hold at least one (W, b) pair")
        weights, biases = [], []
        for k, pair in enumerate(layers):
            try:
                w, b = pair
            except (TypeError, ValueError):
                raise ValueError(f"layers[{k}] must be a pair (W, b)") from None
            w = np.ascontiguousarray(np.asarray(w, dtype=np.float64))
            b = np.ascontiguousarray(np.asarray(b, dtype=np.float64))
            if w.ndim != 2:
                raise ValueError(f"layers[{k}]: W must be 2-D (out, in), got shape {w.shape}")
            if b.ndim != 1 or b.shape[0] != w.shape[0]:
                raise ValueError(f"layers[{k}]: b must have {w.shape[0]} values (W's rows), got shape {b.shape}")
            if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
                raise ValueError(f"layers[{k}]: weights and biases must be finite")
            weights.append(w)
            biases.append(b)
        activated = len(weights) if output_relu else len(weights) - 1
        if np.isscalar(negative_slope):
            per_layer: List[Any] = [negative_slope] * activated
        else:
            per_layer = list(negative_slope)  # type: ignore[arg-type]
            if len(per_layer) != activated:
                raise ValueError(f"negative_slope: {len(per_layer)} entries for {activated} activated layers")
        slopes = []
        for k, s in enumerate(per_layer):
            width = weights[k].shape[0]
            a = np.asarray(s, dtype=np.float64)
            if a.ndim == 0:
                a = np.full(width, float(a))
            if a.shape != (width,):
                raise ValueError(f"negative_slope[{k}]: expected a number or {width} slopes, got shape {a.shape}")
            slopes.append([float(v) for v in a])
        if all(not any(s) for s in slopes):
            slopes = []
        return Network(_native.NativeNetwork.from_weights(weights, biases, bool(output_relu), slopes))

    @staticmethod
    def from_torch(module: Any, input_shape: Sequence[int]) -> "Network":
        """The network of a PyTorch module, through ``torch.onnx.export`` to memory with
        the installed torch's default exporter (the dynamo exporter from torch 2.9 on;
        it needs the ``onnx`` and ``onnxscript`` packages), then the same ONNX loader as
        :meth:`load`.

        ``module``: an ``nn.Sequential`` or any module made of ``Linear``, ``Conv2d``,
        ``BatchNorm1d``/``BatchNorm2d`` (taken in eval mode: their running statistics),
        ``Flatten``, ``ReLU`` (or ``LeakyReLU``, ``PReLU`` with slopes in [0, 1]),
        ``AvgPool2d`` and an input normalisation (subtracting a constant and
        dividing by one). ``input_shape``: one input's shape without the batch
        dimension, e.g. ``(1, 28, 28)``; the network's input is that tensor flattened in
        row-major order (``x.reshape(-1)``). The module is exported in eval mode and
        left in the mode it was in.
        """
        import io

        try:
            import torch
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("Network.from_torch needs PyTorch: pip install torch") from e
        shape = tuple(int(s) for s in input_shape)
        if not shape or any(s <= 0 for s in shape):
            raise ValueError(f"input_shape must be one input's shape without the batch dimension, e.g. (1, 28, 28); got {input_shape!r}")
        example = torch.zeros((1, *shape), dtype=torch.float32)
        training = module.training
        module.eval()
        try:
            with torch.no_grad():
                program = torch.onnx.export(module, (example,))
            if program is not None and hasattr(program, "model_proto"):
                data = program.model_proto.SerializeToString()
            else:
                buffer = io.BytesIO()
                with torch.no_grad():
                    torch.onnx.export(module, (example,), buffer)
                data = buffer.getvalue()
        finally:
            module.train(training)
        return Network(_native.NativeNetwork.load_onnx_bytes(data, f"<torch {type(module).__name__}>"))

    @property
    def input_dim(self) -> int:
        """Number of input values."""
        return self._native.input_dim

    @property
    def output_dim(self) -> int:
        """Number of outputs."""
        return self._native.output_dim

    @property
    def relu_count(self) -> int:
        """Number of ReLU neurons (the length of an activation pattern)."""
        return self._native.relu_count

    def weights(self) -> List[Tuple[np.ndarray, np.ndarray]]:
        """``[(W_l, b_l), ...]`` as float64 arrays (``W_l`` of shape ``(out, in)``)."""
        return self._native.weights()

    def negative_slopes(self) -> List[np.ndarray]:
        """The negative slope of every neuron of every activated layer (zeros for ReLU,
        alpha for a leaky ReLU): ``Network.from_weights(net.weights(),
        net.inspect()["output_relu"], net.negative_slopes())`` rebuilds the network."""
        return self._native.negative_slopes()

    def inspect(self) -> Dict[str, Any]:
        """What ``relu-regions inspect --json`` prints: format, input name and shape,
        layer widths, ReLU widths, ``relus``, ``activations`` (``relu``,
        ``leaky_relu:ALPHA`` or ``prelu:MIN..MAX`` per layer), ``params``, ``output_relu``, what was
        folded at load time and what was assumed."""
        return self._native.inspect()

    def __repr__(self) -> str:
        info = self.inspect()
        widths = [info["input_dim"], *info["layer_widths"]]
        return f"Network({'-'.join(map(str, widths))}, {info['relus']} ReLUs, format={info['format']!r})"

    def eval(self, points: ArrayLike) -> np.ndarray:
        """Outputs at ``points`` (one per row; a 1-D point gives a 1-D output)."""
        x, single = _points(points, self.input_dim)
        out = self._native.eval(x)
        return out[0] if single else out

    def patterns(self, points: ArrayLike) -> np.ndarray:
        """Activation patterns at ``points``: bool, ``True`` where ``z > 0``, one column
        per ReLU neuron in network order."""
        x, single = _points(points, self.input_dim)
        out = self._native.patterns(x)
        return out[0] if single else out

    def distance(self, points: ArrayLike, norm: str = "l2") -> DistanceResult:
        """The exact distance (input units, in ``norm``) from each point to the boundary
        of its activation region: the open ball of that radius keeps the point's pattern,
        and ``nearest_point`` lies on the boundary (docs/math.md §6)."""
        x, single = _points(points, self.input_dim)
        n = _norm(norm)
        dist, layer, neuron, nearest = self._native.distance(x, n)
        if single:
            return DistanceResult(dict(norm=n, distance=float(dist[0]), nearest_layer=int(layer[0]), nearest_neuron=int(neuron[0]), nearest_point=nearest[0]))
        return DistanceResult(dict(norm=n, distance=dist, nearest_layer=layer, nearest_neuron=neuron, nearest_point=nearest))

    def bound(self, center: Optional[ArrayLike] = None, radius: Optional[float] = None, norm: str = "l2", *, lo: Optional[ArrayLike] = None, hi: Optional[ArrayLike] = None, method: str = "crown", samples: int = 10_000, lc_directions: int = 16, seed: int = 0) -> BoundResult:
        """A proven upper bound on the regions meeting the ball ``B(center, radius)``
        (``norm``) or the box ``[lo, hi]``, with a sampled lower bound (docs/math.md §3):
        ``method`` ``"crown"`` (CROWN linear bounds) or ``"ibp"`` (exact first layer,
        then intervals)."""
        c, r, lo_v, hi_v = _domain(self, center, radius, lo, hi)
        if method not in ("crown", "ibp"):
            raise ValueError(f"method must be 'crown' or 'ibp', not {method!r}")
        if int(samples) < 0 or int(lc_directions) < 0 or int(seed) < 0:
            raise ValueError("samples, lc_directions and seed must be >= 0")
        return BoundResult(self._native.bound(c, r, _norm(norm), lo_v, hi_v, method, int(samples), int(lc_directions), int(seed)))

    def count(self, center: Optional[ArrayLike] = None, radius: Optional[float] = None, norm: str = "l2", *, lo: Optional[ArrayLike] = None, hi: Optional[ArrayLike] = None, time_limit: Optional[float] = None, max_regions: Optional[int] = None, exact_layers: Optional[int] = None, affine_maps: bool = False, regions_out: bool = False) -> CountResult:
        """The exact number of activation regions whose interior meets the ball
        ``B(center, radius)`` (``norm``) or the box ``[lo, hi]`` (docs/math.md §5).

        ``time_limit`` (seconds) and ``max_regions`` stop the search early; the answer is
        then the proven ``interval``. ``exact_layers=k`` counts the first k layers
        exactly and bounds the rest. ``affine_maps`` also counts the distinct affine maps
        of the output; ``regions_out`` returns every region's pattern and certified
        interior point.

        Ctrl-C stops the count and raises ``KeyboardInterrupt`` whose ``partial``
        attribute is the honest partial answer (``interrupted=True``, its ``interval``)."""
        c, r, lo_v, hi_v = _domain(self, center, radius, lo, hi)
        if time_limit is not None:
            t = float(time_limit)
            if not math.isfinite(t) or t < 0:
                raise ValueError(f"time_limit must be a number of seconds >= 0, not {time_limit!r}")
            time_limit = t
        if max_regions is not None and int(max_regions) < 0:
            raise ValueError(f"max_regions must be >= 0, not {max_regions!r}")
        if exact_layers is not None and int(exact_layers) < 0:
            raise ValueError(f"exact_layers must be >= 0, not {exact_layers!r}")
        result = CountResult(self._native.count(c, r, _norm(norm), lo_v, hi_v, time_limit, None if max_regions is None else int(max_regions), None if exact_layers is None else int(exact_layers), bool(affine_maps), bool(regions_out)))
        if result.interrupted:
            error = KeyboardInterrupt("count interrupted; the partial answer is in this exception's .partial")
            error.partial = result  # type: ignore[attr-defined]
            raise error
        return result

    def line(self, a: ArrayLike, b: ArrayLike, *, max_regions: int = 1_000_000) -> LineResult:
        """The exact activation regions and linear pieces along the segment from ``a`` to
        ``b`` (input units; docs/math.md §7.1)."""
        av, bv = _vector(a, self.input_dim, "a"), _vector(b, self.input_dim, "b")
        if av == bv:
            raise ValueError("the segment's end points a and b coincide")
        return LineResult(self._native.line(av, bv, int(max_regions)))

    def slice(self, center: ArrayLike, u: Optional[ArrayLike] = None, v: Optional[ArrayLike] = None, *, radius: float = 1.0, shape: str = "disc", disc_vertices: int = 256, circumscribed: bool = False, seed: int = 0, max_regions: int = 2_000_000) -> SliceResult:
        """The exact activation regions of the slice ``{center + a u + b v}`` over the
        disc of radius ``radius`` (the default, as in the CLI: a regular polygon with
        ``disc_vertices`` vertices, inscribed unless ``circumscribed``) or the square
        ``[-radius, radius]^2`` (``shape="square"``); ``u``, ``v`` default to the random
        orthonormal pair of the CLI's ``--random-dirs seed`` (the result's ``u``, ``v``).
        ``(a, b)`` are in input units along ``u`` and ``v`` (docs/math.md §7.2)."""
        d = self.input_dim
        c = _vector(center, d, "center")
        r = _radius(radius)
        if (u is None) != (v is None):
            raise ValueError("give both directions u and v, or neither (a random orthonormal pair)")
        if u is None and d < 2:
            raise ValueError(f"a random plane needs at least 2 input dimensions; the network has {d}")
        if int(seed) < 0:
            raise ValueError(f"seed must be >= 0, not {seed!r}")
        uu = None if u is None else _vector(u, d, "u")
        vv = None if v is None else _vector(v, d, "v")
        if shape not in ("square", "disc"):
            raise ValueError(f"shape must be 'square' or 'disc', not {shape!r}")
        if int(disc_vertices) < 3:
            raise ValueError(f"disc_vertices must be at least 3, not {disc_vertices!r}")
        return SliceResult(self._native.slice(c, uu, vv, int(seed), r, shape == "disc", int(disc_vertices), bool(circumscribed), int(max_regions)))


def _net(net: Union[Network, PathLike]) -> Network:
    return net if isinstance(net, Network) else Network.load(net)


def eval(net: Union[Network, PathLike], points: ArrayLike) -> np.ndarray:  # noqa: A001 - the CLI's name
    """:meth:`Network.eval` (``net`` may be a path)."""
    return _net(net).eval(points)


def patterns(net: Union[Network, PathLike], points: ArrayLike) -> np.ndarray:
    """:meth:`Network.patterns` (``net`` may be a path)."""
    return _net(net).patterns(points)


def distance(net: Union[Network, PathLike], points: ArrayLike, norm: str = "l2") -> DistanceResult:
    """:meth:`Network.distance` (``net`` may be a path)."""
    return _net(net).distance(points, norm)


def bound(net: Union[Network, PathLike], center: Optional[ArrayLike] = None, radius: Optional[float] = None, norm: str = "l2", **kwargs: Any) -> BoundResult:
    """:meth:`Network.bound` (``net`` may be a path)."""
    return _net(net).bound(center, radius, norm, **kwargs)


def count(net: Union[Network, PathLike], center: Optional[ArrayLike] = None, radius: Optional[float] = None, norm: str = "l2", **kwargs: Any) -> CountResult:
    """:meth:`Network.count` (``net`` may be a path)."""
    return _net(net).count(center, radius, norm, **kwargs)


def line(net: Union[Network, PathLike], a: ArrayLike, b: ArrayLike, **kwargs: Any) -> LineResult:
    """:meth:`Network.line` (``net`` may be a path)."""
    return _net(net).line(a, b, **kwargs)


def slice(net: Union[Network, PathLike], center: ArrayLike, u: Optional[ArrayLike] = None, v: Optional[ArrayLike] = None, **kwargs: Any) -> SliceResult:  # noqa: A001
    """:meth:`Network.slice` (``net`` may be a path)."""
    return _net(net).slice(center, u, v, **kwargs)


_SETS = ("train", "test", "arbitrary")
_METRICS = ("distance", "bound", "lc", "slice", "ball")


class RegionTracker:
    """The seed paper's measurements in one's own training loop: at fixed training, test
    and arbitrary points, after every epoch, the exact distance to the region boundary,
    the local bound on the regions in ``B(x, r)`` (log2), unstable neurons, the LC proxy,
    the exact regions of a random 2-D slice disc, and the exact regions meeting the L2
    ball itself; then the same F1/F2 statistics, verdict rules and wording as
    ``relu-regions study`` (docs/math.md, the README's study section).

    ``points``: ``{"train": X, "test": Y, "arbitrary": Z}``, points one per row (input
    units, flattened as the network reads them), the same number of points per set is
    not required. ``radii``: the L2 radii of the balls (input units). ``metrics``: which
    of ``"distance"``, ``"bound"``, ``"lc"``, ``"slice"``, ``"ball"`` to compute
    (distance, bound and LC are always computed, they are cheap; ``"slice"`` and
    ``"ball"`` turn on the exact counts). ``ball_seconds`` and ``ball_max_regions``: the
    exact ball counts' budget per point and epoch (default: 10 s for 2-D inputs, 0.1 s
    otherwise, and 100 000 regions; counts that run out are NaN in :meth:`frame` and
    left out of the statistics, as in the study).

    Example::

        tracker = rr.RegionTracker(points={"train": xtr[:50], "test": xte[:50],
                                           "arbitrary": noise}, radii=[0.05, 0.1])
        for epoch in range(epochs):
            train_one_epoch(model)
            tracker.observe(model, epoch, input_shape=(1, 28, 28))
        tracker.findings()["f1"]["statement"]
    """

    def __init__(self, points: Dict[str, ArrayLike], radii: Sequence[float], metrics: Sequence[str] = _METRICS, *, lc_directions: int = 16, seed: int = 0, ball_seconds: Optional[float] = None, ball_max_regions: int = 100_000):
        missing = [k for k in _SETS if k not in points]
        extra = [k for k in points if k not in _SETS]
        if missing or extra:
            raise ValueError(f"points must have exactly the keys {list(_SETS)}; missing {missing}, unknown {extra}")
        arrays = {}
        dim = None
        for k in _SETS:
            x = np.asarray(points[k], dtype=np.float64)
            if x.ndim != 2 or x.shape[0] == 0:
                raise ValueError(f"points[{k!r}] must be a non-empty 2-D array, one point per row; got shape {x.shape}")
            if dim is not None and x.shape[1] != dim:
                raise ValueError(f"points[{k!r}] has {x.shape[1]} values per point, the others {dim}")
            dim = x.shape[1]
            arrays[k], _ = _points(x, dim, f"points[{k!r}]")
        self.radii = [_radius(r, "each radius") for r in radii]
        if not self.radii:
            raise ValueError("radii must hold at least one radius")
        unknown = [m for m in metrics if m not in _METRICS]
        if unknown:
            raise ValueError(f"unknown metrics {unknown}; choose among {list(_METRICS)}")
        self.metrics = list(metrics)
        if ball_seconds is None:
            ball_seconds = 10.0 if dim == 2 else 0.1
        if "ball" in self.metrics and (not math.isfinite(float(ball_seconds)) or float(ball_seconds) <= 0):
            raise ValueError(f"ball_seconds must be a number of seconds > 0, not {ball_seconds!r}")
        self.input_dim = dim
        self._native = _native.NativeTracker(
            arrays["train"], arrays["test"], arrays["arbitrary"], self.radii, int(lc_directions), int(seed),
            "slice" in self.metrics and dim >= 2,
            float(ball_seconds) if "ball" in self.metrics else None, int(ball_max_regions),
        )

    def observe(self, model: Any, epoch: int, *, input_shape: Optional[Sequence[int]] = None, train_loss: Optional[float] = None, train_accuracy: Optional[float] = None, test_loss: Optional[float] = None, test_accuracy: Optional[float] = None) -> None:
        """Measures ``model`` (a :class:`Network`, a model path, or a PyTorch module,
        exported with ``input_shape``, one input's shape without the batch dimension,
        default ``(input_dim,)``) at every tracked point, as the checkpoint of
        ``epoch`` (epochs must increase). Losses and accuracies are optional, for the
        frame."""
        if isinstance(model, Network):
            net = model
        elif isinstance(model, (str, os.PathLike)):
            net = Network.load(model)
        else:
            net = Network.from_torch(model, input_shape if input_shape is not None else (self.input_dim,))
        nan = float("nan")
        self._native.observe(net._native, int(epoch),
                             nan if train_loss is None else float(train_loss),
                             nan if train_accuracy is None else float(train_accuracy),
                             nan if test_loss is None else float(test_loss),
                             nan if test_accuracy is None else float(test_accuracy))

    def __len__(self) -> int:
        return len(self._native)

    def frame(self) -> Any:
        """Every measurement, one row per (epoch, set, point, radius, metric): a pandas
        DataFrame when pandas is installed, otherwise a dict of numpy arrays, with
        columns ``epoch``, ``set`` (``"train"``, ``"test"``, ``"arbitrary"``), ``point``,
        ``radius`` (NaN for the distance), ``metric`` (``distance``, ``bound_log2``,
        ``unstable``, ``lc``, ``slice_regions``, ``ball_regions`` (NaN over budget),
        ``ball_regions_at_least``) and ``value``."""
        c = self._native.columns()
        names = np.array(c.pop("metric_names"), dtype=object)
        columns = {
            "epoch": c["epoch"],
            "set": np.array(_SETS, dtype=object)[c["set"]],
            "point": c["point"],
            "radius": c["radius"],
            "metric": names[c["metric"]],
            "value": c["value"],
        }
        try:
            import pandas as pd
        except ImportError:
            return columns
        return pd.DataFrame(columns)

    def findings(self) -> Dict[str, Any]:
        """The study's findings over the epochs observed (at least two): ``f1``
        (boundaries move away from training points: Wilcoxon first vs last epoch and
        Spearman against the epoch, per set) and ``f2`` (balls at training points hold
        more regions than at arbitrary points: Mann-Whitney per radius and metric), each
        with ``holds``, ``verdict``, ``statement`` and the tests, as ``relu-regions
        study`` writes them in ``report.json``."""
        import json

        return json.loads(self._native.findings_json())
