"""Quantization tables: libjpeg quality scaling, the paper's steps, the
frequency-component designer, and table I/O.

Every table here is an ``(8, 8)`` ``numpy.uint16`` array in *natural*
(row-major) order: ``table[u, v]`` is the step of the DCT band with vertical
frequency ``u`` and horizontal frequency ``v``.  JPEG files store tables in
zigzag order; the codec, Pillow (``qtables=``, ``Image.quantization``) and
libjpeg's ``cjpeg -qtables`` all use natural order, and so does this module.

Contents
--------
``parse(spec)``
    THE table vocabulary of fdjpeg: every ``table=``/``purify=`` argument, the CLI's
    ``--table``/``--purify``, Dask and the integrations go through it
    (``docs/tables.md`` lists the forms).
``standard(quality, chroma=False)``, ``scaled(base, quality)``
    libjpeg's quality-scaled Annex K tables, exactly as Pillow writes them.
``defensive_step(eps)``
    Eq. 5 of the paper: the smallest integer step above 16 * eps * 256.
``band_std(images, channel="luma")``
    Frequency-component analysis: the standard deviation of each DCT band.
``feature_distillation(stats=None, s_md=30, s_as=20, n_as=15)``
    The DNN-oriented table (paper Sec. 3.2); the package's default FD table.
``paper_released()``
    The fixed table of the paper's released code (30, with 25 in the low 4x4).
``to_json`` / ``from_json``, ``to_cjpeg`` / ``from_cjpeg``, ``from_jpeg``
    Table I/O.
``known_table_name(table)``
    Recognises the tables above (used by ``fdjpeg inspect``).
"""
from __future__ import annotations

import functools
import importlib.resources
import json
import math
import numbers
import os
import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

__all__ = [
    "parse",
    "assign",
    "FORMS",
    "standard",
    "scaled",
    "defensive_step",
    "band_std",
    "feature_distillation",
    "default_fd",
    "paper_released",
    "shipped_band_std",
    "to_json",
    "from_json",
    "to_cjpeg",
    "from_cjpeg",
    "from_jpeg",
    "JPEGTables",
    "known_table_name",
    "ZIGZAG",
]

# ---------------------------------------------------------------------------
# constants

#: ZIGZAG[k] is the natural (row-major) index of the k-th coefficient in
#: zigzag order (T.81 Figure A.6).
ZIGZAG = np.array([
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
    12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
    35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
    58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
], dtype=np.intp)
ZIGZAG.setflags(write=False)

# zigzag position of each natural index
_ZIGZAG_RANK = np.argsort(ZIGZAG)

# T.81 Annex K, Tables K.1 and K.2 (natural order): the bases libjpeg scales.
_ANNEX_K_LUMA = np.array([
    16, 11, 10, 16, 24, 40, 51, 61,
    12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77,
    24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101,
    72, 92, 95, 98, 112, 100, 103, 99,
], dtype=np.int64)
_ANNEX_K_CHROMA = np.array([
    17, 18, 24, 47, 99, 99, 99, 99,
    18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99,
], dtype=np.int64)

# Orthonormal 8-point DCT-II matrix: A[u, x] = c(u) cos((2x + 1) u pi / 16),
# c(0) = sqrt(1/8), c(u > 0) = 1/2.  A @ block @ A.T is JPEG's FDCT (T.81
# A.3.3) exactly, i.e. libjpeg's ISLOW output divided by 8.
_DCT_MATRIX = np.array(
    [[(math.sqrt(0.125) if u == 0 else 0.5) * math.cos((2 * x + 1) * u * math.pi / 16)
      for x in range(8)] for u in range(8)])
_DCT_MATRIX.setflags(write=False)

_JSON_SCHEMA = "fdjpeg.qtables/1"
_MAX_STEP = 65535          # DQT with Pq = 1 holds 16-bit steps
_CJPEG_MAX_STEP = 32767    # libjpeg's jpeg_add_quant_table clamps to this

TableLike = Union[np.ndarray, Sequence[int], Sequence[Sequence[int]]]
#: One quantization table as this module returns it: (8, 8) uint16, natural order.
QTable = npt.NDArray[np.uint16]
#: 1 to 4 tables as :func:`to_json`/:func:`to_cjpeg` take them: one table, a sequence or an
#: (n, 8, 8)/(n, 64) array of tables, or a Pillow-style dict {slot: table}.
TablesLike = Union[npt.ArrayLike, Mapping[int, npt.ArrayLike]]
#: Any form :func:`parse` reads (:data:`FORMS`): True, a table name, a step, a path, 1-4 tables.
TableSpec = Union[bool, int, str, "os.PathLike[str]", Mapping[int, npt.ArrayLike], npt.ArrayLike]


# ---------------------------------------------------------------------------
# argument checking

def _check_int(value, name: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, not {type(value).__name__}")
    value = int(value)
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be in {lo}..{hi}, got {value}")
    return value


def _as_table(table, name: str = "table", max_step: int = _MAX_STEP) -> np.ndarray:
    """One quantization table as a fresh (8, 8) uint16 array, validated."""
    if isinstance(table, (str, bytes, bytearray, dict)) or table is None or isinstance(table, bool):
        raise TypeError(f"{name} must be 64 integers, not {type(table).__name__}")
    try:
        arr = np.asarray(table)
    except (TypeError, ValueError) as exc:  # ragged nesting
        raise ValueError(f"{name} must be 64 integers: {exc}") from None
    if arr.dtype == object:
        raise ValueError(f"{name} must be a rectangular (8, 8) or (64,) table of integers")
    if arr.dtype == bool or arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold integers, got dtype {arr.dtype}")
    if arr.size != 64 or arr.shape not in ((64,), (8, 8)):
        raise ValueError(f"{name} must have shape (8, 8) or (64,), got {arr.shape}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError(f"{name} must hold whole numbers")
    if arr.dtype == np.uint16 and max_step >= 65535:
        # the common case (a table fdjpeg made, or parsed before): one range check, one copy
        if arr.min() >= 1:
            return arr.reshape(8, 8).copy()
    values = arr.astype(np.int64).reshape(64)
    if values.min() < 1 or values.max() > max_step:
        bad = int(np.flatnonzero((values < 1) | (values > max_step))[0])
        raise ValueError(f"{name} entries must be integers 1..{max_step}; entry {bad} "
                         f"(row {bad // 8}, column {bad % 8}) is {int(values[bad])}")
    return values.reshape(8, 8).astype(np.uint16)


def _as_tables(tables, name: str = "tables", max_step: int = _MAX_STEP) -> List[np.ndarray]:
    """1 to 4 tables (one table, a sequence of tables, an (n, 8, 8) or (n, 64)
    array, or a Pillow-style dict {slot: table} with slots 0..n-1)."""
    if isinstance(tables, dict):
        keys = sorted(tables)
        if keys != list(range(len(keys))):
            raise ValueError(f"{name}: dict keys must be the slots 0..n-1, got {keys}")
        tables = [tables[k] for k in keys]
    if isinstance(tables, np.ndarray) and (tables.ndim == 1 or tables.shape == (8, 8)):
        tables = [tables]  # one table (a wrong size is reported by _as_table)
    elif isinstance(tables, np.ndarray) and tables.ndim in (2, 3):
        tables = list(tables)
    elif isinstance(tables, np.ndarray):
        raise ValueError(f"{name}: an array of tables must have shape (8, 8), (64,), "
                         f"(n, 8, 8) or (n, 64), got {tables.shape}")
    elif isinstance(tables, (list, tuple)):
        # a flat list of 64 numbers, or 8 rows of 8, is one table
        if len(tables) == 64 and all(isinstance(v, numbers.Number) for v in tables):
            tables = [tables]
        elif (len(tables) == 8 and all(isinstance(r, (list, tuple, np.ndarray))
                                       and len(r) == 8 for r in tables)
              and all(isinstance(v, numbers.Number) for r in tables for v in r)):
            tables = [tables]
    else:
        raise TypeError(f"{name} must be a table, a sequence of tables or a dict, "
                        f"not {type(tables).__name__}")
    tables = list(tables)
    if not 1 <= len(tables) <= 4:
        raise ValueError(f"{name}: give 1 table, 2 (luma, chroma) or one per component "
                         f"(at most 4); got {len(tables)}")
    return [_as_table(t, f"{name}[{i}]", max_step) for i, t in enumerate(tables)]


# ---------------------------------------------------------------------------
# the table vocabulary

FORMS = (
    "True, 'fd' or 'default' (the package's FD table, feature_distillation()); "
    "'paper' (the paper's released table); 'q<N>' or 'quality:<N>' (libjpeg's luma and chroma "
    "tables at quality N); an integer step 1..65535 (uniform table; also as a string); "
    "one table ((8, 8) or (64,) integers); a list, tuple or (n, 8, 8)/(n, 64) array of 1-4 "
    "tables; a dict {slot: table}; a path to a JSON ('fdjpeg tables show --format json') or "
    "cjpeg -qtables file"
)


def _parse_word(spec: str, name: str) -> Optional[List[np.ndarray]]:
    s = spec.strip()
    low = s.lower()
    if low in ("fd", "default", "true"):
        return [default_fd()]
    if low == "paper":
        return [paper_released()]
    for prefix in ("quality:", "q"):
        if low.startswith(prefix) and low[len(prefix):].isdigit():
            q = int(low[len(prefix):])
            if not 1 <= q <= 100:
                raise ValueError(f"{name} {spec!r}: quality must be 1..100, got {q}")
            return [standard(q), standard(q, chroma=True)]
    if s.isdigit():
        return [_step_table(int(s), name)]
    if s.startswith(("{", "[")):
        return from_json(s)
    return None


def _step_table(step: int, name: str) -> np.ndarray:
    if not 1 <= step <= _MAX_STEP:
        raise ValueError(f"{name}: a uniform step must be 1..{_MAX_STEP}, got {step}")
    return np.full((8, 8), step, dtype=np.uint16)


def parse(spec: TableSpec, *, name: str = "table") -> List[QTable]:
    """Any table form fdjpeg accepts -> a list of 1 to 4 (8, 8) uint16 tables.

    This is fdjpeg's one table vocabulary: ``decode(purify=)``, ``encode(table=)``,
    ``purify()``, ``transcode(purify=)``, ``write_coefficients(tables)``, the detector, the
    CLI's ``--table``/``--purify``, Dask and the integrations all read their table through
    it.  The forms (see docs/tables.md):

    * ``True``, ``"fd"``, ``"default"``: the package's FD table (:func:`default_fd`);
    * ``"paper"``: :func:`paper_released`;
    * ``"q<N>"`` / ``"quality:<N>"``: libjpeg's luma and chroma tables at quality N;
    * an integer step 1..65535 (or its digits as a string): a uniform table;
    * one table: an (8, 8) or (64,) array or nested list of integers 1..65535;
    * 1 to 4 tables: a list/tuple of tables, an (n, 8, 8) or (n, 64) array, or a dict
      ``{slot: table}`` with slots 0..n-1;
    * a path (str or os.PathLike) to a JSON table file (``fdjpeg tables show --format
      json``) or a cjpeg ``-qtables`` text file.

    How several tables map to components: one table serves every component; two are
    Pillow's slots (luma, chroma); otherwise one per component (:func:`assign`).

    Errors: ``TypeError`` for a value of the wrong type (``None``, ``False``, bytes, a
    float), ``ValueError`` for a value of the right type that names no table (an unknown
    word, a missing file, a bad entry); both messages start with ``name``.

    Example::

        >>> from fdjpeg.tables import parse
        >>> [t.shape for t in parse("q75")]          # libjpeg's luma and chroma at quality 75
        [(8, 8), (8, 8)]
        >>> int(parse(16)[0][0, 0])                  # a uniform step
        16
        >>> len(parse({0: [20] * 64, 1: [30] * 64}))  # Pillow's {slot: table}
        2
    """
    if spec is True:
        return [default_fd()]
    if spec is None or spec is False:
        raise TypeError(f"{name}: a table is required, got {spec!r} (True or 'fd' is the "
                        f"package's default FD table)")
    if isinstance(spec, (str, os.PathLike)):
        if isinstance(spec, str):
            got = _parse_word(spec, name)
            if got is not None:
                return got
        path = os.fspath(spec)
        if not os.path.isfile(path):
            raise ValueError(f"{name} {str(spec)!r}: not a table name, a step or an existing "
                             f"table file; a table is one of: {FORMS}")
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8", "replace")
        try:
            if text.lstrip().startswith(("{", "[")):
                return from_json(text)
            return from_cjpeg(text)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{name} file {path}: {exc}") from None
    if isinstance(spec, numbers.Integral) and not isinstance(spec, (bool, np.bool_)):
        return [_step_table(int(spec), name)]
    if isinstance(spec, (bytes, bytearray, memoryview, numbers.Number)):
        raise TypeError(f"{name} must be a table form, not {type(spec).__name__}; "
                        f"a table is one of: {FORMS}")
    return _as_tables(spec, name)


def assign(spec: TableSpec, num_components: int) -> Tuple[npt.NDArray[np.uint16], List[int]]:
    """The tables of ``spec`` (any :func:`parse` form) and the slot of each component, as
    the encoder writes them: ``(tables, slots)``, ``tables`` an (n, 64) uint16 array.

    One table: slot 0 for every component; two: Pillow's slots (0 for component 0, 1 for
    the others); otherwise one per component (their number must match).

    Example::

        >>> from fdjpeg.tables import assign
        >>> tabs, slots = assign("q90", 3)   # luma table for Y, chroma for Cb and Cr
        >>> tabs.shape, slots
        ((2, 64), [0, 1, 1])
    """
    if isinstance(num_components, bool) or not isinstance(num_components, numbers.Integral) \
            or not 1 <= num_components <= 4:
        raise ValueError(f"num_components must be 1..4, got {num_components!r}")
    tabs = parse(spec)
    n = len(tabs)
    stacked = np.empty((n, 64), dtype=np.uint16)
    for i, t in enumerate(tabs):
        stacked[i] = t.reshape(64)
    if n == 1:
        return stacked, [0] * num_components
    if n == 2:
        return stacked, [0] + [1] * (num_components - 1)
    if n == num_components:
        return stacked, list(range(num_components))
    raise ValueError(f"table: give 1 table, 2 tables (luma, chroma) or one per component "
                     f"({num_components}); got {n}")


# ---------------------------------------------------------------------------
# libjpeg quality scaling

def standard(quality: int, chroma: bool = False, *, force_baseline: bool = True) -> QTable:
    """libjpeg's quality-scaled Annex K table, natural order, shape (8, 8) uint16.

    This is ``jpeg_quality_scaling`` + ``jpeg_add_quant_table``: quality is
    clamped to 1..100; scale = 5000 / q below 50, else 200 - 2q; each entry is
    ``(base * scale + 50) // 100`` clamped to 1..255 when ``force_baseline``
    (what Pillow does for ``quality=``, and the default here), else 1..32767.
    ``chroma`` selects Table K.2 (chrominance) instead of K.1 (luminance).

    Example::

        >>> from fdjpeg.tables import standard
        >>> int(standard(50)[0, 0]), int(standard(50, chroma=True)[0, 0])   # Annex K as is
        (16, 17)
        >>> int(standard(10)[7, 7]), int(standard(10, force_baseline=False)[7, 7])
        (255, 495)
    """
    if isinstance(quality, bool) or not isinstance(quality, numbers.Integral):
        raise TypeError(f"quality must be an integer, not {type(quality).__name__}")
    from fdjpeg import _codec  # the one implementation: fdj_scale_qtable (csrc/transcode.c)

    q = min(max(int(quality), 1), 100)
    return _codec.quality_table(q, bool(chroma), bool(force_baseline))


def scaled(base: npt.ArrayLike, quality: int, *, force_baseline: bool = False) -> QTable:
    """Any table scaled by libjpeg's quality arithmetic (what libjpeg does to the tables of
    ``cjpeg -qtables F -quality Q`` and Pillow to ``qtables=`` with ``quality=``):
    ``(base * scale + 50) // 100`` clamped as in :func:`standard`.  (8, 8) uint16.

    Example::

        >>> from fdjpeg.tables import scaled
        >>> int(scaled([20] * 64, 25)[0, 0])   # quality 25: scale 200 %
        40
    """
    if isinstance(quality, bool) or not isinstance(quality, numbers.Integral):
        raise TypeError(f"quality must be an integer, not {type(quality).__name__}")
    from fdjpeg import _codec

    t = _as_table(base, "base")
    q = min(max(int(quality), 1), 100)
    return _codec.scale_table(t.reshape(64), q, bool(force_baseline))


# ---------------------------------------------------------------------------
# Eq. 5

def defensive_step(eps: Union[float, Fraction]) -> int:
    """The smallest integer quantization step greater than ``16 * eps * 256``.

    Eq. 5 of the paper: with the benign coefficients on the step grid
    (two-pass), a perturbation bounded by ``eps`` per pixel moves a
    coefficient by less than ``8 * eps * 256``, which snaps back to the grid
    when it is under half a step.  ``eps`` is a fraction of full scale, so
    ``0.005 -> 21`` (paper: 20.48) and ``0.015 -> 62`` (61.44).  ``eps = 2/255``
    gives 33.

    Floats are read as the decimal number they print as (``0.005`` is 5/1000,
    not the nearest binary fraction), so a bound that lands exactly on an
    integer gets the next one: ``eps = 1/256 -> 17``.  Fractions and integers
    are exact.  Raises ``ValueError`` unless 0 < eps <= 1 (an eps given in
    pixel levels, like ``2`` for 2/255, is refused with a hint).

    Example::

        >>> from fractions import Fraction
        >>> from fdjpeg.tables import defensive_step
        >>> defensive_step(0.005), defensive_step(Fraction(2, 255))
        (21, 33)
    """
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real):
        raise TypeError(f"eps must be a real number, not {type(eps).__name__}")
    if isinstance(eps, numbers.Rational):
        exact = Fraction(int(eps.numerator), int(eps.denominator))
    else:
        f = float(eps)
        if not math.isfinite(f):
            raise ValueError(f"eps must be finite, got {eps!r}")
        exact = Fraction(repr(f))
    if exact <= 0:
        raise ValueError(f"eps must be > 0, got {eps!r}")
    if exact > 1:
        raise ValueError(f"eps is a fraction of full scale (0 < eps <= 1), got {eps!r}; "
                         f"for a bound in pixel levels pass levels/255")
    return math.floor(16 * exact * 256) + 1


# ---------------------------------------------------------------------------
# frequency-component analysis

def _rgb_to_ycbcr(rgb: np.ndarray, planes: str) -> List[np.ndarray]:
    """libjpeg's 16-bit fixed-point RGB -> YCbCr (jccolor.c), as uint8 planes."""
    r = rgb[..., 0].astype(np.int32)
    g = rgb[..., 1].astype(np.int32)
    b = rgb[..., 2].astype(np.int32)
    out = []
    if planes in ("y", "ycbcr"):
        out.append(((19595 * r + 38470 * g + 7471 * b + 32768) >> 16).astype(np.uint8))
    if planes in ("cbcr", "ycbcr"):
        out.append(((-11059 * r - 21709 * g + 32768 * b + (128 << 16) + 32767) >> 16)
                   .astype(np.uint8))
        out.append(((32768 * r - 27439 * g - 5329 * b + (128 << 16) + 32767) >> 16)
                   .astype(np.uint8))
    return out


def _block_dct(plane: np.ndarray) -> np.ndarray:
    """Orthonormal DCT of every full 8x8 block of a 2-D uint8 plane, after the
    level shift (sample - 128).  Returns (bh, bw, 8, 8) float64, natural order;
    partial blocks at the right and bottom edges are left out."""
    bh, bw = plane.shape[0] // 8, plane.shape[1] // 8
    x = plane[:bh * 8, :bw * 8].astype(np.float64) - 128.0
    blocks = x.reshape(bh, 8, bw, 8).transpose(0, 2, 1, 3)
    return _DCT_MATRIX @ blocks @ _DCT_MATRIX.T


def _image_list(images, name: str = "images") -> List[np.ndarray]:
    """Normalise one image, a 4-D batch, or an iterable of images to a list of
    (H, W) gray or (H, W, 3) RGB uint8 arrays."""
    if isinstance(images, np.ndarray):
        if images.ndim == 4:
            items = list(images)
        elif images.ndim in (2, 3):
            items = [images]
        else:
            raise ValueError(f"{name}: expected a 2-D/3-D image or a 4-D batch, "
                             f"got shape {images.shape}")
    elif isinstance(images, (str, bytes)) or not isinstance(images, Iterable):
        raise TypeError(f"{name} must be a uint8 array or an iterable of them, "
                        f"not {type(images).__name__}")
    else:
        items = list(images)
    out = []
    for i, img in enumerate(items):
        if not isinstance(img, np.ndarray):
            raise TypeError(f"{name}[{i}] must be a numpy array, not {type(img).__name__}")
        if img.dtype != np.uint8:
            raise TypeError(f"{name}[{i}] must be uint8, got {img.dtype}")
        if img.ndim == 3 and img.shape[2] == 1:
            img = img[:, :, 0]
        if not (img.ndim == 2 or (img.ndim == 3 and img.shape[2] == 3)):
            raise ValueError(f"{name}[{i}]: expected (H, W), (H, W, 1) or (H, W, 3), "
                             f"got shape {img.shape}")
        out.append(img)
    if not out:
        raise ValueError(f"{name} is empty")
    return out


_CHANNELS = ("luma", "chroma", "all")


def _planes_for(img: np.ndarray, channel: str) -> List[np.ndarray]:
    if img.ndim == 2:                       # gray: its samples are the luma plane
        return [img] if channel in ("luma", "all") else []
    return _rgb_to_ycbcr(img, {"luma": "y", "chroma": "cbcr", "all": "ycbcr"}[channel])


class _RunningStats:
    """Per-band count, mean and sum of squared deviations, merged batch by
    batch (Chan et al.'s pairwise update) so millions of blocks sum stably."""

    def __init__(self):
        self.n = 0
        self.mean = np.zeros(64)
        self.m2 = np.zeros(64)

    def add(self, coefs: np.ndarray) -> None:
        x = coefs.reshape(-1, 64)
        nb = x.shape[0]
        if nb == 0:
            return
        mean_b = x.mean(axis=0)
        m2_b = ((x - mean_b) ** 2).sum(axis=0)
        n = self.n + nb
        delta = mean_b - self.mean
        self.mean = self.mean + delta * (nb / n)
        self.m2 = self.m2 + m2_b + delta ** 2 * (self.n * nb / n)
        self.n = n


def band_std(images: Union[npt.NDArray[np.uint8], Iterable[npt.NDArray[np.uint8]]], *,
             channel: str = "luma") -> npt.NDArray[np.float64]:
    """Standard deviation of each of the 64 pre-quantization DCT bands.

    Frequency-component analysis (paper Sec. 3.2 A): every full 8x8 block of
    every image is level-shifted (sample - 128) and transformed with the
    orthonormal 2-D DCT, which is JPEG's FDCT (libjpeg's ISLOW output / 8), so
    the values compare directly with quantization steps.  For each band the
    population standard deviation (around the band's mean; the DC band's mean
    is not zero) over all blocks is returned, shape (8, 8) float64, natural
    order.  Partial blocks at the right and bottom edges are left out; an image
    smaller than 8x8 contributes nothing.

    ``images``: one uint8 image (``(H, W)`` gray, ``(H, W, 1)``, ``(H, W, 3)``
    RGB), a 4-D batch ``(N, H, W, C)``, or an iterable of such images (sizes may
    differ).  A 3-D array is always one image; pass gray batches as a list or
    as ``(N, H, W, 1)``.

    Colour (``channel``):

    - ``"luma"`` (default): RGB is converted to Y with libjpeg's fixed-point
      formula (the Y plane the encoder quantizes); gray images are used as is.
    - ``"chroma"``: the Cb and Cr planes of RGB images (libjpeg's conversion,
      full resolution, i.e. 4:4:4), pooled; gray images contribute nothing.
    - ``"all"``: Y, Cb and Cr blocks pooled (gray images contribute Y only).

    Example::

        >>> import numpy as np
        >>> from fdjpeg.tables import band_std, feature_distillation
        >>> rng = np.random.default_rng(0)
        >>> images = [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(4)]
        >>> sigma = band_std(images)                 # (8, 8) float64
        >>> table = feature_distillation(sigma)      # an FD table for these images
        >>> sigma.shape, table.dtype
        ((8, 8), dtype('uint16'))
    """
    if channel not in _CHANNELS:
        raise ValueError(f"channel must be one of {_CHANNELS}, got {channel!r}")
    stats = _RunningStats()
    for img in _image_list(images):
        for plane in _planes_for(img, channel):
            stats.add(_block_dct(plane))
    if stats.n == 0:
        raise ValueError("no full 8x8 block in the images for this channel")
    return np.sqrt(stats.m2 / stats.n).reshape(8, 8)


# ---------------------------------------------------------------------------
# the DNN-oriented table

@functools.lru_cache(maxsize=1)
def _shipped() -> dict:
    ref = importlib.resources.files("fdjpeg") / "data" / "fd_band_std.json"
    with ref.open("r", encoding="utf-8") as fh:
        doc = json.load(fh)
    std = np.asarray(doc["std"], dtype=np.float64)
    if std.shape != (8, 8) or not np.all(np.isfinite(std)) or np.any(std < 0):
        raise RuntimeError("fdjpeg/data/fd_band_std.json is damaged")
    doc["std"] = std
    return doc


def shipped_band_std() -> npt.NDArray[np.float64]:
    """The 64 band standard deviations that ship with fdjpeg (a copy).

    Computed by ``python -m fdjpeg.eval.design_fd_table`` with :func:`band_std` (luma) over
    the 1,000 benign photos of ``shared/corpus/imagenet-sample`` (one per
    ImageNet class), each decoded by Pillow, resized so the short side is 256
    (Pillow bilinear) and centre-cropped to 224x224, i.e. the pixels the
    classifier and the defense see in the evaluation protocol.  The JSON file
    beside it (``fdjpeg/data/fd_band_std.json``) records the provenance.

    Example::

        >>> import numpy as np
        >>> from fdjpeg.tables import default_fd, feature_distillation, shipped_band_std
        >>> sigma = shipped_band_std()
        >>> bool(np.array_equal(feature_distillation(sigma), default_fd()))
        True
    """
    return _shipped()["std"].copy()


def _rank_bands(stats: np.ndarray) -> np.ndarray:
    """Natural indices sorted by descending sigma; ties go to the band that
    comes first in zigzag order (the lower frequency)."""
    flat = stats.reshape(64)
    return np.lexsort((_ZIGZAG_RANK, -flat))


@functools.lru_cache(maxsize=1)
def _shipped_rank() -> np.ndarray:
    """The band order of the shipped statistics, computed once (every default-table call
    reads it; read-only so no caller can change it)."""
    rank = _rank_bands(_shipped()["std"])
    rank.setflags(write=False)
    return rank


def feature_distillation(stats: Optional[npt.ArrayLike] = None, *, s_md: int = 30, s_as: int = 20,
                         n_as: int = 15) -> QTable:
    """The DNN-oriented FD table of paper Sec. 3.2, shape (8, 8) uint16.

    The ``n_as`` bands with the largest standard deviation form the
    accuracy-sensitive (AS) band and get step ``s_as``; the other 64 - n_as
    bands (malicious-defense, MD) get ``s_md``.  The paper's choice is
    s_md = 30, s_as = 20, n_as = 15 (the defaults).

    ``stats``: 64 band standard deviations ((8, 8) or (64,), natural order,
    e.g. from :func:`band_std`); ``None`` uses the statistics that ship with
    the package (:func:`shipped_band_std`: luma of the 1,000 ImageNet sample
    photos at the 224x224 protocol crop), which makes this the package's
    default FD table.  Ties in sigma are broken deterministically in favour of
    the band earlier in zigzag order (lower frequency).

    Example::

        >>> import numpy as np
        >>> from fdjpeg.tables import feature_distillation
        >>> t = feature_distillation(s_md=40, s_as=10, n_as=6)
        >>> int(np.count_nonzero(t == 10)), int(np.count_nonzero(t == 40))
        (6, 58)
    """
    s_md = _check_int(s_md, "s_md", 1, _MAX_STEP)
    s_as = _check_int(s_as, "s_as", 1, _MAX_STEP)
    n_as = _check_int(n_as, "n_as", 0, 64)
    if stats is None:
        table = np.full(64, s_md, dtype=np.uint16)
        table[_shipped_rank()[:n_as]] = s_as
        return table.reshape(8, 8)
    else:
        if isinstance(stats, (str, bytes, dict)):
            raise TypeError(f"stats must be 64 numbers, not {type(stats).__name__}")
        sigma = np.asarray(stats)
        if sigma.dtype == bool or sigma.dtype.kind not in "iuf":
            raise TypeError(f"stats must be numbers, got dtype {sigma.dtype}")
        if sigma.shape not in ((8, 8), (64,)):
            raise ValueError(f"stats must have shape (8, 8) or (64,), got {sigma.shape}")
        sigma = sigma.astype(np.float64)
        if not np.all(np.isfinite(sigma)) or np.any(sigma < 0):
            raise ValueError("stats must be finite standard deviations >= 0")
    table = np.full(64, s_md, dtype=np.uint16)
    table[_rank_bands(sigma)[:n_as]] = s_as
    return table.reshape(8, 8)


def default_fd() -> QTable:
    """The package's default FD table: ``feature_distillation()``.

    What ``True``, ``"fd"`` and ``"default"`` mean wherever fdjpeg takes a table.

    Example::

        >>> import numpy as np
        >>> from fdjpeg.tables import default_fd, parse
        >>> t = default_fd()
        >>> sorted(int(v) for v in np.unique(t)), bool(np.array_equal(parse(True)[0], t))
        ([20, 30], True)
    """
    return feature_distillation()


def paper_released() -> QTable:
    """The fixed table in the paper's released code: 30 everywhere, 25 in the
    4x4 lowest-frequency corner (applied there per RGB channel, without
    YCbCr).  Shape (8, 8) uint16.

    Example::

        >>> from fdjpeg.tables import paper_released
        >>> t = paper_released()
        >>> int(t[0, 0]), int(t[7, 7])
        (25, 30)
    """
    table = np.full((8, 8), 30, dtype=np.uint16)
    table[:4, :4] = 25
    return table


# ---------------------------------------------------------------------------
# JSON

def to_json(tables: TablesLike, *, name: Optional[str] = None) -> str:
    """Tables as JSON text (one row of 8 per line).

    Schema (version 1)::

        {"schema": "fdjpeg.qtables/1",
         "order": "natural",
         "name": "...",                              # optional, free text
         "tables": [[[8 ints], ... 8 rows], ...]}    # 1 to 4 tables

    ``tables`` takes one table, a sequence of 1-4 tables, an (n, 8, 8) array or
    a Pillow-style dict {slot: table}; entries 1..65535.  The list position is
    the table slot (Pillow's ``qtables`` order: slot 0 luma, slot 1 chroma).

    Example::

        >>> from fdjpeg.tables import from_json, standard, to_json
        >>> text = to_json([standard(90), standard(90, chroma=True)], name="q90")
        >>> [int(t[0, 0]) for t in from_json(text)]
        [3, 3]
    """
    tabs = _as_tables(tables)
    head = {"schema": _JSON_SCHEMA, "order": "natural"}
    if name is not None:
        if not isinstance(name, str):
            raise TypeError("name must be a string")
        head["name"] = name
    lines = ["{"] + [f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in head.items()]
    lines.append('  "tables": [')
    for i, t in enumerate(tabs):
        rows = [json.dumps([int(v) for v in row]) for row in t]
        body = ",\n     ".join(rows)
        lines.append(f"    [{body}]" + ("," if i + 1 < len(tabs) else ""))
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def from_json(text: Union[str, bytes, bytearray]) -> List[QTable]:
    """Read tables written by :func:`to_json` (str or bytes); returns a list of
    (8, 8) uint16 arrays.  Each table may be 8 rows of 8 or 64 flat numbers.
    Raises ``ValueError`` for anything else.

    Example::

        >>> from fdjpeg.tables import from_json
        >>> tabs = from_json('{"schema": "fdjpeg.qtables/1", "tables": [[' + '7, ' * 63 + '7]]}')
        >>> len(tabs), tabs[0].shape, int(tabs[0][7, 7])
        (1, (8, 8), 7)
    """
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8")
    if not isinstance(text, str):
        raise TypeError(f"text must be str or bytes, not {type(text).__name__}")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("schema") != _JSON_SCHEMA:
        raise ValueError(f"not an fdjpeg table file (schema must be {_JSON_SCHEMA!r})")
    if doc.get("order", "natural") != "natural":
        raise ValueError(f"unsupported order {doc.get('order')!r} (only 'natural')")
    tables = doc.get("tables")
    if not isinstance(tables, list) or not tables:
        raise ValueError("'tables' must be a non-empty list")
    for t in tables:
        if not isinstance(t, list):
            raise ValueError("each table must be a list")
        if any(isinstance(v, float) for v in np.ravel(np.asarray(t, dtype=object))):
            raise ValueError("table entries must be integers")
    try:
        return _as_tables(tables)
    except TypeError as exc:
        raise ValueError(str(exc)) from None


# ---------------------------------------------------------------------------
# libjpeg -qtables text

def to_cjpeg(tables: TablesLike, *, comment: Optional[str] = None) -> str:
    """Tables in libjpeg's ``-qtables`` text format.

    Each table is 64 whitespace-separated integers in natural order, written
    as 8 lines of 8; ``#`` starts a comment.  Use the file with::

        cjpeg -qtables FILE -qslots 0 -sample 1x1 -outfile out.jpg in.ppm

    for one table on every component at 4:4:4 (``-qslots 0,1`` for Pillow-style
    luma/chroma slots).  Do not pass ``-quality``: cjpeg would rescale the
    tables by it.  Without ``-baseline``, entries above 255 are written as
    16-bit DQT.  libjpeg clamps entries to 1..32767, so larger ones are refused.

    Example::

        >>> from fdjpeg.tables import default_fd, to_cjpeg
        >>> text = to_cjpeg(default_fd(), comment="fdjpeg default FD table")
        >>> text.splitlines()[:2]
        ['# fdjpeg default FD table', '# table 0']
    """
    tabs = _as_tables(tables, max_step=_CJPEG_MAX_STEP)
    lines = []
    if comment is not None:
        for line in str(comment).splitlines() or [""]:
            lines.append(f"# {line}".rstrip())
    for i, t in enumerate(tabs):
        lines.append(f"# table {i}")
        width = len(str(int(t.max())))
        for row in t:
            lines.append(" ".join(f"{int(v):{width}d}" for v in row))
    return "\n".join(lines) + "\n"


_CJPEG_TOKEN = re.compile(r"[0-9]+")


def from_cjpeg(text: Union[str, bytes, bytearray]) -> List[QTable]:
    """Read libjpeg ``-qtables`` text (str or bytes) as libjpeg's
    ``read_quant_tables`` does: integers separated by whitespace, ``#`` to end
    of line is a comment, 64 per table, 1 to 4 tables.  Returns a list of
    (8, 8) uint16 arrays.  Non-numeric data, a partial table or entries outside
    1..32767 raise ``ValueError``.

    Example::

        >>> from fdjpeg.tables import from_cjpeg
        >>> tabs = from_cjpeg("16 " * 64 + "# a uniform table")
        >>> len(tabs), int(tabs[0].max())
        (1, 16)
    """
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("ascii", "replace")
    if not isinstance(text, str):
        raise TypeError(f"text must be str or bytes, not {type(text).__name__}")
    values = []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0]
        for tok in line.split():
            if not _CJPEG_TOKEN.fullmatch(tok):
                raise ValueError(f"line {lineno}: non-numeric data {tok!r}")
            values.append(int(tok))
    if not values:
        raise ValueError("no table in the text")
    if len(values) % 64:
        raise ValueError(f"{len(values)} numbers: not a whole number of 64-entry tables")
    n = len(values) // 64
    if n > 4:
        raise ValueError(f"{n} tables: JPEG has 4 table slots")
    arr = np.array(values, dtype=np.int64).reshape(n, 64)
    return _as_tables(list(arr), max_step=_CJPEG_MAX_STEP)


# ---------------------------------------------------------------------------
# tables of a JPEG file

@dataclass(frozen=True)
class JPEGTables:
    """Quantization tables of a JPEG file (natural order, (8, 8) uint16).

    ``slots``: DQT slot -> table, as defined when the first scan starts.
    ``bits``: DQT slot -> 8 or 16 (the precision it was stored with).
    ``component_slots``: slot used by each frame component, in frame order.
    ``components``: the table of each component (``None`` where the frame has
    none, as in lossless files) -- pass this to ``purify=``.

    Example (what :func:`from_jpeg` returns)::

        >>> import numpy as np, fdjpeg
        >>> from fdjpeg.tables import from_jpeg
        >>> t = from_jpeg(fdjpeg.encode(np.zeros((16, 16, 3), np.uint8), "q75"))
        >>> sorted(t.slots), t.bits, t.component_slots
        ([0, 1], {0: 8, 1: 8}, [0, 1, 1])
    """
    slots: Dict[int, QTable]
    bits: Dict[int, int]
    component_slots: List[int]
    components: List[Optional[QTable]] = field(default_factory=list)


def from_jpeg(data: Union[bytes, bytearray, memoryview, str, "os.PathLike[str]"]) -> JPEGTables:
    """Quantization tables of any JPEG, read by fdjpeg's header parser (no
    pixel decoding).  ``data`` is bytes-like, or a path (str / os.PathLike)
    to a file.  Bad JPEG data raises :class:`fdjpeg.JPEGError`.

    Example::

        >>> import numpy as np, fdjpeg
        >>> from fdjpeg.tables import from_jpeg, known_table_name
        >>> data = fdjpeg.encode(np.zeros((16, 16, 3), np.uint8), True)   # the FD table
        >>> t = from_jpeg(data)
        >>> known_table_name(t.slots[0])
        'fdjpeg default FD table (s_md=30, s_as=20, n_as=15)'
    """
    if isinstance(data, (str, os.PathLike)):
        with open(data, "rb") as fh:
            data = fh.read()
    from fdjpeg._codec import Decoder  # the compiled binding

    info = Decoder(data).info()
    slots = {int(k): np.asarray(v, dtype=np.uint16).reshape(8, 8).copy()
             for k, v in info["qtables"].items()}
    bits = {int(k): int(v) for k, v in info.get("qtable_bits", {}).items()}
    comp_slots, comps = [], []
    for comp in info["components"]:
        comp_slots.append(int(comp["tq"]))
        q = np.asarray(comp["qtable"], dtype=np.uint16).reshape(8, 8)
        comps.append(q.copy() if q.any() else None)
    return JPEGTables(slots=slots, bits=bits, component_slots=comp_slots, components=comps)


# ---------------------------------------------------------------------------
# recognising tables

@functools.lru_cache(maxsize=1)
def _standard_catalogue() -> Dict[bytes, List[tuple]]:
    """table bytes -> [(kind, quality, baseline)] for every libjpeg standard table."""
    cat: Dict[bytes, List[tuple]] = {}
    for chroma in (False, True):
        kind = "chrominance" if chroma else "luminance"
        for q in range(1, 101):
            cat.setdefault(standard(q, chroma).tobytes(), []).append((kind, q, True))
            t = standard(q, chroma, force_baseline=False)
            if t.max() > 255:
                cat.setdefault(t.tobytes(), []).append((kind, q, False))
    return cat


def _standard_name(matches: List[tuple]) -> str:
    groups: Dict[tuple, List[int]] = {}
    for kind, q, baseline in matches:
        groups.setdefault((kind, baseline), []).append(q)
    parts = []
    for (kind, baseline), qs in groups.items():
        qs = sorted(qs)
        if len(qs) == 1:
            qtext = f"quality {qs[0]}"
        elif qs == list(range(qs[0], qs[-1] + 1)):
            qtext = f"quality {qs[0]}-{qs[-1]}"
        else:
            qtext = "quality " + ",".join(map(str, qs))
        parts.append(f"libjpeg standard {kind}, {qtext}"
                     + ("" if baseline else " (not baseline: 16-bit)"))
    return " = ".join(parts)


def known_table_name(table: npt.ArrayLike) -> Optional[str]:
    """A short description of ``table`` if it is one fdjpeg knows, else None.

    Recognised, in this order: the package's default FD table; the paper's
    released-code table; any FD table built from the shipped statistics
    (two step values whose smaller-sigma/larger-sigma split matches the
    shipped band ranking); libjpeg's standard tables at every quality (with
    and without baseline clamping); a uniform table.

    Example::

        >>> from fdjpeg.tables import known_table_name, standard
        >>> known_table_name(standard(75))
        'libjpeg standard luminance, quality 75'
        >>> known_table_name([8] * 64), known_table_name(list(range(1, 65)))
        ('uniform step 8', None)
    """
    t = _as_table(table)
    if np.array_equal(t, default_fd()):
        return "fdjpeg default FD table (s_md=30, s_as=20, n_as=15)"
    if np.array_equal(t, paper_released()):
        return "paper released code (30, 25 in the low 4x4)"
    values = np.unique(t)
    if values.size == 2:
        for s_as, s_md in ((values[0], values[1]), (values[1], values[0])):
            n_as = int(np.count_nonzero(t == s_as))
            if np.array_equal(t, feature_distillation(s_md=int(s_md), s_as=int(s_as),
                                                      n_as=n_as)):
                return f"fdjpeg FD table (s_md={int(s_md)}, s_as={int(s_as)}, n_as={n_as})"
    matches = _standard_catalogue().get(t.tobytes())
    if matches:   # low qualities clamp to all-255 tables: every match is named
        return _standard_name(matches)
    if values.size == 1:
        return f"uniform step {int(values[0])}"
    return None
