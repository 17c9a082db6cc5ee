"""Type stubs for the compiled binding fdjpeg._codec (see _codec.pyx, _decode.pxi, _encode.pxi)."""
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import numpy.typing as npt

def version() -> str: ...
def kernel_name() -> str: ...

class RqTables:
    def usable(self) -> bool: ...

RQ_TABLES_MAX: int

def rq_cache_size() -> int: ...
def rq_cache_clear() -> None: ...

class Decoder:
    def __init__(
        self,
        data: Any,
        *,
        max_pixels: int = ...,
        max_scans: int = ...,
        max_segment_bytes: int = ...,
        allow_truncated: bool = ...,
        out_format: int = ...,
        scale_denom: int = ...,
        invert_adobe_cmyk: bool = ...,
        purify: Optional[npt.ArrayLike] = ...,
    ) -> None: ...
    def set_purify(self, tables: Optional[npt.ArrayLike], cache: bool = ...) -> None: ...
    def rq_tables_attached(self) -> int: ...
    def info(self) -> Dict[str, Any]: ...
    def markers(self) -> List[Tuple[int, int, int]]: ...
    def output_shape(self) -> Tuple[int, int, int]: ...
    def num_components(self) -> int: ...
    def lossless(self) -> bool: ...
    def sample_dtype(self) -> np.dtype[Any]: ...
    def decode(self, out: Optional[npt.NDArray[Any]] = ...) -> npt.NDArray[Any]: ...  # uint8, or uint16 above 8 bits
    def decode_region(
        self, x: int, y: int, width: int, height: int,
        out: Optional[npt.NDArray[Any]] = ...,
    ) -> npt.NDArray[Any]: ...  # uint8, or uint16 above 8 bits
    def read_rows(self, out: npt.NDArray[np.uint8]) -> int: ...
    def was_truncated(self) -> bool: ...
    def read_coefficients(self) -> List[npt.NDArray[np.int16]]: ...

def encode_pixels(
    pixels: npt.NDArray[Any],  # uint8, or uint16 with precision=12
    in_color: int,
    qtables: Any,
    comp_qtable: Sequence[int],
    h_samp: Sequence[int],
    v_samp: Sequence[int],
    *,
    optimize: bool = ...,
    progressive: bool = ...,
    restart_interval: int = ...,
    restart_rows: int = ...,
    keep_rgb: bool = ...,
    write_jfif: bool = ...,
    density_unit: int = ...,
    x_density: int = ...,
    y_density: int = ...,
    write_adobe: bool = ...,
    extra_segments: bytes = ...,
    max_pixels: int = ...,
    precision: int = ...,
    quality: int = ...,  # with qtables None: libjpeg's tables for this quality, made in C
) -> bytes: ...
def write_coefficient_arrays(
    coefficients: List[npt.NDArray[np.int16]],
    width: int,
    height: int,
    in_color: int,
    qtables: Any,
    comp_qtable: Sequence[int],
    h_samp: Sequence[int],
    v_samp: Sequence[int],
    *,
    optimize: bool = ...,
    progressive: bool = ...,
    restart_interval: int = ...,
    restart_rows: int = ...,
    keep_rgb: bool = ...,
    write_jfif: bool = ...,
    density_unit: int = ...,
    x_density: int = ...,
    y_density: int = ...,
    write_adobe: bool = ...,
    extra_segments: bytes = ...,
    precision: int = ...,
) -> bytes: ...
def purify_pixels(
    pixels: npt.NDArray[Any],  # uint8, or uint16 with precision=12
    out: npt.NDArray[Any],
    in_color: int,
    qtables: Any,
    comp_qtable: Sequence[int],
    h_samp: Sequence[int],
    v_samp: Sequence[int],
    *,
    keep_rgb: bool = ...,
    threads: int = ...,
    precision: int = ...,
) -> None: ...
def purify_key(pixels: Any) -> int: ...
class PurifyPlan:
    channels: int
    precision: int
    def __init__(
        self,
        in_color: int,
        qtables: Any,
        comp_qtable: Sequence[int],
        h_samp: Sequence[int],
        v_samp: Sequence[int],
        *,
        keep_rgb: bool = ...,
        precision: int = ...,
    ) -> None: ...
    def run(self, pixels: npt.NDArray[Any], threads: int = ..., out: Optional[npt.NDArray[Any]] = ...) -> npt.NDArray[Any]: ...
def quality_table(quality: int, chroma: bool = ..., force_baseline: bool = ...) -> npt.NDArray[np.uint16]: ...
def scale_table(base: Any, quality: int, force_baseline: bool = ...) -> npt.NDArray[np.uint16]: ...
def requantize_coefficients(coef: npt.NDArray[np.int16], qfile: Any, table: Any) -> npt.NDArray[np.int16]: ...
