"""PyTorch integration: a torchvision-style transform and a BPDA wrapper for adaptive attacks.

``FeatureDistillation`` works without torch for PIL images and numpy arrays; tensors, and the
differentiable wrappers ``bpda_feature_distillation`` / ``FeatureDistillationBPDA``, need torch
(imported here, never by ``import fdjpeg``).  No torchvision dependency.

    from fdjpeg.torch import FeatureDistillation
    fd = FeatureDistillation()                 # package FD table, one-pass purification
    for x, y in DataLoader(dataset, batch_size=64, num_workers=4):
        x = fd(x)                              # cheapest: one C call per (N, C, H, W) batch
    loader = DataLoader(dataset_with(fd), num_workers=4)   # also works: one call per sample

Per sample (a ``Dataset`` transform) every image pays the per-call work (checks, table
parsing, layout copies); on a collated uint8 or float batch it is one ``fdjpeg.purify`` call,
the GIL released once.  With numpy, ``fdjpeg.purify(np.stack(crops), threads=None)`` also
splits the batch over all cores in C (``bench/compare.py --sections threads``).

Dtypes and ranges follow the one rule of the torch and ART integrations (``fdjpeg._pixelrule``,
docs/integrations.md): uint8 is taken as pixels; floating point must lie in [0, 1] and becomes
the pixel floor(255*x + 0.5); values outside [0, 1] (0..255 floats, ``Normalize``d tensors) raise
``ValueError`` instead of being clipped; the result comes back in the input's dtype and scale.
A float tensor that requires grad keeps a BPDA (identity) gradient.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from fdjpeg._fdops import check_mode, distill, distill_batch, resolve_table
from fdjpeg._pixelrule import from_pixels, to_pixels

try:  # optional: only tensors and the BPDA wrapper need torch
    import torch as _torch
except ImportError:  # pragma: no cover - exercised only without torch
    _torch = None  # type: ignore[assignment]

if TYPE_CHECKING:
    import torch
    from PIL import Image

    from fdjpeg.pillow import TableSpec

_Img = TypeVar("_Img", "Image.Image", np.ndarray, "torch.Tensor")

__all__ = ["FeatureDistillation", "bpda_feature_distillation", "FeatureDistillationBPDA"]


def _need_torch() -> Any:
    if _torch is None:
        raise ImportError("this needs PyTorch: pip install torch")
    return _torch


class FeatureDistillation:
    """Feature Distillation as a transform: PIL image, uint8 HWC array or CHW tensor in, same out.

    table: an FD table (any form ``fdjpeg.purify`` takes); None = the package's default FD table.
    mode: "1p" purifies (the defender's step, fused pixel path); "2p" simulates the sensor,
        encoding with the table and decoding the JPEG bytes (same pixels, real file path).
    subsampling: chroma subsampling used by the purification ("4:4:4" keeps the grid exact).

    Picklable (plain attributes), so it works inside a DataLoader with worker processes.
    Cheapest on a batch: ``transform(batch)`` on an (N, C, H, W) tensor is one C call for
    all N images (after the DataLoader, or in a ``collate_fn``); as a per-sample
    ``Dataset`` transform each image pays the per-call overhead.
    Dtypes and ranges: uint8 as pixels, floats in [0, 1]; anything off that scale raises
    ``ValueError`` (the rule in the module docstring); a float tensor that requires grad keeps
    a BPDA (identity) gradient, as :class:`FeatureDistillationBPDA` gives.

        transform = FeatureDistillation()                  # the package's FD table
        y = transform(torch.rand(3, 224, 224))             # float in [0, 1] -> same dtype out
        pil = transform(Image.open("photo.jpg").convert("RGB"))
    """

    def __init__(self, table: TableSpec = None, mode: str = "1p", subsampling: str = "4:4:4") -> None:
        self.table = resolve_table(table)
        self.mode = check_mode(mode)
        self.subsampling = subsampling

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mode={self.mode!r}, subsampling={self.subsampling!r})"

    def _pixels(self, hwc: np.ndarray) -> np.ndarray:
        return distill(hwc, self.table, self.mode, self.subsampling)

    def __call__(self, img: _Img) -> _Img:
        """Purify one image (or a batch of tensors): same type, shape, dtype and scale out."""
        try:
            from PIL import Image
        except ImportError:  # pragma: no cover
            Image = None  # type: ignore[assignment]
        if Image is not None and isinstance(img, Image.Image):
            return self._pil(img, Image)  # type: ignore[return-value]
        if isinstance(img, np.ndarray):
            return self._array(img)
        if _torch is not None and isinstance(img, _torch.Tensor):
            return self._tensor(img)
        raise TypeError(
            f"FeatureDistillation takes a PIL image, a numpy array or a torch tensor, not {type(img).__name__}"
        )

    def _pil(self, img: Image.Image, Image: Any) -> Image.Image:
        if img.mode not in ("L", "RGB"):
            raise ValueError(f"PIL image mode must be 'L' or 'RGB', not {img.mode!r} (convert it first)")
        out = self._pixels(np.asarray(img))
        return Image.fromarray(out)

    def _array(self, arr: np.ndarray) -> np.ndarray:
        if arr.ndim not in (2, 3):
            raise ValueError(f"numpy input must be (H, W) or (H, W, C), got shape {arr.shape}")
        hi = 255 if arr.dtype == np.uint8 else 1.0
        pixels = to_pixels(arr, hi, _WHO)
        return from_pixels(self._pixels(pixels), arr.dtype, hi)

    def _tensor(self, t: torch.Tensor) -> torch.Tensor:
        if t.ndim not in (3, 4) or t.shape[-3] not in (1, 3):
            raise ValueError(f"tensor input must be (C, H, W) or (N, C, H, W) with C 1 or 3, got {tuple(t.shape)}")
        if not (t.dtype == _torch.uint8 or t.is_floating_point()):
            raise TypeError(f"{_WHO} takes uint8 or floating-point tensors (floats in [0, 1]), not {t.dtype}")
        if t.requires_grad and _torch.is_grad_enabled():
            # BPDA: exact purification forward, identity backward (as FeatureDistillationBPDA)
            return _BPDA.apply(t, self.table, self.mode, self.subsampling)
        return _purify_batch(t, self.table, self.mode, self.subsampling)


def _to_tensor_like(out: np.ndarray, t: torch.Tensor) -> torch.Tensor:
    """uint8 (.., C, H, W) numpy result -> a tensor of t's dtype (floats / 255) and device.
    The conversion runs in numpy: torch's thread pool is slow to wake up for small tensors."""
    torch = _torch
    if t.is_floating_point():
        np_dtype = torch.empty(0, dtype=t.dtype).numpy().dtype if t.dtype != torch.bfloat16 else np.dtype(np.float32)
        res = np.ascontiguousarray(out, dtype=np_dtype)
        res /= np_dtype.type(255.0)  # in place: no second batch-sized temporary
        res = torch.from_numpy(res)
        if res.dtype != t.dtype:
            res = res.to(t.dtype)
    else:
        res = torch.from_numpy(np.ascontiguousarray(out))
    return res if t.device.type == "cpu" else res.to(t.device)


_WHO = "fdjpeg.torch.FeatureDistillation"


def _nhwc(batch: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> a C-contiguous (N, H, W, C) copy made one channel plane at a time:
    numpy's generic transpose (``ascontiguousarray(moveaxis(...))``) is about 5x slower for
    three channels, as slow as the purification itself (bench/compare.py, threads section)."""
    out = np.empty(batch.shape[:1] + batch.shape[2:] + batch.shape[1:2], batch.dtype)
    for c in range(batch.shape[1]):
        out[..., c] = batch[:, c]
    return out


def _purify_batch(x: torch.Tensor, table: Any, mode: str, subsampling: str, who: str = _WHO) -> torch.Tensor:
    """x: uint8 or float tensor (N, C, H, W) or (C, H, W) -> purified tensor, same shape, dtype
    and scale (the dtype/range rule of ``fdjpeg._pixelrule``)."""
    cpu = x.detach().cpu()
    if cpu.dtype == _torch.bfloat16:
        cpu = cpu.float()
    arr = cpu.numpy()
    batch = arr[None] if arr.ndim == 3 else arr
    hi = 255 if arr.dtype == np.uint8 else 1.0
    # Float batches are read in chunks of about _CHUNK_PIXELS pixels: the float64 temporaries
    # of a whole batch fall out of the cache and made one call on a 64 x 3 x 224 x 224 float
    # batch slower than 64 per-sample calls.  uint8 needs no temporaries: one chunk.
    step = len(batch) if hi == 255 else max(1, _CHUNK_PIXELS // max(1, batch.shape[2] * batch.shape[3]))
    hwc = np.empty(batch.shape[:1] + batch.shape[2:] + batch.shape[1:2], np.uint8)
    for i in range(0, len(batch), step):
        try:
            hwc[i:i + step] = to_pixels(_nhwc(batch[i:i + step]), hi, who)
        except ValueError:
            to_pixels(batch, hi, who)  # the message names the whole batch's range
            raise
    out = np.moveaxis(distill_batch(hwc, table, mode, subsampling), -1, 1)
    return _to_tensor_like(out[0] if arr.ndim == 3 else out, x)


_CHUNK_PIXELS = 1 << 17


_BPDA_WHO = "fdjpeg.torch.bpda_feature_distillation"

if _torch is not None:

    class _BPDA(_torch.autograd.Function):
        """Forward: exact FD purification; backward: identity (Athalye et al.'s BPDA)."""

        @staticmethod
        def forward(ctx: Any, x: torch.Tensor, table: Any, mode: str, subsampling: str) -> torch.Tensor:
            return _purify_batch(x, table, mode, subsampling, _BPDA_WHO)

        @staticmethod
        def backward(ctx: Any, grad: torch.Tensor) -> tuple:  # type: ignore[override]
            return grad, None, None, None

    def bpda_feature_distillation(x: torch.Tensor, table: TableSpec = None, mode: str = "1p",
                                  subsampling: str = "4:4:4") -> torch.Tensor:
        """Differentiable FD for adaptive attacks: forward purifies exactly (uint8 rounding
        included), backward passes the gradient through unchanged (BPDA).  ``x``: a float
        tensor (C, H, W) or (N, C, H, W) in [0, 1] (the dtype rule of this module; off the
        scale raises ``ValueError``).

            x = torch.rand(1, 3, 32, 32, requires_grad=True)
            bpda_feature_distillation(x).sum().backward()   # x.grad == ones
        """
        if not x.is_floating_point():
            raise TypeError(f"{_BPDA_WHO} takes a floating-point tensor in [0, 1], not {x.dtype}")
        return _BPDA.apply(x, resolve_table(table), check_mode(mode), subsampling)

    class FeatureDistillationBPDA(_torch.nn.Module):
        """``nn.Module`` form of :func:`bpda_feature_distillation` (exact forward, identity
        backward), for adaptive attacks against the defended model:

            model = nn.Sequential(FeatureDistillationBPDA(), normalize, classifier)
        """

        def __init__(self, table: TableSpec = None, mode: str = "1p", subsampling: str = "4:4:4") -> None:
            super().__init__()
            self.table = resolve_table(table)
            self.mode = check_mode(mode)
            self.subsampling = subsampling

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return bpda_feature_distillation(x, self.table, self.mode, self.subsampling)

        def extra_repr(self) -> str:
            return f"mode={self.mode!r}, subsampling={self.subsampling!r}"

else:  # pragma: no cover

    def bpda_feature_distillation(*args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
        """Needs PyTorch (raises ImportError without it)."""
        _need_torch()

    class FeatureDistillationBPDA:  # type: ignore[no-redef]
        """Needs PyTorch (raises ImportError without it)."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            _need_torch()


# ---------------------------------------------------------------------------
# random-resized-crop straight from the JPEG (region decode)


class RandomResizedCropDecode:
    """torchvision's ``RandomResizedCrop`` for JPEG files, decoding only the crop.

    Takes the JPEG (bytes-like, a path or a binary file object), draws the crop exactly as
    ``torchvision.transforms.RandomResizedCrop.get_params`` does (10 tries at a random area in
    ``scale`` and aspect ratio in ``ratio``, log-uniform, then a centre crop clamped to
    ``ratio``), decodes just that rectangle with ``fdjpeg.decode(region=)`` and resizes it to
    ``size`` with Pillow.  The pixels are those of decoding the whole file, cropping and
    resizing; the decode costs roughly the crop's share of the image (sequential files still
    entropy-decode every MCU row above the crop; progressive files decode all coefficients).

    size: int (square) or (height, width), as torchvision.
    interpolation: a ``PIL.Image.Resampling`` value (default bilinear, torchvision's default).
    purify: one-pass Feature Distillation in the decoder (any ``fdjpeg.decode`` purify form).
    output: "pil" (default, a PIL image for the rest of a torchvision pipeline), "numpy"
        (uint8 HWC) or "tensor" (uint8 CHW, needs torch).
    mode: None (the file's own: L or RGB; CMYK files become RGB) or "RGB"/"L".

    Random draws use torch's generator when torch is installed (so DataLoader worker seeding
    applies, and the draws equal torchvision's), Python's ``random`` otherwise.  Picklable.

        crop = RandomResizedCropDecode(224, purify=True)
        img = crop(open("photo.jpg", "rb").read())      # a 224x224 PIL image, purified
    """

    def __init__(self, size: "int | tuple[int, int]", scale: "tuple[float, float]" = (0.08, 1.0),
                 ratio: "tuple[float, float]" = (3.0 / 4.0, 4.0 / 3.0), interpolation: Any = None,
                 purify: Any = None, output: str = "pil", mode: "str | None" = None) -> None:
        hw: Any = size
        if isinstance(hw, (int, np.integer)) and not isinstance(hw, bool):
            hw = (int(hw), int(hw))
        if isinstance(hw, bool) or len(hw) != 2 or any(int(s) < 1 for s in hw):
            raise ValueError(f"size must be a positive int or (height, width), not {size!r}")
        self.size = (int(hw[0]), int(hw[1]))
        if scale[0] > scale[1] or ratio[0] > ratio[1] or scale[0] <= 0 or ratio[0] <= 0:
            raise ValueError("scale and ratio must be increasing (min, max) pairs of positive numbers")
        self.scale = (float(scale[0]), float(scale[1]))
        self.ratio = (float(ratio[0]), float(ratio[1]))
        if interpolation is None:
            from PIL import Image
            interpolation = Image.Resampling.BILINEAR
        self.interpolation = interpolation
        self.purify = purify
        if output not in ("pil", "numpy", "tensor"):
            raise ValueError(f"output must be 'pil', 'numpy' or 'tensor', not {output!r}")
        if output == "tensor":
            _need_torch()
        self.output = output
        if mode not in (None, "RGB", "L"):
            raise ValueError(f"mode must be None, 'RGB' or 'L', not {mode!r}")
        self.mode = mode

    def __repr__(self):
        return (f"{type(self).__name__}(size={self.size}, scale={self.scale}, ratio={self.ratio}, "
                f"output={self.output!r})")

    @staticmethod
    def _uniform(lo, hi):
        if _torch is not None:
            return float(_torch.empty(1).uniform_(lo, hi).item())
        import random
        return random.uniform(lo, hi)

    @staticmethod
    def _randint(lo, hi):  # [lo, hi)
        if _torch is not None:
            return int(_torch.randint(lo, hi, size=(1,)).item())
        import random
        return random.randrange(lo, hi)

    def get_params(self, width: int, height: int) -> "tuple[int, int, int, int]":
        """(x, y, w, h) of a random crop of a width x height image (torchvision's draw)."""
        import math

        area = height * width
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            target_area = area * self._uniform(self.scale[0], self.scale[1])
            aspect = math.exp(self._uniform(log_ratio[0], log_ratio[1]))
            w = int(round(math.sqrt(target_area * aspect)))
            h = int(round(math.sqrt(target_area / aspect)))
            if 0 < w <= width and 0 < h <= height:
                y = self._randint(0, height - h + 1)
                x = self._randint(0, width - w + 1)
                return x, y, w, h
        in_ratio = width / height
        if in_ratio < min(self.ratio):
            w = width
            h = int(round(w / min(self.ratio)))
        elif in_ratio > max(self.ratio):
            h = height
            w = int(round(h * max(self.ratio)))
        else:
            w, h = width, height
        return (width - w) // 2, (height - h) // 2, w, h

    def __call__(self, jpeg: Any) -> Any:
        import os

        from PIL import Image

        import fdjpeg
        from fdjpeg import _api

        if isinstance(jpeg, (str, os.PathLike)):
            with open(jpeg, "rb") as f:
                jpeg = f.read()
        elif hasattr(jpeg, "read"):
            jpeg = jpeg.read()
        mode = self.mode
        dec = _api._open(jpeg)
        if mode is None and dec.num_components() == 4:
            mode = "RGB"
        height, width, _ = dec.output_shape()
        x, y, w, h = self.get_params(width, height)
        crop = fdjpeg.decode(jpeg, region=(x, y, w, h), purify=self.purify, mode=mode)
        img = Image.fromarray(crop).resize((self.size[1], self.size[0]), self.interpolation)
        if self.output == "pil":
            return img
        arr = np.asarray(img)
        if self.output == "numpy":
            return arr
        arr = arr[None] if arr.ndim == 2 else np.moveaxis(arr, -1, 0)
        return _torch.from_numpy(np.ascontiguousarray(arr))


__all__.append("RandomResizedCropDecode")


# differentiable FD (the exact forward with straight-through roundings) and label-free adaptation
from fdjpeg._fdtorch import FeatureDistillationST, adapt, fd_forward  # noqa: E402

__all__ += ["FeatureDistillationST", "adapt", "fd_forward"]
