"""Higher-precision decoding (12-bit lossy, 2..16-bit lossless) against libjpeg-turbo 3.

The reference at test time is imagecodecs' ``jpeg8_decode`` (libjpeg-turbo 3.1, which
decodes 8/12-bit lossy and 2..16-bit lossless). Test files: the real 12-bit and
lossless streams of ../shared/corpus/precision/, files written by imagecodecs'
``jpeg8_encode`` (12-bit baseline-extended, lossless at every precision and predictor),
a small lossless writer below (point transforms, restarts, multiple scans, 4
components), and 12-bit progressive/arithmetic/restart files made by transcoding
coefficients with the system's jpegtran and marking the frame 12-bit.
"""
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import fdjpeg

imagecodecs = pytest.importorskip("imagecodecs")

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
PRECISION = CORPUS / "precision"
JPEGTRAN = shutil.which("jpegtran")
RNG = np.random.default_rng(2024)


def ref_decode(data):
    return imagecodecs.jpeg8_decode(data)


def as_libjpeg(got, precision):
    """fdjpeg's 4-component output follows Pillow's inverted convention; libjpeg's is raw."""
    if got.ndim == 3 and got.shape[2] == 4:
        return ((1 << precision) - 1 - got.astype(np.int64)).astype(got.dtype)
    return got


def assert_same(got, want, what=""):
    assert got.dtype == want.dtype, (what, got.dtype, want.dtype)
    assert got.shape == want.shape, (what, got.shape, want.shape)
    if not np.array_equal(got, want):
        diff = np.abs(got.astype(np.int64) - want.astype(np.int64))
        raise AssertionError(f"{what}: {np.count_nonzero(diff)} samples differ, max {diff.max()}")


def image(h, w, c, bits, rng=RNG):
    """Smooth gradients + texture + noise spanning the whole range of `bits`."""
    maxv = (1 << bits) - 1
    y, x = np.mgrid[0:h, 0:w]
    planes = []
    for k in range(c):
        base = (np.sin(x / (4.0 + k) + k) * np.cos(y / (6.0 + k)) + 1) / 2 * maxv
        noise = rng.normal(0, maxv / 24 + 0.5, (h, w))
        planes.append(np.clip(np.rint(base + noise), 0, maxv))
    a = np.stack(planes, -1) if c > 1 else planes[0]
    return a.astype(np.uint16 if bits > 8 else np.uint8)


# --------------------------------------------------------------------------- corpus

def precision_files():
    return sorted(PRECISION.glob("*.jpg"))


def test_corpus_has_the_precision_files():
    assert len(precision_files()) == 5


@pytest.mark.parametrize("path", precision_files(), ids=lambda p: p.name)
def test_corpus_precision_file_exact(path):
    data = path.read_bytes()
    info = fdjpeg.inspect(data)
    want = ref_decode(data)
    got = fdjpeg.decode(data)
    assert got.dtype == (np.uint16 if info["precision"] > 8 else np.uint8)
    assert info["dtype"] == got.dtype.name
    if got.ndim == 2:
        assert info["mode"] == ("I;16" if info["precision"] > 8 else "L")
    assert_same(as_libjpeg(got, info["precision"]), want, path.name)


# --------------------------------------------------------------------------- lossless

@pytest.mark.parametrize("bits", range(2, 17))
def test_lossless_all_precisions_and_predictors(bits):
    for psv in range(1, 8):
        for c in (1, 3):
            img = image(23 + psv, 31 + 2 * bits, c, bits)
            kw = {"colorspace": "RGB", "outcolorspace": "RGB"} if c == 3 else {}
            data = imagecodecs.jpeg8_encode(img, lossless=True, bitspersample=bits, predictor=psv, **kw)
            assert fdjpeg.inspect(data)["precision"] == bits
            want = ref_decode(data)
            np.testing.assert_array_equal(want, img)  # really lossless
            assert_same(fdjpeg.decode(data), want, f"P={bits} psv={psv} c={c}")


def lossless_jpeg(planes, psv, *, precision, pt=0, restart_rows=0, interleave=False,
                  adobe=None):
    """A minimal lossless JPEG writer (T.81 Annex H): one Huffman table with every
    category 0..16 at 5 bits; one scan per component, or one interleaved scan
    (all components 1x1). restart_rows: restart interval in rows of MCUs."""
    ncomp = len(planes)
    hgt, wid = planes[0].shape

    def seg(marker, payload):
        return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload

    bits = [0] * 16
    bits[4] = 17
    out = b"\xff\xd8"
    if adobe is not None:
        out += seg(0xEE, b"Adobe" + bytes([0, 100, 0, 0, 0, 0, adobe]))
    out += seg(0xC4, bytes([0x00]) + bytes(bits) + bytes(range(17)))
    sof = bytes([precision]) + hgt.to_bytes(2, "big") + wid.to_bytes(2, "big") + bytes([ncomp])
    for i in range(ncomp):
        sof += bytes([i + 1, 0x11, 0])
    out += seg(0xC3, sof)
    if restart_rows:
        out += seg(0xDD, (restart_rows * wid).to_bytes(2, "big"))
    xs = [p.astype(np.int64) >> pt for p in planes]
    groups = [list(range(ncomp))] if interleave else [[c] for c in range(ncomp)]
    for group in groups:
        acc, nacc, body = 0, 0, bytearray()

        def put(code, n):
            nonlocal acc, nacc
            acc = (acc << n) | code
            nacc += n
            while nacc >= 8:
                byte = (acc >> (nacc - 8)) & 0xFF
                body.append(byte)
                if byte == 0xFF:
                    body.append(0)
                nacc -= 8
            acc &= (1 << nacc) - 1

        rst = 0
        for r in range(hgt):
            if restart_rows and r and r % restart_rows == 0:
                if nacc:
                    put((1 << (8 - nacc)) - 1, 8 - nacc)
                body += bytes([0xFF, 0xD0 + rst])
                rst = (rst + 1) & 7
            first = r == 0 or (restart_rows and r % restart_rows == 0)
            for c in range(wid):
                for ci in group:
                    x = xs[ci]
                    if first:
                        pred = (1 << (precision - pt - 1)) if c == 0 else x[r, c - 1]
                    elif c == 0:
                        pred = x[r - 1, 0]
                    else:
                        ra, rb, rc = x[r, c - 1], x[r - 1, c], x[r - 1, c - 1]
                        pred = [None, ra, rb, rc, ra + rb - rc, ra + ((rb - rc) >> 1),
                                rb + ((ra - rc) >> 1), (ra + rb) >> 1][psv]
                    diff = ((int(x[r, c] - pred) + 32768) & 0xFFFF) - 32768
                    if diff == 0:
                        put(0, 5)
                        continue
                    ssss = min(abs(diff).bit_length(), 16)
                    put(ssss, 5)
                    if ssss < 16:
                        put(diff if diff > 0 else diff + (1 << ssss) - 1, ssss)
        if nacc:
            put((1 << (8 - nacc)) - 1, 8 - nacc)
        sos = bytes([len(group)])
        for ci in group:
            sos += bytes([ci + 1, 0x00])
        sos += bytes([psv, 0, pt])
        out += seg(0xDA, sos) + bytes(body)
    return out + b"\xff\xd9"


@pytest.mark.parametrize("bits", [2, 5, 7, 10, 12, 14, 16])
def test_lossless_point_transform_restarts_scans(bits):
    n = 0
    for psv in (1, 4, 6, 7):
        for pt in sorted({0, 1, bits // 2, bits - 1}):
            for ncomp, interleave, restart_rows in ((1, False, 0), (1, False, 3), (3, True, 2),
                                                    (3, False, 0), (4, True, 0)):
                planes = [image(13, 11, 1, bits) for _ in range(ncomp)]
                data = lossless_jpeg(planes, psv, precision=bits, pt=pt, restart_rows=restart_rows,
                                     interleave=interleave, adobe=0 if ncomp == 3 else None)
                want = ref_decode(data)
                if pt == 0:  # the writer is lossless
                    np.testing.assert_array_equal(want.reshape(13, 11, -1),
                                                  np.stack(planes, -1))
                got = fdjpeg.decode(data)
                assert_same(as_libjpeg(got, bits), want,
                            f"P={bits} psv={psv} pt={pt} ncomp={ncomp} rst={restart_rows}")
                n += 1
    assert n == 4 * len({0, 1, bits // 2, bits - 1}) * 5


def test_lossless_high_precision_refuses_colour_conversion():
    planes = [image(8, 8, 1, 12) for _ in range(3)]
    ycc = lossless_jpeg(planes, 1, precision=12, adobe=1)  # Adobe transform 1: YCbCr
    assert fdjpeg.inspect(ycc)["jpeg_color"] == "ycbcr"
    with pytest.raises(Exception):
        ref_decode(ycc)  # libjpeg-turbo: no colour conversion in lossless mode
    with pytest.raises(fdjpeg.UnsupportedJPEGError, match="lossless"):
        fdjpeg.decode(ycc)
    rgb = lossless_jpeg(planes, 1, precision=12, adobe=0)
    with pytest.raises(fdjpeg.UnsupportedJPEGError):
        fdjpeg.decode(rgb, mode="L")
    gray = lossless_jpeg(planes[:1], 1, precision=12)
    out = fdjpeg.decode(gray, mode="RGB")
    assert out.dtype == np.uint16
    np.testing.assert_array_equal(out, np.repeat(planes[0][..., None], 3, -1))


# --------------------------------------------------------------------------- 12-bit lossy

SUBSAMPLINGS = ["444", "422", "420", "411", "440"]


@pytest.mark.parametrize("sub", SUBSAMPLINGS)
def test_12bit_baseline_extended_exact(sub):
    n = 0
    for level in (10, 50, 75, 90, 100):
        for shape in ((1, 1), (7, 9), (16, 16), (37, 45), (17, 130), (64, 48)):
            for c in (1, 3):
                if c == 1 and sub != "444":
                    continue
                img = image(*shape, c, 12)
                data = imagecodecs.jpeg8_encode(img, level=level, bitspersample=12,
                                                subsampling=sub if c == 3 else None,
                                                optimize=level == 75)
                info = fdjpeg.inspect(data)
                assert info["precision"] == 12 and info["sof"] in (1, 0)
                assert_same(fdjpeg.decode(data), ref_decode(data), f"{sub} q{level} {shape} c{c}")
                n += 1
    assert n >= 30


def test_12bit_modes_match_libjpeg_conversions():
    img = image(40, 56, 3, 12)
    data = imagecodecs.jpeg8_encode(img, level=85, bitspersample=12, subsampling="420")
    gray = fdjpeg.decode(data, mode="L")
    assert_same(gray, imagecodecs.jpeg8_decode(data, outcolorspace="GRAY"), "YCbCr -> L")
    assert_same(fdjpeg.decode(data, mode="RGB"), ref_decode(data), "YCbCr -> RGB")
    g1 = imagecodecs.jpeg8_encode(np.ascontiguousarray(img[..., 0]), level=85, bitspersample=12)
    assert_same(fdjpeg.decode(g1, mode="RGB"), imagecodecs.jpeg8_decode(g1, outcolorspace="RGB"),
                "L -> RGB")
    rgb = fdjpeg.encode(img, quality=90, keep_rgb=True)  # Adobe transform 0: RGB stored
    assert fdjpeg.inspect(rgb)["jpeg_color"] == "rgb"
    assert_same(fdjpeg.decode(rgb, mode="L"), imagecodecs.jpeg8_decode(rgb, outcolorspace="GRAY"),
                "RGB -> L")
    assert_same(fdjpeg.decode(rgb), ref_decode(rgb), "RGB")


def _patch_precision(data, precision):
    """Mark the frame header with another sample precision (the entropy-coded
    coefficients do not depend on it)."""
    i = 2
    while i < len(data):
        assert data[i] == 0xFF
        m = data[i + 1]
        if m in (0xC0, 0xC1, 0xC2, 0xC3, 0xC9, 0xCA):
            return data[:i + 4] + bytes([precision]) + data[i + 5:]
        i += 2 + int.from_bytes(data[i + 2:i + 4], "big")
    raise AssertionError("no SOF")


def twelve_bit_coefficient_file(ncomp, sampling, seed):
    """A 12-bit-style JPEG from 8-bit coefficients: tables x16 (16-bit DQT), so the
    dequantized coefficients cover the 12-bit range, written as 8-bit for jpegtran."""
    rng = np.random.default_rng(seed)
    img8 = (image(45, 61, ncomp, 12, rng) >> 4).astype(np.uint8)
    if ncomp == 1:
        src = fdjpeg.encode(img8, quality=80)
    else:
        src = fdjpeg.encode(img8, quality=80, subsampling=sampling)
    co = fdjpeg.read_coefficients(src)
    tables = [np.minimum(t.astype(np.int64) * 16, 65535) for t in co["tables"]]
    return fdjpeg.write_coefficients(co, tables=tables, optimize=True)


@pytest.mark.skipif(JPEGTRAN is None, reason="needs jpegtran (CI has it)")
@pytest.mark.parametrize("tran", [
    [], ["-progressive"], ["-arithmetic"], ["-progressive", "-arithmetic"],
    ["-restart", "1"], ["-progressive", "-restart", "2"], ["-arithmetic", "-restart", "1"],
])
def test_12bit_progressive_arithmetic_restarts_exact(tmp_path, tran):
    n = 0
    for ncomp, sampling in ((1, None), (3, "4:4:4"), (3, "4:2:0"), (3, "4:2:2")):
        base = twelve_bit_coefficient_file(ncomp, sampling, seed=n + 7)
        src = tmp_path / "in.jpg"
        src.write_bytes(base)
        out = subprocess.run([JPEGTRAN, "-copy", "none", *tran, str(src)], check=True,
                             capture_output=True).stdout
        data = _patch_precision(out, 12)
        info = fdjpeg.inspect(data)
        assert info["precision"] == 12
        assert info["progressive"] == ("-progressive" in tran)
        assert info["arithmetic"] == ("-arithmetic" in tran)
        assert_same(fdjpeg.decode(data), ref_decode(data), f"{tran} {ncomp} {sampling}")
        if info["scans"] > 1:  # the scan limit applies as at 8 bits
            with pytest.raises(fdjpeg.JPEGTooLargeError):
                fdjpeg.decode(data, max_scans=info["scans"] - 1)
            assert_same(fdjpeg.decode(data, max_scans=info["scans"]), ref_decode(data), "max_scans")
        n += 1
    assert n == 4


@pytest.mark.skipif(JPEGTRAN is None, reason="needs jpegtran (CI has it)")
def test_12bit_truncated_as_libjpeg(tmp_path):
    base = twelve_bit_coefficient_file(3, "4:2:0", seed=3)
    src = tmp_path / "in.jpg"
    for tran in ([], ["-progressive"]):
        src.write_bytes(base)
        data = _patch_precision(subprocess.run([JPEGTRAN, *tran, str(src)], check=True,
                                               capture_output=True).stdout, 12)
        sos = data.find(b"\xff\xda")
        for cut in (sos + 40, (sos + len(data)) // 2, len(data) - 40):
            part = data[:cut]
            with pytest.raises(fdjpeg.TruncatedJPEGError):
                fdjpeg.decode(part)
            # allow_truncated: what libjpeg shows with an EOI after the data (as for 8-bit)
            assert_same(fdjpeg.decode(part, allow_truncated=True), ref_decode(part + b"\xff\xd9"),
                        f"{tran} cut {cut}")


def test_12bit_limits_and_refusals():
    img = image(40, 50, 3, 12)
    data = imagecodecs.jpeg8_encode(img, level=90, bitspersample=12)
    with pytest.raises(fdjpeg.JPEGTooLargeError):
        fdjpeg.decode(data, max_pixels=40 * 50 - 1)
    assert fdjpeg.decode(data, max_pixels=40 * 50).shape == (40, 50, 3)
    with pytest.raises(fdjpeg.UnsupportedJPEGError, match="12-bit"):
        fdjpeg.decode(data, scale=2)
    out = np.empty((40, 50, 3), np.uint8)
    with pytest.raises(ValueError, match="uint16"):
        fdjpeg.decode(data, out=out)
    out = np.empty((40, 50, 3), np.uint16)
    assert fdjpeg.decode(data, out=out) is out
    assert_same(out, ref_decode(data), "out=")


def test_12bit_coefficients_read():
    img = image(24, 40, 1, 12)
    data = imagecodecs.jpeg8_encode(img, level=90, bitspersample=12)
    co = fdjpeg.read_coefficients(data)
    # the DC coefficient is the block mean: 8 * (mean - 2048) / q (12-bit level shift)
    q = int(co["tables"][0][0, 0])
    dc = co["coefficients"][0][..., 0, 0].astype(np.float64) * q / 8 + 2048
    means = img.reshape(3, 8, 5, 8).mean(axis=(1, 3))
    assert np.abs(dc - means).max() <= q / 8 + 1


# --------------------------------------------------------------------------- purification at 12 bits

def test_12bit_purify_is_requantization_by_16T(tmp_path):
    """decode(data12, purify=T) equals libjpeg-turbo's decode of the coefficients
    requantized outside fdjpeg (numpy) to 16*T and written with table 16*T."""
    img = image(48, 64, 1, 12)
    data = imagecodecs.jpeg8_encode(img, level=95, bitspersample=12)
    co = fdjpeg.read_coefficients(data)
    q = co["tables"][0].astype(np.int64)
    rng = np.random.default_rng(5)
    from fdjpeg import tables

    for T in (np.full((8, 8), 3), rng.integers(1, 60, (8, 8)), tables.default_fd()):
        T = np.asarray(T, np.int64)
        t16 = 16 * T
        d = co["coefficients"][0].astype(np.int64) * q
        requant = np.sign(d) * ((np.abs(d) + t16 // 2) // t16)  # round half away from zero
        assert np.abs(requant).max() < 1024  # fits the 8-bit writer's categories
        blob = fdjpeg.write_coefficients([requant.astype(np.int16)], tables=[t16], width=64,
                                         height=48, jpeg_color="gray", optimize=True)
        want = ref_decode(_patch_precision(blob, 12))
        got = fdjpeg.decode(data, purify=T)
        assert_same(got, want, f"purify T max {T.max()}")
        assert not np.array_equal(got, fdjpeg.decode(data))


# --------------------------------------------------------------------------- Pillow / file API

def test_open_gives_I16_for_high_precision_grey():
    from PIL import Image

    for name in ("dicom_extended_12bit_gray.jpg", "dicom_lossless_sv1_16bit_gray.jpg"):
        path = PRECISION / name
        with pytest.raises(Exception):  # Pillow itself refuses these files
            Image.open(path).load()
        im = fdjpeg.open(path)
        assert im.mode == "I;16" and im.format == "JPEG"
        assert im.fdjpeg_precision == fdjpeg.inspect(path.read_bytes())["precision"]
        arr = np.asarray(im)
        assert_same(arr, ref_decode(path.read_bytes()), name)
    # Pillow's own open of a 16-bit PNG of the same pixels gives the same image
    import io

    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    assert_same(np.asarray(Image.open(buf)), np.asarray(fdjpeg.open(path)), "vs PNG I;16")


def test_open_colour_above_8_bits_keeps_the_top_8_bits():
    img = image(30, 41, 3, 12)
    data = imagecodecs.jpeg8_encode(img, level=90, bitspersample=12, subsampling="422")
    import io

    im = fdjpeg.open(io.BytesIO(data))
    assert im.mode == "RGB" and im.size == (41, 30) and im.fdjpeg_precision == 12
    assert im.draft("RGB", (10, 8)) is None  # no scaled decoding above 8 bits
    assert_same(np.asarray(im), (ref_decode(data) >> 4).astype(np.uint8), "RGB >> 4")
    cmyk = PRECISION / "t83_E1_12bit_huffman_interleaved_4comp.jpg"
    im = fdjpeg.open(cmyk)
    assert im.mode == "CMYK"
    raw = ref_decode(cmyk.read_bytes())  # libjpeg's raw CMYK; Pillow's mode CMYK is inverted
    assert_same(np.asarray(im), (255 - (raw >> 4)).astype(np.uint8), "CMYK >> 4")


def test_purify_with_open():
    img = image(24, 24, 1, 12)
    data = imagecodecs.jpeg8_encode(img, level=95, bitspersample=12)
    import io

    im = fdjpeg.open(io.BytesIO(data), purify=True)
    assert_same(np.asarray(im), fdjpeg.decode(data, purify=True), "open(purify=True)")
    co = fdjpeg.read_coefficients(data)
    assert co["precision"] == 12
    with pytest.raises(ValueError, match="precision"):
        fdjpeg.write_coefficients(co, precision=10)


def test_cli_writes_16bit_grey_png(tmp_path):
    from PIL import Image

    from fdjpeg.cli import _encode_output

    data = (PRECISION / "dicom_extended_12bit_gray.jpg").read_bytes()
    arr = fdjpeg.decode(data)
    png = _encode_output(arr, tmp_path / "x.png")
    out = tmp_path / "x.png"
    out.write_bytes(png)
    with Image.open(out) as im:
        assert im.mode == "I;16"
        assert_same(np.asarray(im), ref_decode(data), "png")
    with pytest.raises(ValueError, match="16-bit"):
        _encode_output(np.zeros((4, 4, 3), np.uint16), tmp_path / "y.png")


def test_12bit_hostile_coefficients_and_16bit_tables():
    """Coefficients of up to +-1023 dequantized by 16-bit tables up to 65535 overflow the
    12-bit IDCT's range (libjpeg-turbo wraps them through its 14-bit range-limit table) and
    test the multiplier type (int at 12 bits: entries above 32767 stay positive)."""
    rng = np.random.default_rng(3)
    for trial in range(24):
        coefs = rng.integers(-1023, 1024, (3, 4, 8, 8)).astype(np.int16)
        if trial % 3 == 0:  # large DC steps too (diffs stay within the 8-bit writer's 11 bits)
            coefs[..., 0, 0] = rng.integers(-1023, 1024, (3, 4))
        T = rng.integers(1, 65536, (8, 8))
        T[0, 0] = 65535 if trial % 2 else T[0, 0]
        blob = fdjpeg.write_coefficients([coefs], tables=[T], width=32, height=24,
                                         jpeg_color="gray", optimize=True)
        data = _patch_precision(blob, 12)
        assert_same(fdjpeg.decode(data), ref_decode(data), f"trial {trial}")


# --------------------------------------------------------------------------- 12-bit encode

SUBSAMPLING_NAMES = {"444": "4:4:4", "422": "4:2:2", "420": "4:2:0", "411": "4:1:1",
                     "440": "4:4:0"}


@pytest.mark.parametrize("sub", SUBSAMPLINGS)
def test_12bit_encode_byte_identical_to_libjpeg_turbo(sub):
    n = 0
    for level in (10, 50, 75, 90, 100):
        for shape in ((1, 1), (7, 9), (16, 16), (37, 45), (17, 130), (64, 48)):
            for c in (1, 3):
                if c == 1 and sub != "444":
                    continue
                img = image(*shape, c, 12)
                want = imagecodecs.jpeg8_encode(img, level=level, bitspersample=12,
                                                subsampling=sub if c == 3 else None)
                got = fdjpeg.encode(img, quality=level, subsampling=SUBSAMPLING_NAMES[sub],
                                    optimize=level == 75)  # optimal tables either way at 12 bits
                assert got == want, (sub, level, shape, c)
                n += 1
    assert n >= 30


def test_12bit_encode_beyond_imagecodecs_options():
    """Options imagecodecs does not reach (FD tables, 16-bit tables, progressive, restarts,
    CMYK): libjpeg-turbo decodes the files to the same pixels as fdjpeg."""
    from fdjpeg import tables

    rng = np.random.default_rng(9)
    img = image(45, 67, 3, 12)
    cases = [dict(table=tables.default_fd()), dict(table=rng.integers(1, 4096, (8, 8))),
             dict(quality=80, progressive=True), dict(quality=60, restart_interval=3),
             dict(quality=90, subsampling="4:2:0", restart_rows=1, progressive=True),
             dict(quality=70, keep_rgb=True)]
    for kw in cases:
        data = fdjpeg.encode(img, **kw)
        info = fdjpeg.inspect(data)
        assert info["precision"] == 12 and info["sof"] == (2 if kw.get("progressive") else 1)
        assert_same(fdjpeg.decode(data), ref_decode(data), str(kw))
    cmyk = image(20, 30, 4, 12)
    data = fdjpeg.encode(cmyk, quality=95)
    assert_same(as_libjpeg(fdjpeg.decode(data), 12), ref_decode(data), "CMYK")
    assert np.abs(fdjpeg.decode(data).astype(int) - cmyk).max() < 64  # the original values
    with pytest.raises(ValueError, match="0..4095"):
        fdjpeg.encode(np.full((8, 8), 4096, np.uint16))


# --------------------------------------------------------------------------- purify at 12 bits

def test_12bit_purify_kernel_equals_libjpeg_turbo_round_trip():
    """The fused 12-bit kernel with libjpeg-turbo's own quality tables (given in 12-bit
    units through the private binding) equals imagecodecs' 12-bit encode then decode:
    both halves independent of fdjpeg."""
    from fdjpeg import _codec

    n = 0
    for sub in SUBSAMPLINGS:
        for level in (20, 75, 95):
            for shape in ((1, 1), (9, 7), (16, 16), (33, 50), (17, 70)):
                for c in (1, 3):
                    if c == 1 and sub != "444":
                        continue
                    img = image(*shape, c, 12)
                    data = imagecodecs.jpeg8_encode(img, level=level, bitspersample=12,
                                                    subsampling=sub if c == 3 else None)
                    info = fdjpeg.inspect(data)
                    tabs = [np.asarray(info["qtables"][k], np.uint16).reshape(64)
                            for k in sorted(info["qtables"])]
                    slots = [comp["tq"] for comp in info["components"]]
                    h = [comp["h"] for comp in info["components"]]
                    v = [comp["v"] for comp in info["components"]]
                    batch = (img if c == 3 else img[:, :, None])[None]
                    out = np.empty_like(batch)
                    _codec.purify_pixels(batch, out, 1 if c == 1 else 3, tabs, slots, h, v,
                                         precision=12)
                    got = out[0] if c == 3 else out[0, :, :, 0]
                    assert_same(got, ref_decode(data), f"{sub} q{level} {shape} c{c}")
                    n += 1
    assert n >= 50


def _fd_tables(rng, n):
    return [rng.integers(1, 80, (8, 8)).astype(np.uint16) for _ in range(n)]


@pytest.mark.parametrize("sub", ["4:4:4", "4:2:2", "4:2:0", "4:4:0", "4:1:1"])
def test_12bit_purify_is_libjpeg_decode_of_16T_file(sub):
    """fdjpeg.purify(uint16, T) == libjpeg-turbo's 12-bit decode of the file written with
    16 T (the meaning decode(data12, purify=T) gives T), grey, colour, pairs, 3 tables."""
    rng = np.random.default_rng(17)
    for shape in ((1, 1), (5, 3), (8, 8), (23, 41), (40, 17), (64, 72)):
        img = image(*shape, 3, 12, rng)
        for tabs in (_fd_tables(rng, 1), _fd_tables(rng, 2), _fd_tables(rng, 3)):
            spec = tabs[0] if len(tabs) == 1 else tabs
            got = fdjpeg.purify(img, spec, subsampling=sub)
            data = fdjpeg.encode(img, [t * 16 for t in tabs] if len(tabs) > 1 else tabs[0] * 16,
                                 subsampling=sub)
            assert fdjpeg.inspect(data)["qtables"][0].max() == tabs[0].max() * 16
            assert_same(got, ref_decode(data), f"{sub} {shape} {len(tabs)} tables")
        if sub == "4:4:4":
            grey = image(*shape, 1, 12, rng)
            t = _fd_tables(rng, 1)[0]
            assert_same(fdjpeg.purify(grey, t), ref_decode(fdjpeg.encode(grey, t * 16)), "grey")
            assert_same(fdjpeg.purify(grey[:, :, None], t)[:, :, 0], fdjpeg.purify(grey, t))
            cmyk = image(*shape, 4, 12, rng)
            data = fdjpeg.encode(cmyk, t * 16)
            assert_same(as_libjpeg(fdjpeg.purify(cmyk, t), 12), ref_decode(data), "CMYK")
            rgb = image(*shape, 3, 12, rng)
            data = fdjpeg.encode(rgb, t * 16, keep_rgb=True)
            assert_same(fdjpeg.purify(rgb, t, keep_rgb=True), ref_decode(data), "keep_rgb")


def test_12bit_purify_agrees_with_one_pass_decode_and_default_table():
    """Two-pass at 12 bits: decode(encode(x, 16 T), purify=T) keeps the pixels
    purify(x, T) gives; the default table (True) applies as 16 x the FD table."""
    from fdjpeg import tables

    img = image(48, 64, 3, 12)
    T = tables.default_fd()
    got = fdjpeg.purify(img)
    data = fdjpeg.encode(img, np.asarray(T, np.uint16) * 16)
    assert_same(got, ref_decode(data))
    assert_same(fdjpeg.decode(data, purify=True), got)
    assert_same(fdjpeg.purify(img, True), got)


def test_12bit_purify_batch_threads_and_strides():
    rng = np.random.default_rng(5)
    imgs = np.stack([image(30, 44, 3, 12, rng) for _ in range(7)])
    T = _fd_tables(rng, 2)
    single = np.stack([fdjpeg.purify(x, T, subsampling="4:2:0") for x in imgs])
    assert single.dtype == np.uint16
    for threads in (1, 2, 3, 16, None):
        assert_same(fdjpeg.purify(imgs, T, subsampling="4:2:0", threads=threads), single)
    view = imgs[::2, 1:, ::-1]
    assert_same(fdjpeg.purify(view, T, threads=2),
                np.stack([fdjpeg.purify(np.ascontiguousarray(x), T) for x in view]))
    assert fdjpeg.purify(imgs[:0], T).shape == (0, 30, 44, 3)
    assert_same(single[3], ref_decode(fdjpeg.encode(imgs[3], [t * 16 for t in T],
                                                    subsampling="4:2:0")))


def test_12bit_purify_refusals():
    img = image(8, 8, 3, 12)
    bad = img.copy()
    bad[3, 5, 1] = 4096
    with pytest.raises(ValueError, match="0..4095"):
        fdjpeg.purify(bad, True)
    batch = np.stack([img, bad])
    with pytest.raises(ValueError, match="0..4095"):
        fdjpeg.purify(batch, True, threads=2)
    with pytest.raises(ValueError, match="4095"):
        fdjpeg.purify(img, np.full((8, 8), 4096))
    with pytest.raises(TypeError, match="uint16"):
        fdjpeg.purify(img.astype(np.int32), True)
    with pytest.raises(TypeError, match="uint16"):
        fdjpeg.purify(img.astype(np.float32), True)
    with pytest.raises(ValueError):
        fdjpeg.purify(img[None, None], True)  # 5-D
    with pytest.raises(ValueError):
        fdjpeg.purify(np.zeros((8, 8, 2), np.uint16), True)  # 2 channels
    with pytest.raises(ValueError):
        fdjpeg.purify(np.zeros((0, 8, 3), np.uint16), True)


def test_12bit_ycck_as_libjpeg():
    """A 12-bit YCCK frame (the T.83 4-component coefficients written with Adobe transform 2):
    libjpeg-turbo's ycck_cmyk_convert at 12 bits, then fdjpeg's CMYK inversion."""
    data = (PRECISION / "t83_E1_12bit_huffman_interleaved_4comp.jpg").read_bytes()
    ycck = fdjpeg.write_coefficients(fdjpeg.read_coefficients(data), jpeg_color="ycck")
    assert fdjpeg.inspect(ycck)["jpeg_color"] == "ycck"
    assert_same(as_libjpeg(fdjpeg.decode(ycck), 12), ref_decode(ycck), "YCCK")


def test_12bit_coefficients_round_trip_and_transcode_purify():
    from fdjpeg.cli import transcode_purify

    for path in (PRECISION / "dicom_extended_12bit_gray.jpg",
                 PRECISION / "t83_E1_12bit_huffman_interleaved_4comp.jpg"):
        data = path.read_bytes()
        co = fdjpeg.read_coefficients(data)
        again = fdjpeg.write_coefficients(co)
        assert fdjpeg.inspect(again)["precision"] == 12
        for got, want in zip(fdjpeg.read_coefficients(again)["coefficients"], co["coefficients"]):
            np.testing.assert_array_equal(got, want)
        assert_same(fdjpeg.decode(again), fdjpeg.decode(data), path.name)
        # the CLI's lossless purification transcode: 16 T written, same pixels as purify=T
        pur = transcode_purify(data, True)
        want = fdjpeg.decode(data, purify=True)
        assert_same(fdjpeg.decode(pur), want, path.name)
        assert_same(as_libjpeg(want, 12), ref_decode(pur), "libjpeg decodes the transcode")


@pytest.mark.skipif(JPEGTRAN is None, reason="needs jpegtran (CI has it)")
def test_12bit_truncation_follows_the_8bit_rules(tmp_path):
    """allow_truncated at 12 bits follows fdjpeg's 8-bit rules, which are Pillow's: the same
    decision for the 8-bit twin of the file (same coefficients, precision byte 8) as Pillow
    makes, including the one place where Pillow and libjpeg-with-an-EOI-appended disagree
    (data ending in the 0xFF of the next scan's SOS marker: Pillow keeps a zero image)."""
    import io

    from PIL import Image, ImageFile

    base = twelve_bit_coefficient_file(1, None, seed=5)
    src = tmp_path / "in.jpg"
    src.write_bytes(base)
    d8 = subprocess.run([JPEGTRAN, "-progressive", str(src)], check=True,
                        capture_output=True).stdout
    d12 = _patch_precision(d8, 12)
    soss = [i for i in range(len(d8) - 1) if d8[i] == 0xFF and d8[i + 1] == 0xDA]
    old = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        for s in soss[1:]:
            for cut in (s - 1, s, s + 30):
                pil = np.asarray(Image.open(io.BytesIO(d8[:cut])))
                got8 = fdjpeg.decode(d8[:cut], allow_truncated=True)
                got12 = fdjpeg.decode(d12[:cut], allow_truncated=True)
                np.testing.assert_array_equal(got8, pil)
                assert got12.any() == pil.any(), cut
                if pil.any():  # decoded data: libjpeg-turbo's 12-bit decoder with the EOI
                    try:
                        want = ref_decode(d12[:cut] + b"\xff\xd9")
                    except Exception:
                        continue
                    assert_same(got12, want, f"cut {cut}")
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = old
