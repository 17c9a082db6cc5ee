"""Decoder-side public API: decode, inspect, read_coefficients."""
from __future__ import annotations

import re
from typing import Any, Dict, Optional, Tuple, Union

import numpy as np
import numpy.typing as npt

from fdjpeg import _codec
from fdjpeg.errors import UnsupportedJPEGError

__all__ = ["decode", "inspect", "read_coefficients", "DEFAULT_MAX_PIXELS"]

#: What the decoder reads: the JPEG file's bytes in any buffer (bytes, bytearray, memoryview,
#: a uint8 numpy array, mmap...).
BytesLike = Union[bytes, bytearray, memoryview, "npt.NDArray[np.uint8]"]
#: A table form :func:`fdjpeg.tables.parse` reads (None: no purification).
PurifySpec = Any

DEFAULT_MAX_PIXELS = 2 * 89_478_485  # Pillow's DecompressionBombError threshold

_MODES = {None: 0, "RGB": 1, "L": 2}
_SCALES = {1: 1, 2: 2, 4: 4, 8: 8}


def _as_buffer(data):
    try:
        if isinstance(data, str):
            raise TypeError
        memoryview(data)
    except TypeError:
        raise TypeError(
            f"data must be a bytes-like object with the JPEG file contents, not {type(data).__name__}"
            " (use fdjpeg.open() for paths and file objects)"
        ) from None
    return data


def _limits(max_pixels, max_scans):
    if max_pixels is None:
        max_pixels = DEFAULT_MAX_PIXELS
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, (int, np.integer)) or max_pixels < 1:
        raise ValueError(f"max_pixels must be a positive integer, not {max_pixels!r}")
    if max_scans is None:
        max_scans = 1000
    if isinstance(max_scans, bool) or not isinstance(max_scans, (int, np.integer)) or max_scans < 1:
        raise ValueError(f"max_scans must be a positive integer, not {max_scans!r}")
    return int(max_pixels), int(max_scans)


def _purify_tables(purify, num_components):
    """(n, 64) uint16 purification tables for the decoder, or None."""
    if purify is None or purify is False:
        return None
    if isinstance(purify, np.ndarray) and purify.shape in ((8, 8), (64,)) \
            and purify.dtype.kind in "iu" and purify.dtype != bool:
        # the common case, one integer table for every component: checked without the
        # general form parser (a few microseconds on a ~1.5 ms decode)
        flat = purify.reshape(1, 64)
        if purify.dtype == np.uint16:
            return flat  # zero entries are refused by the C decoder (ValueError)
        if int(flat.min()) >= 1 and int(flat.max()) <= 65535:
            return flat.astype(np.uint16)
    from fdjpeg.tables import assign

    tabs, slots = assign(purify, num_components)
    return np.ascontiguousarray(tabs[slots])


def _open(data, *, max_pixels=None, max_scans=None, allow_truncated=False, mode=None, scale=1,
          purify=None):
    data = _as_buffer(data)
    if mode not in _MODES and mode != "CMYK":
        raise ValueError(f"mode must be None, 'L', 'RGB' or 'CMYK', not {mode!r}")
    if scale not in _SCALES:
        raise ValueError(f"scale must be 1, 2, 4 or 8 (decode at 1/scale size), not {scale!r}")
    max_pixels, max_scans = _limits(max_pixels, max_scans)
    dec = _codec.Decoder(
        data,
        max_pixels=max_pixels,
        max_scans=max_scans,
        allow_truncated=bool(allow_truncated),
        out_format=_MODES.get(mode, 0),
        scale_denom=scale,
    )
    if mode == "CMYK" and dec.num_components() != 4:
        raise ValueError("mode='CMYK' needs a 4-component (CMYK/YCCK) JPEG")
    tables = _purify_tables(purify, dec.num_components())
    if tables is not None:
        if dec.lossless():
            raise UnsupportedJPEGError(
                "purify= needs DCT coefficients; a lossless (SOF3) JPEG has none to requantize "
                "(decode it, then use fdjpeg.purify(pixels, table))")
        dec.set_purify(tables)
    return dec


def _check_region(region):
    """(x, y, w, h) as ints, or TypeError/ValueError for the wrong form."""
    if isinstance(region, (str, bytes)) or not hasattr(region, "__len__") or len(region) != 4:
        raise TypeError(f"region must be a tuple (x, y, width, height), not {region!r}")
    vals = []
    for name, v in zip(("x", "y", "width", "height"), region):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"region {name} must be an integer, not {type(v).__name__}")
        vals.append(int(v))
    x, y, w, h = vals
    if x < 0 or y < 0:
        raise ValueError(f"region x and y must be >= 0, got {tuple(vals)}")
    if w < 1 or h < 1:
        raise ValueError(f"region width and height must be >= 1, got {tuple(vals)}")
    return x, y, w, h


def _decode_region(dec, region, out):
    x, y, w, h = _check_region(region)
    oh, ow, _ = dec.output_shape()
    if x + w > ow or y + h > oh:
        raise ValueError(
            f"region (x={x}, y={y}, width={w}, height={h}) is outside the {ow}x{oh} output")
    return dec.decode_region(x, y, w, h, out)


def decode(data: BytesLike, *, purify: PurifySpec = None, mode: Optional[str] = None, scale: int = 1,
           max_pixels: Optional[int] = None, max_scans: Optional[int] = None,
           allow_truncated: bool = False, out: Optional[np.ndarray] = None,
           region: Optional[Tuple[int, int, int, int]] = None) -> np.ndarray:
    """Decode a JPEG to a uint8 array, bit-exact with Pillow (libjpeg-turbo).

    Frames of more than 8 bits, which Pillow refuses, decode bit-exactly as libjpeg-turbo 3
    to a **uint16** array: 12-bit lossy (values 0..4095) and 9..16-bit lossless; 2..7-bit
    lossless gives uint8 (``inspect(data)["dtype"]`` tells which before decoding). Above 8 bits
    (and below) lossless frames get no colour conversion, as in libjpeg-turbo (grey, RGB,
    CMYK; YCbCr raises UnsupportedJPEGError); 4-component output is inverted with 2^P - 1 - v
    as 8-bit CMYK is (Pillow's convention); ``scale`` must be 1 for 12-bit data.

    Parameters
    ----------
    data : bytes-like
        The JPEG file contents (bytes, bytearray, memoryview, numpy buffer...).
    purify : None, or a table form (``True``/``"fd"`` = the package's FD table)
        One-pass Feature Distillation: after dequantization each coefficient
        D is replaced by T * round(D / T) (half away from zero) before the IDCT.
        Any form of :func:`fdjpeg.tables.parse`: one table for all components,
        two tables (luma, chroma), one per component, a name ("fd", "q75"), a
        step or a table file.
        On 12-bit data the table keeps its 8-bit meaning: D is requantized to 16*T
        (12-bit DCT coefficients are 16 times the 8-bit ones for the same image).
    mode : None, "L", "RGB" or "CMYK"
        None gives (H, W) for grayscale, (H, W, 3) RGB for colour and (H, W, 4)
        CMYK (Pillow's convention) for 4-component files.
    scale : 1, 2, 4 or 8
        Reduced-size decoding through the scaled IDCT (libjpeg's scale 1/n).
    max_pixels : int
        Refuse images with more pixels (default: Pillow's 2 x 89,478,485) with
        :class:`fdjpeg.JPEGTooLargeError`, before allocating.
    max_scans : int
        Refuse progressive files with more scans (default 1000).
    allow_truncated : bool
        Decode files cut before their EOI (missing data becomes zero
        coefficients, i.e. grey, as libjpeg does) instead of raising
        :class:`fdjpeg.TruncatedJPEGError`.
    out : numpy.ndarray, optional
        A writeable uint8 (uint16 above 8 bits) array of the output shape with
        contiguous rows to decode into (no allocation).
    region : (x, y, width, height), optional
        Decode only this rectangle of the output (coordinates of the output, i.e.
        after ``scale``): exactly ``decode(data, ...)[y:y+height, x:x+width]``,
        with IDCT, upsampling and colour conversion run only for the MCUs the
        region touches, and sequential files entropy-decoded only up to its last
        MCU row (whole restart intervals before it are skipped), so damage after
        the region goes unnoticed.  Progressive files still decode every
        coefficient.  The same holds for 12-bit files (uint16); lossless files
        are reconstructed down to the region's last row only (the predictors
        need every row above it) when one scan holds every component.
        ValueError for an empty region or one outside the image, TypeError for
        a wrong form.
    """
    if region is not None:
        _check_region(region)  # its form, before any decoding work
    dec = _open(data, max_pixels=max_pixels, max_scans=max_scans, allow_truncated=allow_truncated,
                mode=mode, scale=scale, purify=purify)
    if region is not None:
        return _decode_region(dec, region, out)
    return dec.decode(out)


def read_coefficients(data: BytesLike, *, max_pixels: Optional[int] = None,
                      max_scans: Optional[int] = None,
                      allow_truncated: bool = False) -> Dict[str, Any]:
    """Quantized DCT coefficients of any DCT-based JPEG (as ``jpeglib`` reads them).

    Returns a dict with ``coefficients`` (one int16 array per component, shape
    (blocks_high, blocks_wide, 8, 8), natural order), ``tables`` (the (8, 8)
    table each component was quantized with), ``sampling`` ((h, v) per
    component), ``width``, ``height``, ``component_ids``, ``jpeg_color`` and
    ``precision`` (8 or 12: 12-bit coefficients are about 16 times larger).

    Example::

        coefs = fdjpeg.read_coefficients(open("photo.jpg", "rb").read())
        y = coefs["coefficients"][0]          # (blocks_high, blocks_wide, 8, 8) int16
        same = fdjpeg.write_coefficients(coefs["coefficients"], coefs["tables"],
                                         width=coefs["width"], height=coefs["height"],
                                         sampling=coefs["sampling"])
    """
    dec = _open(data, max_pixels=max_pixels, max_scans=max_scans, allow_truncated=allow_truncated)
    coefs = dec.read_coefficients()
    info = dec.info()
    return {
        "coefficients": coefs,
        "tables": [c["qtable"] for c in info["components"]],
        "sampling": [(c["h"], c["v"]) for c in info["components"]],
        "component_ids": [c["id"] for c in info["components"]],
        "width": info["width"],
        "height": info["height"],
        "jpeg_color": info["jpeg_color"],
        "progressive": info["progressive"],
        "precision": info["precision"],
    }


_MARKER_NAMES = {0xD8: "SOI", 0xD9: "EOI", 0xDA: "SOS", 0xDB: "DQT", 0xC4: "DHT", 0xDD: "DRI",
                 0xFE: "COM", 0xCC: "DAC", 0xDC: "DNL"}
for _i in range(16):
    _MARKER_NAMES.setdefault(0xE0 + _i, f"APP{_i}")
for _i in (0, 1, 2, 3, 5, 6, 7, 9, 10, 11, 13, 14, 15):
    _MARKER_NAMES[0xC0 + _i] = f"SOF{_i}"
for _i in range(8):
    _MARKER_NAMES[0xD0 + _i] = f"RST{_i}"

# a marker inside entropy-coded data: 0xFF (fill 0xFFs allowed) then not 00 and not RSTn
_ENTROPY_END = re.compile(rb"\xff+(?![\x00\xd0-\xd7])")


def marker_name(code: int) -> str:
    return _MARKER_NAMES.get(code, f"0x{code:02X}")


def _walk_segments(buf):
    """All marker segments of the file as (code, offset, payload), skipping entropy data.

    Pure bookkeeping over the bytes; the C parser has already validated the
    headers up to the first scan.
    """
    segs = []
    pos, n = 2, len(buf)
    segs.append((0xD8, 0, b""))
    while pos < n:
        if buf[pos] != 0xFF:
            nxt = buf.find(b"\xff", pos)
            if nxt < 0:
                break
            pos = nxt
        while pos < n and buf[pos] == 0xFF:
            pos += 1
        if pos >= n:
            break
        code = buf[pos]
        start = pos - 1
        pos += 1
        if code == 0x00 or 0xD0 <= code <= 0xD7 or code == 0x01:
            continue
        if code == 0xD9:
            segs.append((code, start, b""))
            break
        if pos + 2 > n:
            break
        length = (buf[pos] << 8) | buf[pos + 1]
        payload = bytes(buf[pos + 2:pos + length])
        segs.append((code, start, payload))
        pos += length
        if code == 0xDA:
            m = _ENTROPY_END.search(buf, pos)
            if not m:
                break
            pos = m.end() - 1
    return segs


def inspect(data: BytesLike, *, max_pixels: Optional[int] = None) -> Dict[str, Any]:
    """Header facts of a JPEG without decoding pixels.

    Returns size, mode, components (ids, sampling, table slots), sampling name,
    coding process, progressive flag, quantization tables (per slot and per
    component, natural order), restart interval, scans, markers, and what a
    caller needs to rebuild Pillow's ``.info``: ``jfif``, ``jfif_version``,
    ``jfif_unit``, ``jfif_density``, ``dpi``, ``exif``, ``xmp``,
    ``icc_profile`` (reassembled from APP2 chunks), ``adobe``,
    ``adobe_transform``, ``comment``.

    Example::

        info = fdjpeg.inspect(open("photo.jpg", "rb").read())
        info["size"], info["sampling"], info["progressive"], info["dpi"]
    """
    dec = _open(data, max_pixels=max_pixels)
    info = dec.info()
    buf = bytes(memoryview(data).cast("B"))  # type: ignore[arg-type]  # any buffer
    segs = _walk_segments(buf)
    h, w, ch = dec.output_shape()
    comps = info["components"]
    mode = {1: "L", 3: "RGB", 4: "CMYK"}[ch]
    if ch == 1 and info["precision"] > 8:
        mode = "I;16"  # as fdjpeg.open gives it (uint16 samples)
    res = {
        "width": info["width"],
        "height": info["height"],
        "size": (info["width"], info["height"]),
        "mode": mode,
        "num_components": info["num_components"],
        "components": [
            {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in c.items()} for c in comps
        ],
        "sampling": _sampling_name(comps),
        "sof": info["sof"],
        "coding": _coding_name(info),
        "progressive": info["progressive"],
        "arithmetic": info["arithmetic"],
        "lossless": info["lossless"],
        "precision": info["precision"],
        "dtype": dec.sample_dtype().name,  # decode()'s output: uint16 above 8 bits
        "jpeg_color": info["jpeg_color"],
        "qtables": info["qtables"],
        "qtable_bits": info["qtable_bits"],
        "component_qtables": [c["qtable"] for c in comps],
        "restart_interval": info["restart_interval"],
        "scans": sum(1 for s in segs if s[0] == 0xDA),
        "markers": [(marker_name(c), off, len(p) + 2 if p or c not in (0xD8, 0xD9) else 0)
                    for c, off, p in segs],
    }
    icc = []
    comments = []
    for code, _off, p in segs:
        if code == 0xE0 and p[:5] == b"JFIF\x00" and len(p) >= 12 and "jfif" not in res:
            version = (p[5] << 8) | p[6]
            res["jfif"] = version
            res["jfif_version"] = divmod(version, 256)
            res["jfif_unit"] = p[7]
            res["jfif_density"] = ((p[8] << 8) | p[9], (p[10] << 8) | p[11])
            if p[7] == 1:
                res["dpi"] = res["jfif_density"]
            elif p[7] == 2:
                res["dpi"] = tuple(d * 2.54 for d in res["jfif_density"])
        elif code == 0xE1 and p[:6] == b"Exif\x00\x00" and "exif" not in res:
            res["exif"] = p
        elif code == 0xE1 and p[:29] == b"http://ns.adobe.com/xap/1.0/\x00" and "xmp" not in res:
            res["xmp"] = p[29:]
        elif code == 0xE2 and p[:12] == b"ICC_PROFILE\x00" and len(p) >= 14:
            icc.append(p)
        elif code == 0xEE and p[:5] == b"Adobe" and len(p) >= 7:
            res["adobe"] = (p[5] << 8) | p[6]
            if len(p) >= 12:
                res["adobe_transform"] = p[11]
        elif code == 0xFE:
            comments.append(p)
    if icc:
        # Pillow: order by chunk number; give up on inconsistent chunk sets
        icc.sort(key=lambda s: s[12])
        res["icc_profile"] = b"".join(s[14:] for s in icc)
    if comments:
        res["comment"] = comments[0]
        res["comments"] = comments
    return res


def _sampling_name(comps):
    if len(comps) == 1:
        return "gray"
    hs = [c["h"] for c in comps]
    vs = [c["v"] for c in comps]
    if hs[1:] != [1] * (len(comps) - 1) or vs[1:] != [1] * (len(comps) - 1):
        return "x".join(f"{c['h']}x{c['v']}" for c in comps)
    return {(1, 1): "4:4:4", (2, 1): "4:2:2", (2, 2): "4:2:0", (1, 2): "4:4:0",
            (4, 1): "4:1:1"}.get((hs[0], vs[0]), "x".join(f"{c['h']}x{c['v']}" for c in comps))


def _coding_name(info):
    sof = info["sof"]
    return {0: "baseline", 1: "extended sequential", 2: "progressive", 3: "lossless",
            9: "extended sequential (arithmetic)", 10: "progressive (arithmetic)"}.get(sof, f"SOF{sof}")

