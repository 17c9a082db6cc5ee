"""Off-grid detection: what a two-pass (sensor-encoded) image cannot explain.

An image that left a sensor as ``decode(encode(x, T))`` has DCT coefficients
(on the encoder's 8x8 grid, after the encoder's colour conversion) that sit
on multiples of the table's steps, up to the small error of rounding the
decoded pixels to uint8 and clipping them.  Anything done to the pixels after
the sensor -- an adversarial perturbation, but equally noise, a brightness
tweak, a re-save, a shift or a resize -- moves coefficients off that grid.
:func:`offgrid_score` measures how far.

Threat model, stated plainly: the score detects *change after the sensor*,
not adversarial intent.  It needs the sensor's table and an image still on
the sensor's block grid (no crop at an offset that is not a multiple of 8,
no resize), and it says nothing about images that never went through a
two-pass sensor.  For coefficients on the grid, a change dC adds about
``12 * mean((dC / T)**2)``: by Parseval that is the mean squared pixel change
over T**2, so this is an energy-of-change test that needs no reference image.
Low-energy changes pass unseen (measured: +-1 on 2% of the samples is not
detected; see bench/results/offgrid_auc.md), and so would sparse attacks and
changes confined to clipped blocks (see ``skip_clipped``).  An attacker who
knows T cannot reach another grid point within a small L-inf budget (one step
of one coefficient needs T/8 levels per pixel, 2.5 for T = 20), but can
minimise the energy of the change; the attacks measured here are not adaptive.
"""
from __future__ import annotations

from typing import List, Optional, Union

import numpy as np
import numpy.typing as npt

from fdjpeg import tables as _tables
from fdjpeg.tables import TableSpec

#: An image :func:`offgrid_score` takes: a uint8 array ((H, W), (H, W, 1), (H, W, 3); a 4-D
#: batch for :func:`offgrid_score`) or JPEG bytes (decoded first).
ImageLike = Union[npt.NDArray[np.uint8], bytes, bytearray, memoryview]

__all__ = ["offgrid_score", "offgrid_map", "offgrid_residuals"]


def _resolve_tables(table, n_planes: int):
    """Per-plane (8, 8) float tables from None/True (the package's default FD
    table), one table, Pillow's two slots (luma, chroma) or one per plane."""
    tabs, slots = _tables.assign(True if table is None else table, n_planes)
    return [tabs[k].reshape(8, 8).astype(np.float64) for k in slots]


def _decode_jpeg(data) -> np.ndarray:
    from fdjpeg import decode   # the package's decoder (bit-identical to Pillow)

    return np.asarray(decode(data))


def _as_image(image) -> np.ndarray:
    """One image as (H, W) gray or (H, W, 3) RGB uint8 (JPEG bytes decoded)."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        image = _decode_jpeg(image)
    elif not isinstance(image, np.ndarray):
        raise TypeError("image must be a uint8 numpy array or JPEG bytes, "
                        f"not {type(image).__name__}")
    if image.dtype != np.uint8:
        raise TypeError(f"image must be uint8, got {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        raise ValueError(f"expected an (H, W), (H, W, 1) or (H, W, 3) image, got {image.shape}")
    if image.shape[0] < 8 or image.shape[1] < 8:
        raise ValueError(f"image {image.shape[:2]} has no full 8x8 block")
    return image


_COMPONENTS = ("all", "luma")


def _residuals(img: np.ndarray, table, components: str = "all") -> list:
    if components not in _COMPONENTS:
        raise ValueError(f"components must be one of {_COMPONENTS}, got {components!r}")
    planes = [img] if img.ndim == 2 else _tables._rgb_to_ycbcr(img, "ycbcr")
    tabs = _resolve_tables(table, len(planes))
    if components == "luma":
        planes, tabs = planes[:1], tabs[:1]
    out = []
    for plane, t in zip(planes, tabs):
        q = _tables._block_dct(plane) / t
        out.append(q - np.round(q))
    return out


def _block_map(res: list) -> np.ndarray:
    sq = sum((r * r).sum(axis=(2, 3)) for r in res)
    return 12.0 * sq / (64 * len(res))


def _clipped_blocks(img: np.ndarray) -> np.ndarray:
    """(bh, bw) mask of full blocks holding a sample at 0 or 255 (any channel)."""
    bh, bw = img.shape[0] // 8, img.shape[1] // 8
    sat = (img[:bh * 8, :bw * 8] == 0) | (img[:bh * 8, :bw * 8] == 255)
    if sat.ndim == 3:
        sat = sat.any(axis=2)
    return sat.reshape(bh, 8, bw, 8).any(axis=(1, 3))


def offgrid_residuals(image: ImageLike, table: Optional[TableSpec] = None, *,
                      components: str = "all") -> List[npt.NDArray[np.float64]]:
    """Normalised residuals ``r = C/T - round(C/T)`` in [-0.5, 0.5] for every
    coefficient of every full 8x8 block, one (bh, bw, 8, 8) array per
    component (Y, Cb, Cr for colour; Y for gray).  The front end is the
    encoder's: libjpeg's fixed-point RGB -> YCbCr, 4:4:4, level shift, exact
    orthonormal DCT (JPEG's FDCT).  ``table`` and ``components`` as for
    :func:`offgrid_score` (``"luma"``: only the Y array).

    Example::

        >>> import numpy as np
        >>> from fdjpeg.detect import offgrid_residuals
        >>> image = np.full((16, 24, 3), 128, np.uint8)
        >>> [r.shape for r in offgrid_residuals(image, components="luma")]
        [(2, 3, 8, 8)]
    """
    return _residuals(_as_image(image), table, components)


def offgrid_map(image: ImageLike, table: Optional[TableSpec] = None, *,
                components: str = "all") -> npt.NDArray[np.float64]:
    """Per-block off-grid score, shape (H // 8, W // 8): ``12 * mean(r**2)``
    over the block's 64 coefficients of every component (0 on the grid, about
    1 for no grid relation).  Shows *where* an image moved off the grid.

    Example::

        >>> import numpy as np, fdjpeg
        >>> from fdjpeg.detect import offgrid_map
        >>> sensor = fdjpeg.decode(fdjpeg.encode(np.full((32, 32, 3), 90, np.uint8), True))
        >>> edited = sensor.copy()
        >>> edited[:8, :8] += np.arange(64, dtype=np.uint8).reshape(8, 8, 1) % 4   # top-left block
        >>> m = offgrid_map(edited)                    # (4, 4): one score per 8x8 block
        >>> bool(m[0, 0] > 0.01), float(m[1:, 1:].max()) < 0.01
        (True, True)
    """
    return _block_map(offgrid_residuals(image, table, components=components))


def offgrid_score(image: ImageLike, table: Optional[TableSpec] = None, *, skip_clipped: bool = True,
                  components: str = "all") -> Union[float, npt.NDArray[np.float64]]:
    """Off-grid energy of an image relative to a quantization table.

    Every DCT coefficient's distance to the nearest multiple of its step, in
    steps, ``r = C/T - round(C/T)`` (front end of :func:`offgrid_residuals`);
    the score is ``12 * mean(r**2)`` over the coefficients of every component
    of the scored blocks.  0 means every coefficient is exactly on the grid;
    1 is what coefficients unrelated to the grid give (``r`` uniform on
    [-1/2, 1/2] has mean square 1/12).  A two-pass image
    ``decode(encode(x, T))`` scores near 0 (the decoder's rounding to uint8
    leaves about 0.003 with the default table); the same image after any pixel
    change scores higher (about 0.012 for +-1 noise).

    ``skip_clipped`` (default): leave out blocks holding a sample at 0 or 255.
    The decoder clips those, which moves their coefficients off the grid
    without any change after the sensor -- the main source of false alarms
    (measured on the ImageNet sample: the 99th-percentile benign score drops
    from 0.017 to 0.004).  If every block is clipped, all blocks are scored.
    A change confined to clipped blocks is not seen.

    ``components``: ``"all"`` (default; for a 4:4:4 sensor, which is what
    ``fdjpeg.encode`` writes by default) or ``"luma"`` (Y only; use it for a
    sensor that subsamples chroma, 4:2:0 or 4:2:2: the decoder resamples the
    chroma, which takes it off its grid, while Y stays near its grid --
    measured on the ImageNet sample, see bench/results/offgrid_auc.md).

    ``image``: a uint8 array -- ``(H, W)`` gray, ``(H, W, 1)``, ``(H, W, 3)``
    RGB (one image: returns a float) or ``(N, H, W, C)`` (a batch: returns a
    float64 array of N scores) -- or JPEG bytes, which are decoded first and
    scored as pixels.  ``table``: ``None``/``True`` for the package's default FD
    table, one table for every component, two (luma, chroma: Pillow's slots)
    or one per component.

    Scored on the block grid anchored at the top-left pixel; partial blocks at
    the right and bottom edges are left out.  This detects any change after
    the sensor, not adversarial perturbations in particular (module docstring).

    Example::

        >>> import numpy as np, fdjpeg
        >>> from fdjpeg.detect import offgrid_score
        >>> x = np.random.default_rng(0).integers(40, 200, (64, 64, 3), dtype=np.uint8)
        >>> sensor = fdjpeg.decode(fdjpeg.encode(x, True))   # two-pass, the default FD table
        >>> noisy = (sensor.astype(np.int16) + np.random.default_rng(1).integers(-2, 3, x.shape))
        >>> noisy = noisy.clip(0, 255).astype(np.uint8)
        >>> offgrid_score(sensor) < 0.01 < offgrid_score(noisy)
        True
    """
    if isinstance(image, np.ndarray) and image.ndim == 4:
        if image.dtype != np.uint8:
            raise TypeError(f"image must be uint8, got {image.dtype}")
        return np.array([offgrid_score(im, table, skip_clipped=skip_clipped,
                                       components=components)
                         for im in image], dtype=np.float64)
    img = _as_image(image)
    block = _block_map(_residuals(img, table, components))
    if skip_clipped:
        keep = ~_clipped_blocks(img)
        if keep.any():
            block = block[keep]
    return float(block.mean())
