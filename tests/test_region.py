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
    """Lossless frames: reconstructed down to the region's last row, then only the region
    rendered (Pillow decodes 8-bit SOF3; more in test_region_precision.py)."""
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


# ---- users of region decode: fdjpeg.open(...).crop and the torch random-resized-crop ----

@pytest.mark.parametrize("kind", ["420", "gray", "cmyk", "progressive"])
def test_pillow_crop_before_load_decodes_the_region(kind, tmp_path):
    img = photo(90, 117, seed=15)
    if kind == "cmyk":
        data = pil_bytes(img, mode="CMYK", quality=85)
    elif kind == "gray":
        data = pil_bytes(img, mode="L", quality=85)
    else:
        data = pil_bytes(img, quality=85, subsampling="4:2:0", progressive=kind == "progressive")
    path = tmp_path / "a.jpg"
    path.write_bytes(data)
    for box in [(0, 0, 117, 90), (5, 7, 60, 50), (116, 89, 117, 90), (10.4, 20.6, 40.5, 33.2)]:
        im = fdjpeg.open(path)
        got = im.crop(box)
        assert im.tile, "crop before load() must not load the whole image"
        ref = Image.open(path).crop(box)
        assert got.mode == ref.mode and got.size == ref.size
        np.testing.assert_array_equal(np.asarray(got), np.asarray(ref))
        np.testing.assert_array_equal(np.asarray(im.crop(box)), np.asarray(ref))  # still lazy
    # boxes reaching outside (Pillow pads them) and loaded images take Pillow's own crop
    for box in [(-5, -5, 20, 20), (100, 80, 130, 100)]:
        np.testing.assert_array_equal(np.asarray(fdjpeg.open(path).crop(box)),
                                      np.asarray(Image.open(path).crop(box)))
    im = fdjpeg.open(path)
    im.load()
    np.testing.assert_array_equal(np.asarray(im.crop((3, 4, 50, 60))),
                                  np.asarray(Image.open(path).crop((3, 4, 50, 60))))


def test_pillow_crop_after_draft():
    data = pil_bytes(photo(90, 117, seed=16), quality=85, subsampling="4:2:0")
    im = fdjpeg.open(io.BytesIO(data))
    im.draft("RGB", (30, 23))
    ref = Image.open(io.BytesIO(data))
    ref.draft("RGB", (30, 23))
    assert im.size == ref.size == (59, 45)  # Pillow picks the scale that stays >= the request
    np.testing.assert_array_equal(np.asarray(im.crop((4, 3, 20, 19))),
                                  np.asarray(ref.crop((4, 3, 20, 19))))


def test_pillow_crop_purified():
    data = pil_bytes(photo(64, 80, seed=17), quality=95, subsampling="4:2:0")
    im = fdjpeg.open(io.BytesIO(data), purify=True)
    np.testing.assert_array_equal(np.asarray(im.crop((9, 10, 70, 50))),
                                  fdjpeg.decode(data, purify=True)[10:50, 9:70])


@pytest.mark.parametrize("output", ["pil", "numpy", "tensor"])
def test_random_resized_crop_decode(output):
    torch = pytest.importorskip("torch")
    from fdjpeg.torch import RandomResizedCropDecode

    data = pil_bytes(photo(150, 210, seed=18), quality=90, subsampling="4:2:0")
    t = RandomResizedCropDecode((48, 64), output=output)
    full = Image.open(io.BytesIO(data))
    full.load()
    seen = set()
    for seed in range(25):
        torch.manual_seed(seed)
        got = t(data)
        torch.manual_seed(seed)
        x, y, w, h = t.get_params(210, 150)
        seen.add((x, y, w, h))
        assert 0 <= x and x + w <= 210 and 0 <= y and y + h <= 150
        ref = np.asarray(full.crop((x, y, x + w, y + h)).resize((64, 48), Image.Resampling.BILINEAR))
        if output == "pil":
            got = np.asarray(got)
        elif output == "tensor":
            assert got.dtype == torch.uint8 and tuple(got.shape) == (3, 48, 64)
            got = got.permute(1, 2, 0).numpy()
        np.testing.assert_array_equal(got, ref)
    assert len(seen) > 20  # the crops really are random


def test_random_resized_crop_params_follow_torchvision_rules():
    torch = pytest.importorskip("torch")
    from fdjpeg.torch import RandomResizedCropDecode

    t = RandomResizedCropDecode(32, scale=(0.25, 0.5), ratio=(0.5, 2.0))
    torch.manual_seed(0)
    for _ in range(200):
        x, y, w, h = t.get_params(300, 200)
        # round() of the sqrt gives a little slack around the area and ratio bounds
        assert 0.25 * 60000 * 0.95 <= w * h <= 0.5 * 60000 * 1.05
        assert 0.5 * 0.9 <= w / h <= 2.0 * 1.1
    # impossible ratios: torchvision's centre-crop fallback
    t = RandomResizedCropDecode(32, scale=(1.0, 1.0), ratio=(3.0, 4.0))
    assert t.get_params(100, 100) == (0, 33, 100, 33)
    with pytest.raises(ValueError):
        RandomResizedCropDecode(0)
    with pytest.raises(ValueError):
        RandomResizedCropDecode(8, output="list")


def test_random_resized_crop_purify_and_path(tmp_path):
    torch = pytest.importorskip("torch")
    from fdjpeg.torch import RandomResizedCropDecode

    data = pil_bytes(photo(100, 100, seed=19), quality=95)
    path = tmp_path / "x.jpg"
    path.write_bytes(data)
    t = RandomResizedCropDecode(20, purify="fd", output="numpy")
    torch.manual_seed(3)
    got = t(path)
    torch.manual_seed(3)
    x, y, w, h = t.get_params(100, 100)
    crop = fdjpeg.decode(data, purify="fd")[y:y + h, x:x + w]
    ref = np.asarray(Image.fromarray(crop).resize((20, 20), Image.Resampling.BILINEAR))
    np.testing.assert_array_equal(got, ref)


def _conformance_files():
    root = CORPUS / "conformance"
    return sorted(str(p.relative_to(CORPUS)) for p in root.rglob("*.jpg")) if root.is_dir() else []


@pytest.mark.parametrize("rel", _conformance_files() or ["conformance"])
def test_region_every_conformance_file(rel):
    """Every conformance file (YCCK, CMYK, 16-bit tables, odd sizes, lossless, ...): a region
    is the full decode cropped -- Pillow's where it decodes the file and fdjpeg agrees with it
    (test_decode_any lists the rest), fdjpeg's own otherwise.  A file refused at its headers
    is refused for a region too; one refused later in its data may still give a region that
    lies before the damage, or the same error, never another kind of exception."""
    data = need_corpus(CORPUS / rel).read_bytes()
    try:
        full = fdjpeg.decode(data)
    except fdjpeg.JPEGError as e:
        try:
            _codec.Decoder(data)
        except fdjpeg.JPEGError:
            with pytest.raises(type(e)):
                fdjpeg.decode(data, region=(0, 0, 1, 1))
            return
        for region in [(0, 0, 1, 1), (0, 0, 8, 8)]:
            try:
                fdjpeg.decode(data, region=region)
            except fdjpeg.JPEGError:
                pass
        return
    try:
        ref = pil_full(data)
    except (OSError, SyntaxError):
        ref = None
    if ref is None or ref.shape != full.shape or not np.array_equal(full, ref):
        ref = full
    check_regions(data, ref, n=8)


# ---- damaged input: region decode and strips fail only with JPEGError, and agree with
# ---- the full decode wherever it succeeds

def _region_everything(data, rng):
    opts = {"max_pixels": 1 << 22, "max_scans": 200}
    for kw in ({}, {"allow_truncated": True, "scale": 2}, {"purify": True}, {"mode": "L"}):
        try:
            full = fdjpeg.decode(data, **opts, **kw)
        except fdjpeg.JPEGError:
            full = None
        if full is None:
            try:
                dec = fdjpeg._api._open(data, **opts, **kw)
            except fdjpeg.JPEGError:
                continue
            h, w, _ = dec.output_shape()
        else:
            h, w = full.shape[:2]
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        region = (x, y, int(rng.integers(1, w - x + 1)), int(rng.integers(1, h - y + 1)))
        try:
            got = fdjpeg.decode(data, region=region, **opts, **kw)
        except fdjpeg.JPEGError:
            assert full is None, f"region {region} refused where the full decode succeeds ({kw})"
            continue
        if full is not None:
            x, y, rw, rh = region
            np.testing.assert_array_equal(got, full[y:y + rh, x:x + rw], err_msg=str((region, kw)))
        try:
            strips = read_all_rows(data, int(rng.integers(1, 20)), **opts, **kw)
        except fdjpeg.JPEGError:
            assert full is None
            continue
        assert full is not None
        np.testing.assert_array_equal(strips, full)


def test_region_on_mutated_files():
    rng = np.random.default_rng(77)
    bases = [pil_bytes(photo(40, 52, seed=20), quality=85, subsampling="4:2:0", restart_marker_rows=1),
             pil_bytes(photo(33, 41, seed=21), quality=80, progressive=True),
             cjpeg_bytes(photo(30, 45, seed=22), "-sample", "2x1,1x1,1x1", "-restart", "2B"),
             cjpeg_bytes(photo(24, 24, seed=23), "-arithmetic")]
    for base in bases:
        for _ in range(120):
            b = bytearray(base)
            for _ in range(int(rng.integers(1, 4))):
                at = int(rng.integers(2, len(b)))
                kind = rng.integers(0, 3)
                if kind == 0:
                    b[at] = int(rng.integers(0, 256))
                elif kind == 1:
                    del b[at:at + int(rng.integers(1, 12))]
                else:
                    b[at:at] = bytes(rng.integers(0, 256, int(rng.integers(1, 6)), dtype=np.uint8))
            _region_everything(bytes(b), rng)


def test_region_on_malformed_corpus():
    folder = need_corpus(CORPUS / "malformed")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg"))
    assert files
    rng = np.random.default_rng(78)
    for p in files:
        _region_everything(p.read_bytes(), rng)
