"""fdjpeg.encode / write_coefficients against independent references:
Pillow's save (libjpeg-turbo 3.2) byte for byte, jpeglib's raw DCT
coefficients, cjpeg (libjpeg-turbo 2.1.5) for the samplings Pillow cannot
write, and numpy closed forms."""
import io
import shutil
import subprocess
from pathlib import Path

import jpeglib
import numpy as np
import pytest
from PIL import Image
from skimage import data

import fdjpeg
from fdjpeg import JPEGTooLargeError
from fdjpeg._encode_api import encode, write_coefficients
from fdjpeg._tableforms import normalize_tables, table_slots

from conftest import CORPUS, IMAGENET  # FDJPEG_CORPUS or ../shared/corpus
CJPEG = shutil.which("cjpeg")
PILLOW_SUB = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2}


def pil_save(arr, **kw):
    buf = io.BytesIO()
    mode = "CMYK" if arr.ndim == 3 and arr.shape[2] == 4 else None
    im = Image.frombytes("CMYK", arr.shape[1::-1], arr.tobytes()) if mode else Image.fromarray(arr)
    im.save(buf, "JPEG", **kw)
    return buf.getvalue()


def pil_decode(b):
    with Image.open(io.BytesIO(b)) as im:
        return np.asarray(im)


def coefficients(b, tmp_path, name="x.jpg"):
    """Quantized coefficients per component, read by jpeglib (its own libjpeg)."""
    p = tmp_path / name
    p.write_bytes(b)
    d = jpeglib.read_dct(str(p))
    out = [d.Y]
    if d.Cb is not None:
        out += [d.Cb, d.Cr]
    return [np.array(c) for c in out], np.array(d.qt)


def assert_same_coefficients(ours, ref, tmp_path):
    a, qa = coefficients(ours, tmp_path, "ours.jpg")
    b, qb = coefficients(ref, tmp_path, "ref.jpg")
    assert len(a) == len(b)
    for c, (x, y) in enumerate(zip(a, b)):
        assert x.shape == y.shape, (c, x.shape, y.shape)
        diff = np.count_nonzero(x != y)
        assert diff == 0, f"component {c}: {diff} of {x.size} coefficients differ"


def markers(b):
    """(marker, payload) of every segment up to and including the first SOS, then
    the markers found in the entropy data and after it."""
    out = []
    i = 2
    assert b[:2] == b"\xff\xd8"
    out.append((0xD8, b""))
    while True:
        assert b[i] == 0xFF
        m = b[i + 1]
        ln = int.from_bytes(b[i + 2:i + 4], "big")
        out.append((m, b[i + 4:i + 2 + ln]))
        i += 2 + ln
        if m == 0xDA:
            break
    # entropy data: FF 00 is stuffing, FF D0-D7 restart markers, anything else ends it
    while i < len(b) - 1:
        if b[i] == 0xFF and b[i + 1] != 0x00:
            m = b[i + 1]
            if 0xD0 <= m <= 0xD7 or m == 0xD9:
                out.append((m, b""))
                i += 2
                continue
            ln = int.from_bytes(b[i + 2:i + 4], "big")
            out.append((m, b[i + 4:i + 2 + ln]))
            i += 2 + ln
            continue
        i += 1
    return out


def noise(h, w, c=3, seed=0):
    rng = np.random.default_rng(seed)
    shape = (h, w) if c == 0 else (h, w, c)
    return rng.integers(0, 256, shape, dtype=np.uint8)


def smooth(h, w, seed=0):
    """Natural-ish content: gradients plus a little noise (exercises small AC)."""
    y, x = np.mgrid[0:h, 0:w]
    rng = np.random.default_rng(seed)
    img = np.stack([(x * 255 // max(w - 1, 1)), (y * 255 // max(h - 1, 1)),
                    ((x + y) * 3) % 256], -1).astype(np.int32)
    img += rng.integers(-6, 7, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


PHOTOS = {
    "astronaut": data.astronaut,
    "chelsea": data.chelsea,
    "coffee": data.coffee,
    "rocket": data.rocket,
}


# ---------------------------------------------------------------------------
# byte and coefficient parity with Pillow

@pytest.mark.parametrize("name", sorted(PHOTOS))
@pytest.mark.parametrize("sub", ["4:4:4", "4:2:2", "4:2:0"])
def test_photos_match_pillow(name, sub, tmp_path):
    img = PHOTOS[name]()
    ours = encode(img, quality=75, subsampling=sub)
    ref = pil_save(img, quality=75, subsampling=PILLOW_SUB[sub])
    assert_same_coefficients(ours, ref, tmp_path)
    assert ours == ref


def test_gray_photo_matches_pillow(tmp_path):
    img = data.camera()
    for kw in ({}, {"optimize": True}, {"progressive": True}):
        ours = encode(img, quality=80, **kw)
        ref = pil_save(img, quality=80, **kw)
        assert_same_coefficients(ours, ref, tmp_path)
        assert ours == ref
    # (H, W, 1) is gray too
    assert encode(img[:, :, None], quality=80) == encode(img, quality=80)


@pytest.mark.parametrize("quality", [1, 2, 5, 10, 23, 25, 49, 50, 51, 75, 90, 95, 99, 100])
def test_quality_matches_pillow(quality, tmp_path):
    img = data.chelsea()[:120, :150]
    ours = encode(img, quality=quality, subsampling="4:2:0")
    ref = pil_save(img, quality=quality, subsampling=2)
    assert ours == ref
    # the DQT tables are libjpeg's quality tables (independent check via Pillow's reader)
    with Image.open(io.BytesIO(ours)) as im:
        assert list(im.quantization[0]) == list(fdjpeg.tables.standard(quality).ravel())
        assert list(im.quantization[1]) == list(fdjpeg.tables.standard(quality, True).ravel())


def test_default_quality_is_75():
    img = smooth(40, 50)
    assert encode(img) == pil_save(img, quality=75, subsampling=0)


@pytest.mark.parametrize("sub", ["4:4:4", "4:2:2", "4:2:0"])
def test_edge_sizes_match_pillow(sub, tmp_path):
    """Every height 1..18 against widths around block and MCU edges: edge
    replication, downsampling of partial row groups, dummy blocks."""
    n = 0
    for h in range(1, 19):
        for w in (1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33):
            img = noise(h, w, seed=h * 100 + w)
            ours = encode(img, quality=75, subsampling=sub)
            ref = pil_save(img, quality=75, subsampling=PILLOW_SUB[sub])
            assert ours == ref, (h, w, sub)
            n += 1
    assert n == 18 * 11
    # one coefficient-level check on a size with partial MCUs both ways
    img = noise(17, 33, seed=1)
    assert_same_coefficients(encode(img, subsampling=sub),
                             pil_save(img, quality=75, subsampling=PILLOW_SUB[sub]), tmp_path)


def test_edge_sizes_gray():
    for h in range(1, 18):
        for w in (1, 5, 8, 9, 17, 33):
            img = noise(h, w, c=0, seed=h * 7 + w)
            assert encode(img, quality=60) == pil_save(img, quality=60), (h, w)


@pytest.mark.parametrize("seed", range(12))
def test_random_tables_match_pillow(seed, tmp_path):
    """Random tables, 8-bit and 16-bit up to 8191 (libjpeg-turbo's exact range)."""
    rng = np.random.default_rng(seed)
    top = [255, 1000, 8191][seed % 3]
    tabs = rng.integers(1, top + 1, (2, 8, 8)).astype(np.uint16)
    img = smooth(45, 61, seed) if seed % 2 else PHOTOS["coffee"]()[:64, :96]
    sub = ["4:4:4", "4:2:2", "4:2:0"][seed % 3]
    ours = encode(img, [tabs[0], tabs[1]], subsampling=sub)
    ref = pil_save(img, qtables=[list(tabs[0].ravel()), list(tabs[1].ravel())],
                   subsampling=PILLOW_SUB[sub])
    assert_same_coefficients(ours, ref, tmp_path)
    assert ours == ref
    a, qt = coefficients(ours, tmp_path)
    assert np.array_equal(qt[0], tabs[0]) and np.array_equal(qt[1], tabs[1])


def test_16bit_tables_write_dqt16_and_sof1():
    img = smooth(24, 24)
    t = np.full((8, 8), 300, np.uint16)
    t[0, 0] = 2
    segs = markers(encode(img, t))
    dqt = [p for m, p in segs if m == 0xDB]
    assert len(dqt) == 1 and dqt[0][0] == 0x10 and len(dqt[0]) == 1 + 128
    assert int.from_bytes(dqt[0][1:3], "big") == 2 and int.from_bytes(dqt[0][3:5], "big") == 300
    assert [m for m, _ in segs if 0xC0 <= m <= 0xC2] == [0xC1]
    # 8-bit tables stay baseline
    assert [m for m, _ in markers(encode(img, np.full(64, 255))) if 0xC0 <= m <= 0xC2] == [0xC0]


def test_tables_above_8191(tmp_path):
    """Entries above libjpeg-turbo's exact range: fdjpeg divides exactly. With
    steps of 9000*8, every ISLOW coefficient (|D| <= 8192 * 1.5) rounds to 0."""
    img = noise(16, 16)
    b = encode(img, np.full((8, 8), 9000))
    coefs, qt = coefficients(b, tmp_path)
    assert all(np.count_nonzero(c) == 0 for c in coefs)
    assert qt[0][0, 0] == 9000
    dec = pil_decode(b)
    assert dec.shape == img.shape and np.all(dec == dec[0, 0])


def test_strided_views_encode_like_copies():
    img = PHOTOS["astronaut"]()
    views = [img[::-1], img[:, ::-1], img[::3, ::2], img[10:200:2, 5:300:3, ::-1],
             np.asfortranarray(img), np.transpose(np.ascontiguousarray(img.transpose(2, 0, 1)),
                                                  (1, 2, 0))]
    for v in views:
        for sub in ("4:4:4", "4:2:0"):
            assert encode(v, subsampling=sub) == encode(np.ascontiguousarray(v), subsampling=sub)
    g = data.camera()[::-2, 1::3]
    assert encode(g) == encode(np.ascontiguousarray(g))


def test_optimize_matches_pillow_bytes(tmp_path):
    for name in ("astronaut", "coffee"):
        img = PHOTOS[name]()
        for sub in ("4:4:4", "4:2:0"):
            ours = encode(img, optimize=True, subsampling=sub)
            ref = pil_save(img, quality=75, optimize=True, subsampling=PILLOW_SUB[sub])
            assert ours == ref
            assert len(ours) < len(encode(img, subsampling=sub))
    img = noise(13, 29)
    assert encode(img, optimize=True) == pil_save(img, quality=75, optimize=True, subsampling=0)


def test_progressive_matches_pillow_bytes():
    for img in (PHOTOS["chelsea"](), smooth(37, 45), noise(9, 17)):
        for sub in ("4:4:4", "4:2:2", "4:2:0"):
            ours = encode(img, progressive=True, subsampling=sub)
            ref = pil_save(img, quality=75, progressive=True, subsampling=PILLOW_SUB[sub])
            assert ours == ref
    segs = markers(encode(PHOTOS["chelsea"](), progressive=True))
    assert [m for m, _ in segs if 0xC0 <= m <= 0xC2] == [0xC2]
    assert sum(1 for m, _ in segs if m == 0xDA) == 10  # libjpeg's YCbCr script
    g = data.camera()
    assert encode(g, progressive=True) == pil_save(g, quality=75, progressive=True)
    assert sum(1 for m, _ in markers(encode(g, progressive=True)) if m == 0xDA) == 6


def test_progressive_with_restarts_and_16bit_tables():
    img = smooth(50, 70)
    t = np.full((8, 8), 3, np.uint16)
    t[4:, 4:] = 700
    ours = encode(img, [t, t], progressive=True, restart_interval=3, subsampling="4:2:0")
    ref = pil_save(img, qtables=[list(t.ravel())] * 2, progressive=True,
                   restart_marker_blocks=3, subsampling=2)
    assert ours == ref


def test_restart_markers(tmp_path):
    img = PHOTOS["astronaut"]()[:100, :120]
    plain = encode(img, subsampling="4:2:0")
    for kw, pkw, interval in [({"restart_interval": 5}, {"restart_marker_blocks": 5}, 5),
                              ({"restart_rows": 2}, {"restart_marker_rows": 2}, 2 * 8)]:
        ours = encode(img, subsampling="4:2:0", **kw)
        assert ours == pil_save(img, quality=75, subsampling=2, **pkw)
        segs = markers(ours)
        names = [m for m, _ in segs]
        dri = [p for m, p in segs if m == 0xDD]
        assert dri and int.from_bytes(dri[0], "big") == interval
        assert names.index(0xDD) == names.index(0xDA) - 1
        rst = [m for m in names if 0xD0 <= m <= 0xD7]
        mcus = 8 * 7  # 120/16 -> 8 columns, 100/16 -> 7 rows
        assert len(rst) == (mcus - 1) // interval
        assert rst[:9] == [0xD0 + (i % 8) for i in range(min(9, len(rst)))]
        assert np.array_equal(pil_decode(ours), pil_decode(plain))
        assert_same_coefficients(ours, plain, tmp_path)


@pytest.mark.parametrize("gray", [False, True])
def test_marker_layout(gray):
    img = data.camera() if gray else PHOTOS["coffee"]()
    segs = markers(encode(img, [np.full(64, 10), np.full(64, 20)]))
    names = [m for m, _ in segs]
    ncomp_tables = 1 if gray else 2
    expected = ([0xD8, 0xE0] + [0xDB] * ncomp_tables + [0xC0] + [0xC4] * (2 * ncomp_tables)
                + [0xDA, 0xD9])
    assert names == expected
    app0 = segs[1][1]
    assert app0[:5] == b"JFIF\x00" and app0[5:7] == b"\x01\x01" and app0[7] == 0
    sof = segs[names.index(0xC0)][1]
    h, w = img.shape[:2]
    assert sof[0] == 8 and int.from_bytes(sof[1:3], "big") == h
    assert int.from_bytes(sof[3:5], "big") == w and sof[5] == (1 if gray else 3)
    dht = [p[0] for m, p in segs if m == 0xC4]
    assert dht == ([0x00, 0x10] if gray else [0x00, 0x10, 0x01, 0x11])


def test_dpi_extra_segments_keep_rgb_cmyk():
    img = smooth(30, 40)
    assert encode(img, dpi=(300, 150)) == pil_save(img, quality=75, subsampling=0, dpi=(300, 150))
    with Image.open(io.BytesIO(encode(img, dpi=(72, 72)))) as im:
        assert im.info["dpi"] == (72, 72)
    com = b"\xff\xfe\x00\x07hello"
    assert encode(img, extra_segments=com) == pil_save(img, quality=75, subsampling=0,
                                                       comment=b"hello")
    assert encode(img, keep_rgb=True) == pil_save(img, quality=75, subsampling=0, keep_rgb=True)
    names = [m for m, _ in markers(encode(img, keep_rgb=True))]
    assert 0xEE in names and 0xE0 not in names
    cmyk = noise(21, 35, c=4)
    ours = encode(cmyk)
    assert ours == pil_save(cmyk, quality=75)
    with Image.open(io.BytesIO(ours)) as im:
        assert im.mode == "CMYK"


@pytest.mark.skipif(CJPEG is None, reason="cjpeg (libjpeg-turbo) not installed")
@pytest.mark.parametrize("sample,sub", [("1x2", "4:4:0"), ("4x1", "4:1:1"), ("2x2", "4:2:0")])
def test_440_411_match_cjpeg(sample, sub, tmp_path):
    """Samplings Pillow cannot write, against libjpeg-turbo's cjpeg (same
    encoder arithmetic; 2.1.5)."""
    for h, w in [(37, 45), (64, 64), (9, 70)]:
        img = smooth(h, w, seed=h)
        ppm = tmp_path / "in.ppm"
        Image.fromarray(img).save(ppm)
        ref = subprocess.run([CJPEG, "-quality", "75", "-sample", sample, str(ppm)],
                             check=True, capture_output=True).stdout
        ours = encode(img, quality=75, subsampling=sub)
        assert_same_coefficients(ours, ref, tmp_path)
        assert ours == ref


@pytest.mark.skipif(not IMAGENET.is_dir(), reason="../shared/corpus/imagenet-sample not present")
def test_imagenet_sample_coefficients_match_pillow(tmp_path):
    files = sorted(IMAGENET.glob("*.JPEG"))[:24]
    assert files
    for i, f in enumerate(files):
        with Image.open(f) as im:
            img = np.asarray(im.convert("RGB"))
        sub = ["4:4:4", "4:2:0", "4:2:2"][i % 3]
        ours = encode(img, quality=85, subsampling=sub)
        assert ours == pil_save(img, quality=85, subsampling=PILLOW_SUB[sub]), f.name


# ---------------------------------------------------------------------------
# write_coefficients: lossless transcoding

@pytest.mark.parametrize("sub", ["4:4:4", "4:2:2", "4:2:0"])
def test_write_coefficients_reproduces_pillow_file(sub, tmp_path):
    for h, w in [(37, 45), (16, 16), (1, 1), (33, 17)]:
        img = smooth(h, w, seed=w)
        ref = pil_save(img, quality=80, subsampling=PILLOW_SUB[sub])
        coefs, qt = coefficients(ref, tmp_path)
        hv = {"4:4:4": (1, 1), "4:2:2": (2, 1), "4:2:0": (2, 2)}[sub]
        out = write_coefficients(coefs, [qt[0], qt[1]], width=w, height=h,
                                 sampling=[hv, (1, 1), (1, 1)])
        assert out == ref
        assert write_coefficients(coefs, [qt[0], qt[1]], width=w, height=h, sampling=sub,
                                  optimize=True) == \
            pil_save(img, quality=80, subsampling=PILLOW_SUB[sub], optimize=True)


def test_write_coefficients_gray_and_dict(tmp_path):
    img = data.camera()[:50, :70]
    ref = pil_save(img, quality=70)
    coefs, qt = coefficients(ref, tmp_path)
    assert write_coefficients(coefs, qt[0], width=70, height=50) == ref
    d = {"coefficients": coefs, "tables": [qt[0]], "width": 70, "height": 50,
         "sampling": [(1, 1)], "jpeg_color": "gray"}
    assert write_coefficients(d) == ref


def test_write_coefficients_requantized_file_decodes_as_expected(tmp_path):
    """A coefficient-domain edit (requantize to T) written back: Pillow decodes
    the file we write exactly as the file jpeglib writes for the same data."""
    img = PHOTOS["coffee"]()[:64, :80]
    ref = pil_save(img, quality=90, subsampling=0)
    coefs, qt = coefficients(ref, tmp_path)
    T = np.full((8, 8), 24, np.int64)
    new = []
    for c, q in zip(coefs, [qt[0], qt[1], qt[1]]):
        d = c.astype(np.int64) * q
        new.append((np.sign(d) * ((2 * np.abs(d) + T) // (2 * T))).astype(np.int16))
    ours = write_coefficients(new, T, width=80, height=64)
    back, qback = coefficients(ours, tmp_path, "back.jpg")
    for a, b in zip(back, new):
        assert np.array_equal(a, b)
    assert np.array_equal(qback[0], T)


def test_write_coefficients_errors():
    c = np.zeros((2, 2, 8, 8), np.int16)
    with pytest.raises(ValueError, match="shape"):
        write_coefficients([c], np.ones(64), width=17, height=16)
    with pytest.raises(TypeError):
        write_coefficients(c, np.ones(64), width=16, height=16)
    with pytest.raises(ValueError, match="components"):
        write_coefficients([c, c], np.ones(64), width=16, height=16)
    big = c.copy()
    big[0, 0, 0, 1] = 5000  # AC magnitude beyond 10 bits
    with pytest.raises(ValueError, match="out of range"):
        write_coefficients([big], np.ones(64), width=16, height=16)
    with pytest.raises(TypeError):
        write_coefficients([c.astype(float)], np.ones(64), width=16, height=16)
    with pytest.raises(TypeError, match="tables"):
        write_coefficients([c], None, width=16, height=16)


# ---------------------------------------------------------------------------
# table forms

def test_table_forms():
    a = np.arange(1, 65, dtype=np.uint16).reshape(8, 8)
    b = a[::-1].copy()
    assert np.array_equal(normalize_tables(a, 3), np.stack([a.ravel()] * 3))
    assert np.array_equal(normalize_tables(list(a.ravel()), 1), a.reshape(1, 64))
    assert np.array_equal(normalize_tables(a.tolist(), 3), np.stack([a.ravel()] * 3))
    assert np.array_equal(normalize_tables([a, b], 3), np.stack([a.ravel(), b.ravel(), b.ravel()]))
    assert np.array_equal(normalize_tables((a, b), 1), a.reshape(1, 64))
    c = np.full((8, 8), 7)
    assert np.array_equal(normalize_tables([a, b, c], 3),
                          np.stack([a.ravel(), b.ravel(), c.ravel()]))
    assert np.array_equal(normalize_tables(np.stack([a, b, c, a]), 4)[3], a.ravel())
    assert np.array_equal(normalize_tables({0: a, 1: b}, 3)[2], b.ravel())
    assert np.array_equal(normalize_tables(True, 3)[0],
                          fdjpeg.tables.feature_distillation().ravel())
    assert normalize_tables(a, 3).dtype == np.uint16
    assert np.array_equal(normalize_tables("fd", 3), normalize_tables(True, 3))
    assert table_slots([a, b], 3)[1] == [0, 1, 1]
    assert np.array_equal(normalize_tables(np.full(64, 65535), 1), np.full((1, 64), 65535))


@pytest.mark.parametrize("bad,exc,msg", [
    (np.zeros((8, 8)), ValueError, "entry 0"),
    (np.full(64, 65536), ValueError, "1..65535"),
    (np.ones((4, 4)), ValueError, "shape"),
    (np.ones(64) * 1.5, ValueError, "whole"),
    ("fdx", ValueError, "table 'fdx': not a table name"),  # "fd" is a name (tables.parse)
    (b"fd", TypeError, "table must be"),
    (None, TypeError, "required"),
    (np.ones((8, 8), bool), TypeError, "integers"),
    ([np.ones(64)] * 5, ValueError, "one per component"),
    (3.0, TypeError, "table"),
])
def test_table_form_errors(bad, exc, msg):
    with pytest.raises(exc, match=msg):
        normalize_tables(bad, 3)


# ---------------------------------------------------------------------------
# argument errors: clear exceptions, never a crash

def test_encode_errors():
    img = smooth(16, 16)
    with pytest.raises(TypeError, match="uint8"):
        encode(img.astype(np.float32))
    with pytest.raises(TypeError, match="numpy"):
        encode(img.tolist())
    with pytest.raises(ValueError, match="channels"):
        encode(np.zeros((8, 8, 2), np.uint8))
    with pytest.raises(ValueError, match="shape"):
        encode(np.zeros((2, 8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="empty"):
        encode(np.zeros((0, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="not both"):
        encode(img, np.ones(64), quality=50)
    for q in (0, 101, -5):
        with pytest.raises(ValueError, match="quality"):
            encode(img, quality=q)
    with pytest.raises(TypeError, match="quality"):
        encode(img, quality=True)
    with pytest.raises(TypeError, match="quality"):
        encode(img, quality=75.0)
    with pytest.raises(ValueError, match="subsampling"):
        encode(img, subsampling="4:2:1")
    with pytest.raises(TypeError, match="subsampling"):
        encode(img, subsampling=(2, 2))
    with pytest.raises(ValueError, match="entry"):
        encode(img, np.zeros(64))
    with pytest.raises(ValueError, match="restart_interval"):
        encode(img, restart_interval=70000)
    with pytest.raises(ValueError, match="extra_segments"):
        encode(img, extra_segments=b"\xff\xe1\x00\x10abc")
    with pytest.raises(ValueError, match="extra_segments"):
        encode(img, extra_segments=b"\xff\xdb\x00\x04ab")
    with pytest.raises(JPEGTooLargeError):
        encode(img, max_pixels=255)
    with pytest.raises(ValueError, match="keep_rgb"):
        encode(img[:, :, 0], keep_rgb=True)
    with pytest.raises(TypeError, match="dpi"):
        encode(img, dpi=72)
    # Pillow's integer subsampling codes are accepted
    assert encode(img, subsampling=2) == encode(img, subsampling="4:2:0")
    assert encode(img, max_pixels=256)  # exactly at the limit is fine


@pytest.mark.parametrize("sub", ["4:4:4", "4:2:2", "4:2:0", "4:4:0", "4:1:1"])
def test_plain_call_shortcut_equals_general_path(sub):
    """encode(rgb, quality=, subsampling=) takes a shortcut past the argument checks: the
    same bytes as the general path (forced here by options of equal meaning in other types),
    and Pillow's bytes where Pillow has the setting."""
    img = data.chelsea()[:61, :83]
    pil_sub = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2}
    for q in (None, 1, 33, 75, 100):
        fast = encode(img, quality=q, subsampling=sub)
        assert fast == encode(img, quality=q, subsampling=sub, optimize=np.False_)
        assert fast == encode(img, quality=q, subsampling=sub, restart_interval=np.int64(0))
        assert fast == encode(img.copy(order="F"), quality=q, subsampling=sub)  # any strides
        if sub in pil_sub:
            assert fast == pil_save(img, quality=75 if q is None else q, subsampling=pil_sub[sub])
    # what the shortcut does not take still goes through the checks
    with pytest.raises(TypeError, match="quality"):
        encode(img, quality=np.float64(75))
    with pytest.raises(TypeError, match="optimize"):
        encode(img, optimize=0)
    with pytest.raises(TypeError, match="restart_interval"):
        encode(img, restart_interval=0.0)


def test_encode_releases_nothing_on_error_and_is_reentrant():
    """Many encodes from threads give the same bytes as serial ones."""
    from concurrent.futures import ThreadPoolExecutor

    imgs = [smooth(40 + i, 50 + i, seed=i) for i in range(8)]
    serial = [encode(x, subsampling="4:2:0") for x in imgs]
    with ThreadPoolExecutor(4) as ex:
        threaded = list(ex.map(lambda x: encode(x, subsampling="4:2:0"), imgs))
    assert serial == threaded


def test_extreme_blocks_match_pillow(tmp_path):
    """Blocks that drive the DCT to its extremes (0/255 checkerboards, stripes,
    random binary patterns) with all-ones tables (no quantization), where any
    lane overflow in a SIMD kernel would show; against Pillow and the scalar path."""
    rng = np.random.default_rng(11)
    y, x = np.mgrid[0:64, 0:96]
    pats = [((x + y) & 1) * 255, (x & 1) * 255, (y & 1) * 255, (((x >> 1) ^ (y >> 2)) & 1) * 255,
            rng.integers(0, 2, (64, 96)) * 255, np.full((64, 96), 255), np.zeros((64, 96))]
    ones = np.ones((8, 8), np.uint16)
    for p in pats:
        img = np.repeat(np.asarray(p, np.uint8)[:, :, None], 3, axis=2)
        img[:, :, 1] = 255 - img[:, :, 1]
        ours = encode(img, [ones, ones])
        ref = pil_save(img, qtables=[list(ones.ravel())] * 2, subsampling=0)
        assert ours == ref
        g = np.ascontiguousarray(img[:, :, 0])
        assert encode(g, ones) == pil_save(g, qtables=[list(ones.ravel())])


def test_write_coefficients_roundtrips_ycck():
    """Issue 14 finding 5: write_coefficients(read_coefficients(ycck)) raised ValueError.
    Now the coefficients come back unchanged (jpeglib reads them) and Pillow decodes the
    file exactly as the original."""
    from conftest import need_corpus

    path = need_corpus(CORPUS / "conformance" / "ycck.jpg")
    data = path.read_bytes()
    src = fdjpeg.read_coefficients(data)
    assert src["jpeg_color"] == "ycck"
    out = write_coefficients(src)
    back = fdjpeg.read_coefficients(out)
    assert back["jpeg_color"] == "ycck"
    for a, b in zip(src["coefficients"], back["coefficients"]):
        np.testing.assert_array_equal(a, b)
    ref = np.asarray(Image.open(io.BytesIO(data)))
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(out))), ref)
    assert fdjpeg.inspect(out)["adobe_transform"] == 2
