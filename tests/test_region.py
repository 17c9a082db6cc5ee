"""Region decode (decode(region=), fdj_decoder_decode_region) and strip decode
(fdj_decoder_read_rows): every pixel equals the full decode cropped.

Reference: Pillow (libjpeg-turbo) decoding the whole file, then numpy slicing; scaled decodes
against Pillow's draft(); purified decodes against fdjpeg's own full purified decode (whose
exactness test_decode.py checks against independent requantization).  Files come from Pillow
and from cjpeg (samplings Pillow cannot write: 4:4:0, 4:1:1, arithmetic, restart intervals in
blocks, RGB without transform).
"""
import io
import subprocess

import numpy as np
import pytest
from PIL import Image

import fdjpeg
from fdjpeg import _codec

from conftest import CORPUS, need_corpus, need_tool

RNG = np.random.default_rng(2026)


def photo(h, w, seed=0):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = 128 + 70 * np.sin(x / 4.0 + y / 9.0) * np.cos(y / 5.0)
    noise = rng.normal(0, 25, (h, w, 3))
    img = base[..., None] + noise + np.array([0, 40, -40]) * np.cos(x / 11.0)[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def pil_bytes(arr, mode=None, **kw):
    im = Image.fromarray(arr)
    if mode:
        im = im.convert(mode)
    buf = io.BytesIO()
    im.save(buf, "JPEG", **kw)
    return buf.getvalue()


def cjpeg_bytes(arr, *args):
    exe = need_tool("cjpeg")
    h, w = arr.shape[:2]
    ppm = b"P6\n%d %d\n255\n" % (w, h) + np.ascontiguousarray(arr).tobytes()
    return subprocess.run([exe, *args], input=ppm, capture_output=True, check=True).stdout


def pil_full(data, scale=1, mode=None):
    im = Image.open(io.BytesIO(data))
    if scale > 1:
        w, h = im.size
        im.draft(im.mode if im.mode in ("L", "CMYK") else "RGB", (w // scale, h // scale))
        assert im.size == ((w + scale - 1) // scale, (h + scale - 1) // scale)
    if mode and im.mode != mode:
        im = im.convert(mode)
    return np.asarray(im)


def regions(h, w, n, rng=RNG):
    """Corner and edge pixels, full rows/columns, the whole image and n random rectangles."""
    out = {(0, 0, 1, 1), (w - 1, h - 1, 1, 1), (w - 1, 0, 1, 1), (0, h - 1, 1, 1),
           (0, 0, w, h), (0, h // 2, w, 1), (w // 2, 0, 1, h), (w // 3, h // 3, 1, 1)}
    if w > 16 and h > 16:
        out |= {(15, 15, 2, 2), (16, 16, 1, 1), (7, 8, 10, 9), (w - 17, h - 17, 17, 17)}
        out.add((w // 4, h // 4, w // 4, h // 4))
    for _ in range(n):
        x = int(rng.integers(0, w))
        y = int(rng.integers(0, h))
        rw = int(rng.integers(1, w - x + 1))
        rh = int(rng.integers(1, h - y + 1))
        if rng.random() < 0.3:  # small ones are the interesting edge cases
            rw, rh = min(rw, int(rng.integers(1, 4))), min(rh, int(rng.integers(1, 4)))
        out.add((x, y, rw, rh))
    return sorted(out)


def check_regions(data, ref, n=25, **kw):
    h, w = ref.shape[:2]
    for x, y, rw, rh in regions(h, w, n):
        got = fdjpeg.decode(data, region=(x, y, rw, rh), **kw)
        want = ref[y:y + rh, x:x + rw]
        assert got.shape == want.shape, (x, y, rw, rh)
        if not np.array_equal(got, want):
            bad = np.argwhere(got != want)[0]
            pytest.fail(f"region {(x, y, rw, rh)} of {w}x{h} {kw}: first difference at {tuple(bad)}")


# ---- the matrix: samplings x coding x sizes, Pillow's full decode as the reference ----

CJPEG_FILES = {
    "444": ["-sample", "1x1,1x1,1x1"],
    "422": ["-sample", "2x1,1x1,1x1"],
    "420": ["-sample", "2x2,1x1,1x1"],
    "440": ["-sample", "1x2,1x1,1x1"],
    "411": ["-sample", "4x1,1x1,1x1"],
    "420-odd-chroma": ["-sample", "2x2,1x2,2x1"],
    "gray": ["-grayscale"],
    "gray-2x2": ["-grayscale", "-sample", "2x2"],
    "rgb": ["-rgb"],
}
CODINGS = {
    "baseline": [],
    "restart-rows": ["-restart", "1"],
    "restart-blocks": ["-restart", "3B"],
    "progressive": ["-progressive"],
    "arithmetic": ["-arithmetic"],
    "optimize-restart-prog": ["-optimize", "-progressive", "-restart", "2B"],
}
SIZES = [(45, 61), (1, 1), (17, 9), (8, 130), (97, 33)]


@pytest.mark.parametrize("coding", list(CODINGS))
@pytest.mark.parametrize("sampling", list(CJPEG_FILES))
def test_region_equals_full_decode_cropped(sampling, coding):
    for k, (h, w) in enumerate(SIZES):
        data = cjpeg_bytes(photo(h, w, seed=k), "-quality", "85", *CJPEG_FILES[sampling],
                           *CODINGS[coding])
        check_regions(data, pil_full(data), n=12 if (h, w) != (1, 1) else 0)


@pytest.mark.parametrize("sub", ["4:4:4", "4:2:2", "4:2:0"])
@pytest.mark.parametrize("progressive", [False, True])
def test_region_pillow_files(sub, progressive):
    data = pil_bytes(photo(83, 121, seed=3), quality=90, subsampling=sub, progressive=progressive,
                     restart_marker_rows=2)
    check_regions(data, pil_full(data), n=40)


def test_region_cmyk():
    data = pil_bytes(photo(51, 70, seed=4), mode="CMYK", quality=90)
    ref = pil_full(data)
    assert ref.shape == (51, 70, 4)
    check_regions(data, ref, n=30)
    check_regions(data, pil_full(data, mode="RGB"), n=15, mode="RGB")


@pytest.mark.parametrize("scale", [1, 2, 4, 8])
@pytest.mark.parametrize("sampling", ["444", "420", "422", "440", "411", "420-odd-chroma", "gray"])
def test_region_scaled(scale, sampling):
    data = cjpeg_bytes(photo(75, 101, seed=5), "-quality", "90", *CJPEG_FILES[sampling],
                       "-restart", "1")
    check_regions(data, pil_full(data, scale=scale), n=20, scale=scale)


@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_region_output_modes(mode):
    data = pil_bytes(photo(40, 57, seed=6), quality=75, subsampling="4:2:0")
    check_regions(data, pil_full(data, mode=mode if mode == "RGB" else None)
                  if mode == "RGB" else fdjpeg.decode(data, mode="L"), n=20, mode=mode)
    # mode="L" of a YCbCr file is its Y plane: Pillow's draft to "L" is the reference
    im = Image.open(io.BytesIO(data))
    im.draft("L", im.size)
    np.testing.assert_array_equal(fdjpeg.decode(data, mode="L", region=(3, 5, 30, 20)),
                                  np.asarray(im)[5:25, 3:33])


@pytest.mark.parametrize("scale", [1, 2, 8])
@pytest.mark.parametrize("sampling", ["420", "422", "gray"])
def test_region_purify(sampling, scale):
    data = cjpeg_bytes(photo(66, 90, seed=7), "-quality", "95", *CJPEG_FILES[sampling])
    for purify in ("fd", 7):
        ref = fdjpeg.decode(data, purify=purify, scale=scale)
        assert not np.array_equal(ref, fdjpeg.decode(data, scale=scale))
        check_regions(data, ref, n=15, purify=purify, scale=scale)


def test_region_progressive_purify():
    data = pil_bytes(photo(70, 70, seed=8), quality=92, subsampling="4:2:0", progressive=True)
    check_regions(data, fdjpeg.decode(data, purify="fd"), n=20, purify="fd")


CORPUS_FILES = ["conformance/restarts.jpg", "conformance/non-interleaved-mcu.jpg",
                "conformance/progressive3.jpg", "conformance/partial_progressive.jpg",
                "conformance/mjpeg.jpg", "conformance/grayscale_24x16_sampling2x2.jpg",
                "conformance/16bit-qtables.jpg", "conformance/extraneous-data.jpg"]


@pytest.mark.parametrize("rel", CORPUS_FILES)
def test_region_corpus(rel):
    path = need_corpus(CORPUS / rel)
    data = path.read_bytes()
    check_regions(data, pil_full(data), n=20)


def test_region_lossless():
    """Lossless frames have no MCUs to skip: decoded whole, then cropped (Pillow decodes
    8-bit SOF3)."""
    path = need_corpus(CORPUS / "conformance" / "lossless" / "1" / "jpeg_lossless_sel1-8bit.jpg")
    data = path.read_bytes()
    check_regions(data, pil_full(data), n=10)


# ---- what region decode does not do: read past the region, decode skipped intervals ----

def test_region_reads_nothing_after_its_last_mcu_row():
    img = photo(160, 64, seed=9)
    data = pil_bytes(img, quality=90, subsampling="4:2:0")
    full = pil_full(data)
    # cut the file in the middle of its entropy-coded data: a full decode refuses it
    cut = data[: len(data) * 2 // 3]
    with pytest.raises(fdjpeg.TruncatedJPEGError):
        fdjpeg.decode(cut)
    # the first 32 rows (2 MCU rows, + 1 of context) lie well before the cut
    np.testing.assert_array_equal(fdjpeg.decode(cut, region=(5, 3, 50, 29)), full[3:32, 5:55])
    with pytest.raises(fdjpeg.TruncatedJPEGError):
        fdjpeg.decode(cut, region=(0, 140, 10, 10))


def test_region_skips_restart_intervals():
    """With restart markers the decoder jumps to the interval holding the region's first
    MCU row (minus context): the RST markers before it are never read."""
    data = pil_bytes(photo(256, 64, seed=10), quality=90, subsampling="4:2:0",
                     restart_marker_rows=1)
    full = pil_full(data)
    dec = _codec.Decoder(data)
    got = dec.decode_region(8, 200, 20, 30)
    np.testing.assert_array_equal(got, full[200:230, 8:28])
    rst_offsets = [off for m, off, _ in dec.markers() if 0xD0 <= m <= 0xD7]
    dec_full = _codec.Decoder(data)
    dec_full.decode()
    all_rst = [off for m, off, _ in dec_full.markers() if 0xD0 <= m <= 0xD7]
    assert len(all_rst) == 15  # 16 MCU rows, one interval each
    # region rows 200..229 = MCU rows 12..14, context from row 11: intervals 0..10 skipped
    # rows 200..229 read chroma rows 99..115: MCU rows 12..14, so intervals 0..11 are skipped
    assert rst_offsets == all_rst[12:14]


def test_region_restart_skip_falls_back_on_damaged_markers():
    data = bytearray(pil_bytes(photo(128, 48, seed=11), quality=90, subsampling="4:2:0",
                               restart_marker_rows=1))
    dec_full = _codec.Decoder(bytes(data))
    dec_full.decode()
    rst = [off for m, off, _ in dec_full.markers() if 0xD0 <= m <= 0xD7]
    data[rst[2] + 1] = 0xD5  # RST2 -> RST5: out of order, libjpeg resynchronizes
    data = bytes(data)
    ref = fdjpeg.decode(data)  # fdjpeg's full decode equals Pillow's (test_decode_any)
    np.testing.assert_array_equal(ref, pil_full(data))
    check_regions(data, ref, n=20)


# ---- argument checking ----

@pytest.mark.parametrize("region, exc", [
    ((0, 0, 0, 5), ValueError), ((0, 0, 5, 0), ValueError), ((-1, 0, 5, 5), ValueError),
    ((0, -1, 5, 5), ValueError), ((60, 0, 5, 5), ValueError), ((0, 0, 65, 5), ValueError),
    ((0, 40, 5, 1), ValueError), ((2**40, 0, 1, 1), ValueError),
    ((0, 0, 5), TypeError), ("abcd", TypeError), (5, TypeError), ((0.0, 0, 5, 5), TypeError),
    ((0, 0, True, 5), TypeError), ((0, 0, "5", 5), TypeError),
])
def test_region_arguments(region, exc):
    data = pil_bytes(photo(40, 64, seed=12), quality=80)
    with pytest.raises(exc):
        fdjpeg.decode(data, region=region)


def test_region_numpy_ints_list_and_out():
    data = pil_bytes(photo(40, 64, seed=12), quality=80)
    full = pil_full(data)
    np.testing.assert_array_equal(fdjpeg.decode(data, region=[np.int64(3), 4, 10, 11]),
                                  full[4:15, 3:13])
    out = np.zeros((11, 10, 3), np.uint8)
    assert fdjpeg.decode(data, region=(3, 4, 10, 11), out=out) is out
    np.testing.assert_array_equal(out, full[4:15, 3:13])
    with pytest.raises(ValueError):
        fdjpeg.decode(data, region=(3, 4, 10, 11), out=np.zeros((10, 10, 3), np.uint8))
    # scale: coordinates of the scaled output
    with pytest.raises(ValueError):
        fdjpeg.decode(data, scale=2, region=(0, 0, 33, 5))
    fdjpeg.decode(data, scale=2, region=(0, 0, 32, 20))


# ---- strips: fdj_decoder_read_rows ----

def read_all_rows(data, strip, **kw):
    dec = fdjpeg._api._open(data, **kw)
    h, w, ch = dec.output_shape()
    out = np.empty((h, w, ch), np.uint8)
    buf = np.empty((strip, w, ch), np.uint8) if ch > 1 else np.empty((strip, w), np.uint8)
    y = 0
    while True:
        n = dec.read_rows(buf)
        if n == 0:
            break
        assert 0 < n <= strip and y + n <= h
        out[y:y + n] = buf[:n].reshape(n, w, ch)
        y += n
    assert y == h
    assert dec.read_rows(buf) == 0
    return out if ch > 1 else out[..., 0]


@pytest.mark.parametrize("strip", [1, 3, 8, 16, 1000])
@pytest.mark.parametrize("kind", ["420", "422-restart", "gray", "progressive", "arith"])
def test_read_rows_equals_full_decode(kind, strip):
    img = photo(53, 77, seed=13)
    args = {"420": ["-sample", "2x2,1x1,1x1"], "422-restart": ["-sample", "2x1,1x1,1x1", "-restart", "2B"],
            "gray": ["-grayscale"], "progressive": ["-progressive"], "arith": ["-arithmetic"]}[kind]
    data = cjpeg_bytes(img, "-quality", "88", *args)
    np.testing.assert_array_equal(read_all_rows(data, strip), pil_full(data))
    np.testing.assert_array_equal(read_all_rows(data, strip, purify="fd", scale=2),
                                  fdjpeg.decode(data, purify="fd", scale=2))


def test_read_rows_errors():
    data = pil_bytes(photo(40, 64, seed=14), quality=80)
    dec = _codec.Decoder(data[: len(data) // 2])
    buf = np.empty((40, 64, 3), np.uint8)
    with pytest.raises(fdjpeg.TruncatedJPEGError):
        while dec.read_rows(buf):
            pass
    with pytest.raises(fdjpeg.TruncatedJPEGError):  # and it keeps failing
        dec.read_rows(buf)
    dec = _codec.Decoder(data)
    with pytest.raises(ValueError):
        dec.read_rows(np.empty((4, 63, 3), np.uint8))
    dec.read_rows(buf[:4])
    with pytest.raises(ValueError):  # no mixing with a whole decode
        dec.decode()
