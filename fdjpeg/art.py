"""Adversarial Robustness Toolbox (ART) preprocessor: Feature Distillation in place of JpegCompression.

    from fdjpeg.art import FeatureDistillation
    fd = FeatureDistillation(clip_values=(0.0, 1.0), channels_first=True)
    classifier = PyTorchClassifier(model, ..., preprocessing_defences=[fd])

It follows ART's ``JpegCompression`` conventions (clip values (0, 1) or (0, 255), channels
first or last, NHWC/NCHW images and NFHWC/NCFHW videos, 3-channel data as RGB and other channel
counts one grey channel at a time), with two differences: values become 8-bit pixels by rounding,
floor(255*x/clip_max + 0.5), not by truncation, and the gradient is BPDA's identity.  Dtypes and
ranges follow the one rule of the torch and ART integrations (``fdjpeg._pixelrule``,
docs/integrations.md): uint8 or floating point on the scale [0, clip_values[1]]; a value outside
it (normalized input, 0..255 data with clip_values (0, 1), NaN) raises ``ValueError``, never clipped.
ART is imported when this module is imported, never by ``import fdjpeg``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional, Tuple

import numpy as np

from art.config import ART_NUMPY_DTYPE
from art.defences.preprocessor.preprocessor import Preprocessor

from fdjpeg._fdops import MODES, distill, resolve_table
from fdjpeg._pixelrule import from_pixels, to_pixels

if TYPE_CHECKING:
    from fdjpeg.pillow import TableSpec

__all__ = ["FeatureDistillation"]


class FeatureDistillation(Preprocessor):
    """Feature Distillation (Liu et al., CVPR 2019) as an ART preprocessing defence.

    :param clip_values: (0, 1) or (0, 255), the data range of the inputs.
    :param table: FD table (any form ``fdjpeg.purify`` takes); None = the package default.
    :param mode: "1p" purify, "2p" sensor encode + decode (same pixels, through JPEG bytes).
    :param subsampling: chroma subsampling of the purification, "4:4:4" by default.
    :param channels_first: inputs are NCHW (NCFHW for videos) instead of NHWC (NFHWC).
    :param apply_fit: apply while training.
    :param apply_predict: apply while predicting.
    :param verbose: show a progress bar (tqdm).

    Inputs are uint8 or floating point on the scale [0, clip_values[1]]; values off that scale
    (normalized data, NaN) raise ``ValueError`` - the dtype rule shared with ``fdjpeg.torch``.

        fd = FeatureDistillation(clip_values=(0.0, 1.0), channels_first=True)
        x_purified, _ = fd(x)            # (N, 3, H, W) float32 in [0, 1] -> same shape and scale
        classifier = PyTorchClassifier(model, ..., preprocessing_defences=[fd])
    """

    params = ["clip_values", "table", "mode", "subsampling", "channels_first", "verbose"]

    def __init__(self, clip_values: Tuple[float, float], table: TableSpec = None, mode: str = "1p",
                 subsampling: str = "4:4:4", channels_first: bool = False, apply_fit: bool = True,
                 apply_predict: bool = True, verbose: bool = False) -> None:
        super().__init__(is_fitted=True, apply_fit=apply_fit, apply_predict=apply_predict)
        self.clip_values = clip_values
        self.table = resolve_table(table)
        self.mode = mode
        self.subsampling = subsampling
        self.channels_first = channels_first
        self.verbose = verbose
        self._check_params()

    def __call__(self, x: np.ndarray, y: Optional[Any] = None) -> Tuple[np.ndarray, Optional[Any]]:
        """Purify ``x`` (NHWC/NCHW images or NFHWC/NCFHW videos); ``y`` is returned unchanged."""
        x = np.asarray(x)
        ndim = x.ndim
        if ndim not in (4, 5):
            raise ValueError("Feature Distillation applies to images (4-D) and videos (5-D) only.")
        x8 = to_pixels(x, self.clip_values[1], f"fdjpeg.art.FeatureDistillation(clip_values={tuple(self.clip_values)})")
        if self.channels_first:
            x8 = np.moveaxis(x8, 1, -1)
        if ndim == 4:
            x8 = x8[:, None]
        out = np.empty_like(x8)
        it = np.ndindex(x8.shape[:2])
        if self.verbose:
            from tqdm.auto import tqdm

            it = tqdm(list(it), desc="Feature Distillation")
        for idx in it:
            img = x8[idx]
            if img.shape[-1] == 3:
                out[idx] = distill(img, self.table, self.mode, self.subsampling)
            else:
                for c in range(img.shape[-1]):
                    out[idx][..., c] = distill(img[..., c], self.table, self.mode, self.subsampling)
        res = from_pixels(out, ART_NUMPY_DTYPE, self.clip_values[1]).astype(ART_NUMPY_DTYPE)
        if ndim == 4:
            res = res[:, 0]
        if self.channels_first:
            res = np.moveaxis(res, -1, 1)
        return np.ascontiguousarray(res), y

    def estimate_gradient(self, x: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """BPDA: the defence is treated as the identity in the backward pass."""
        return grad

    def _check_params(self) -> None:
        from fdjpeg._tableforms import table_slots

        self.table = resolve_table(self.table)
        try:
            table_slots(self.table, 3)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"'table' is not a quantization table: {exc}") from None
        if self.clip_values is None or len(self.clip_values) != 2:
            raise ValueError("'clip_values' should be a tuple (min, max) of the allowed data range.")
        if np.array(self.clip_values[0] >= self.clip_values[1]).any():
            raise ValueError("Invalid 'clip_values': min >= max.")
        if self.clip_values[0] != 0:
            raise ValueError("'clip_values' min value must be 0.")
        if self.clip_values[1] != 1.0 and self.clip_values[1] != 255:
            raise ValueError("'clip_values' max value must be either 1 or 255.")
        if self.mode not in MODES:
            raise ValueError(f"'mode' must be '1p' or '2p', not {self.mode!r}.")
        if self.subsampling not in ("4:4:4", "4:2:2", "4:2:0"):
            raise ValueError(f"'subsampling' must be '4:4:4', '4:2:2' or '4:2:0', not {self.subsampling!r}.")
        if not isinstance(self.channels_first, bool):
            raise ValueError("The argument `channels_first` has to be of type bool.")
        if not isinstance(self.verbose, bool):
            raise ValueError("The argument `verbose` has to be of type bool.")
