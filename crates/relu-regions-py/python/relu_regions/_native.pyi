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
