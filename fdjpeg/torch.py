"""PyTorch integration: a torchvision-style transform and a BPDA wrapper for adaptive attacks.

``FeatureDistillation`` works without torch for PIL images and numpy arrays; tensors, and the
differentiable wrappers ``bpda_feature_distillation`` / ``FeatureDistillationBPDA``, need torch
(imported here, never by ``import fdjpeg``).  No torchvision dependency.

    from fdjpeg.torch import FeatureDistillation
    transform = FeatureDistillation()          # package FD table, one-pass purification
    loader = DataLoader(dataset_with(transform), num_workers=4)

A float tensor in [0, 1] becomes uint8 as floor(255*x + 0.5) (values outside are clipped), is
purified, and comes back as the same dtype divided by 255: the defense always acts on the 8-bit
pixels a camera or file would hold.
"""
import numpy as np

from fdjpeg._fdops import check_mode, distill, distill_batch, resolve_table, to_uint8

try:  # optional: only tensors and the BPDA wrapper need torch
    import torch as _torch
except ImportError:  # pragma: no cover - exercised only without torch
    _torch = None

__all__ = ["FeatureDistillation", "bpda_feature_distillation", "FeatureDistillationBPDA"]


def _need_torch():
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
    """

    def __init__(self, table=None, mode="1p", subsampling="4:4:4"):
        self.table = resolve_table(table)
        self.mode = check_mode(mode)
        self.subsampling = subsampling

    def __repr__(self):
        return f"{type(self).__name__}(mode={self.mode!r}, subsampling={self.subsampling!r})"

    def _pixels(self, hwc):
        return distill(hwc, self.table, self.mode, self.subsampling)

    def __call__(self, img):
        try:
            from PIL import Image
        except ImportError:  # pragma: no cover
            Image = None
        if Image is not None and isinstance(img, Image.Image):
            return self._pil(img, Image)
        if isinstance(img, np.ndarray):
            return self._array(img)
        if _torch is not None and isinstance(img, _torch.Tensor):
            return self._tensor(img)
        raise TypeError(
            f"FeatureDistillation takes a PIL image, a numpy array or a torch tensor, not {type(img).__name__}"
        )

    def _pil(self, img, Image):
        if img.mode not in ("L", "RGB"):
            raise ValueError(f"PIL image mode must be 'L' or 'RGB', not {img.mode!r} (convert it first)")
        out = self._pixels(np.asarray(img))
        return Image.fromarray(out)

    def _array(self, arr):
        if arr.dtype != np.uint8:
            raise TypeError(f"numpy input must be uint8 (H, W) or (H, W, C), not {arr.dtype}")
        if arr.ndim not in (2, 3):
            raise ValueError(f"numpy input must be (H, W) or (H, W, C), got shape {arr.shape}")
        return self._pixels(arr)

    def _tensor(self, t):
        if t.ndim not in (3, 4) or t.shape[-3] not in (1, 3):
            raise ValueError(f"tensor input must be (C, H, W) or (N, C, H, W) with C 1 or 3, got {tuple(t.shape)}")
        if not (t.dtype == _torch.uint8 or t.is_floating_point()):
            raise TypeError(f"tensor input must be uint8 or floating point in [0, 1], not {t.dtype}")
        arr = t.detach().cpu().numpy()
        batch = arr[None] if arr.ndim == 3 else arr
        hwc = to_uint8(np.moveaxis(batch, 1, -1))
        out = np.moveaxis(distill_batch(hwc, self.table, self.mode, self.subsampling), -1, 1)
        return _to_tensor_like(out[0] if arr.ndim == 3 else out, t)


def _to_tensor_like(out, t):
    """uint8 (.., C, H, W) numpy result -> a tensor of t's dtype (floats / 255) and device.
    The conversion runs in numpy: torch's thread pool is slow to wake up for small tensors."""
    torch = _torch
    if t.is_floating_point():
        np_dtype = torch.empty(0, dtype=t.dtype).numpy().dtype if t.dtype != torch.bfloat16 else np.float32
        res = torch.from_numpy(np.ascontiguousarray(out, dtype=np_dtype) / np_dtype.type(255.0))
        if res.dtype != t.dtype:
            res = res.to(t.dtype)
    else:
        res = torch.from_numpy(np.ascontiguousarray(out))
    return res if t.device.type == "cpu" else res.to(t.device)


def _purify_batch(x, table, mode, subsampling):
    """x: float tensor (N, C, H, W) or (C, H, W) in [0, 1] -> purified float tensor, same shape."""
    arr = x.detach().cpu().numpy()
    batch = arr[None] if arr.ndim == 3 else arr
    out = np.moveaxis(distill_batch(to_uint8(np.moveaxis(batch, 1, -1)), table, mode, subsampling), -1, 1)
    return _to_tensor_like(out[0] if arr.ndim == 3 else out, x)


if _torch is not None:

    class _BPDA(_torch.autograd.Function):
        """Forward: exact FD purification; backward: identity (Athalye et al.'s BPDA)."""

        @staticmethod
        def forward(ctx, x, table, mode, subsampling):
            return _purify_batch(x, table, mode, subsampling)

        @staticmethod
        def backward(ctx, grad):
            return grad, None, None, None

    def bpda_feature_distillation(x, table=None, mode="1p", subsampling="4:4:4"):
        """Differentiable FD for adaptive attacks: forward purifies exactly (uint8 rounding
        included), backward passes the gradient through unchanged."""
        if not x.is_floating_point():
            raise TypeError("bpda_feature_distillation takes a floating-point tensor in [0, 1]")
        return _BPDA.apply(x, resolve_table(table), check_mode(mode), subsampling)

    class FeatureDistillationBPDA(_torch.nn.Module):
        """``nn.Module`` form of :func:`bpda_feature_distillation`, e.g.
        ``nn.Sequential(FeatureDistillationBPDA(), normalize, model)``."""

        def __init__(self, table=None, mode="1p", subsampling="4:4:4"):
            super().__init__()
            self.table = resolve_table(table)
            self.mode = check_mode(mode)
            self.subsampling = subsampling

        def forward(self, x):
            return bpda_feature_distillation(x, self.table, self.mode, self.subsampling)

        def extra_repr(self):
            return f"mode={self.mode!r}, subsampling={self.subsampling!r}"

else:  # pragma: no cover

    def bpda_feature_distillation(*args, **kwargs):
        _need_torch()

    class FeatureDistillationBPDA:
        def __init__(self, *args, **kwargs):
            _need_torch()
from fdjpeg._fdtorch import FeatureDistillationST, adapt, fd_forward  # noqa: E402,F401  (differentiable FD, adaptation)
