"""Differentiable Feature Distillation in torch, and label-free adaptation of a model to FD.

``fd_forward(x, table)`` is FD's one-pass purification written as torch operations, with a
straight-through estimator (STE) for every rounding: forward rounds like the codec, backward
passes the gradient through the rounding unchanged.  It is the BPDA approximation of Athalye
et al. (2018) that keeps everything of FD that is differentiable (colour transform, 8x8 DCT,
division by the table, multiplication, IDCT, colour transform back) and replaces only the
roundings by the identity -- much closer to the defense than the identity backward pass of
:func:`fdjpeg.torch.bpda_feature_distillation`.

Forward agreement with :func:`fdjpeg.purify` (4:4:4): the forward pass emulates the codec's
integer arithmetic -- libjpeg's 16-bit fixed-point colour transforms, the ISLOW forward and
inverse DCTs with their descaling, libjpeg's quantizer -- on float64 tensors that hold integers,
so its output equals ``purify`` pixel for pixel (``tests/test_fdtorch.py`` checks equality on
natural crops with the paper's table, luma/chroma pairs and extreme steps).  Not emulated:
libjpeg's range-limit wrap for IDCT outputs beyond -384..639 (they are clamped here), which only
hostile coefficient data reaches.

``adapt(model, images, table=...)`` adapts a classifier to FD's images without labels:
batch-norm statistics shifted toward those of the purified images, and optionally a few steps of
self-distillation (teacher: the original model on the clean images; student: the adapted model on
the purified images).
"""
from __future__ import annotations

import copy
from typing import Any

import numpy as np

__all__ = ["fd_forward", "FeatureDistillationST", "adapt"]


def _torch():
    try:
        import torch
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("this needs PyTorch: pip install torch") from e
    return torch


def _tables(table, torch, dtype):
    """(3, 8, 8) float tensor of steps for Y, Cb, Cr from any table form purify takes."""
    from fdjpeg._fdops import resolve_table
    from fdjpeg._tableforms import table_slots

    tabs, slots = table_slots(resolve_table(table), 3)
    t = np.stack([np.asarray(tabs[s], dtype=np.float64).reshape(8, 8) for s in slots[:3]])
    if (t < 1).any():
        raise ValueError("quantization steps must be >= 1")
    return torch.tensor(t, dtype=dtype)


def _ste_round(x):
    """Round half away from zero (the codec's rounding) forward, identity backward."""
    torch = _torch()
    r = torch.sign(x) * torch.floor(torch.abs(x) + 0.5)
    return x + (r - x).detach()


def _ste_floor(x):
    """floor forward, identity backward."""
    torch = _torch()
    return x + (torch.floor(x) - x).detach()


# libjpeg's ISLOW integer DCTs (jfdctint.c / jidctint.c: CONST_BITS 13, PASS1_BITS 2), written
# as torch operations on float64 tensors holding integers (exact below 2^53), so the forward
# pass reproduces the codec's coefficients and samples; each DESCALE is a straight-through
# floor, so the backward pass is that of the linear transform.
_F = {"0_298631336": 2446, "0_390180644": 3196, "0_541196100": 4433, "0_765366865": 6270,
      "0_899976223": 7373, "1_175875602": 9633, "1_501321110": 12299, "1_847759065": 15137,
      "1_961570560": 16069, "2_053119869": 16819, "2_562915447": 20995, "3_072711026": 25172}


def _descale(x, n):
    return _ste_floor((x + float(1 << (n - 1))) / float(1 << n))


def _fdct_1d(s, shift_even0, shift_other):
    """One pass of jfdctint.c along the last axis; shift_even0 None = outputs 0/4 times 4."""
    torch = _torch()
    f = _F
    s0, s1, s2, s3, s4, s5, s6, s7 = s.unbind(-1)
    tmp0, tmp7, tmp1, tmp6 = s0 + s7, s0 - s7, s1 + s6, s1 - s6
    tmp2, tmp5, tmp3, tmp4 = s2 + s5, s2 - s5, s3 + s4, s3 - s4
    tmp10, tmp13, tmp11, tmp12 = tmp0 + tmp3, tmp0 - tmp3, tmp1 + tmp2, tmp1 - tmp2
    if shift_even0 is None:
        d0, d4 = (tmp10 + tmp11) * 4.0, (tmp10 - tmp11) * 4.0
    else:
        d0, d4 = _descale(tmp10 + tmp11, shift_even0), _descale(tmp10 - tmp11, shift_even0)
    z1 = (tmp12 + tmp13) * f["0_541196100"]
    d2 = _descale(z1 + tmp13 * f["0_765366865"], shift_other)
    d6 = _descale(z1 - tmp12 * f["1_847759065"], shift_other)
    z1, z2, z3, z4 = tmp4 + tmp7, tmp5 + tmp6, tmp4 + tmp6, tmp5 + tmp7
    z5 = (z3 + z4) * f["1_175875602"]
    tmp4, tmp5 = tmp4 * f["0_298631336"], tmp5 * f["2_053119869"]
    tmp6, tmp7 = tmp6 * f["3_072711026"], tmp7 * f["1_501321110"]
    z1, z2 = z1 * -f["0_899976223"], z2 * -f["2_562915447"]
    z3, z4 = z3 * -f["1_961570560"] + z5, z4 * -f["0_390180644"] + z5
    d7 = _descale(tmp4 + z1 + z3, shift_other)
    d5 = _descale(tmp5 + z2 + z4, shift_other)
    d3 = _descale(tmp6 + z2 + z3, shift_other)
    d1 = _descale(tmp7 + z1 + z4, shift_other)
    return torch.stack([d0, d1, d2, d3, d4, d5, d6, d7], -1)


def _idct_1d(c, shift):
    """One pass of jidctint.c along the last axis (before range limiting)."""
    torch = _torch()
    f = _F
    c0, c1, c2, c3, c4, c5, c6, c7 = c.unbind(-1)
    z1 = (c2 + c6) * f["0_541196100"]
    tmp2 = z1 + c6 * -f["1_847759065"]
    tmp3 = z1 + c2 * f["0_765366865"]
    tmp0, tmp1 = (c0 + c4) * 8192.0, (c0 - c4) * 8192.0
    tmp10, tmp13, tmp11, tmp12 = tmp0 + tmp3, tmp0 - tmp3, tmp1 + tmp2, tmp1 - tmp2
    t0, t1, t2, t3 = c7, c5, c3, c1
    z1, z2, z3, z4 = t0 + t3, t1 + t2, t0 + t2, t1 + t3
    z5 = (z3 + z4) * f["1_175875602"]
    t0, t1 = t0 * f["0_298631336"], t1 * f["2_053119869"]
    t2, t3 = t2 * f["3_072711026"], t3 * f["1_501321110"]
    z1, z2 = z1 * -f["0_899976223"], z2 * -f["2_562915447"]
    z3, z4 = z3 * -f["1_961570560"] + z5, z4 * -f["0_390180644"] + z5
    t0, t1, t2, t3 = t0 + z1 + z3, t1 + z2 + z4, t2 + z2 + z3, t3 + z1 + z4
    return torch.stack([_descale(tmp10 + t3, shift), _descale(tmp11 + t2, shift),
                        _descale(tmp12 + t1, shift), _descale(tmp13 + t0, shift),
                        _descale(tmp13 - t0, shift), _descale(tmp12 - t1, shift),
                        _descale(tmp11 - t2, shift), _descale(tmp10 - t3, shift)], -1)


def _fdct_islow(blocks):
    """(..., 8, 8) level-shifted samples -> 8 x DCT coefficients, as jfdctint.c."""
    rows = _fdct_1d(blocks, None, 11)  # rows: CONST_BITS - PASS1_BITS
    cols = _fdct_1d(rows.transpose(-1, -2), 2, 15)  # columns: PASS1_BITS / CONST_BITS + PASS1_BITS
    return cols.transpose(-1, -2)


def _idct_islow(coef):
    """(..., 8, 8) dequantized coefficients -> samples - 128 before range limiting (jidctint.c)."""
    cols = _idct_1d(coef.transpose(-1, -2), 11).transpose(-1, -2)  # columns
    return _idct_1d(cols, 18)  # rows: CONST_BITS + PASS1_BITS + 3


def fd_forward(x: Any, table: Any = None, *, round_input: bool = True) -> Any:
    """FD one-pass purification of float images in [0, 1], differentiable (straight-through).

    x: float tensor (N, 3, H, W) or (3, H, W) in [0, 1], H and W multiples of 8 (the 4:4:4 grid;
        other sizes raise ValueError).
    table: any FD table form :func:`fdjpeg.purify` takes (one (8, 8) table for all components, or
        [luma, chroma]); None = the package default ``fdjpeg.tables.feature_distillation()``.
    round_input: round 255*x to uint8 levels first (as the defense only ever sees uint8 pixels).

    Steps, each in the codec's integer arithmetic: RGB -> YCbCr (libjpeg's 16-bit fixed point),
    level shift by 128, ISLOW 8x8 DCT, divide by the table and round half away from zero,
    multiply, ISLOW IDCT, +128, clamp to 0..255, YCbCr -> RGB (fixed point), clamp.  Every rounding is straight-through (identity
    gradient), every clamp passes no gradient outside its range.  The result is on the uint8 grid:
    a tensor of x's shape holding levels / 255.

    Example::

        y = fd_forward(x.requires_grad_())    # == fdjpeg.purify(x as uint8) / 255, exactly
        y.sum().backward()                     # straight-through gradient w.r.t. x
    """
    torch = _torch()
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError("fd_forward takes a floating-point tensor in [0, 1]")
    squeeze = x.ndim == 3
    if squeeze:
        x = x[None]
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"expected (N, 3, H, W) or (3, H, W), got {tuple(x.shape)}")
    n, _, h, w = x.shape
    if h % 8 or w % 8:
        raise ValueError(f"height and width must be multiples of 8, got {h}x{w}")
    dtype = x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32
    x = x.to(dtype) * 255.0
    if round_input:
        x = _ste_round(x.clamp(0.0, 255.0))
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    # libjpeg's 16-bit fixed point (exact in float for integer samples):
    # Y = (19595 R + 38470 G + 7471 B + 2^15) >> 16, Cb/Cr rounded half down (+2^15 - 1).
    y = _ste_floor((19595.0 * r + 38470.0 * g + 7471.0 * b + 32768.0) / 65536.0)
    cb = _ste_floor((-11059.0 * r - 21709.0 * g + 32768.0 * b + 32767.0) / 65536.0)
    cr = _ste_floor((32768.0 * r - 27439.0 * g - 5329.0 * b + 32767.0) / 65536.0)
    ycc = torch.stack([y - 128.0, cb, cr], 1)  # level-shifted samples
    T = _tables(table, torch, torch.float64).to(x.device)  # (3, 8, 8)
    blocks = ycc.double().reshape(n, 3, h // 8, 8, w // 8, 8).permute(0, 1, 2, 4, 3, 5)
    coef8 = _fdct_islow(blocks)  # 8 x the orthonormal DCT, integers
    tq = T[None, :, None, None]
    v = coef8 / (8.0 * tq)
    # libjpeg's quantizer: (|c| + 4q) // 8q with the sign of c (round half away from zero)
    qv = torch.sign(coef8) * torch.floor((torch.abs(coef8) + 4.0 * tq) / (8.0 * tq))
    coef = (v + (qv - v).detach()) * tq  # straight-through; dequantized
    out = (_idct_islow(coef) + 128.0).clamp(0.0, 255.0).to(dtype)
    ycc = out.permute(0, 1, 2, 4, 3, 5).reshape(n, 3, h, w)
    yy, cb, cr = ycc[:, 0], ycc[:, 1] - 128.0, ycc[:, 2] - 128.0
    # libjpeg's YCbCr -> RGB: Y + ((k * c + 2^15) >> 16), clamped
    rgb = torch.stack([yy + _ste_floor((91881.0 * cr + 32768.0) / 65536.0),
                       yy + _ste_floor((-22554.0 * cb - 46802.0 * cr + 32768.0) / 65536.0),
                       yy + _ste_floor((116130.0 * cb + 32768.0) / 65536.0)], 1)
    rgb = rgb.clamp(0.0, 255.0)
    rgb = rgb / 255.0
    return rgb[0] if squeeze else rgb


try:  # the module form needs torch at class-definition time; the functions import it lazily
    import torch as _t

    _ModuleBase = _t.nn.Module
except ImportError:  # pragma: no cover - exercised only without torch
    _ModuleBase = object


class FeatureDistillationST(_ModuleBase):
    """``nn.Module`` form of :func:`fd_forward`: the model an adaptive (BPDA) attacker
    differentiates through.

    Example::

        defended = torch.nn.Sequential(FeatureDistillationST("fd"), model)
    """

    def __init__(self, table: Any = None, *, round_input: bool = True) -> None:
        _torch()
        super().__init__()
        from fdjpeg._fdops import resolve_table

        self.table = resolve_table(table)
        self.round_input = round_input

    def forward(self, x: Any) -> Any:
        return fd_forward(x, self.table, round_input=self.round_input)


# -- adaptation ------------------------------------------------------------------------------

def _as_batch(images):
    arr = images if isinstance(images, np.ndarray) else np.stack([np.asarray(i) for i in images]) \
        if len(images) else np.zeros((0, 1, 1, 3), np.uint8)
    if arr.dtype != np.uint8:
        raise TypeError(f"images must be uint8, not {arr.dtype}")
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise ValueError(f"images must be N x H x W x 3 (or a sequence of H x W x 3), got {arr.shape}")
    if len(arr) == 0:
        raise ValueError("adapt needs at least one image")
    return np.ascontiguousarray(arr)


def _nchw(torch, u8):
    return torch.from_numpy(np.ascontiguousarray(u8.transpose(0, 3, 1, 2))).float() / 255.0


def _bn_layers(torch, model):
    return [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
            and m.track_running_stats and m.running_mean is not None]


def _bn_shift_sequential(torch, model, layers, clean, purified, a, max_pairs):
    """One forward pass over [clean; purified] (up to ``max_pairs`` pairs) in eval mode; a
    pre-hook on every BN layer measures the shift FD induces in that layer's input *given the
    layers before it, already shifted*, and moves the layer's running statistics by ``a`` of it
    before the layer runs.  Shifting every layer by the shift measured on the unadapted network
    compounds through the 49 layers of EfficientNet-Lite0 (clean top-1 fell to ~50% in a
    measurement); the sequential shift does not."""
    k = min(len(clean), max_pairs)
    batch = np.concatenate([clean[:k], purified[:k]])

    def hook(mod, inp):
        z = inp[0].detach().double()
        dims = [0] + list(range(2, z.ndim))
        zc, zf = z[:k], z[k:]
        mc, mf = zc.mean(dims), zf.mean(dims)
        vc, vf = zc.var(dims, unbiased=False), zf.var(dims, unbiased=False)
        ratio = ((vf + mod.eps) / (vc + mod.eps)).clamp(0.5, 2.0) ** a
        with torch.no_grad():
            mod.running_mean += (a * (mf - mc)).to(mod.running_mean.dtype)
            mod.running_var *= ratio.to(mod.running_var.dtype)

    handles = [m.register_forward_pre_hook(hook) for m in layers]
    try:
        with torch.no_grad():
            model(_nchw(torch, batch))
    finally:
        for h in handles:
            h.remove()
    return k


def adapt(model: Any, images: Any, *, table: Any = None, subsampling: str = "4:4:4",
          bn_shift: float = 0.1, distill_steps: int = 0, distill_params: str = "bn",
          lr: float = 1e-3, batch_size: int = 16, temperature: float = 1.0, seed: int = 0,
          inplace: bool = False, bn_pairs: int = 64, log: Any = None) -> Any:
    """Adapt ``model`` to Feature-Distilled inputs without labels; returns the adapted model.

    model: a torch module mapping float NCHW RGB in [0, 1] to logits (normalisation inside).
    images: uint8 H x W x 3 images (a sequence, or an N x H x W x 3 array) already at the model's
        input size; clean calibration images, never the images you will evaluate on.
    table: the FD table the deployment uses (any form ``fdjpeg.purify`` takes; None = package
        default); subsampling: as for purify.
    bn_shift: every batch-norm layer's running mean and variance move by this fraction of the
        shift FD induces in that layer's input statistics, measured in eval mode on the first
        ``bn_pairs`` clean images and their purified versions, layer after layer (each layer's
        shift is measured with the layers before it already shifted, in one forward pass over
        the 2 x bn_pairs images): ``mu += a (mu_fd - mu_clean)``,
        ``var *= clip(var_fd / var_clean, 0.5, 2)^a``.  0 leaves BN alone.  Shifting (rather
        than recomputing the statistics from the images) keeps the original estimate from
        ImageNet's training set: recomputing from a few hundred images loses accuracy even on
        clean images.  Measured on EfficientNet-Lite0 with the paper's table (shift from 32-48
        calibration images, scored on 100 other calibration images; 90% clean, 83% FD without
        adaptation): a = 0.5 collapses both (FD 40%, clean 32%), a = 0.1 gives FD 86%, clean 85%.
        The default is 0.1; treat the shift as experimental and measure it on your model.
    distill_steps: passes of self-distillation over ``images`` after the BN shift (0 = none):
        the student (the adapted model, in eval mode) sees the purified images and is trained to
        match the teacher (the original model on the clean images) by KL divergence at
        ``temperature``, Adam at ``lr``, mini-batches of ``batch_size``.  No labels are used.
    distill_params: "bn" trains only the BN affine weights and biases (few parameters, hard to
        over-fit on few images); "all" trains every parameter.
    inplace: modify and return ``model`` itself; by default a deep copy is adapted.

    Cost (EfficientNet-Lite0, 224 px, one CPU thread): the BN shift is one forward pass over
    2 x bn_pairs images (about 0.06 s per image; memory: one batch of 2 x bn_pairs images);
    each distillation pass adds one teacher forward (once) and one forward + backward of the
    student (about 0.2 s per image).

    Example::

        deployed = adapt(model, calibration_uint8_images, table="fd")   # a copy, BN shifted
        logits = deployed(torch.from_numpy(fdjpeg.purify(x)).permute(0, 3, 1, 2) / 255)
    """
    torch = _torch()
    import fdjpeg

    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not 0.0 <= float(bn_shift) <= 1.0:
        raise ValueError(f"bn_shift must be in [0, 1], got {bn_shift}")
    if int(distill_steps) < 0:
        raise ValueError(f"distill_steps must be >= 0, got {distill_steps}")
    if distill_params not in ("bn", "all"):
        raise ValueError(f"distill_params must be 'bn' or 'all', not {distill_params!r}")
    if int(batch_size) < 1:
        raise ValueError("batch_size must be >= 1")
    clean = _as_batch(images)
    from fdjpeg._fdops import resolve_table

    tab = resolve_table(table)
    purified = fdjpeg.purify(clean, tab, subsampling=subsampling)
    teacher = model
    student = model if inplace else copy.deepcopy(model)
    was_training = student.training
    student.eval()
    layers = _bn_layers(torch, student)
    if bn_shift > 0 and layers:
        k = _bn_shift_sequential(torch, student, layers, clean, purified, float(bn_shift),
                                 int(bn_pairs))
        if log:
            log(f"adapt: shifted {len(layers)} BN layers by {bn_shift:g} of FD's induced shift "
                f"({k} image pairs)")
    if distill_steps:
        with torch.no_grad():
            t_logits = torch.cat([teacher(_nchw(torch, clean[i:i + batch_size]))
                                  for i in range(0, len(clean), batch_size)])
        if distill_params == "bn":
            params = [p for m in layers for p in (m.weight, m.bias) if p is not None]
        else:
            params = list(student.parameters())
        flags = [p.requires_grad for p in params]
        for p in params:
            p.requires_grad_(True)
        opt = torch.optim.Adam(params, lr=lr)
        gen = np.random.default_rng(seed)
        tau = float(temperature)
        try:
            for step in range(int(distill_steps)):
                order = gen.permutation(len(clean))
                total = 0.0
                for i in range(0, len(order), batch_size):
                    idx = order[i:i + batch_size]
                    s = student(_nchw(torch, purified[idx]))
                    loss = torch.nn.functional.kl_div(
                        torch.log_softmax(s / tau, 1), torch.log_softmax(t_logits[idx] / tau, 1),
                        reduction="batchmean", log_target=True) * tau * tau
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    total += float(loss.detach()) * len(idx)
                if log:
                    log(f"adapt: distillation pass {step + 1}: KL {total / len(clean):.4f}")
        finally:
            for p, f in zip(params, flags):
                p.requires_grad_(f)
                p.grad = None
    student.train(was_training)
    return student
