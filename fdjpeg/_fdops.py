"""Shared helpers of the integrations (torch, ART, Dask, CLI): one uint8 image in, one out.

Pure Python over the public API; no optional dependency is imported here.
"""
import numpy as np

# How the integrations compute the defender's one-pass FD on pixels (docs/glossary.md):
# "fused" (old name "1p") runs fdjpeg.purify in memory; "jpeg" (old name "2p") goes through
# real JPEG bytes, decode(encode(pixels, T)).  Same pixels.  Neither is the paper's two-pass
# defense, which needs the sensor to encode the benign image with T before any attack.
MODES = ("1p", "2p", "fused", "jpeg")
_FUSED = ("1p", "fused")


def resolve_table(table):
    """The FD table(s) to use, read by :func:`fdjpeg.tables.parse` (``None`` = ``True`` = the
    package default): one (8, 8) table, or a list of them when the spec gives several."""
    from fdjpeg import tables

    tabs = tables.parse(True if table is None else table)
    return tabs[0] if len(tabs) == 1 else tabs


def check_mode(mode):
    if mode not in MODES:
        raise ValueError(f"mode must be 'fused' (alias '1p': fdjpeg.purify in memory) or 'jpeg' "
                         f"(alias '2p': through JPEG bytes, same pixels), not {mode!r}")
    return mode


def to_uint8(x):
    """Float pixels in [0, 1] to uint8 as floor(255*x + 0.5) after clipping (no truncation bias)."""
    x = np.asarray(x)
    if x.dtype == np.uint8:
        return x
    if x.dtype.kind not in "fiu":
        raise TypeError(f"pixels must be numeric, not {x.dtype}")
    if x.dtype.kind in "iu":
        return np.clip(x, 0, 255).astype(np.uint8)
    # in float64, so that floor(255 x + 0.5) is decided on the value the caller holds
    return np.floor(np.clip(x.astype(np.float64), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def distill(pixels, table, mode="1p", subsampling="4:4:4"):
    """Feature-distil one uint8 image (H, W) or (H, W, 3).

    "fused" ("1p") runs the fused purification ``fdjpeg.purify``; "jpeg" ("2p") goes through real
    JPEG bytes, ``decode(encode(pixels, T))``.  Both give the same pixels (purify is defined as that
    round trip); "jpeg" is there for pipelines that want the file a sensor would write.
    """
    import fdjpeg

    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        return distill(pixels[:, :, 0], table, mode, subsampling)[:, :, None]
    if not (pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[2] == 3)):
        raise ValueError(f"expected an (H, W) or (H, W, 3) image, got shape {pixels.shape}")
    if check_mode(mode) in _FUSED:
        return fdjpeg.purify(pixels, table, subsampling=subsampling)
    data = fdjpeg.encode(pixels, table, subsampling=subsampling)
    return fdjpeg.decode(data)


def distill_batch(batch, table, mode="1p", subsampling="4:4:4"):
    """Feature-distil a uint8 batch (N, H, W, C), C = 1 or 3.  "fused" ("1p") runs as one
    ``fdjpeg.purify`` call (the GIL is released for the whole batch)."""
    import fdjpeg

    batch = np.ascontiguousarray(batch, dtype=np.uint8)
    if batch.ndim != 4 or batch.shape[-1] not in (1, 3):
        raise ValueError(f"expected an (N, H, W, 1 or 3) batch, got shape {batch.shape}")
    if check_mode(mode) in _FUSED:
        return fdjpeg.purify(batch, table, subsampling=subsampling)
    return np.stack([distill(img, table, mode, subsampling) for img in batch]) if len(batch) else batch.copy()
