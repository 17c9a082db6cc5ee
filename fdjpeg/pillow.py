"""Pillow drop-in: ``fdjpeg.open`` / ``fdjpeg.save`` and a plugin that routes Pillow's JPEG I/O
through fdjpeg.

    import fdjpeg
    im = fdjpeg.open("photo.jpg", purify=True)   # a PIL.Image.Image, purified in the decoder
    fdjpeg.save(im, "out.jpg", quality=90)        # Pillow's JPEG keywords, fdjpeg's encoder

    import fdjpeg.pillow
    fdjpeg.pillow.register(purify=True)            # Image.open/save of JPEGs now use fdjpeg
    ...
    fdjpeg.pillow.unregister()                     # Pillow's own plugin again, exactly

The image returned by ``open`` is a subclass of Pillow's ``JpegImageFile``: the header is read by
Pillow's own marker parser, so ``.info``, ``.quantization``, ``.layer``, ``getexif()``,
``get_sampling()`` and ``quality="keep"`` behave exactly as with Pillow; only the pixels come
from fdjpeg (with ``purify=``, purified in the decoder).  Like Pillow, opening is lazy and
``draft()`` selects a reduced-size decode (scaled IDCT, 1/2, 1/4 or 1/8).
"""
import builtins
import io
import os
import struct

import numpy as np
from PIL import Image, ImageFile, JpegImagePlugin, JpegPresets, UnidentifiedImageError

__all__ = ["open", "save", "register", "unregister", "is_registered", "FDJpegImageFile", "SAVE_KEYWORDS"]

# ---------------------------------------------------------------------------
# reading


class FDJpegImageFile(JpegImagePlugin.JpegImageFile):
    """Pillow's JPEG image file with fdjpeg decoding the pixels."""

    #: FD purification applied in the decoder (None = plain decode); set by ``open``/``register``.
    fdjpeg_purify = None

    def draft(self, mode, size):
        # fdjpeg has no raw-YCbCr output; a draft is a request, so keep RGB in that case
        if mode == "YCbCr":
            mode = None
        return super().draft(mode, size)

    def crop(self, box=None):
        # before load(): decode only the box (fdjpeg.decode(region=)), same pixels as
        # Pillow's load-then-crop; boxes reaching outside the image take Pillow's path
        if box is not None and self.tile and self.fp is not None:
            try:
                x0, y0, x1, y1 = (int(round(v)) for v in box)
            except (TypeError, ValueError):
                return super().crop(box)
            if 0 <= x0 < x1 <= self.size[0] and 0 <= y0 < y1 <= self.size[1]:
                return self._new(Image.frombytes(
                    self.mode, (x1 - x0, y1 - y0),
                    np.ascontiguousarray(self._fdjpeg_pixels((x0, y0, x1 - x0, y1 - y0)))).im)
        return super().crop(box)

    def _fdjpeg_pixels(self, region=None):
        self.fp.seek(0)
        data = self.fp.read()
        scale = self.decoderconfig[0] if self.decoderconfig else 1
        if Image.MAX_IMAGE_PIXELS is None:
            max_pixels = 2**62
        else:
            max_pixels = 2 * int(Image.MAX_IMAGE_PIXELS)
        return _decode_pixels(data, purify=self.fdjpeg_purify, mode=self.mode, scale=scale,
                              max_pixels=max_pixels,
                              allow_truncated=bool(ImageFile.LOAD_TRUNCATED_IMAGES), region=region)

    def load(self):
        if not self.tile:
            return super().load()  # already loaded, or raises "cannot load this image"
        fp = self.fp
        fp.seek(0)
        data = fp.read()
        scale = self.decoderconfig[0] if self.decoderconfig else 1
        if Image.MAX_IMAGE_PIXELS is None:
            max_pixels = 2**62
        else:
            max_pixels = 2 * int(Image.MAX_IMAGE_PIXELS)
        arr = _decode_pixels(
            data,
            purify=self.fdjpeg_purify,
            mode=self.mode,
            scale=scale,
            max_pixels=max_pixels,
            allow_truncated=bool(ImageFile.LOAD_TRUNCATED_IMAGES),
        )
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


def _open_image(fp, filename, purify):
    im = FDJpegImageFile(fp, filename)
    im.fdjpeg_purify = purify
    return im


def open(fp, mode="r", formats=None, *, purify=None):
    """Open a JPEG like ``PIL.Image.open`` (path, pathlib.Path or binary file object), lazily.

    ``formats``: as in Pillow; fdjpeg opens JPEG only, so a list without "JPEG" finds nothing.
    Returns a ``PIL.Image.Image`` (``format == "JPEG"``) whose pixels fdjpeg decodes, purified
    with ``purify`` (a table in the forms ``fdjpeg.decode`` takes, or True for the package's FD
    table).  Errors come in Pillow's types: ``UnidentifiedImageError`` for data that is not a JPEG
    Pillow would open, ``DecompressionBombError`` above twice ``Image.MAX_IMAGE_PIXELS`` (and the
    warning above it), ``OSError`` for bad image data when the pixels are loaded.
    """
    if mode != "r":
        raise ValueError(f"bad mode {mode!r}")
    if formats is not None and not isinstance(formats, (list, tuple)):
        raise TypeError("formats must be a list or tuple")
    if isinstance(fp, io.StringIO):
        raise ValueError("StringIO cannot be used to open an image. Binary data must be used instead.")
    exclusive_fp = False
    filename = ""
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
        wanted = formats is None or any(str(f).upper() in ("JPEG", "MPO") for f in formats)
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
    "smooth": "NOT implemented by fdjpeg (libjpeg's input smoothing): a nonzero value raises",
    "streamtype": "NOT implemented by fdjpeg (abbreviated tables-only/image-only streams): nonzero raises",
    "table": "fdjpeg: an FD table (any form fdjpeg.encode takes, True = package default); Pillow's "
             "default subsampling (4:2:0) still applies: pass subsampling=0 to keep the two-pass grid exact",
}
_UNIMPLEMENTED = ("smooth", "streamtype")
_SUBSAMPLING_NAMES = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2, "4:1:1": 2}
_MAX_BYTES_IN_MARKER = 65533


def _quality_scaling(quality):
    """libjpeg's jpeg_quality_scaling: quality clamped to 1..100 -> percentage scale factor."""
    quality = min(max(int(quality), 1), 100)
    return 5000 // quality if quality < 50 else 200 - 2 * quality


def _scale_table(base, scale, force_baseline):
    """libjpeg's jpeg_add_quant_table arithmetic on a natural-order table."""
    t = (np.asarray(base, dtype=np.int64) * scale + 50) // 100
    return np.clip(t, 1, 255 if force_baseline else 32767).astype(np.uint16)


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
    for key in _UNIMPLEMENTED:
        if params.get(key):
            raise NotImplementedError(
                f"fdjpeg does not implement Pillow's JPEG keyword {key}={params[key]!r}; "
                "save with Pillow for that (fdjpeg.pillow.unregister())"
            )
    mode = im.mode
    if mode == "YCbCr":  # Pillow writes these planes as is; fdjpeg's encoder takes RGB only
        raise NotImplementedError("fdjpeg cannot write mode YCbCr as JPEG (Pillow can; or convert to RGB)")
    if mode not in ("1", "L", "RGB", "RGBX", "CMYK"):
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
        scale = 100 if quality == -1 else _quality_scaling(quality)
        tables = [_scale_table(t, scale, False).reshape(8, 8) for t in qtables]
        last = len(tables) - 1
        comp_slots = [min(c, last) for c in range(ncomp)]
    else:
        q = 75 if quality == -1 else quality
        scale = _quality_scaling(q)
        luma = _scale_table(_ANNEX_K_LUMA, scale, True).reshape(8, 8)
        chroma = _scale_table(_ANNEX_K_CHROMA, scale, True).reshape(8, 8)
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

    segments = b""
    exif = _exif_bytes(params.get("exif", b""))
    if len(exif) > _MAX_BYTES_IN_MARKER:
        raise ValueError("EXIF data is too long")
    if exif:
        segments += _segment(0xE1, exif)
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
    extra = params.get("extra", b"")
    if extra:
        segments += bytes(extra)

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


_ANNEX_K_LUMA = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99], dtype=np.int64)
_ANNEX_K_CHROMA = np.array([
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99], dtype=np.int64)


def _pixels_for(im, mode):
    if mode == "1":
        im = im.convert("L")
    elif mode == "RGBX":
        im = im.convert("RGB")
    return np.asarray(im)


def encode_image(im, **params):
    """Encode a PIL image with Pillow's JPEG keywords; returns the JPEG bytes."""
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
    unit, xd, yd = (1, plan["dpi"][0], plan["dpi"][1]) if plan["dpi"] else (0, 1, 1)
    return _codec.encode_pixels(
        np.ascontiguousarray(pixels), in_color, tabs, comp_slots, h_samp, v_samp,
        optimize=plan["optimize"], progressive=plan["progressive"],
        restart_interval=plan["restart_blocks"], restart_rows=plan["restart_rows"],
        keep_rgb=plan["keep_rgb"], write_jfif=not adobe, density_unit=unit, x_density=xd,
        y_density=yd, write_adobe=adobe, extra_segments=plan["segments"], max_pixels=2**62)


def _pillow_save(im, fp, filename):
    """Save handler registered with Pillow (reads ``im.encoderinfo`` like Pillow's plugin)."""
    fp.write(encode_image(im, **im.encoderinfo))


def save(im, fp, format=None, **params):
    """Save ``im`` as JPEG with fdjpeg, taking ``PIL.Image.Image.save``'s arguments.

    ``fp``: path, pathlib.Path or binary file object.  ``format``: None or "JPEG"/"JPG".
    ``params``: Pillow's JPEG keywords (see ``SAVE_KEYWORDS``) plus fdjpeg's ``table=``.
    Keywords that are not JPEG keywords are ignored, as Pillow ignores them; the JPEG keywords
    fdjpeg does not implement raise ``NotImplementedError`` instead of being dropped.
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
    im.load()
    data = encode_image(im, **params)
    if isinstance(fp, (str, bytes, os.PathLike)):
        with builtins.open(fp, "wb") as fh:
            fh.write(data)
    else:
        fp.write(data)


# ---------------------------------------------------------------------------
# plugin registration

_saved = {}


def _factory_for(purify):
    def factory(fp, filename=None):
        return _open_image(fp, filename, purify)

    return factory


def register(purify=None, *, save=True):
    """Route Pillow's own ``Image.open`` (and, with ``save=True``, ``Image.save``) of JPEGs through
    fdjpeg; ``purify`` is applied to every JPEG opened.  Calling it again updates ``purify``."""
    Image.preinit()  # import Pillow's JPEG plugin now, so a later init() cannot re-register it
    if not _saved:
        _saved["open"] = Image.OPEN.get("JPEG")
        _saved["save"] = Image.SAVE.get("JPEG")
    Image.register_open("JPEG", _factory_for(purify), JpegImagePlugin._accept)
    if save:
        Image.register_save("JPEG", _pillow_save)
    elif _saved.get("save") is not None:
        Image.SAVE["JPEG"] = _saved["save"]


def unregister():
    """Restore Pillow's own JPEG plugin exactly as it was before :func:`register`."""
    if not _saved:
        return
    if _saved["open"] is not None:
        Image.OPEN["JPEG"] = _saved["open"]
    if _saved["save"] is not None:
        Image.SAVE["JPEG"] = _saved["save"]
    _saved.clear()


def is_registered():
    return bool(_saved)
