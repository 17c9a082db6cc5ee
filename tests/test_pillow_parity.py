"""Differential test of fdjpeg's Pillow drop-in against Pillow 13 itself (issue #14).

It walks Pillow's JPEG surface, generating the cases programmatically:

* save: every JPEG save keyword x every image mode x valid, boundary and invalid values
  (including values Pillow accepts that look invalid), plus seeded random combinations of
  keywords and the "keep" forms from JPEG sources; three writers are compared with Pillow's own
  ``Image.save``: ``fdjpeg.save``, and ``Image.save`` after ``fdjpeg.pillow.register()``.
  Required: the very same bytes, or an exception of the very same type.
* open: every ``.info`` key written in every JPEG mode, ``draft()`` in every mode and size,
  the life cycle (close, context managers, load after close, seek/tell, file objects), the
  ``formats=``/``mode`` arguments and non-JPEG input.  Required: the same mode, size, info,
  tables and pixels, the same draft() answer, or an exception of the same type.

The coverage table in docs/integrations.md is the summary of ``COVERAGE`` below (printed with
``pytest -s``); keep them in step.
"""
import io
import itertools
import random

import numpy as np
import pytest
from PIL import Image, JpegImagePlugin, UnidentifiedImageError

import fdjpeg
from fdjpeg import pillow as fdpil

skdata = pytest.importorskip("skimage.data")

COVERAGE = {}  # area -> number of cases compared


def count(area, n=1):
    COVERAGE[area] = COVERAGE.get(area, 0) + n


# --------------------------------------------------------------------------- images

BASE = np.ascontiguousarray(skdata.astronaut()[100:123, 150:169])  # 19 x 23: not a multiple of 8/16
SAVE_MODES = ["1", "L", "LA", "P", "PA", "RGB", "RGBA", "RGBX", "RGBa", "CMYK", "YCbCr", "LAB", "HSV",
              "I", "I;16", "F", "La"]


def mode_image(mode):
    rgb = Image.fromarray(BASE)
    if mode in ("RGBX", "RGBa", "La", "PA", "I;16", "LAB", "HSV"):
        try:
            return rgb.convert(mode)
        except ValueError:
            return Image.new(mode, rgb.size)
    return rgb.convert(mode)


IMAGES = {m: mode_image(m) for m in SAVE_MODES}


def _table(seed, lo=1, hi=99):
    return [int(v) for v in np.random.default_rng(seed).integers(lo, hi, 64)]


T1, T2, T3 = _table(1), _table(2), _table(3)
EXIF = Image.Exif()
EXIF[0x0112] = 3
EXIF[0x010F] = "fdjpeg"
QT_TEXT = "\n".join(" ".join(str(2 + (i * 8 + j) % 9) for j in range(8)) + "  # row" for i in range(8))

#: keyword -> values: valid, boundary, invalid, and values Pillow accepts that look invalid
KEYWORD_VALUES = {
    "quality": [1, 2, 24, 25, 49, 50, 51, 75, 94, 95, 100, 0, -1, -5, 101, 150, True, False, 2.5, "bogus",
                None, [1], "keep", "web_high", "web_low", "low", "maximum", "medium", "high", "web_maximum",
                10 ** 12],
    "subsampling": [0, 1, 2, -1, "4:4:4", "4:2:2", "4:2:0", "4:1:1", "keep", "web_low", "web_high", 3, 7, -2,
                    "4:4:0", "x", None, 1.0, [1], True, False],
    "qtables": [[T1], [T1, T2], [T1, T2, T3], [T1, T2, T3, T1], [T1] * 5, (T1, T2), {0: T1, 1: T2}, {1: T1},
                {0: T1, 2: T2}, QT_TEXT, QT_TEXT + "\n" + QT_TEXT, "web_maximum", "web_low", "keep",
                [T1[:63]], [[0] * 64], [[1] * 64], [[255] * 64], [[256] * 64], [[32767] * 64], [[32768] * 64],
                [[65535] * 64], [[-1] * 64], [[70000] * 64], [[1.5] * 64], [[True] * 64],
                [np.array(T1)], np.array([T1, T2]), "1 2 x", [], "", "bogus", 5, None, [T1 + [1]],
                [tuple(T1)], [["1"] * 64]],
    "optimize": [True, False, 0, 1, 2, -1, "yes", None, [], 1.0],
    "progressive": [True, False, 0, 1, 2, "x", None, 1.5],
    "progression": [True, False, 1, "x", None],
    "keep_rgb": [True, False, 1, "x", None, [], 0.0],
    "dpi": [(72, 72), (300, 150), [96, 96], (299.6, 72.2), (0.4, 0.4), (0.5, 1.5), (0, 0), (0, 72), (72, 0),
            (-5, 3), (65535, 65535), (65536, 1), (70000, 1), (1.4, 2.6), (True, 2), 5, None, (1, 2, 3), (),
            ("a", "b"), (float("nan"), 1.0), (float("inf"), 1.0), (10 ** 12, 1)],
    "icc_profile": [b"", b"icc-bytes", bytes(range(256)) * 300, bytearray(b"ba"), "abc", None, 0],
    "exif": [b"", b"Exif\x00\x00II*\x00", EXIF, EXIF.tobytes(), b"x" * 65533, b"x" * 65534, "abc", None,
             bytearray(b"ex")],
    "xmp": [b"", b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>", b"x" * 65504, b"x" * 65505, "abc", None, 0],
    "comment": [b"", b"hello", "caf\u00e9", b"x" * 65533, b"x" * 65534, "x" * 65534, 5, None,
                bytearray(b"ba")],
    "extra": [b"", b"\xff\xe5\x00\x06hello"[:8], b"\xff\xfe\x00\x04hi", "x", None, bytearray(b"")],
    "restart_marker_blocks": [0, 1, 5, 65535, 65536, -1, 70000, 1.5, True, None, "3"],
    "restart_marker_rows": [0, 1, 2, 65535, -1, 70000, 1.5, True, None],
    "smooth": [0, 1, 50, 100, 101, -1, "x", None, True],
    "streamtype": [0, 1, 2, 3, -1, "x", None, True],
    "unknown-keywords": [{"foo": 1}, {"bits": 8}, {"save_all": False}, {"save_all": True}, {"save_all": 1},
                         {"append_images": [Image.new("RGB", (4, 4))]}, {"append": True}],
}


# --------------------------------------------------------------------------- outcome helpers

def outcome(fn):
    """('ok', value) or ('raise', exception type)."""
    try:
        return ("ok", fn())
    except Exception as exc:  # noqa: BLE001 - the type is what is compared
        return ("raise", type(exc))


def pillow_save(im, kw):
    buf = io.BytesIO()
    im.save(buf, "JPEG", **kw)
    return buf.getvalue()


def fdjpeg_save(im, kw):
    buf = io.BytesIO()
    fdjpeg.save(im, buf, "JPEG", **kw)
    return buf.getvalue()


def describe(v):
    r = repr(v)
    return r if len(r) < 300 else r[:297] + "..."


def compare_writers(cases, area):
    """cases: list of (label, image-maker, kw).  Every writer must match Pillow's outcome."""
    assert not fdpil.is_registered()
    expect = [outcome(lambda: pillow_save(make(), kw)) for _, make, kw in cases]
    got = [outcome(lambda: fdjpeg_save(make(), kw)) for _, make, kw in cases]
    fdpil.register()
    try:
        reg = [outcome(lambda: pillow_save(make(), kw)) for _, make, kw in cases]
    finally:
        fdpil.unregister()
    bad = []
    for (label, _, kw), e, g, r in zip(cases, expect, got, reg):
        for who, o in (("fdjpeg.save", g), ("registered Image.save", r)):
            if o != e:
                show = lambda x: x[1].__name__ if x[0] == "raise" else f"{len(x[1])} bytes"  # noqa: E731
                bad.append(f"{who} {label} {describe(kw)}: Pillow {show(e)}, got {show(o)}")
    count(area, len(cases))
    # how many of them fdjpeg's own encoder wrote (the rest: Pillow's encoder, see pillow_road)
    native = [fdpil.pillow_road(make(), **kw) is None and e[0] == "ok" for (_, make, kw), e in zip(cases, expect)]
    count("save: of which written by fdjpeg's encoder", sum(native))
    assert not bad, f"{len(bad)} differences:\n" + "\n".join(bad[:40])
    return native


# --------------------------------------------------------------------------- save

@pytest.mark.parametrize("keyword", list(KEYWORD_VALUES))
def test_save_keyword_by_mode(keyword):
    cases = []
    for mode, value in itertools.product(SAVE_MODES, KEYWORD_VALUES[keyword]):
        kw = value if keyword == "unknown-keywords" else {keyword: value}
        cases.append((f"mode {mode}", lambda m=mode: IMAGES[m].copy(), kw))
    native = compare_writers(cases, f"save: keyword x mode ({keyword})")
    if keyword not in ("smooth", "streamtype"):
        assert sum(native) >= 5 * 2  # ordinary values in the five modes fdjpeg writes are its own


def test_save_image_sizes():
    """Sizes at the edges: empty images, one pixel, odd sizes around the MCU, libjpeg's 65500 limit."""
    sizes = [(0, 0), (0, 5), (5, 0), (1, 1), (1, 17), (17, 1), (7, 9), (8, 8), (15, 17), (16, 16), (33, 31),
             (65500, 1), (65501, 1), (1, 65501)]
    cases = []
    for (w, h), mode in itertools.product(sizes, ["1", "L", "RGB", "RGBX", "CMYK", "YCbCr", "RGBA"]):
        for kw in ({}, {"subsampling": 0, "quality": 90}, {"progressive": True, "optimize": True}):
            def make(w=w, h=h, mode=mode):
                rng = np.random.default_rng(w * 100003 + h)
                arr = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
                return Image.fromarray(arr).convert(mode) if w and h else Image.new(mode, (w, h))
            cases.append((f"{w}x{h} mode {mode}", make, kw))
    compare_writers(cases, "save: image sizes x mode")


def _valid(keyword):
    """The values of ``keyword`` Pillow writes a file with (RGB), for combinations."""
    out = []
    for v in KEYWORD_VALUES[keyword]:
        if keyword != "unknown-keywords" and outcome(lambda: pillow_save(IMAGES["RGB"], {keyword: v}))[0] == "ok":
            if not (isinstance(v, str) and v == "keep"):
                out.append(v)
    return out


def test_save_random_keyword_combinations():
    """Seeded combinations of 2-5 keywords: three in four from the ordinary values (those fdjpeg's
    encoder writes itself) in the modes it writes, one in four from every value and mode."""
    rng = random.Random(14)
    keys = [k for k in KEYWORD_VALUES if k not in ("unknown-keywords",)]
    valid = {k: _valid(k) for k in keys}
    ordinary = {k: [v for v in valid[k] if fdpil.pillow_road(IMAGES["RGB"], **{k: v}) is None] for k in keys}
    cases = []
    for i in range(400):
        wild = i % 4 == 0
        pool = KEYWORD_VALUES if wild else ordinary
        kw = {k: rng.choice(pool[k]) for k in rng.sample(keys, rng.randint(2, 5))}
        mode = rng.choice(["1", "L", "RGB", "RGBX", "CMYK"] + (["YCbCr", "RGBA", "P"] if wild else []))
        cases.append((f"mode {mode}", lambda m=mode: IMAGES[m].copy(), kw))
    native = compare_writers(cases, "save: random keyword combinations")
    assert sum(native) > 200  # the combinations of ordinary values are fdjpeg's own


def test_save_keyword_pairs():
    """Every pair of keywords, four values of each (ordinary ones first, then one Pillow treats
    its own way), the modes in turn: interactions such as quality= scaling qtables=."""
    keys = [k for k in KEYWORD_VALUES if k not in ("unknown-keywords",)]
    rng = random.Random(7)
    picks = {}
    for k in keys:
        valid = _valid(k)
        ordinary = [v for v in valid if fdpil.pillow_road(IMAGES["RGB"], **{k: v}) is None]
        odd = [v for v in valid if fdpil.pillow_road(IMAGES["RGB"], **{k: v}) is not None] or ordinary
        picks[k] = rng.sample(ordinary, min(3, len(ordinary))) + [rng.choice(odd)]
    modes = ["1", "L", "RGB", "RGBX", "CMYK"]
    cases = []
    for i, (k1, k2) in enumerate(itertools.combinations(keys, 2)):
        for j, (v1, v2) in enumerate(itertools.product(picks[k1], picks[k2])):
            mode = modes[(i + j) % len(modes)]
            cases.append((f"mode {mode}", lambda m=mode: IMAGES[m].copy(), {k1: v1, k2: v2}))
    native = compare_writers(cases, "save: keyword pairs")
    assert sum(native) > len(cases) // 3


def _jpeg_sources():
    out = {}
    for name, mode, kw in (("rgb-420", "RGB", {"quality": 83}), ("rgb-422", "RGB", {"subsampling": 1}),
                           ("rgb-444", "RGB", {"subsampling": 0, "quality": 92}), ("gray", "L", {"quality": 61}),
                           ("cmyk", "CMYK", {"quality": 70}), ("comment", "RGB", {"comment": b"kept"}),
                           ("three-tables", "RGB", {"qtables": [T1, T2, T3], "subsampling": 0})):
        out[name] = pillow_save(IMAGES[mode], kw)
    return out


SOURCES = _jpeg_sources()


def test_save_from_jpeg_sources_keep():
    """'keep' forms and the comment default need a JPEG source: Pillow-opened for Pillow,
    fdjpeg-opened for fdjpeg.save (and Pillow-opened for the registered writer)."""
    kws = [{}, {"quality": "keep"}, {"subsampling": "keep"}, {"qtables": "keep"},
           {"qtables": "keep", "subsampling": "keep"}, {"quality": "keep", "optimize": True},
           {"subsampling": "keep", "quality": 90}, {"qtables": "keep", "quality": 50},
           {"comment": b"replaced"}, {"comment": b""}, {"progressive": True, "quality": "keep"}]
    bad = []
    for (name, data), kw in itertools.product(SOURCES.items(), kws):
        e = outcome(lambda: pillow_save(Image.open(io.BytesIO(data)), kw))
        g = outcome(lambda: fdjpeg_save(fdjpeg.open(io.BytesIO(data)), kw))
        g2 = outcome(lambda: fdjpeg_save(Image.open(io.BytesIO(data)), kw))
        fdpil.register()
        try:
            r = outcome(lambda: pillow_save(Image.open(io.BytesIO(data)), kw))
        finally:
            fdpil.unregister()
        for who, o in (("fdjpeg.save(fdjpeg.open)", g), ("fdjpeg.save(Image.open)", g2), ("registered", r)):
            if o != e:
                bad.append(f"{who} {name} {kw}")
    count("save: 'keep' and comment from JPEG sources", len(SOURCES) * len(kws))
    assert not bad, bad


# --------------------------------------------------------------------------- open

def _open_files():
    """(name, bytes): every .info key Pillow's writer produces, in every mode it writes."""
    files = {}
    info_kws = {"plain": {}, "dpi": {"dpi": (300, 150)}, "dpi-zero": {"dpi": (0, 0)}, "exif": {"exif": EXIF},
                "icc": {"icc_profile": bytes(range(256)) * 300}, "comment": {"comment": b"a comment"},
                "xmp": {"xmp": b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>"}, "progressive": {"progressive": True},
                "optimize": {"optimize": True}, "restart": {"restart_marker_rows": 1},
                "keep-rgb": {"keep_rgb": True, "subsampling": 0}, "extra-app": {"extra": b"\xff\xe3\x00\x05abc"},
                "everything": {"dpi": (72, 72), "exif": EXIF, "icc_profile": b"icc", "comment": "c",
                               "xmp": b"<x/>", "progressive": True}}
    for mode in ("1", "L", "RGB", "RGBX", "CMYK", "YCbCr"):
        for name, kw in info_kws.items():
            o = outcome(lambda: pillow_save(IMAGES[mode], kw))
            if o[0] == "ok":
                files[f"{mode}-{name}"] = o[1]
    for ss in (0, 1, 2):
        files[f"RGB-ss{ss}"] = pillow_save(IMAGES["RGB"], {"subsampling": ss})
    files["RGB-32x24-ss2"] = pillow_save(Image.fromarray(skdata.astronaut()[:24, :32]), {})
    for mode in ("L", "RGB"):  # MPO: multi-picture files (phones, stereo cameras), 3 frames
        buf = io.BytesIO()
        frames = [IMAGES[mode].rotate(90 * i) for i in range(3)]
        frames[0].save(buf, "MPO", save_all=True, append_images=frames[1:], quality=80)
        files[f"MPO-{mode}-plain"] = buf.getvalue()
    files["RGB-big"] = pillow_save(Image.fromarray(skdata.astronaut()[:131, :197]), {"quality": 90})
    return files


FILES = _open_files()


def state(im):
    """What a user sees of an opened image before loading."""
    return (im.format, im.mode, im.size, im.info, getattr(im, "quantization", None),
            JpegImagePlugin.get_sampling(im) if im.format == "JPEG" else None, getattr(im, "layer", None),
            getattr(im, "applist", None), getattr(im, "icclist", None), dict(im.getexif()))


def loaded(im):
    im.load()
    return (im.mode, im.size, im.info, im.tobytes())


@pytest.mark.parametrize("name", list(FILES))
def test_open_info_and_pixels(name):
    data = FILES[name]
    ref, im = Image.open(io.BytesIO(data)), fdjpeg.open(io.BytesIO(data))
    assert state(im) == state(ref)
    assert outcome(lambda: loaded(im)) == outcome(lambda: loaded(ref))
    # purify= changes the pixels only: the header, .info and tables are Pillow's
    fd = fdjpeg.tables.feature_distillation()
    pim = fdjpeg.open(io.BytesIO(data), purify=fd)
    assert state(pim) == state(Image.open(io.BytesIO(data)))
    pim.load()
    np.testing.assert_array_equal(np.asarray(pim), fdjpeg.decode(data, purify=fd, mode=pim.mode))
    fdpil.register()
    try:
        reg = Image.open(io.BytesIO(data))
        assert isinstance(reg, fdpil.FDJpegImageFile)
        assert state(reg) == state(Image.open(io.BytesIO(data)))
        assert loaded(reg) == loaded(Image.open(io.BytesIO(data)))
    finally:
        fdpil.unregister()
    count("open: .info, tables, EXIF and pixels per (mode x info key)", 1)


DRAFT_MODES = [None, "L", "RGB", "YCbCr", "CMYK", "1", "P", "RGBA", "LA", "I", "F", "bogus"]


def _draft_sizes(w, h):
    return [None, (w, h), (w // 2, h // 2), (w // 2 + 1, h // 2 + 1), (w // 3, h // 3), (w // 4, h // 4),
            (w // 8 or 1, h // 8 or 1), (1, 1), (2 * w, 2 * h), (w, 1)]


def draft_result(opener, data, mode, size, twice):
    im = opener(io.BytesIO(data))
    first = im.draft(mode, size)
    second = im.draft(mode, size) if twice else None
    before = (im.mode, im.size, im.tile[0][1] if im.tile else None)
    im.load()
    return first, second, before, im.mode, im.size, im.tobytes()


def test_draft_every_mode_and_size():
    names = [n for n in FILES if n.endswith(("-plain", "-progressive", "-ss0", "-ss1", "-ss2", "-big"))]
    bad = []
    n = 0
    for name in names:
        data = FILES[name]
        w, h = Image.open(io.BytesIO(data)).size
        for mode, size, twice in itertools.product(DRAFT_MODES, _draft_sizes(w, h), (False, True)):
            e = outcome(lambda: draft_result(Image.open, data, mode, size, twice))
            g = outcome(lambda: draft_result(fdjpeg.open, data, mode, size, twice))
            n += 1
            if e != g:
                bad.append(f"{name} draft({mode!r}, {size}) twice={twice}: "
                           f"{e[1] if e[0] == 'raise' else e[1][:3]} vs {g[1] if g[0] == 'raise' else g[1][:3]}")
    count("open: draft(mode, size) x file", n)
    assert not bad, f"{len(bad)} differences:\n" + "\n".join(bad[:30])


def test_draft_with_purify():
    """purify= keeps the defense: a draft mode fdjpeg cannot purify (YCbCr, raw planes) is declined
    (RGB stays, purified); every other draft gives the purified pixels at the reduced size."""
    data = FILES["RGB-big"]
    fd = fdjpeg.tables.feature_distillation()
    for scale in (1, 2, 4, 8):
        im = fdjpeg.open(io.BytesIO(data), purify=fd)
        im.draft("RGB", (im.width // scale, im.height // scale))
        np.testing.assert_array_equal(np.asarray(im), fdjpeg.decode(data, purify=fd, scale=scale))
        im = fdjpeg.open(io.BytesIO(data), purify=fd)
        im.draft("YCbCr", (im.width // scale, im.height // scale))
        assert im.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(im), fdjpeg.decode(data, purify=fd, scale=scale))
    count("open: draft with purify=", 8)


def _life_cycles():
    """(name, function(opener, data, path) -> observable result)."""

    def ctx_then_load(opener, data, path):
        with opener(path) as im:
            pass
        return im.load()

    def ctx_loaded(opener, data, path):
        with opener(path) as im:
            im.load()
        return im.tobytes(), getattr(im, "fp", None) is None

    def close_then_load(opener, data, path):
        im = opener(path)
        im.close()
        return im.load()

    def close_then_pixels(opener, data, path):
        im = opener(io.BytesIO(data))
        im.close()
        return im.tobytes()

    def load_close_pixels(opener, data, path):
        im = opener(path)
        im.load()
        im.close()
        return im.tobytes()

    def load_twice(opener, data, path):
        im = opener(path)
        a = im.load()
        b = im.load()
        return (a is None, b is None, im.tobytes(), im.fp is None, im.tile, im.readonly)

    def fileobj_stays_open(opener, data, path):
        with open(path, "rb") as fh:
            im = opener(fh)
            im.load()
            return fh.closed, im.tobytes(), im.filename

    def path_fp_closed(opener, data, path):
        im = opener(path)
        fp = im.fp
        im.load()
        return fp.closed, im.fp is None, im.filename == str(path)

    def seek_tell(opener, data, path):
        im = opener(io.BytesIO(data))
        out = [im.tell(), outcome(lambda: im.seek(0)), outcome(lambda: im.seek(1)), im.tell(),
               getattr(im, "n_frames", 1), getattr(im, "is_animated", False)]
        return out

    def copy_and_crop(opener, data, path):
        im = opener(io.BytesIO(data))
        return im.copy().tobytes(), im.crop((1, 2, 9, 7)).tobytes(), im.convert("L").tobytes()

    def verify(opener, data, path):
        im = opener(io.BytesIO(data))
        return im.verify()

    def exit_twice(opener, data, path):
        im = opener(path)
        im.__exit__()
        im.__exit__()
        return im.load()

    def reduce_(opener, data, path):
        im = opener(io.BytesIO(data))
        return im.reduce(2).tobytes()

    def thumbnail(opener, data, path):
        im = opener(io.BytesIO(data))
        im.thumbnail((9, 9))
        return im.size, im.mode, im.tobytes()

    def getdata_after_close(opener, data, path):
        im = opener(path)
        im.close()
        return im.getpixel((0, 0))

    def frames(opener, data, path):
        im = opener(io.BytesIO(data))
        out = [im.format, getattr(im, "n_frames", 1), getattr(im, "is_animated", False)]
        for i in range(getattr(im, "n_frames", 1)):
            im.seek(i)
            out.append((im.tell(), im.size, im.info.get("mp") is not None, im.tobytes()))
        out.append(outcome(lambda: im.seek(getattr(im, "n_frames", 1))))
        return out

    def reopen_after_save(opener, data, path):
        im = opener(path)
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality="keep")
        return buf.getvalue()

    return [(f.__name__, f) for f in (ctx_then_load, ctx_loaded, close_then_load, close_then_pixels,
                                      load_close_pixels, load_twice, fileobj_stays_open, path_fp_closed,
                                      seek_tell, copy_and_crop, verify, exit_twice, reduce_, thumbnail,
                                      getdata_after_close, frames, reopen_after_save)]


LIFE = _life_cycles()


@pytest.mark.parametrize("name,fn", LIFE, ids=[n for n, _ in LIFE])
def test_life_cycle(name, fn, tmp_path):
    bad = []
    for fname in ("L-plain", "RGB-plain", "CMYK-plain", "RGB-progressive", "MPO-RGB-plain"):
        data = FILES[fname]
        path = tmp_path / f"{fname}.jpg"
        path.write_bytes(data)
        e = outcome(lambda: fn(Image.open, data, path))
        g = outcome(lambda: fn(fdjpeg.open, data, path))
        if e != g:
            bad.append(f"{fname}: Pillow {e[0]} {e[1] if e[0] == 'raise' else ''} vs fdjpeg {g[0]} "
                       f"{g[1] if g[0] == 'raise' else ''}")
    count("open: life cycle (close, with, load after close, seek, file objects...)", 5)
    assert not bad, bad


def test_open_arguments_and_non_jpeg_input(tmp_path):
    """fdjpeg.open opens JPEG only: its reference is Image.open(..., formats=["JPEG"])."""
    data = FILES["RGB-plain"]
    png = io.BytesIO()
    IMAGES["RGB"].save(png, "PNG")
    inputs = {"jpeg": data, "mpo": FILES["MPO-RGB-plain"], "png": png.getvalue(), "empty": b"", "soi-only": b"\xff\xd8\xff",
              "garbage": b"not an image at all", "header-cut": data[:40], "gif": b"GIF89a" + b"\0" * 20}
    arg_sets = [((), {}), (("r",), {}), (("w",), {}), ((), {"formats": ["JPEG"]}), ((), {"formats": ["jpeg"]}),
                ((), {"formats": ("JPEG",)}), ((), {"formats": ["PNG"]}), ((), {"formats": []}),
                ((), {"formats": ["MPO"]}), ((), {"formats": ["MPO", "JPEG"]}),
                ((), {"formats": "JPEG"}), ((), {"formats": None}), ((), {"mode": "rb"})]
    bad = []
    n = 0
    for (iname, raw), (args, kwargs) in itertools.product(inputs.items(), arg_sets):
        def ref():
            kw = dict(kwargs)
            formats = kw.pop("formats", None)
            if formats is None:
                formats = ["JPEG"]
            elif isinstance(formats, (list, tuple)):
                formats = [f for f in formats if str(f).upper() == "JPEG"]
            return state(Image.open(io.BytesIO(raw), *args, formats=formats, **kw))

        e = outcome(ref)
        g = outcome(lambda: state(fdjpeg.open(io.BytesIO(raw), *args, **kwargs)))
        n += 1
        if e != g:
            bad.append(f"{iname} {args} {kwargs}: Pillow {e[1] if e[0] == 'raise' else 'ok'} vs "
                       f"{g[1] if g[0] == 'raise' else 'ok'}")
    for arg in (io.StringIO("x"), 5, None, tmp_path / "missing.jpg", str(tmp_path)):
        e = outcome(lambda: state(Image.open(arg, formats=["JPEG"])))
        g = outcome(lambda: state(fdjpeg.open(arg)))
        n += 1
        if e != g:
            bad.append(f"{arg!r}: {e} vs {g}")
    count("open: arguments, formats= and non-JPEG input", n)
    assert not bad, "\n".join(bad)
    with pytest.raises(UnidentifiedImageError):
        fdjpeg.open(io.BytesIO(png.getvalue()))


def test_zz_coverage_summary():
    """Runs last in this file: the coverage table (docs/integrations.md) and a floor under it."""
    for area, n in sorted(COVERAGE.items()):
        print(f"{n:6d}  {area}")
    if len(COVERAGE) >= 8:  # the whole file ran
        assert sum(COVERAGE.values()) > 4000
        assert COVERAGE["save: of which written by fdjpeg's encoder"] > 1000
