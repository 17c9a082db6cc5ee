"""Pillow drop-in: ``fdjpeg.open`` / ``fdjpeg.save`` and a plugin that routes Pillow's JPEG I/O
through fdjpeg.

    import fdjpeg
    im = fdjpeg.open("photo.jpg", purify=True)   # a PIL.Image.Image, purified in the decoder
    fdjpeg.save(im, "out.jpg", quality=90)        # Pillow's JPEG keywords, fdjpeg's encoder

    import fdjpeg.pillow
    fdjpeg.pillow.register(purify=True)            # Image.open/save of JPEGs now use fdjpeg
    DataLoader(ds, num_workers=4, worker_init_fn=fdjpeg.pillow.worker_init)  # spawn workers too
    ...
    fdjpeg.pillow.unregister()                     # Pillow's own plugin again, exactly

The image returned by ``open`` is a subclass of Pillow's ``JpegImageFile``: the header is read by
Pillow's own marker parser, so ``.info``, ``.quantization``, ``.layer``, ``getexif()``,
``get_sampling()`` and ``quality="keep"`` behave exactly as with Pillow; only the pixels come
from fdjpeg (with ``purify=``, purified in the decoder).  Like Pillow, opening is lazy and
``draft()`` selects a reduced-size decode (scaled IDCT, 1/2, 1/4 or 1/8).

Saving writes Pillow's file byte for byte; calls fdjpeg's encoder does not write itself (modes
such as YCbCr, ``smooth``/``streamtype``, values Pillow treats its own way) are handed to Pillow's
encoder (:func:`pillow_road` says which), so code written for Pillow keeps working after
:func:`register`.  tests/test_pillow_parity.py checks both sides against Pillow itself.
"""
from __future__ import annotations

import builtins
import io
import json
import os
import struct
import warnings
from typing import IO, Any, Dict, List, Optional, Tuple, Union, cast

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageFile, JpegImagePlugin, JpegPresets, MpoImagePlugin, UnidentifiedImageError

from fdjpeg import tables as _tables

#: What ``open(fp)`` / ``save(im, fp)`` take, as in Pillow: a path or a binary file object.
FileLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]", IO[bytes]]
#: An FD table in the forms ``fdjpeg.decode(purify=)`` takes: None (no purification), True (the
#: package's FD table), one (8, 8)/(64,) table, (luma, chroma), or one table per component.
TableSpec = Union[None, bool, npt.ArrayLike]

__all__ = ["open", "save", "register", "unregister", "is_registered", "worker_init", "pillow_road", "encode_image",
           "FDJpegImageFile", "FDMpoImageFile", "SAVE_KEYWORDS", "ENV_VAR"]

# ---------------------------------------------------------------------------
# reading


class FDJpegImageFile(JpegImagePlugin.JpegImageFile):
    """Pillow's JPEG image file with fdjpeg decoding the pixels (what :func:`open` returns).

    The header, ``.info``, ``.quantization``, ``getexif()`` and ``draft()`` are Pillow's own;
    ``load()`` decodes with fdjpeg, purified with ``fdjpeg_purify`` when it is set::

        im = fdjpeg.open("photo.jpg", purify=True)
        assert isinstance(im, FDJpegImageFile) and im.fdjpeg_purify is True
    """

    #: FD purification applied in the decoder (None = plain decode); set by ``open``/``register``.
    fdjpeg_purify: TableSpec = None
    #: sample precision P of the frame (8 for what Pillow itself opens; 12-bit lossy and 2..16-bit
    #: lossless otherwise, which Pillow refuses: see ``_open``)
    fdjpeg_precision: int = 8

    def _open(self) -> None:
        try:
            super()._open()
        except SyntaxError as e:
            if "-bit layers" not in str(e):
                raise
            self._open_other_precision()

    def _open_other_precision(self) -> None:
        """Pillow's header parser refuses precisions other than 8 ("cannot handle 12-bit
        layers"); run it on a copy whose frame header says 8 (so ``.info``, ``.layer``,
        ``.quantization`` are Pillow's), then set the mode fdjpeg delivers:
        grey above 8 bits -> "I;16" (the samples as decoded, 0..2^P-1); colour above 8 bits ->
        "RGB"/"CMYK" holding the most significant 8 bits of each sample (v >> (P - 8), what
        Pillow does with 16-bit RGB PNG and TIFF: it has no 16-bit colour mode; use
        ``fdjpeg.decode`` for every bit); 2..7-bit lossless -> "L"/"RGB"/"CMYK" with the
        samples as decoded."""
        import fdjpeg

        fp = self.fp
        if fp is None:
            raise SyntaxError("no file to read")
        fp.seek(0)
        data = fp.read()
        try:
            info = fdjpeg.inspect(data)
        except fdjpeg.JPEGError as e:
            raise SyntaxError(str(e)) from None
        precision = info["precision"]
        i = next((off for name, off, _ in info["markers"] if name.startswith("SOF")), None)
        if i is None or precision == 8:
            raise SyntaxError("no frame header")
        patched = bytearray(data)
        patched[i + 4] = 8
        self.fp = io.BytesIO(bytes(patched))
        try:
            super()._open()
        finally:
            self.fp = fp
        self.fdjpeg_precision = self.bits = precision
        if precision > 8 and self.layers == 1:
            self._mode = "I;16"
        self.info["fdjpeg_precision"] = precision

    def draft(self, mode: Optional[str], size: Optional[Tuple[int, int]]
              ) -> Optional[Tuple[str, Tuple[int, int, float, float]]]:
        """As Pillow's ``draft``: a reduced-size (1/2, 1/4, 1/8) and/or greyscale decode.

        Without ``purify`` a ``"YCbCr"`` draft (raw planes) is decoded by Pillow's own decoder,
        exactly as Pillow does.  With ``purify`` it is declined (RGB stays, purified): fdjpeg
        has no raw-YCbCr output, and the defense is never dropped for a draft.
        """
        if self.fdjpeg_precision != 8:
            return None  # no reduced-size decoding above 8 bits (fdjpeg_precision)
        if mode == "YCbCr" and self.fdjpeg_purify is not None:
            mode = None
        return super().draft(mode, size)

    def crop(self, box: Optional[Tuple[float, float, float, float]] = None) -> Image.Image:
        """Before ``load()``: decode only the box (``fdjpeg.decode(region=)``), the same pixels
        as Pillow's load-then-crop; boxes reaching outside the image, a loaded or closed image,
        a raw-YCbCr draft and MPO frames take Pillow's own path.

            tile = fdjpeg.open("photo.jpg", purify=True).crop((0, 0, 224, 224))
        """
        if (box is not None and self.tile and self.fp is not None
                and not getattr(self.fp, "closed", False)
                and not (self.mode == "YCbCr" and self.fdjpeg_purify is None)
                and self.tile[0][2] == 0):
            try:
                x0, y0, x1, y1 = (int(round(v)) for v in box)
            except (TypeError, ValueError):
                return super().crop(box)
            if 0 <= x0 < x1 <= self.size[0] and 0 <= y0 < y1 <= self.size[1]:
                return self._new(Image.frombytes(
                    self.mode, (x1 - x0, y1 - y0),
                    np.ascontiguousarray(self._fdjpeg_pixels((x0, y0, x1 - x0, y1 - y0)))).im)
        return super().crop(box)

    def _fdjpeg_pixels(self, region: Optional[Tuple[int, int, int, int]] = None) -> np.ndarray:
        fp = self.fp
        assert fp is not None  # callers check: not loaded, not closed
        fp.seek(self.tile[0][2])  # 0, or the frame's offset in an MPO file
        data = fp.read()
        scale = self.decoderconfig[0] if self.decoderconfig else 1
        if Image.MAX_IMAGE_PIXELS is None:
            max_pixels = 2**62
        else:
            max_pixels = 2 * int(Image.MAX_IMAGE_PIXELS)
        arr = _decode_pixels(data, purify=self.fdjpeg_purify,
                             mode=None if self.mode == "I;16" else self.mode, scale=scale,
                             max_pixels=max_pixels,
                             allow_truncated=bool(ImageFile.LOAD_TRUNCATED_IMAGES), region=region)
        if self.mode == "I;16":
            arr = arr.astype("<u2", copy=False)
        elif arr.dtype == np.uint16:  # colour above 8 bits: the top 8 bits (see _open_other_precision)
            arr = (arr >> (self.fdjpeg_precision - 8)).astype(np.uint8)
        return arr

    def load(self) -> Any:
        """Decode the pixels with fdjpeg (purified with ``fdjpeg_purify``), once."""
        if not self.tile or self.fp is None or getattr(self.fp, "closed", False):
            # loaded already, closed, or no image: Pillow's own answer (and exception type)
            return super().load()
        if self.mode == "YCbCr" and self.fdjpeg_purify is None:
            return super().load()  # a raw-YCbCr draft: Pillow's decoder (see draft)
        arr = self._fdjpeg_pixels()
        h, w = arr.shape[:2]
        if (w, h) != self.size:
            raise OSError(f"decoded size {w}x{h} differs from the header's {self.size[0]}x{self.size[1]}")
        # one copy into Pillow's own storage (frombuffer would share, then need a second copy)
        self.im = Image.frombytes(self.mode, (w, h), np.ascontiguousarray(arr)).im
        self.tile = []
        self.readonly = 0
        if self._exclusive_fp and self._close_exclusive_fp_after_loading:
            self.fp.close()
        self.fp = None
        return Image.Image.load(self)


def _decode_pixels(data, *, purify, mode, scale, max_pixels, allow_truncated, region=None):
    """Pixels of ``data`` for Pillow's mode ("L", "RGB" or "CMYK") at 1/scale size."""
    import fdjpeg

    return fdjpeg.decode(data, purify=purify, mode=mode, scale=scale, max_pixels=max_pixels,
                         allow_truncated=allow_truncated, region=region)


class FDMpoImageFile(MpoImagePlugin.MpoImageFile, FDJpegImageFile):
    """Pillow's MPO (multi-picture JPEG, e.g. many phone and stereo camera files) with fdjpeg
    decoding every frame (purified with ``fdjpeg_purify``); ``format == "MPO"``, ``n_frames``,
    ``seek()`` and ``tell()`` are Pillow's.

        im = fdjpeg.open("stereo.mpo", purify=True)
        im.seek(1)                          # the second picture, purified too
    """


def _open_image(fp: IO[bytes], filename: Union[str, bytes, None], purify: TableSpec) -> FDJpegImageFile:
    """Pillow's ``jpeg_factory`` with fdjpeg's classes: a JPEG, or an MPO when its MP header
    says it holds more than one picture (Ultra HDR files stay JPEG, as in Pillow)."""
    im = FDJpegImageFile(fp, filename)
    im.fdjpeg_purify = purify
    try:
        mpheader = im._getmp()
        if mpheader is not None and mpheader[45057] > 1:
            for segment, content in im.applist:
                if segment == "APP1" and b' hdrgm:Version="' in content:
                    return im
            im.__class__ = FDMpoImageFile
            cast(FDMpoImageFile, im)._after_jpeg_open(mpheader)
    except (TypeError, IndexError):
        pass
    except SyntaxError:
        warnings.warn("Image appears to be a malformed MPO file, it will be interpreted as a base JPEG file")
    return im


def open(fp: FileLike, mode: str = "r", formats: Optional[Union[List[str], Tuple[str, ...]]] = None, *,
         purify: TableSpec = None) -> FDJpegImageFile:
    """Open a JPEG like ``PIL.Image.open`` (path, pathlib.Path or binary file object), lazily.

    ``formats``: as in Pillow; fdjpeg opens JPEG only, so a list without "JPEG" finds nothing.
    Returns a ``PIL.Image.Image`` (``format == "JPEG"``) whose pixels fdjpeg decodes, purified
    with ``purify`` (a table in the forms ``fdjpeg.decode`` takes, or True for the package's FD
    table).  Errors come in Pillow's types: ``UnidentifiedImageError`` for data that is not a JPEG
    Pillow would open, ``DecompressionBombError`` above twice ``Image.MAX_IMAGE_PIXELS`` (and the
    warning above it), ``OSError`` for bad image data when the pixels are loaded.

        im = fdjpeg.pillow.open("photo.jpg", purify=True)   # lazy: header only
        im.draft("RGB", (im.width // 2, im.height // 2))     # optional reduced-size decode
        pixels = np.asarray(im)                              # decoded (and purified) here
    """
    if mode != "r":
        raise ValueError(f"bad mode {mode!r}")
    if formats is not None and not isinstance(formats, (list, tuple)):
        raise TypeError("formats must be a list or tuple")
    if isinstance(fp, io.StringIO):
        raise ValueError("StringIO cannot be used to open an image. Binary data must be used instead.")
    exclusive_fp = False
    filename: Union[str, bytes] = ""
    if isinstance(fp, (str, bytes, os.PathLike)):
        filename = os.fspath(fp)
        fp = builtins.open(filename, "rb")
        exclusive_fp = True
    try:
        try:
            fp.seek(0)
        except (AttributeError, io.UnsupportedOperation):
            fp = io.BytesIO(fp.read())
            exclusive_fp = True
        prefix = fp.read(16)
        im = None
        # as Pillow: MPO files are opened by the JPEG plugin, so "JPEG" must be among formats
        wanted = formats is None or any(str(f).upper() == "JPEG" for f in formats)
        if wanted and JpegImagePlugin._accept(prefix):
            fp.seek(0)
            try:
                im = _open_image(fp, filename, purify)
            except (SyntaxError, IndexError, TypeError, struct.error):
                im = None
        if im is None:
            shown = filename if filename else fp
            raise UnidentifiedImageError("cannot identify image file %r" % (shown,))
        Image._decompression_bomb_check(im.size)
    except BaseException:
        if exclusive_fp:
            fp.close()
        raise
    im._exclusive_fp = exclusive_fp
    return im


# ---------------------------------------------------------------------------
# writing

#: Pillow's JPEG save keywords and what fdjpeg does with them.
SAVE_KEYWORDS = {
    "quality": "int (clamped to 1..100 as libjpeg does), 'keep', or a JpegPresets name",
    "subsampling": "0/1/2, '4:4:4'/'4:2:2'/'4:2:0' ('4:1:1' = 4:2:0), 'keep', or a preset name",
    "qtables": "list/tuple/dict of 1-4 tables of 64, cjpeg-style text, a preset name, or 'keep'",
    "optimize": "optimal Huffman tables",
    "progressive": "progressive JPEG (libjpeg's default scan script); 'progression' is an alias",
    "progression": "alias of progressive",
    "dpi": "(x, y) density in dots per inch, rounded",
    "icc_profile": "ICC profile, written as APP2 chunks",
    "exif": "Exif bytes or a PIL.Image.Exif, written as APP1",
    "xmp": "XMP bytes, written as APP1",
    "comment": "COM segment (str is UTF-8 encoded; defaults to im.info['comment'] as in Pillow)",
    "extra": "raw marker segments written after the other metadata",
    "restart_marker_blocks": "restart interval in MCUs",
    "restart_marker_rows": "restart interval in MCU rows",
    "keep_rgb": "store RGB without converting to YCbCr (Adobe transform 0)",
    "smooth": "libjpeg's input smoothing: not in fdjpeg's encoder, a nonzero value goes to Pillow's encoder",
    "streamtype": "abbreviated (tables-only / image-only) streams: nonzero goes to Pillow's encoder",
    "table": "fdjpeg: an FD table (any form fdjpeg.encode takes, True = package default); Pillow's "
             "default subsampling (4:2:0) still applies: pass subsampling=0 to keep the two-pass grid exact",
}
_UNIMPLEMENTED = ("smooth", "streamtype")
_SUBSAMPLING_NAMES = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2, "4:1:1": 2}
_MAX_BYTES_IN_MARKER = 65533


def _validate_qtables(qtables):
    """Pillow's qtables forms -> list of 1..4 lists of 64 ints (same errors as Pillow)."""
    if qtables is None:
        return None
    if isinstance(qtables, str):
        try:
            values = [int(num) for line in qtables.splitlines() for num in line.split("#", 1)[0].split()]
        except ValueError as e:
            raise ValueError("Invalid quantization table") from e
        qtables = [values[s:s + 64] for s in range(0, len(values), 64)]
    if isinstance(qtables, (tuple, list, dict)):
        if isinstance(qtables, dict):
            qtables = [qtables[key] for key in range(len(qtables)) if key in qtables]
        else:
            qtables = list(qtables)
        if not (0 < len(qtables) < 5):
            raise ValueError("None or too many quantization tables")
        out = []
        try:
            for table in qtables:
                if len(table) != 64:
                    raise TypeError("Invalid quantization table")
                vals = [int(v) for v in table]
                if min(vals) < 0 or max(vals) > 65535:
                    raise TypeError("Invalid quantization table")
                out.append(vals)
        except TypeError as e:
            raise ValueError("Invalid quantization table") from e
        return out
    raise ValueError("Invalid quantization table")


def _sampling_factors(im, subsampling):
    """Pillow's subsampling argument (after presets/names) -> (h, v) of component 0, None = default."""
    if subsampling == -1:
        return None
    return {0: (1, 1), 1: (2, 1), 2: (2, 2)}.get(subsampling)


def _exif_bytes(exif):
    if isinstance(exif, Image.Exif):
        exif = exif.tobytes()
    return bytes(exif or b"")


def _segment(marker, payload):
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def _plan(im, params):
    """Resolve Pillow's JPEG keywords into an explicit encoding plan (a dict)."""
    mode = im.mode
    if mode not in _NATIVE_MODES:
        raise OSError(f"cannot write mode {mode} as JPEG")

    quality = params.get("quality", -1)
    subsampling = params.get("subsampling", -1)
    qtables = params.get("qtables")
    fd_table = params.get("table")
    if quality == "keep":
        quality = -1
        subsampling = "keep"
        qtables = "keep"
    elif isinstance(quality, str) and quality in JpegPresets.presets:
        preset = JpegPresets.presets[quality]
        quality = -1
        subsampling = preset.get("subsampling", -1)
        qtables = preset.get("quantization")
    elif not isinstance(quality, int) or isinstance(quality, bool):
        raise ValueError("Invalid quality setting")
    else:
        if isinstance(subsampling, str) and subsampling in JpegPresets.presets:
            subsampling = JpegPresets.presets[subsampling].get("subsampling", -1)
        if isinstance(qtables, str) and qtables in JpegPresets.presets:
            qtables = JpegPresets.presets[qtables].get("quantization")

    if isinstance(subsampling, str):
        if subsampling == "keep":
            if im.format != "JPEG":
                raise ValueError("Cannot use 'keep' when original image is not a JPEG")
            subsampling = JpegImagePlugin.get_sampling(im)
        elif subsampling in _SUBSAMPLING_NAMES:
            subsampling = _SUBSAMPLING_NAMES[subsampling]
        else:
            raise TypeError(f"invalid subsampling {subsampling!r}")
    if not isinstance(subsampling, int):
        raise TypeError(f"invalid subsampling {subsampling!r}")

    if isinstance(qtables, str) and qtables == "keep":
        if im.format != "JPEG":
            raise ValueError("Cannot use 'keep' when original image is not a JPEG")
        qtables = getattr(im, "quantization", None)
    qtables = _validate_qtables(qtables)

    if fd_table is not None and fd_table is not False:
        if qtables is not None or quality != -1:
            raise ValueError("give either table= (fdjpeg) or Pillow's quality=/qtables=, not both")

    # quantization tables in slots, the slot of each component (libjpeg + Pillow's encoder)
    ncomp = {"1": 1, "L": 1, "RGB": 3, "RGBX": 3, "CMYK": 4}[mode]
    keep_rgb = bool(params.get("keep_rgb", False)) and mode in ("RGB", "RGBX")
    if fd_table is not None and fd_table is not False:
        tables = fd_table  # handed to fdjpeg.encode as given
        comp_slots = None
    elif qtables is not None:
        # libjpeg's quality arithmetic (fdjpeg.tables.scaled; quality 50 is scale 100, the
        # tables as given); Pillow's encoder forces baseline (entries <= 255) with a quality
        tables = [_tables.scaled(t, 50 if quality == -1 else quality, force_baseline=quality != -1)
                  for t in qtables]
        last = len(tables) - 1
        comp_slots = [min(c, last) for c in range(ncomp)]
    else:
        q = 75 if quality == -1 else quality
        luma, chroma = _tables.standard(q), _tables.standard(q, chroma=True)
        if ncomp == 1 or mode == "CMYK" or keep_rgb:
            tables = [luma]
            comp_slots = [0] * ncomp
        else:
            tables = [luma, chroma]
            comp_slots = [0, 1, 1]

    factors = _sampling_factors(im, subsampling)
    if factors is None:
        # libjpeg's defaults: 2x2 luma for YCbCr, 1x1 for grey, CMYK and RGB kept as RGB.
        # Given factors apply to component 0 whatever the mode, as in Pillow's encoder (a grey
        # file then says 2x2 in its frame header; its single-component scan is unchanged).
        factors = (1, 1) if (ncomp != 3 or keep_rgb) else (2, 2)
    elif keep_rgb and factors != (1, 1):
        # Pillow's encoder refuses this combination too (libjpeg configuration error)
        raise OSError("codec configuration error when writing image file (keep_rgb needs subsampling 4:4:4)")

    dpi = params.get("dpi")
    if dpi:
        dpi = tuple(round(x) for x in dpi)
        if not (dpi[0] > 0 and dpi[1] > 0):
            dpi = None
    else:
        dpi = None

    # segment order as Pillow's encoder writes them: Exif, the caller's extra, XMP, ICC, comment
    segments = b""
    exif = _exif_bytes(params.get("exif", b""))
    if len(exif) > _MAX_BYTES_IN_MARKER:
        raise ValueError("EXIF data is too long")
    if exif:
        segments += _segment(0xE1, exif)
    extra = params.get("extra", b"")
    if extra:
        segments += bytes(extra)
    xmp = params.get("xmp")
    if xmp:
        head = b"http://ns.adobe.com/xap/1.0/\x00"
        if len(xmp) > _MAX_BYTES_IN_MARKER - len(head):
            raise ValueError("XMP data is too long")
        segments += _segment(0xE1, head + bytes(xmp))
    icc = params.get("icc_profile")
    if icc:
        chunk = _MAX_BYTES_IN_MARKER - 14
        parts = [icc[i:i + chunk] for i in range(0, len(icc), chunk)]
        for i, part in enumerate(parts, 1):
            segments += _segment(0xE2, b"ICC_PROFILE\0" + bytes((i, len(parts))) + bytes(part))
    comment = params.get("comment", im.info.get("comment"))
    if isinstance(comment, str):
        comment = comment.encode("utf-8")
    if comment and len(comment) > _MAX_BYTES_IN_MARKER:
        raise ValueError("Comment is too long")
    if comment:
        segments += _segment(0xFE, bytes(comment))

    return {
        "mode": mode,
        "tables": tables,
        "comp_slots": comp_slots,
        "factors": factors,
        "keep_rgb": keep_rgb,
        "optimize": bool(params.get("optimize", False)),
        "progressive": bool(params.get("progressive", False) or params.get("progression", False)),
        "restart_blocks": int(params.get("restart_marker_blocks", 0) or 0),
        "restart_rows": int(params.get("restart_marker_rows", 0) or 0),
        "dpi": dpi,
        "segments": segments,
    }


def _pixels_for(im, mode):
    if mode == "1":
        im = im.convert("L")
    elif mode == "RGBX":
        im = im.convert("RGB")
    return np.asarray(im)


_NATIVE_MODES = ("1", "L", "RGB", "RGBX", "CMYK")
_FLAG_KEYS = ("optimize", "progressive", "progression", "keep_rgb")
_BYTES_KEYS = ("icc_profile", "xmp")
_PRESET_NAMES = frozenset(JpegPresets.presets)


def _is_int(v):
    return type(v) is int or type(v) is bool


def _is_real(v):
    return type(v) in (int, float, bool) and v == v and abs(v) != float("inf")


def _native_qtables(q):
    if q is None:
        return True
    if isinstance(q, str):
        if q == "keep" or q in _PRESET_NAMES:
            return True
        try:
            _validate_qtables(q)
        except ValueError:
            return False
        return True
    if type(q) not in (list, tuple, dict):
        return False
    tables = [q[k] for k in range(len(q)) if k in q] if isinstance(q, dict) else list(q)
    if isinstance(q, dict) and not all(type(k) is int for k in q):
        return False
    return 0 < len(tables) < 5 and all(
        type(t) in (list, tuple) and len(t) == 64 and all(type(v) is int and 1 <= v <= 65535 for v in t)
        for t in tables)


def pillow_road(im: Image.Image, **params: Any) -> Optional[str]:
    """Why ``save(im, **params)`` goes to Pillow's own encoder, or None when fdjpeg encodes it.

    fdjpeg's encoder takes the calls it writes byte for byte as Pillow does (checked by
    tests/test_pillow_parity.py): modes 1, L, RGB, RGBX and CMYK and the ordinary values of
    every JPEG keyword.  Everything else - a mode Pillow writes that fdjpeg does not (YCbCr) or
    cannot (a mode Pillow refuses too), ``smooth``/``streamtype`` other than 0, and values
    Pillow accepts or refuses in its own way (``quality=True``, ``subsampling=7``, negative or
    non-integer tables, non-bytes metadata...) - is handed to Pillow's encoder, so the bytes,
    or the exception, are exactly Pillow's.  With fdjpeg's ``table=`` there is no such road
    (Pillow has no FD table): those calls raise instead.

        >>> from PIL import Image
        >>> pillow_road(Image.new("RGB", (8, 8)), quality=90) is None
        True
        >>> pillow_road(Image.new("YCbCr", (8, 8)))
        'mode YCbCr'
    """
    mode = im.mode
    if mode not in _NATIVE_MODES:
        return f"mode {mode}"
    if not (0 < im.width <= 65500 and 0 < im.height <= 65500):
        return f"size {im.width}x{im.height}"
    for key in _UNIMPLEMENTED:
        if key in params and not (_is_int(params[key]) and params[key] == 0):
            return f"{key}={params[key]!r}"
    if "quality" in params:
        q = params["quality"]
        if not ((type(q) is int and -1000 <= q <= 1000) or (type(q) is str and (q == "keep" or q in _PRESET_NAMES))):
            return f"quality={q!r}"
    if "subsampling" in params:
        v = params["subsampling"]
        if not ((type(v) is int and -1 <= v <= 2) or (type(v) is str and (v in _SUBSAMPLING_NAMES or v == "keep"
                                                                            or v in _PRESET_NAMES))):
            return f"subsampling={v!r}"
    if not _native_qtables(params.get("qtables")):
        return "qtables value"
    for key in _FLAG_KEYS:
        if key in params and not _is_int(params[key]):
            return f"{key}={params[key]!r}"
    for key in ("restart_marker_blocks", "restart_marker_rows"):
        if key in params and not (_is_int(params[key]) and 0 <= params[key] <= 65535):
            return f"{key}={params[key]!r}"
    if "dpi" in params:
        dpi = params["dpi"]
        if not (type(dpi) in (tuple, list) and len(dpi) == 2 and all(_is_real(x) for x in dpi)
                and all(0 <= round(x) <= 65535 for x in dpi)):
            return f"dpi={dpi!r}"
    for key in _BYTES_KEYS:
        if key in params and not (params[key] is None or type(params[key]) in (bytes, bytearray)):
            return f"{key} of type {type(params[key]).__name__}"
    if "extra" in params and type(params["extra"]) is not bytes:
        return f"extra of type {type(params['extra']).__name__}"
    if "exif" in params and type(params["exif"]) not in (bytes, Image.Exif):
        return f"exif of type {type(params['exif']).__name__}"
    comment = params.get("comment", im.info.get("comment"))
    if not (comment is None or type(comment) in (bytes, str)):
        return f"comment of type {type(comment).__name__}"
    return None


def _encode_with_pillow(im, params):
    """Pillow's own JPEG encoder (JpegImagePlugin._save) on ``params``: exactly Pillow's bytes."""
    buf = io.BytesIO()
    saved = getattr(im, "encoderinfo", None), getattr(im, "encoderconfig", None)
    im.encoderinfo = dict(params)
    im.encoderconfig = ()
    try:
        JpegImagePlugin._save(im, buf, "")
    finally:
        if saved[0] is None:
            del im.encoderinfo
        else:
            im.encoderinfo = saved[0]
        if saved[1] is None:
            del im.encoderconfig
        else:
            im.encoderconfig = saved[1]
    return buf.getvalue()


def encode_image(im: Image.Image, **params: Any) -> bytes:
    """Encode a PIL image with Pillow's JPEG keywords (plus fdjpeg's ``table=``); returns the
    JPEG bytes.  Calls fdjpeg does not encode itself go to Pillow's encoder (:func:`pillow_road`).

        >>> from PIL import Image
        >>> encode_image(Image.new("L", (8, 8)), quality=90)[:2]
        b'\\xff\\xd8'
    """
    road = pillow_road(im, **params)
    if road is not None:
        if params.get("table") is not None and params.get("table") is not False:
            raise NotImplementedError(f"fdjpeg's table= cannot be combined with {road} (which only "
                                      "Pillow's encoder writes, and it has no FD table)")
        return _encode_with_pillow(im, params)
    plan = _plan(im, params)
    pixels = _pixels_for(im, plan["mode"])
    return _encode_plan(pixels, plan)


def _encode_plan(pixels, plan):
    """Run the plan through the codec binding, which takes slots and sampling factors as is."""
    from fdjpeg import _codec

    mode = plan["mode"]
    ncomp = 1 if mode in ("1", "L") else (4 if mode == "CMYK" else 3)
    in_color = {1: 1, 3: 3, 4: 4}[ncomp]
    if plan["comp_slots"] is None:  # table= (fdjpeg's forms: one, Pillow's two, or one per component)
        from fdjpeg._tableforms import table_slots

        tabs, comp_slots = table_slots(plan["tables"], ncomp)
    else:
        tabs, comp_slots = plan["tables"], plan["comp_slots"]
    tabs = np.stack([np.asarray(t, dtype=np.uint16).reshape(64) for t in tabs])
    h, v = plan["factors"]
    h_samp = [h] + [1] * (ncomp - 1)
    v_samp = [v] + [1] * (ncomp - 1)
    adobe = mode == "CMYK" or plan["keep_rgb"]
    # libjpeg leaves JFIF out for CMYK and stored RGB; Pillow's encoder turns it on with a dpi
    unit, xd, yd = (1, plan["dpi"][0], plan["dpi"][1]) if plan["dpi"] else (0, 1, 1)
    return _codec.encode_pixels(
        np.ascontiguousarray(pixels), in_color, tabs, comp_slots, h_samp, v_samp,
        optimize=plan["optimize"], progressive=plan["progressive"],
        restart_interval=plan["restart_blocks"], restart_rows=plan["restart_rows"],
        keep_rgb=plan["keep_rgb"], write_jfif=not adobe or plan["dpi"] is not None, density_unit=unit, x_density=xd,
        y_density=yd, write_adobe=adobe, extra_segments=plan["segments"], max_pixels=2**62)


def _pillow_save(im, fp, filename):
    """Save handler registered with Pillow (reads ``im.encoderinfo`` like Pillow's plugin)."""
    fp.write(encode_image(im, **im.encoderinfo))


def save(im: Image.Image, fp: FileLike, format: Optional[str] = None, **params: Any) -> None:
    """Save ``im`` as JPEG with fdjpeg, taking ``PIL.Image.Image.save``'s arguments.

    ``fp``: path, pathlib.Path or binary file object.  ``format``: None or "JPEG"/"JPG".
    ``params``: Pillow's JPEG keywords (see ``SAVE_KEYWORDS``) plus fdjpeg's ``table=``.
    The file is the one Pillow writes, byte for byte; keywords that are not JPEG keywords are
    ignored, as Pillow ignores them.  Calls fdjpeg's encoder does not write itself (``smooth``,
    ``streamtype``, mode YCbCr, values Pillow treats its own way: see :func:`pillow_road`) are
    encoded by Pillow's own encoder, so bytes and exceptions stay Pillow's.  ``table=`` (an FD
    table, two-pass: the sensor side) is fdjpeg's alone; with such a call it raises
    ``NotImplementedError``.

        fdjpeg.pillow.save(im, "out.jpg", quality=90, optimize=True)   # Pillow's keywords
        fdjpeg.pillow.save(im, "sensor.jpg", table=True, subsampling=0)  # the FD table
    """
    if not isinstance(im, Image.Image):
        raise TypeError(f"im must be a PIL.Image.Image, not {type(im).__name__}")
    if format is not None and format.upper() not in ("JPEG", "JPG", "JPE", "JFIF"):
        raise ValueError(f"fdjpeg.save writes JPEG only, not {format!r}")
    if format is None and isinstance(fp, (str, bytes, os.PathLike)):
        # Pillow picks the format from the extension; refuse to hide a JPEG behind e.g. ".png"
        ext = os.path.splitext(os.fsdecode(fp))[1].lower()
        other = Image.registered_extensions().get(ext)
        if other not in (None, "JPEG", "MPO"):
            raise ValueError(f"fdjpeg.save writes JPEG, but {os.fsdecode(fp)!r} has a {other} "
                             "extension (pass format='JPEG' to insist)")
    if params.pop("save_all", None):  # as Image.save: JPEG has no multi-frame writer
        raise KeyError("JPEG (no multi-frame JPEG writer; save_all=True is refused as Pillow refuses it)")
    im.load()
    data = encode_image(im, **params)
    if isinstance(fp, (str, bytes, os.PathLike)):
        with builtins.open(fp, "wb") as fh:
            fh.write(data)
    else:
        fp.write(data)


# ---------------------------------------------------------------------------
# plugin registration

#: environment variable in which :func:`register` records its arguments (JSON), so that child
#: processes (which inherit ``os.environ``) and :func:`worker_init` can re-apply them.
ENV_VAR = "FDJPEG_PILLOW_REGISTER"

_saved: Dict[str, Any] = {}
_state: Dict[str, Any] = {}  # the arguments of the active registration in this process (empty = none)


def _factory_for(purify):
    def factory(fp, filename=None):
        return _open_image(fp, filename, purify)

    factory._fdjpeg = True  # type: ignore[attr-defined]
    return factory


def _jsonable(value):
    """``purify`` as JSON-able data (tables as nested lists), or raise TypeError."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):  # {slot: table} reads like the list of its values in slot order
        try:
            return [_jsonable(value[k]) for k in sorted(value)]
        except TypeError:
            raise TypeError("a purify dict maps the slots 0..n-1 to tables") from None
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    raise TypeError(f"purify must be None, True or a table (array/list of numbers), not {type(value).__name__}")


def register(purify: TableSpec = None, *, save: bool = True) -> None:
    """Route Pillow's own ``Image.open`` (and, with ``save=True``, ``Image.save``) of JPEGs through
    fdjpeg; ``purify`` is applied to every JPEG opened.  Calling it again updates ``purify``.

    The registration lives in this process's Pillow registry: a child started with ``fork``
    inherits it; one started with ``spawn`` or ``forkserver`` (the default on macOS and Windows,
    and ``DataLoader(multiprocessing_context="spawn")``) starts with Pillow's own plugin.  Pass
    :func:`worker_init` as the pool's ``initializer`` / the DataLoader's ``worker_init_fn`` so
    that every worker re-applies this registration; :func:`is_registered` checks a process.
    The arguments are also recorded in ``os.environ[ENV_VAR]`` (inherited by child processes).

        fdjpeg.pillow.register(purify=True)
        loader = DataLoader(folder_dataset, num_workers=4, multiprocessing_context="spawn",
                            worker_init_fn=fdjpeg.pillow.worker_init)
    """
    state = {"purify": purify, "save": bool(save)}
    env = json.dumps({"purify": _jsonable(purify), "save": bool(save)})
    Image.preinit()  # import Pillow's JPEG plugin now, so a later init() cannot re-register it
    if not _saved:
        _saved["open"] = Image.OPEN.get("JPEG")
        _saved["save"] = Image.SAVE.get("JPEG")
    Image.register_open("JPEG", _factory_for(purify), JpegImagePlugin._accept)
    if save:
        Image.register_save("JPEG", _pillow_save)
    elif _saved.get("save") is not None:
        Image.SAVE["JPEG"] = _saved["save"]
    _state.clear()
    _state.update(state)
    os.environ[ENV_VAR] = env


def unregister() -> None:
    """Restore Pillow's own JPEG plugin exactly as it was before :func:`register` (and forget
    the registration recorded for workers); harmless when not registered.

        fdjpeg.pillow.unregister()
        assert not fdjpeg.pillow.is_registered()
    """
    os.environ.pop(ENV_VAR, None)
    _state.clear()
    if not _saved:
        return
    if _saved["open"] is not None:
        Image.OPEN["JPEG"] = _saved["open"]
    if _saved["save"] is not None:
        Image.SAVE["JPEG"] = _saved["save"]
    _saved.clear()


def is_registered() -> bool:
    """True when ``PIL.Image.open`` in *this* process opens JPEGs with fdjpeg (e.g. False in a
    ``spawn`` worker until :func:`worker_init` ran there).

        def check_worker(*_):   # e.g. in a worker, or as an assertion in __getitem__
            assert fdjpeg.pillow.is_registered(), "this worker would decode unpurified pixels"
    """
    entry = Image.OPEN.get("JPEG")
    return entry is not None and bool(getattr(entry[0], "_fdjpeg", False))


def _env_state():
    raw = os.environ.get(ENV_VAR)
    if not raw:
        return None
    try:
        state = json.loads(raw)
        return {"purify": state["purify"], "save": bool(state.get("save", True))}
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"os.environ[{ENV_VAR!r}] is not a registration written by "
                         f"fdjpeg.pillow.register: {raw[:80]!r}") from exc


def _apply(state):
    register(state["purify"], save=state["save"])


class _WorkerInit:
    """Type of :data:`worker_init`: a picklable callable that re-applies, in a worker process,
    the :func:`register` call of the process that pickled it (or of ``os.environ[ENV_VAR]``).

        with multiprocessing.get_context("spawn").Pool(4, initializer=fdjpeg.pillow.worker_init) as pool:
            arrays = pool.map(load_with_image_open, paths)   # purified in every worker
    """

    def __init__(self, state: Optional[Dict[str, Any]] = None) -> None:
        self._state = state

    def __call__(self, *_: object) -> None:
        """Re-apply the parent's registration in this (worker) process; no-op without one."""
        if self._state is not None:
            state = self._state  # pickled: the parent's registration ({} = none)
        elif _state and is_registered():
            return  # this process has it already (a fork worker inherits it): keep it as is
        else:
            state = _env_state()
        if state:
            _apply(state)

    def __reduce__(self) -> Tuple[Any, Tuple[Optional[Dict[str, Any]]]]:
        # pickled (spawn/forkserver workers): carry the registration active now in the parent
        # (or its absence), so the worker gets exactly that even where its os.environ is older
        # (a forkserver started while another registration was active)
        state = self._state if self._state is not None else dict(_state)
        return (_WorkerInit, (state,))

    def __repr__(self) -> str:
        return "fdjpeg.pillow.worker_init"


#: ``worker_init(*_)``: re-apply the parent's :func:`register` (including ``purify=``) in a worker
#: process.  Picklable; use it as is as ``multiprocessing.Pool(initializer=worker_init)`` or
#: ``DataLoader(..., worker_init_fn=worker_init)``; it ignores its arguments (a DataLoader passes
#: the worker id).  The registration travels with the pickled ``worker_init`` (spawn,
#: forkserver) and in ``os.environ[ENV_VAR]``; without a registration in the parent it does
#: nothing.
worker_init = _WorkerInit()
