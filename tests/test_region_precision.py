"""Region decode above 8 bits: 12-bit lossy and 2..16-bit lossless frames.

decode(data, region=...) must be exactly the full decode cropped.  The full decode is
compared to the independent reference (imagecodecs' libjpeg-turbo 3, ``jpeg8_decode``) in
every case here, so every region is checked against libjpeg-turbo's pixels.  Files come from
imagecodecs (12-bit SOF1 at every sampling, lossless at every precision and predictor),
fdjpeg's 12-bit encoder for what imagecodecs does not write (restart markers, progressive)
and test_precision's minimal lossless writer (point transforms, restarts, one scan per
component, 4 components).  Then what the native path does not do: read past the region's
last MCU row (12-bit) or last row (lossless).
"""
import numpy as np
import pytest

import fdjpeg
from fdjpeg import _codec

from test_precision import SUBSAMPLINGS, SUBSAMPLING_NAMES, as_libjpeg, image, lossless_jpeg

imagecodecs = pytest.importorskip("imagecodecs")

RNG = np.random.default_rng(1717)


def regions(h, w, n, rng=RNG):
    out = {(0, 0, 1, 1), (w - 1, h - 1, 1, 1), (0, 0, w, h), (0, h // 2, w, 1),
           (w // 2, 0, 1, h), (w // 3, h // 3, 1, 1)}
    if w > 17 and h > 17:
        out |= {(15, 15, 2, 2), (16, 16, 1, 1), (7, 8, 10, 9), (w - 17, h - 17, 17, 17),
                (w // 4, h // 4, w // 4, h // 4), (0, 3 * h // 4, w, h - 3 * h // 4)}
    for _ in range(n):
        x = int(rng.integers(0, w))
        y = int(rng.integers(0, h))
        rw = int(rng.integers(1, w - x + 1))
        rh = int(rng.integers(1, h - y + 1))
        if rng.random() < 0.3:
            rw, rh = min(rw, int(rng.integers(1, 4))), min(rh, int(rng.integers(1, 4)))
        out.add((x, y, rw, rh))
    return sorted(out)


def check_regions(data, want, n=20, **kw):
    """want: libjpeg-turbo's full decode (fdjpeg's convention); every region equals it."""
    full = fdjpeg.decode(data, **kw)
    assert full.dtype == want.dtype and np.array_equal(full, want), kw
    h, w = full.shape[:2]
    count = 0
    for x, y, rw, rh in regions(h, w, n):
        got = fdjpeg.decode(data, region=(x, y, rw, rh), **kw)
        assert got.dtype == full.dtype and got.flags.c_contiguous
        if not np.array_equal(got, full[y:y + rh, x:x + rw]):
            diff = np.abs(got.astype(np.int64) - full[y:y + rh, x:x + rw])
            raise AssertionError(f"region {(x, y, rw, rh)} of {w}x{h} {kw}: "
                                 f"{np.count_nonzero(diff)} samples differ, max {diff.max()}")
        count += 1
    return count


# ---- 12-bit lossy ----------------------------------------------------------------------

@pytest.mark.parametrize("sub", SUBSAMPLINGS)
def test_12bit_regions_every_sampling(sub):
    n = 0
    for shape in ((1, 1), (7, 9), (37, 45), (17, 130), (100, 75)):
        for c in (1, 3):
            if c == 1 and sub != "444":
                continue
            img = image(*shape, c, 12, RNG)
            data = imagecodecs.jpeg8_encode(img, level=85, bitspersample=12,
                                            subsampling=sub if c == 3 else None)
            n += check_regions(data, imagecodecs.jpeg8_decode(data))
            if c == 3:
                n += check_regions(data, fdjpeg.decode(data, mode="L"), n=6, mode="L")
    assert n > 50


def test_12bit_regions_restarts_progressive_and_purify():
    """Restart intervals in MCUs and in rows (skipped by their markers), progressive (every
    coefficient first), one-pass purification at 16 T."""
    from fdjpeg import tables

    for sub in ("4:2:0", "4:2:2", "4:4:0", "4:1:1"):
        img = image(83, 121, 3, 12, RNG)
        for kw in (dict(restart_interval=1), dict(restart_interval=5), dict(restart_rows=1),
                   dict(restart_rows=2), dict(progressive=True),
                   dict(progressive=True, restart_rows=1)):
            data = fdjpeg.encode(img, quality=80, subsampling=sub, **kw)
            check_regions(data, imagecodecs.jpeg8_decode(data), n=12)
        T = np.asarray(tables.default_fd(), np.uint16)
        data = fdjpeg.encode(img, quality=95, subsampling=sub, restart_interval=4)
        # the purified full decode equals libjpeg-turbo's decode of the coefficients
        # requantized outside fdjpeg (test_precision.py); here every region equals it
        check_regions(data, fdjpeg.decode(data, purify=T), n=12, purify=T)
    grey = image(70, 90, 1, 12, RNG)
    data = fdjpeg.encode(grey, quality=75, restart_interval=7)
    check_regions(data, imagecodecs.jpeg8_decode(data))


def test_12bit_region_out_array_and_dtype():
    img = image(40, 56, 3, 12, RNG)
    data = imagecodecs.jpeg8_encode(img, level=90, bitspersample=12, subsampling="420")
    full = imagecodecs.jpeg8_decode(data)
    out = np.zeros((10, 20, 3), np.uint16)
    got = fdjpeg.decode(data, region=(11, 13, 20, 10), out=out)
    assert got is out and np.array_equal(out, full[13:23, 11:31])
    with pytest.raises(ValueError, match="uint16"):
        fdjpeg.decode(data, region=(11, 13, 20, 10), out=np.zeros((10, 20, 3), np.uint8))
    dec = _codec.Decoder(data)
    assert dec.decode_region(0, 0, 3, 2).dtype == np.uint16


def test_12bit_region_reads_nothing_after_its_last_mcu_row():
    img = image(160, 64, 3, 12, RNG)
    data = imagecodecs.jpeg8_encode(img, level=90, bitspersample=12, subsampling="420")
    full = imagecodecs.jpeg8_decode(data)
    cut = data[: len(data) * 2 // 3]
    with pytest.raises(fdjpeg.TruncatedJPEGError):
        fdjpeg.decode(cut)
    # rows 3..31: MCU rows 0 and 1, + 1 of context, well before the cut
    assert np.array_equal(fdjpeg.decode(cut, region=(5, 3, 50, 29)), full[3:32, 5:55])
    with pytest.raises(fdjpeg.TruncatedJPEGError):
        fdjpeg.decode(cut, region=(0, 140, 10, 10))
    # a progressive file has no such shortcut: every scan is read
    prog = fdjpeg.encode(img, quality=90, subsampling="4:2:0", progressive=True)
    with pytest.raises(fdjpeg.JPEGError):
        fdjpeg.decode(prog[: len(prog) * 2 // 3], region=(5, 3, 50, 29))


def test_12bit_region_skips_restart_intervals():
    """Damage inside a restart interval before the region is never read: the decoder
    jumps to the marker of the interval holding the region's first MCU row."""
    img = image(256, 64, 3, 12, RNG)
    data = fdjpeg.encode(img, quality=90, subsampling="4:2:0", restart_rows=1)
    full = imagecodecs.jpeg8_decode(data)
    sos = data.index(b"\xff\xda")
    first_rst = data.index(b"\xff\xd0", sos)
    # overwrite bytes of the first interval's entropy data with a bad marker
    bad = bytearray(data)
    bad[first_rst - 6:first_rst - 4] = b"\xff\x01"
    bad = bytes(bad)
    assert not np.array_equal(fdjpeg.decode(bad), full)  # a full decode reads the damage
    assert np.array_equal(fdjpeg.decode(bad, region=(8, 200, 20, 30)), full[200:230, 8:28])


def test_12bit_scale_is_refused_with_a_reason():
    img = image(16, 16, 3, 12, RNG)
    data = imagecodecs.jpeg8_encode(img, level=90, bitspersample=12)
    for scale in (2, 4, 8):
        with pytest.raises(fdjpeg.UnsupportedJPEGError, match="12-bit"):
            fdjpeg.decode(data, scale=scale)
        with pytest.raises(fdjpeg.UnsupportedJPEGError, match="12-bit"):
            fdjpeg.decode(data, scale=scale, region=(0, 0, 2, 2))


# ---- lossless --------------------------------------------------------------------------

@pytest.mark.parametrize("bits", [2, 6, 8, 10, 12, 16])
def test_lossless_regions_imagecodecs(bits):
    n = 0
    for c in (1, 3):
        for shape in ((1, 1), (13, 7), (40, 33)):
            img = image(*shape, c, bits, RNG)
            for psv in (1, 4, 7):
                data = imagecodecs.jpeg8_encode(img, lossless=True, bitspersample=bits,
                                                predictor=psv)
                n += check_regions(data, imagecodecs.jpeg8_decode(data), n=8)
    assert n > 60


@pytest.mark.parametrize("bits", [5, 8, 12, 16])
def test_lossless_regions_point_transform_restarts_scans(bits):
    for psv in (1, 6):
        for pt in (0, bits // 2):
            for ncomp, interleave, restart_rows in ((1, False, 3), (3, True, 2), (3, False, 0),
                                                    (4, True, 0), (4, False, 1)):
                planes = [image(21, 17, 1, bits, RNG) for _ in range(ncomp)]
                data = lossless_jpeg(planes, psv, precision=bits, pt=pt,
                                     restart_rows=restart_rows, interleave=interleave,
                                     adobe=0 if ncomp == 3 else None)
                want = as_libjpeg(imagecodecs.jpeg8_decode(data), bits)
                check_regions(data, want.reshape(fdjpeg.decode(data).shape), n=8)


def test_lossless_region_reads_nothing_after_its_last_row():
    planes = [image(120, 40, 1, 12, RNG) for _ in range(3)]
    data = lossless_jpeg(planes, 4, precision=12, interleave=True)
    full = imagecodecs.jpeg8_decode(data)
    cut = data[: len(data) // 2]
    with pytest.raises(fdjpeg.TruncatedJPEGError):
        fdjpeg.decode(cut)
    assert np.array_equal(fdjpeg.decode(cut, region=(3, 10, 30, 20)), full[10:30, 3:33])
    with pytest.raises(fdjpeg.TruncatedJPEGError):
        fdjpeg.decode(cut, region=(0, 110, 5, 5))
    # one scan per component: every scan is read, so the cut is found
    sep = lossless_jpeg(planes, 4, precision=12, interleave=False)
    with pytest.raises(fdjpeg.TruncatedJPEGError):
        fdjpeg.decode(sep[: len(sep) * 5 // 6], region=(3, 10, 30, 20))


def test_lossless_second_scan_after_an_interleaved_one_is_refused_as_libjpeg():
    """fuzz_region finding (fuzz/regressions/decode/lossless-second-interleaved-scan.jpg):
    a second SOS after a scan holding every component is an error for libjpeg-turbo
    (single-pass mode, JERR_EOI_EXPECTED); fdjpeg decoded the second scan, and regions,
    which stop after the first, differed.  Now both refuse it, as imagecodecs and Pillow."""
    from pathlib import Path

    data = (Path(__file__).resolve().parents[1] / "fuzz" / "regressions" / "decode" /
            "lossless-second-interleaved-scan.jpg").read_bytes()
    with pytest.raises(Exception):
        imagecodecs.jpeg8_decode(data)
    with pytest.raises(fdjpeg.JPEGError, match="second scan"):
        fdjpeg.decode(data)
    # built from scratch: two complete interleaved scans of a 12-bit image
    planes = [image(9, 12, 1, 12, RNG) for _ in range(3)]
    one = lossless_jpeg(planes, 1, precision=12, interleave=True)
    sos = one.index(b"\xff\xda")
    two = one[:-2] + one[sos:-2] + b"\xff\xd9"
    assert np.array_equal(fdjpeg.decode(one), imagecodecs.jpeg8_decode(one))
    with pytest.raises(Exception):
        imagecodecs.jpeg8_decode(two)
    with pytest.raises(fdjpeg.JPEGError, match="second scan"):
        fdjpeg.decode(two)


def test_12bit_second_scan_after_an_interleaved_one_is_refused_as_libjpeg():
    """fuzz_region finding (fuzz/regressions/decode/p12-second-sequential-scan.jpg): a
    sequential file whose first scan holds every component is decoded by libjpeg-turbo in
    one pass and a second SOS is an error; fdjpeg's whole-image path decoded it."""
    from pathlib import Path

    data = (Path(__file__).resolve().parents[1] / "fuzz" / "regressions" / "decode" /
            "p12-second-sequential-scan.jpg").read_bytes()
    with pytest.raises(Exception):
        imagecodecs.jpeg8_decode(data)
    with pytest.raises(fdjpeg.JPEGError, match="second scan"):
        fdjpeg.decode(data)
    for c, sub in ((1, None), (3, "420")):
        img = image(20, 24, c, 12, RNG)
        one = imagecodecs.jpeg8_encode(img, level=80, bitspersample=12, subsampling=sub)
        sos = one.index(b"\xff\xda")
        two = one[:-2] + one[sos:-2] + b"\xff\xd9"
        with pytest.raises(Exception):
            imagecodecs.jpeg8_decode(two)
        with pytest.raises(fdjpeg.JPEGError, match="second scan"):
            fdjpeg.decode(two)
        # a region before the second scan is not affected: it never reads that far
        assert np.array_equal(fdjpeg.decode(two, region=(0, 0, 5, 5)),
                              imagecodecs.jpeg8_decode(one)[:5, :5])


def test_lossless_single_scan_cut_after_its_scan_keeps_rows_as_pillow(monkeypatch):
    """fuzz_region finding (fuzz/regressions/decode/lossless-single-scan-bad-sos-after.jpg,
    options allow_truncated + RGB): a single-scan lossless file followed by an SOS segment
    longer than the data.  libjpeg-turbo outputs every row in its one pass before reading
    what follows, and Pillow (LOAD_TRUNCATED_IMAGES) keeps them; fdjpeg gave a zero image
    (its rule for multi-scan files), while a region gave the rows."""
    import io
    from pathlib import Path

    from PIL import Image, ImageFile

    data = (Path(__file__).resolve().parents[1] / "fuzz" / "regressions" / "decode" /
            "lossless-single-scan-bad-sos-after.jpg").read_bytes()
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    im = Image.open(io.BytesIO(data))
    im.load()
    want = np.asarray(im)
    got = fdjpeg.decode(data, allow_truncated=True)
    assert np.array_equal(got, want) and want.any()
    assert np.array_equal(fdjpeg.decode(data, allow_truncated=True, region=(6, 4, 3, 2)),
                          want[4:6, 6:9])
    with pytest.raises(fdjpeg.JPEGError):
        fdjpeg.decode(data)


def test_8bit_arithmetic_second_scan_refused_as_pillow():
    """Finding 8 reaches 8-bit arithmetic sequential files too (they take the whole-image
    path): a second scan after one holding every component is an error for Pillow's
    libjpeg-turbo, and now for fdjpeg."""
    import io
    import subprocess

    from PIL import Image

    from conftest import need_tool

    exe = need_tool("cjpeg")
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (24, 40, 3), dtype=np.uint8)
    ppm = b"P6\n40 24\n255\n" + img.tobytes()
    one = subprocess.run([exe, "-arithmetic", "-quality", "85"], input=ppm, capture_output=True,
                         check=True).stdout
    assert fdjpeg.inspect(one)["sof"] == 9
    assert np.array_equal(fdjpeg.decode(one), np.asarray(Image.open(io.BytesIO(one))))
    sos = one.index(b"\xff\xda")
    two = one[:-2] + one[sos:-2] + b"\xff\xd9"
    with pytest.raises(OSError):
        Image.open(io.BytesIO(two)).load()
    with pytest.raises(fdjpeg.JPEGError, match="second scan"):
        fdjpeg.decode(two)
