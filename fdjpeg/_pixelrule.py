"""The one dtype-and-range rule of the torch and ART integrations (written once, used by both).

Feature Distillation acts on the 8-bit pixels a camera or a file holds, so every input is first
read as 8-bit pixels, and the result is returned on the input's own scale:

* An input holds numbers ``x`` on a scale ``[0, hi]``.  ``hi`` is 255 for uint8 data (torch:
  uint8 tensors, uint8 arrays, PIL images) and 1 for floating-point tensors (torch); for ART it
  is ``clip_values[1]`` (1 or 255), whatever the dtype.
* Accepted dtypes: uint8 and floating point.  Anything else (bool, int16, int64, complex...)
  raises ``TypeError``.
* Each number becomes the pixel ``floor(255 * x / hi + 0.5)`` (rounding, not truncation), which
  must lie in 0..255: a value outside ``[0, hi]`` by more than half a pixel step (``hi / 510``),
  or NaN, raises ``ValueError`` saying what is expected.  Nothing is clipped: 0..255 floats given
  to a [0, 1] transform, or tensors after ``Normalize``, are refused, never silently whitened.
* The purified pixels come back on the input's scale (``pixel * hi / 255``) in the input's dtype
  (ART: ``art.config.ART_NUMPY_DTYPE``, as ART's own preprocessors return).
* Gradients: both integrations are BPDA (Athalye et al.): the backward pass is the identity.
  A torch tensor that requires grad keeps that gradient; ART's ``estimate_gradient`` returns
  ``grad`` unchanged.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["to_pixels", "from_pixels"]


def _fmt(v: Any) -> str:
    return f"{float(v):.6g}"


def to_pixels(x: npt.ArrayLike, hi: float, who: str) -> np.ndarray:
    """``x`` (a numpy array on the scale [0, hi]) -> uint8 pixels, following the rule above.

    ``who`` names the caller in the error messages (e.g. ``"fdjpeg.torch.FeatureDistillation"``).

    >>> to_pixels(np.array([0.0, 0.5, 1.0]), 1.0, "demo").tolist()
    [0, 128, 255]
    """
    x = np.asarray(x)
    if x.dtype == np.uint8 and hi == 255:
        return x
    if not (x.dtype == np.uint8 or x.dtype.kind == "f"):
        raise TypeError(f"{who} takes uint8 or floating-point input, not {x.dtype}")
    # float64, so that floor(255 x / hi + 0.5) is decided on the value the caller holds
    p = np.floor(x.astype(np.float64) * (255.0 / float(hi)) + 0.5)
    if p.size:
        nan = bool(np.isnan(p).any())
        if nan or p.min() < 0 or p.max() > 255:
            scale = "[0, 1]" if float(hi) == 1.0 else f"[0, {_fmt(hi)}]"
            found = "NaN values" if nan else f"values from {_fmt(np.min(x))} to {_fmt(np.max(x))}"
            hint = ""
            if not nan and p.min() < 0:
                hint = " Negative values usually mean normalized input: apply Feature Distillation before Normalize."
            elif not nan and float(hi) == 1.0:
                hint = " For 0..255 data divide by 255 (or pass uint8)."
            raise ValueError(f"{who} expects {x.dtype} input on the scale {scale} "
                             f"(8-bit pixel = floor(255 * x / {_fmt(hi)} + 0.5)); got {found}.{hint}")
    return p.astype(np.uint8)


def from_pixels(pixels: np.ndarray, dtype: npt.DTypeLike, hi: float) -> np.ndarray:
    """uint8 ``pixels`` -> the scale [0, hi] in ``dtype`` (uint8 with hi 255: the pixels)."""
    dtype = np.dtype(dtype)
    if dtype == np.uint8 and hi == 255:
        return np.ascontiguousarray(pixels)
    return np.ascontiguousarray(pixels, dtype=dtype) / np.asarray(255.0 / float(hi), dtype=dtype)
