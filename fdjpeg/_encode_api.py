"""Public encoder API: ``encode``, ``purify`` and ``write_coefficients``.

Arguments are checked here (TypeError for wrong types, ValueError for wrong
values); the C encoder does the work with the GIL released.
"""
import numbers
import os
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import numpy as np

from fdjpeg import _codec
from fdjpeg.tables import _parse_word
from fdjpeg.tables import assign as table_slots
from fdjpeg.tables import parse as parse_table

__all__ = ["encode", "purify", "Purifier", "transcode", "write_coefficients", "SUBSAMPLING"]

#: A table form :func:`fdjpeg.tables.parse` reads.
TableSpec = Any
#: The JPEG file's bytes in any buffer.
BytesLike = Union[bytes, bytearray, memoryview, np.ndarray]

# sampling factors of component 0 (the others are 1x1), as libjpeg/Pillow name them
SUBSAMPLING = {
    "4:4:4": (1, 1),
    "4:2:2": (2, 1),
    "4:2:0": (2, 2),
    "4:4:0": (1, 2),
    "4:1:1": (4, 1),
}
_PILLOW_SUBSAMPLING = {0: "4:4:4", 1: "4:2:2", 2: "4:2:0"}

_IN_GRAY, _IN_RGB, _IN_CMYK = 1, 3, 4
_NCOMP = {_IN_GRAY: 1, _IN_RGB: 3, _IN_CMYK: 4}
_UINT8 = np.dtype(np.uint8)


def _check_int(value, name, lo, hi):
    if type(value) is int:  # the common case, without the ABC check (~1 us a call)
        if not lo <= value <= hi:
            raise ValueError(f"{name} must be in {lo}..{hi}, got {value}")
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, not {type(value).__name__}")
    value = int(value)
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be in {lo}..{hi}, got {value}")
    return value


def _check_bool(value, name):
    if value is False or value is True:
        return value
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, not {type(value).__name__}")
    return bool(value)


def _factors(subsampling):
    if type(subsampling) is str and subsampling in SUBSAMPLING:
        return SUBSAMPLING[subsampling]
    if isinstance(subsampling, numbers.Integral) and not isinstance(subsampling, bool):
        if int(subsampling) not in _PILLOW_SUBSAMPLING:
            raise ValueError(f"subsampling must be one of {sorted(SUBSAMPLING)} "
                             f"(or Pillow's 0, 1, 2), got {subsampling!r}")
        subsampling = _PILLOW_SUBSAMPLING[int(subsampling)]
    if not isinstance(subsampling, str):
        raise TypeError(f"subsampling must be a string such as '4:2:0', "
                        f"not {type(subsampling).__name__}")
    try:
        return SUBSAMPLING[subsampling]
    except KeyError:
        raise ValueError(f"subsampling must be one of {sorted(SUBSAMPLING)}, "
                         f"got {subsampling!r}") from None


def _image_kind(shape, name):
    """(in_color, channels) for an image shape (H, W) or (H, W, C)."""
    if len(shape) == 2:
        return _IN_GRAY, 1
    if len(shape) == 3:
        c = shape[2]
        if c == 1:
            return _IN_GRAY, 1
        if c == 3:
            return _IN_RGB, 3
        if c == 4:
            return _IN_CMYK, 4
        raise ValueError(f"{name} must have 1, 3 or 4 channels, got {c}")
    raise ValueError(f"{name} must have shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), "
                     f"got {shape}")


def _check_pixels(raw, name="raw"):
    if not isinstance(raw, np.ndarray):
        raise TypeError(f"{name} must be a numpy uint8 array, not {type(raw).__name__}")
    if raw.dtype != np.uint8:
        raise TypeError(f"{name} must have dtype uint8, got {raw.dtype}")
    return raw


def _sampling_lists(in_color, factors, ncomp):
    if in_color == _IN_GRAY:
        return [1], [1]
    h, v = factors
    # Pillow sets the factors of the first component; the others stay 1x1
    return [h] + [1] * (ncomp - 1), [v] + [1] * (ncomp - 1)


def _density(dpi):
    if dpi is None:
        return 0, 1, 1
    if isinstance(dpi, (str, bytes)) or not hasattr(dpi, "__len__") or len(dpi) != 2:
        raise TypeError("dpi must be a pair (x, y)")
    out = []
    for d in dpi:
        if isinstance(d, bool) or not isinstance(d, numbers.Real):
            raise TypeError("dpi values must be numbers")
        d = int(round(float(d)))
        if not 1 <= d <= 65535:
            raise ValueError(f"dpi values must round to 1..65535, got {d}")
        out.append(d)
    return 1, out[0], out[1]


def _extra(extra_segments):
    if type(extra_segments) is bytes:
        return extra_segments
    try:
        return bytes(memoryview(extra_segments).cast("B"))
    except TypeError:
        raise TypeError("extra_segments must be bytes-like (complete APPn/COM segments)") from None


def _quality_slot_list(in_color, keep_rgb):
    """Table slot of each component for quality tables: luma in slot 0, chroma in 1."""
    if in_color == _IN_GRAY:
        return [0]
    if in_color == _IN_CMYK or keep_rgb:
        # libjpeg's RGB/CMYK colour spaces put every component on slot 0
        return [0] * (4 if in_color == _IN_CMYK else 3)
    return [0, 1, 1]


def _quality_slots(quality, in_color, keep_rgb):
    slots = _quality_slot_list(in_color, keep_rgb)
    tabs = [_codec.quality_table(quality, s > 0, True).reshape(64) for s in range(max(slots) + 1)]
    return np.stack(tabs), slots


def encode(raw: np.ndarray, table: TableSpec = None, *, quality: Optional[int] = None,
           subsampling: str = "4:4:4", optimize: bool = False, restart_interval: int = 0,
           restart_rows: int = 0, progressive: bool = False, keep_rgb: bool = False,
           dpi: Optional[Tuple[int, int]] = None, extra_segments: bytes = b"",
           max_pixels: Optional[int] = None) -> bytes:
    """Encode a uint8 image as a JPEG file (bytes); a uint16 image of 12-bit samples
    (0..4095) as a 12-bit JPEG, exactly as libjpeg-turbo 3's 12-bit compressor writes it
    (``imagecodecs.jpeg8_encode(raw, bitspersample=12)``): SOF1 (SOF2 progressive) and
    optimal Huffman tables always.

    raw: (H, W) or (H, W, 1) gray, (H, W, 3) RGB, (H, W, 4) CMYK (written
    inverted with an Adobe marker, as Pillow does); any strides.
    table: quantization table(s) in natural order (one for all components, a
    pair (luma, chroma) as Pillow's slots, one per component, or True for the
    default FD table).  None: libjpeg's quality-scaled tables for ``quality``
    (default 75), exactly what Pillow writes for ``quality=``.
    subsampling: "4:4:4" (default), "4:2:2", "4:2:0", "4:4:0", "4:1:1".
    restart_interval: MCUs between restart markers; restart_rows: MCU rows
    (overrides).  keep_rgb: store RGB without the YCbCr transform.  dpi: (x, y)
    written in the JFIF header.  extra_segments: complete APPn/COM segments
    written after the APP0/APP14 header.  max_pixels: refuse larger images
    (default Pillow's limit, 178,956,970).

    Entries above 255 write a 16-bit DQT and SOF1.  For entries up to 8191 the
    quantized coefficients equal libjpeg-turbo's; above that libjpeg-turbo's
    16-bit quantizer overflows and fdjpeg divides exactly instead (round half
    away from zero).  Entries above 32767 are valid T.81 but some libjpeg-based
    readers take them as negative.

    Example::

        jpg = fdjpeg.encode(pixels, quality=90, subsampling="4:2:0")   # as Pillow's save
        jpg = fdjpeg.encode(pixels, "fd")       # two-pass: the sensor writes the FD table
    """
    # The plain call -- a uint8 (H, W, 3) ndarray, quality tables, no other option -- takes
    # the same C call as the checks below would make, with the checks in short (per call
    # ~3 us less: a 224x224 encode is ~230 us).  Anything else goes the general way.
    if (table is None and type(raw) is np.ndarray and raw.dtype is _UINT8 and raw.ndim == 3
            and raw.shape[2] == 3 and raw.shape[0] and raw.shape[1]
            and (quality is None or (type(quality) is int and 1 <= quality <= 100))
            and type(subsampling) is str and subsampling in SUBSAMPLING
            and optimize is False and progressive is False and keep_rgb is False
            and type(restart_interval) is int and restart_interval == 0
            and type(restart_rows) is int and restart_rows == 0
            and dpi is None and type(extra_segments) is bytes and not extra_segments
            and max_pixels is None):
        h, v = SUBSAMPLING[subsampling]
        return _codec.encode_pixels(raw, _IN_RGB, None, [0, 1, 1], [h, 1, 1], [v, 1, 1],
                                    quality=75 if quality is None else quality)
    precision = 8
    if isinstance(raw, np.ndarray) and raw.dtype == np.uint16:
        precision = 12
    else:
        _check_pixels(raw)
    in_color, channels = _image_kind(raw.shape, "raw")
    factors = _factors(subsampling)
    optimize = _check_bool(optimize, "optimize")
    progressive = _check_bool(progressive, "progressive")
    keep_rgb = _check_bool(keep_rgb, "keep_rgb")
    if keep_rgb and in_color != _IN_RGB:
        raise ValueError("keep_rgb applies to 3-channel RGB input only")
    restart_interval = _check_int(restart_interval, "restart_interval", 0, 65535)
    restart_rows = _check_int(restart_rows, "restart_rows", 0, 65535)
    unit, xd, yd = _density(dpi)
    extra = _extra(extra_segments)
    if max_pixels is None:
        max_pixels = 0
    else:
        max_pixels = _check_int(max_pixels, "max_pixels", 1, 2 ** 63 - 1)
    ncomp = _NCOMP[in_color]
    if table is not None and quality is not None:
        raise ValueError("give either table or quality, not both")
    if table is None:
        # libjpeg's quality tables, made by the C call (no arrays here)
        quality = 75 if quality is None else _check_int(quality, "quality", 1, 100)
        tabs, slots = None, _quality_slot_list(in_color, keep_rgb)
    else:
        quality = 0
        tabs, slots = table_slots(table, ncomp)
    h_samp, v_samp = _sampling_lists(in_color, factors, ncomp)
    pixels = raw if raw.ndim == 3 else raw[:, :, None]
    if raw.shape[0] == 0 or raw.shape[1] == 0:
        raise ValueError(f"raw must not be empty, got shape {raw.shape}")
    adobe = in_color == _IN_CMYK or keep_rgb
    return _codec.encode_pixels(
        pixels, in_color, tabs, slots, h_samp, v_samp, optimize=optimize,
        progressive=progressive, restart_interval=restart_interval, restart_rows=restart_rows,
        keep_rgb=keep_rgb, write_jfif=not adobe, density_unit=unit, x_density=xd,
        y_density=yd, write_adobe=adobe, extra_segments=extra, max_pixels=max_pixels,
        precision=precision, quality=quality)


def purify(pixels: np.ndarray, table: TableSpec = True, *, subsampling: str = "4:4:4",
           keep_rgb: bool = False, threads: Optional[int] = 1,
           out: Optional[np.ndarray] = None) -> np.ndarray:
    """Fused Feature Distillation on pixels: colour convert, FDCT, quantize and
    dequantize with ``table``, IDCT, convert back -- bit-identical to
    ``decode(encode(pixels, table, subsampling=...))`` and to Pillow's round trip
    with ``qtables=[T, T]`` (entries <= 8191), without entropy coding.

    pixels: uint8 (H, W), (H, W, C) for one image or (N, H, W, C) for a batch,
    C = 1, 3 or 4.  Returns a new array of the same shape.  The GIL is released.

    out: an array to write the result into instead (returned): same shape and dtype as
    ``pixels``, C-contiguous, writeable and not sharing memory with ``pixels`` (else
    TypeError for a non-array or another dtype, ValueError otherwise).  A loop that
    reuses one output buffer saves allocating (and first touching) a new one per call.

    12 bits: a uint16 array of 12-bit samples (0..4095; ValueError above) is purified
    at 12 bits and returns uint16.  ``table`` keeps its 8-bit meaning and applies as
    ``16 T`` (entries up to 4095), as in ``decode(data12, purify=T)`` and
    ``transcode``: the result equals libjpeg-turbo 3's 12-bit decode of
    ``encode(pixels, 16 * T)``.

    threads: for a batch, the number of threads the C code splits its N images
    over (handed out one at a time; the GIL is released once for the whole batch, and
    the result is the same for every value); ``None`` = ``os.cpu_count()``.
    One call on a batch is the cheap way to purify many images at once (threads in C,
    the GIL released once).  Image after image, :class:`Purifier` (which purify uses
    itself: the purifier for a table value -- True, a word, a step, an array -- is made
    once and kept) leaves a few microseconds per call.

    Grid alignment: JPEG works on 8x8 blocks (16x16 MCUs at 4:2:0) anchored at
    the top-left pixel.  Purify before resizing or cropping; a two-pass image
    stays on its table's grid only under crops at offsets that are multiples of
    8 (16 for 4:2:0).

    Example::

        clean = fdjpeg.purify(pixels)           # == decode(encode(pixels, "fd"))
        batch = fdjpeg.purify(np.stack(crops), threads=None)   # (N, H, W, 3), all cores
    """
    pf = _purifier_for(table, subsampling, keep_rgb)
    if pf is not None:
        return pf(pixels, threads=threads, out=out)
    return _purify_checked(pixels, table, subsampling, keep_rgb, threads, out)


def _check_out(out, pixels):
    """purify's out=: the same shape and dtype as pixels, C-contiguous, writeable and
    not sharing memory with pixels (may_share_memory: bounds only, so a view interleaved
    with pixels is refused too)."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy array, not {type(out).__name__}")
    if out.dtype != pixels.dtype:
        raise TypeError(f"out must have the dtype of pixels ({pixels.dtype}), got {out.dtype}")
    if out.shape != pixels.shape:
        raise ValueError(f"out must have the shape of pixels {pixels.shape}, got {out.shape}")
    if not out.flags.c_contiguous:
        raise ValueError("out must be C-contiguous")
    if not out.flags.writeable:
        raise ValueError("out must be writeable")
    if np.may_share_memory(out, pixels):
        raise ValueError("out must not share memory with pixels (purify does not work in place)")
    return out


def _purify_checked(pixels, table, subsampling, keep_rgb, threads, out=None):
    """purify with every argument checked in full and the tables parsed for the call:
    the path of unusual arguments (and of the errors' messages)."""
    precision = 8
    if isinstance(pixels, np.ndarray) and pixels.dtype == np.uint16:
        precision = 12
    elif isinstance(pixels, np.ndarray) and pixels.dtype != np.uint8:
        raise TypeError(f"pixels must have dtype uint8 (or uint16 for 12-bit samples), "
                        f"got {pixels.dtype}")
    else:
        _check_pixels(pixels, "pixels")
    factors = _factors(subsampling)
    keep_rgb = _check_bool(keep_rgb, "keep_rgb")
    threads = _check_int((os.cpu_count() or 1) if threads is None else threads, "threads", 1, 256)
    if pixels.ndim == 4:
        batch = pixels
    elif pixels.ndim == 3:
        batch = pixels[None]
    elif pixels.ndim == 2:
        batch = pixels[None, :, :, None]
    else:
        raise ValueError(f"pixels must have shape (H, W), (H, W, C) or (N, H, W, C), "
                         f"got {pixels.shape}")
    in_color, channels = _image_kind(batch.shape[1:], "pixels")
    if keep_rgb and in_color != _IN_RGB:
        raise ValueError("keep_rgb applies to 3-channel RGB input only")
    if batch.shape[1] == 0 or batch.shape[2] == 0:
        raise ValueError(f"pixels must not be empty, got shape {pixels.shape}")
    ncomp = {_IN_GRAY: 1, _IN_RGB: 3, _IN_CMYK: 4}[in_color]
    tabs, slots = table_slots(table, ncomp)
    if precision == 12:
        # T keeps its 8-bit meaning at 12 bits and applies as 16 T (as decode(purify=T))
        if int(np.max(tabs)) > 4095:
            raise ValueError("a 12-bit purification applies 16 T: table entries must be <= 4095")
        tabs = (np.asarray(tabs, dtype=np.uint32) * 16).astype(np.uint16)
    h_samp, v_samp = _sampling_lists(in_color, factors, ncomp)
    if out is None:
        res = np.empty(batch.shape, dtype=batch.dtype)
    else:
        res = _check_out(out, pixels).reshape(batch.shape)  # a view: C-contiguous
    if batch.shape[0]:
        _codec.purify_pixels(batch, res, in_color, tabs, slots, h_samp, v_samp,
                             keep_rgb=keep_rgb, threads=threads, precision=precision)
    return res.reshape(pixels.shape) if out is None else out


class Purifier:
    """Feature Distillation with one table, ready for many calls: the table and options
    are checked once, and each image size's C purifier (kernel constants for the table)
    is made on first use and kept.  ``Purifier(T)(pixels)`` equals ``purify(pixels, T)``
    bit for bit; this is the cheap way to purify image after image (a data loader's
    transform), and ``purifier(batch, threads=n)`` the cheap way to purify many at once.
    Thread-safe: one purifier may serve any number of threads.

    table, subsampling, keep_rgb: as :func:`purify` (form errors here, at once; a table
    count that does not fit an image's components when that image comes).

    Example::

        clean = fdjpeg.Purifier("paper")
        out = [clean(crop) for crop in crops]          # == [purify(c, "paper") for c in crops]
        batch = clean(np.stack(crops), threads=2)      # (N, H, W, 3), two threads
    """

    def __init__(self, table: TableSpec = True, *, subsampling: str = "4:4:4",
                 keep_rgb: bool = False) -> None:
        self._factors = _factors(subsampling)
        self.keep_rgb: bool = _check_bool(keep_rgb, "keep_rgb")
        parse_table(table)
        self.table: TableSpec = table
        self.subsampling: Any = subsampling
        self._plans: Dict[int, Any] = {}

    def __repr__(self) -> str:
        return (f"Purifier({self.table!r}, subsampling={self.subsampling!r}, "
                f"keep_rgb={self.keep_rgb!r})")

    def _plan(self, key: int) -> Any:
        """The C purifier for key = level * 256 + channels * 16 + precision
        (_codec.purify_key; the C purifier takes the level's kernels when made)."""
        channels, precision = key // 16 % 16, key % 16
        in_color = {1: _IN_GRAY, 3: _IN_RGB, 4: _IN_CMYK}[channels]
        if self.keep_rgb and in_color != _IN_RGB:
            raise ValueError("keep_rgb applies to 3-channel RGB input only")
        ncomp = channels
        tabs, slots = table_slots(self.table, ncomp)
        if precision == 12:
            # T keeps its 8-bit meaning at 12 bits and applies as 16 T (as decode(purify=T))
            if int(np.max(tabs)) > 4095:
                raise ValueError("a 12-bit purification applies 16 T: table entries must be <= 4095")
            tabs = (np.asarray(tabs, dtype=np.uint32) * 16).astype(np.uint16)
        h_samp, v_samp = _sampling_lists(in_color, self._factors, ncomp)
        plan = _codec.PurifyPlan(in_color, tabs, slots, h_samp, v_samp, keep_rgb=self.keep_rgb,
                                 precision=precision)
        self._plans[key] = plan
        return plan

    def __call__(self, pixels: np.ndarray, *, threads: Optional[int] = 1,
                 out: Optional[np.ndarray] = None) -> np.ndarray:
        """Purify pixels as :func:`purify` does (same shapes, dtypes, threads, ``out``)."""
        key = _codec.purify_key(pixels)
        if threads is None:
            threads = os.cpu_count() or 1
        if key and type(threads) is int and 1 <= threads <= 256:
            plan = self._plans.get(key)
            if plan is None:
                plan = self._plan(key)
            if out is None:
                return plan.run(pixels, threads)
            return plan.run(pixels, threads, _check_out(out, pixels))
        return _purify_checked(pixels, self.table, self.subsampling, self.keep_rgb, threads, out)


# purify's purifiers, by table and options: only for table values whose meaning cannot
# change (True, a table word, an integer step, a numeric array by its bytes), never for
# a file path.  Bounded; dict operations are atomic under the GIL.
_PURIFIERS: Dict[Any, Purifier] = {}
_PURIFIERS_MAX = 64


def _table_key(table):
    t = type(table)
    if table is True:
        return (bool, True)
    if t is str or t is int:
        return (t, table)
    if t is np.ndarray and table.dtype.kind in "ui" and table.size <= 256:
        # dtype.num and byte order fix how the bytes read (dtype.str would format a
        # string on every call: ~1 us)
        dt = table.dtype
        return (t, dt.num, dt.isnative, table.shape, table.tobytes())
    return None


def _purifier_for(table, subsampling, keep_rgb):
    """The cached Purifier for these arguments, or None (not cacheable or not valid: the
    caller then takes the fully checked path, which raises the right error)."""
    tk = _table_key(table)
    if tk is None:
        return None
    key = (tk, type(subsampling), subsampling, type(keep_rgb), keep_rgb)
    try:
        pf = _PURIFIERS.get(key)
    except TypeError:  # an unhashable subsampling
        return None
    if pf is None:
        try:
            if type(table) is str and _parse_word(table, "table") is None:
                return None  # a path: its file may change
            pf = Purifier(table, subsampling=subsampling, keep_rgb=keep_rgb)
        except (TypeError, ValueError):
            return None
        if len(_PURIFIERS) >= _PURIFIERS_MAX:
            _PURIFIERS.clear()
        _PURIFIERS[key] = pf
    return pf


def _blocks(n, f):
    return -(-n // f)


def write_coefficients(coefficients: Union[Sequence[np.ndarray], Dict[str, Any]], tables: TableSpec = None, *,
                       width: Optional[int] = None, height: Optional[int] = None,
                       sampling: Optional[Sequence[Tuple[int, int]]] = None,
                       jpeg_color: Optional[str] = None, optimize: bool = False,
                       progressive: bool = False, restart_interval: int = 0, restart_rows: int = 0,
                       dpi: Optional[Tuple[int, int]] = None, extra_segments: bytes = b"",
                       precision: Optional[int] = None) -> bytes:
    """Write quantized DCT coefficients as a JPEG file (lossless transcoding).

    precision: 8 (default) or 12 (a 12-bit frame, as ``read_coefficients`` reports it
    for 12-bit files: SOF1/SOF2, always optimal Huffman tables, as libjpeg-turbo).

    coefficients: one int16 array (blocks_high, blocks_wide, 8, 8) per component
    (1, 3 or 4), natural order, as ``fdjpeg.read_coefficients`` / ``jpeglib``
    give them -- or the dict ``read_coefficients`` returns, whose ``tables``,
    ``width``, ``height``, ``sampling`` and ``jpeg_color`` are then the defaults.
    tables: the tables the coefficients are quantized with, in any form
    ``encode`` takes (one, Pillow's pair, one per component).
    sampling: (h, v) per component, or a name such as "4:2:0"; default 4:4:4.
    jpeg_color: "gray", "ycbcr" (default for 3), "rgb" (Adobe, no transform),
    "cmyk" (4, Adobe transform 0) or "ycck" (4, Adobe transform 2: the coefficients
    are of Y, Cb, Cr, K, as Adobe's files store them).  Dummy blocks of partial MCUs
    are made as libjpeg makes them.

    Example::

        c = fdjpeg.read_coefficients(data)
        jpg = fdjpeg.write_coefficients(c["coefficients"], c["tables"], width=c["width"],
                                        height=c["height"], sampling=c["sampling"])
    """
    if isinstance(coefficients, dict):
        src: Dict[str, Any] = coefficients
        precision = src.get("precision", 8) if precision is None else precision
        coefficients = src["coefficients"]
        tables = src.get("tables") if tables is None else tables
        width = src.get("width") if width is None else width
        height = src.get("height") if height is None else height
        sampling = src.get("sampling") if sampling is None else sampling
        jpeg_color = src.get("jpeg_color") if jpeg_color is None else jpeg_color
    if not isinstance(coefficients, (list, tuple)):
        raise TypeError("coefficients must be a list of arrays, one per component")
    ncomp = len(coefficients)
    if ncomp not in (1, 3, 4):
        raise ValueError(f"need 1, 3 or 4 components, got {ncomp}")
    if tables is None:
        raise TypeError("tables are required (the tables the coefficients are quantized with)")
    width = _check_int(width, "width", 1, 65535)
    height = _check_int(height, "height", 1, 65535)
    if jpeg_color is None:
        jpeg_color = {1: "gray", 3: "ycbcr", 4: "cmyk"}[ncomp]
    expected = {"gray": 1, "ycbcr": 3, "rgb": 3, "cmyk": 4, "ycck": 4}
    if jpeg_color not in expected:
        raise ValueError(f"jpeg_color must be one of {sorted(expected)}, got {jpeg_color!r}")
    if expected[jpeg_color] != ncomp:
        raise ValueError(f"jpeg_color {jpeg_color!r} needs {expected[jpeg_color]} components, "
                         f"got {ncomp}")
    in_color = {1: _IN_GRAY, 3: _IN_RGB, 4: _IN_CMYK}[ncomp]
    keep_rgb = jpeg_color == "rgb"
    if sampling is None:
        sampling = [(1, 1)] * ncomp
    elif isinstance(sampling, (str, numbers.Integral)) and not isinstance(sampling, bool):
        h, v = _factors(sampling)
        sampling = [(h, v)] + [(1, 1)] * (ncomp - 1)
    sampling = [tuple(s) for s in sampling]
    if len(sampling) != ncomp or any(len(s) != 2 for s in sampling):
        raise ValueError(f"sampling must give (h, v) for each of the {ncomp} components")
    h_samp = [_check_int(s[0], "sampling h", 1, 4) for s in sampling]
    v_samp = [_check_int(s[1], "sampling v", 1, 4) for s in sampling]
    hmax, vmax = max(h_samp), max(v_samp)
    arrays = []
    for c, a in enumerate(coefficients):
        if not isinstance(a, np.ndarray):
            raise TypeError(f"coefficients[{c}] must be a numpy array")
        if a.dtype.kind not in "iu":
            raise TypeError(f"coefficients[{c}] must hold integers, got dtype {a.dtype}")
        bh = _blocks(_blocks(height * v_samp[c], vmax), 8)
        bw = _blocks(_blocks(width * h_samp[c], hmax), 8)
        if a.shape != (bh, bw, 8, 8):
            raise ValueError(f"coefficients[{c}] must have shape {(bh, bw, 8, 8)} for a "
                             f"{width}x{height} image with sampling {sampling[c]}, got {a.shape}")
        if a.dtype != np.int16:
            if a.size and (a.min() < -32768 or a.max() > 32767):
                raise ValueError(f"coefficients[{c}] do not fit in int16")
        arrays.append(np.ascontiguousarray(a, dtype=np.int16))
    tabs, slots = table_slots(tables, ncomp)
    optimize = _check_bool(optimize, "optimize")
    progressive = _check_bool(progressive, "progressive")
    restart_interval = _check_int(restart_interval, "restart_interval", 0, 65535)
    restart_rows = _check_int(restart_rows, "restart_rows", 0, 65535)
    unit, xd, yd = _density(dpi)
    adobe = jpeg_color in ("rgb", "cmyk", "ycck")
    precision = 8 if precision is None else precision
    if precision not in (8, 12):
        raise ValueError(f"precision must be 8 or 12, not {precision!r}")
    out = _codec.write_coefficient_arrays(
        arrays, width, height, in_color, tabs, slots, h_samp, v_samp, optimize=optimize,
        progressive=progressive, restart_interval=restart_interval, restart_rows=restart_rows,
        keep_rgb=keep_rgb, write_jfif=not adobe, density_unit=unit, x_density=xd, y_density=yd,
        write_adobe=adobe, extra_segments=_extra(extra_segments), precision=precision)
    if jpeg_color == "ycck":
        out = _adobe_transform(out, 2)
    return out


def _adobe_transform(data, transform):
    """The file with the transform byte of its Adobe APP14 segment set (the encoder writes
    4-component files as CMYK, transform 0; a coefficient-level YCCK file differs only there:
    libjpeg, Pillow and fdjpeg read the colour space from that byte)."""
    # the encoder writes APP14 right after SOI: FF EE, length 14, "Adobe", version,
    # flags0, flags1, transform
    if data[2:4] != b"\xff\xee" or data[6:11] != b"Adobe" or (data[4] << 8 | data[5]) != 14:
        raise RuntimeError("internal error: the encoder did not write the Adobe segment first")
    return data[:17] + bytes([transform]) + data[18:]


def _metadata_segments(data, info):
    """The file's metadata segments (APP1-APP13, APP15: Exif, XMP, ICC, ...; COM) as bytes,
    in file order; APP0 (JFIF) and APP14 (Adobe) are left to the writer, which makes its own."""
    out = bytearray()
    for name, off, length in info["markers"]:
        if name in _COPIED_SEGMENTS and length >= 2:
            out += bytes(data[off:off + 2 + length])
    return bytes(out)


_COPIED_SEGMENTS = {f"APP{i}" for i in range(1, 16) if i != 14} | {"COM"}


def transcode(data: BytesLike, purify: TableSpec = None, *, keep_metadata: bool = True,
              max_pixels: Optional[int] = None, max_scans: Optional[int] = None) -> bytes:
    """Rewrite a JPEG file from its DCT coefficients, without decoding pixels; with
    ``purify=T`` this is Feature Distillation as a file (coefficient-domain purify).

    Each quantized coefficient c (quantized with the file's table Q) becomes
    ``round(c * Q / T)`` (half away from zero, in C) and the file is written with T, so
    the result decodes -- with fdjpeg, Pillow or any libjpeg -- exactly like
    ``fdjpeg.decode(data, purify=T)``.  ``purify`` takes every form ``decode(purify=)``
    takes (see ``fdjpeg.tables.parse``); ``None`` rewrites the coefficients unchanged
    with the file's own tables (a lossless transcode).

    Sampling, colour space (gray, YCbCr, RGB, CMYK, YCCK) and size are kept; with
    ``keep_metadata`` (default) the Exif, XMP, ICC, other APPn and COM segments and the
    JFIF dpi are copied.  A lossless (SOF3) JPEG has no coefficients: it raises
    :class:`fdjpeg.UnsupportedJPEGError` saying to decode and ``fdjpeg.encode`` (or
    ``fdjpeg.purify``) the pixels instead.

    Example::

        clean = fdjpeg.transcode(open("photo.jpg", "rb").read(), purify="fd")
    """
    from fdjpeg._api import _open, inspect
    from fdjpeg.errors import UnsupportedJPEGError
    
    dec = _open(data, max_pixels=max_pixels, max_scans=max_scans)
    info = dec.info()
    ncomp = info["num_components"]
    if info["lossless"]:
        raise UnsupportedJPEGError(
            "transcode needs DCT coefficients; a lossless (SOF3) JPEG has none to requantize "
            "(decode it, then fdjpeg.encode(pixels, table) or fdjpeg.purify(pixels, table); "
            "the CLI 'fdjpeg purify' does this for you)")
    precision = info["precision"]  # 8 or 12 (lossy)
    coefs = dec.read_coefficients()
    qfile = [c["qtable"] for c in info["components"]]
    if purify is None or purify is False:
        target = [np.asarray(q, dtype=np.uint16).reshape(64) for q in qfile]
        table_form: Any = [t.reshape(8, 8) for t in target]
        new = coefs
    else:
        tabs: Any
        tabs, slots = table_slots(purify, ncomp)
        if precision == 12:
            # T keeps its 8-bit meaning at 12 bits and applies as 16 T (as decode(purify=T))
            if max(int(t.max()) for t in tabs) > 4095:
                raise ValueError("a 12-bit purification writes 16 T: table entries must be "
                                 "<= 4095")
            tabs = [(np.asarray(t, dtype=np.uint32) * 16).astype(np.uint16) for t in tabs]
        target = [tabs[slots[c]] for c in range(ncomp)]
        table_form = [t.reshape(8, 8) for t in tabs]
        if len(tabs) == 1:
            table_form = table_form[0]
        elif len(tabs) != ncomp:  # Pillow's (luma, chroma) pair
            table_form = table_form[:2]
        new = [_codec.requantize_coefficients(coefs[c], qfile[c], target[c])
               for c in range(ncomp)]
    kw = {}
    if keep_metadata:
        full = inspect(data, max_pixels=max_pixels)
        kw["extra_segments"] = _metadata_segments(data, full)
        if full.get("jfif_unit") == 1:
            kw["dpi"] = full["jfif_density"]
    return write_coefficients(
        new, table_form, width=info["width"], height=info["height"],
        sampling=[(c["h"], c["v"]) for c in info["components"]],
        jpeg_color=info["jpeg_color"], precision=precision, **kw)
