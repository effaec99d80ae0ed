"""Type stubs of the native extension (the Rust part of relu_regions). Use the
documented Python API in ``relu_regions`` (``Network`` and the functions); this layer
takes already-checked arguments."""

from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import numpy.typing as npt

class RegionsError(Exception):
    """An analysis of relu_regions failed; the message is the command-line tool's."""

class NativeNetwork:
    @staticmethod
    def load(path: str, activation: Optional[str] = None) -> "NativeNetwork": ...
    @staticmethod
    def load_onnx_bytes(data: bytes, name: str) -> "NativeNetwork": ...
    def state(self) -> bytes: ...
    @staticmethod
    def from_state(data: bytes) -> "NativeNetwork": ...
    def __reduce__(self) -> Tuple[Any, Tuple[bytes]]: ...
    @staticmethod
    def from_weights(
        weights: List[npt.NDArray[np.float64]],
        biases: List[npt.NDArray[np.float64]],
        output_relu: bool,
        negative_slopes: List[List[float]] = ...,
    ) -> "NativeNetwork": ...
    @property
    def input_dim(self) -> int: ...
    @property
    def output_dim(self) -> int: ...
    @property
    def relu_count(self) -> int: ...
    def weights(self) -> List[Tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]]: ...
    def negative_slopes(self) -> List[npt.NDArray[np.float64]]: ...
    def inspect(self) -> Dict[str, Any]: ...
    def eval(self, points: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]: ...
    def patterns(self, points: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]: ...
    def distance(
        self, points: npt.NDArray[np.float64], norm: str
    ) -> Tuple[
        npt.NDArray[np.float64],
        npt.NDArray[np.int64],
        npt.NDArray[np.int64],
        npt.NDArray[np.float64],
    ]: ...
    def bound(
        self,
        center: Optional[List[float]],
        radius: Optional[float],
        norm: str,
        lo: Optional[List[float]],
        hi: Optional[List[float]],
        method: str,
        samples: int,
        lc_directions: int,
        seed: int,
    ) -> Dict[str, Any]: ...
    def count(
        self,
        center: Optional[List[float]],
        radius: Optional[float],
        norm: str,
        lo: Optional[List[float]],
        hi: Optional[List[float]],
        time_limit: Optional[float],
        max_regions: Optional[int],
        exact_layers: Optional[int],
        affine_maps: bool,
        regions: bool,
    ) -> Dict[str, Any]: ...
    def line(self, a: List[float], b: List[float], max_regions: int) -> Dict[str, Any]: ...
    def slice(
        self,
        center: List[float],
        u: Optional[List[float]],
        v: Optional[List[float]],
        seed: int,
        radius: float,
        disc: bool,
        disc_vertices: int,
        circumscribed: bool,
        max_regions: int,
    ) -> Dict[str, Any]: ...

class NativeTracker:
    def __init__(
        self,
        train: npt.NDArray[np.float64],
        test: npt.NDArray[np.float64],
        arbitrary: npt.NDArray[np.float64],
        radii: List[float],
        lc_directions: int,
        seed: int,
        slice: bool,
        ball_seconds: Optional[float],
        ball_max_regions: int,
    ) -> None: ...
    def observe(
        self,
        network: NativeNetwork,
        epoch: int,
        train_loss: float,
        train_accuracy: float,
        test_loss: float,
        test_accuracy: float,
    ) -> None: ...
    def __len__(self) -> int: ...
    def columns(self) -> Dict[str, Any]: ...
    def findings_json(self) -> str: ...

def count_root_task(
    net: NativeNetwork,
    center: Optional[List[float]],
    radius: Optional[float],
    norm: str,
    lo: Optional[List[float]],
    hi: Optional[List[float]],
    exact_layers: Optional[int],
    affine_maps: bool,
) -> str:
    """The root task (JSON) of a count: network digest, domain, options, plain local bound."""

def run_count_task(
    net: NativeNetwork,
    task: str,
    budget: Optional[float] = None,
    emit_depth: Optional[int] = None,
    parallel: bool = False,
) -> str:
    """Explores a task's subtree for at most ``budget`` seconds; the outcome as JSON."""

class NativeCountLedger:
    """The exact merge of a count's task outcomes."""

    def __init__(self, net: NativeNetwork, root: str) -> None: ...
    def merge(self, outcome: str) -> List[str]: ...
    def open_tasks(self) -> List[str]: ...
    def is_open(self, id: str) -> bool: ...
    @property
    def open_count(self) -> int: ...
    @property
    def merged(self) -> int: ...
    @property
    def regions(self) -> int: ...
    def result(self, seconds: float) -> Dict[str, Any]: ...
    def interval(self) -> Tuple[int, int]: ...

def replicated_study(config: Dict[str, Any], seeds: List[int], threads: int = 1) -> str:
    """Runs a study at every seed and pools them as ``study --seeds`` does (JSON)."""
