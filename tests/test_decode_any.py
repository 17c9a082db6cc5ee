"""Decode any JPEG people have (issue 3): every corpus file against Pillow, and generated
files from cjpeg/jpegtran (libjpeg-turbo-progs) and Pillow — progressive, arithmetic,
lossless, CMYK/YCCK, restarts, odd sampling, truncation, junk between markers.

Pillow 13 (libjpeg-turbo 3.2) is the reference, computed at test time.
"""
from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

import fdjpeg

skdata = pytest.importorskip("skimage.data")

HERE = Path(__file__).resolve().parent
from conftest import CORPUS  # FDJPEG_CORPUS or ../shared/corpus
CJPEG = shutil.which("cjpeg")
JPEGTRAN = shutil.which("jpegtran")
need_cjpeg = pytest.mark.skipif(CJPEG is None, reason="cjpeg (libjpeg-turbo-progs) not installed")
need_jpegtran = pytest.mark.skipif(JPEGTRAN is None,
                                   reason="jpegtran (libjpeg-turbo-progs) not installed")


# --------------------------------------------------------------------------- helpers

def pil_decode(data: bytes, *, truncated_ok: bool = False) -> np.ndarray:
    old = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = truncated_ok
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            return np.asarray(im)
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = old


def assert_same(a: np.ndarray, b: np.ndarray, what: str = "") -> None:
    assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
    if not np.array_equal(a, b):
        d = np.abs(a.astype(np.int16) - b.astype(np.int16))
        raise AssertionError(f"{what}: {int((d != 0).sum())} values differ, max {int(d.max())}")


def photo(name: str = "astronaut", h: int | None = None, w: int | None = None) -> np.ndarray:
    img = getattr(skdata, name)()
    if h is not None:
        img = img[:h, :w]
    return np.ascontiguousarray(img)


def to_ppm(arr: np.ndarray, path: Path) -> Path:
    Image.fromarray(arr).save(path)
    return path


def cjpeg(tmp_path: Path, arr: np.ndarray, *args: str, name: str = "in") -> bytes:
    src = to_ppm(arr, tmp_path / (name + (".pgm" if arr.ndim == 2 else ".ppm")))
    out = tmp_path / (name + ".jpg")
    subprocess.run([CJPEG, *args, "-outfile", str(out), str(src)], check=True)
    return out.read_bytes()


def jpegtran(tmp_path: Path, data: bytes, *args: str) -> bytes:
    src = tmp_path / "tran_in.jpg"
    src.write_bytes(data)
    r = subprocess.run([JPEGTRAN, *args, str(src)], check=True, capture_output=True)
    return r.stdout


def sos_offsets(data: bytes) -> list[int]:
    """Offsets of the SOS markers, found by walking the marker segments and scans."""
    out, i = [], 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        m = data[i + 1]
        if m == 0xFF:
            i += 1
            continue
        if m == 0xD9:
            break
        if m in (0x00,) or 0xD0 <= m <= 0xD7:
            i += 2
            continue
        seglen = (data[i + 2] << 8) | data[i + 3]
        if m == 0xDA:
            out.append(i)
            j = i + 2 + seglen
            while j + 1 < len(data) and not (data[j] == 0xFF and data[j + 1] not in (0x00,)
                                             and not 0xD0 <= data[j + 1] <= 0xD7):
                j += 1
            i = j
            continue
        i += 2 + seglen
    return out


# --------------------------------------------------------------------------- corpus

def _manifest() -> list[str]:
    man = CORPUS / "MANIFEST.tsv"
    if not man.exists():
        return []
    rows = man.read_text().splitlines()[1:]
    paths = [r.split("\t")[0] for r in rows if r.strip()]
    return [p for p in paths if p.startswith(("conformance/", "malformed/"))]


CORPUS_FILES = _manifest()

# Files whose pixels in Pillow come from libjpeg-turbo's AVX2 ISLOW IDCT overflowing its
# 16-bit arithmetic.  fdjpeg reproduces that arithmetic for such blocks (dec_idct_emul.c), so
# the list is empty; a file listed here must differ (value: the reason).
SIMD_OVERFLOW: dict[str, str] = {}

# Files Pillow refuses that fdjpeg decodes tolerantly, with the reason.
TOLERATED: dict[str, str] = {}

# Files Pillow decodes that fdjpeg refuses, with the reason.
REFUSED: dict[str, str] = {}


def _run_batch(paths: list[str]) -> dict[str, dict]:
    """Run corpus_check.py over the paths, restarting after a crash or hang; a file that
    killed the worker is reported with fd = "CRASH"."""
    results: dict[str, dict] = {}
    todo = list(paths)
    while todo:
        proc = subprocess.run(
            [sys.executable, str(HERE / "corpus_check.py"), str(CORPUS), *todo],
            capture_output=True, text=True, timeout=None if len(todo) > 1 else 120,
            cwd=str(HERE.parent))
        for line in proc.stdout.splitlines():
            if line.startswith("{"):
                r = json.loads(line)
                results[r["path"]] = r
        todo = [p for p in todo if p not in results]
        if todo:
            bad = todo.pop(0)
            results[bad] = {"path": bad, "fd": "CRASH", "fd_msg": proc.stderr[-2000:],
                            "pillow": None}
    return results


@pytest.fixture(scope="module")
def corpus_results():
    if not CORPUS_FILES:
        pytest.skip(f"shared corpus not found at {CORPUS}")
    results: dict[str, dict] = {}
    batch = 40
    for i in range(0, len(CORPUS_FILES), batch):
        results.update(_run_batch(CORPUS_FILES[i:i + batch]))
    return results


@pytest.mark.parametrize("rel", CORPUS_FILES or ["<no corpus>"])
def test_corpus_file_matches_pillow(corpus_results, rel):
    r = corpus_results[rel]
    assert r["fd"] != "CRASH", f"fdjpeg crashed the worker on {rel}: {r['fd_msg']}"
    if r["fd"] != "ok":
        assert r.get("fd_is_jpegerror"), f"{rel}: non-JPEGError {r['fd']}: {r['fd_msg']}"
    if r["pillow"] == "ok":
        if rel in REFUSED:
            assert r["fd"] != "ok", f"{rel} is listed as refused but now decodes: update REFUSED"
            return
        assert r["fd"] == "ok", f"Pillow decodes {rel}, fdjpeg raises {r['fd']}: {r['fd_msg']}"
        assert r["shape_ok"], f"{rel}: shape {r.get('fd_shape')} differs from Pillow's"
        if rel in SIMD_OVERFLOW:
            assert r["ndiff"] > 0, f"{rel} is listed in SIMD_OVERFLOW but is now exact"
        else:
            assert r["maxdiff"] == 0, f"{rel}: {r['ndiff']} values differ (max {r['maxdiff']})"
        if r["pil_mode"] == "CMYK":
            assert r["rgb_maxdiff"] == 0, f"{rel}: mode='RGB' differs from Pillow's convert"
    else:
        if rel in TOLERATED:
            assert r["fd"] == "ok", f"{rel} listed as tolerated but fdjpeg raises {r['fd']}"
        elif r["fd"] == "ok" and _higher_precision_as_libjpeg(CORPUS / rel):
            pass  # 12-bit / non-8-bit lossless: Pillow has no decoder, libjpeg-turbo 3 agrees
        else:
            assert r["fd"] != "ok", f"Pillow refuses {rel} ({r['pillow']}), fdjpeg decodes it"


def _higher_precision_as_libjpeg(path: Path) -> bool:
    """A frame of precision != 8 that fdjpeg decodes exactly as libjpeg-turbo 3
    (imagecodecs.jpeg8_decode); tests/test_precision.py covers these in depth."""
    data = path.read_bytes()
    precision = fdjpeg.inspect(data)["precision"]
    if precision == 8:
        return False
    imagecodecs = pytest.importorskip("imagecodecs")
    got, want = fdjpeg.decode(data), imagecodecs.jpeg8_decode(data)
    if got.ndim == 3 and got.shape[2] == 4:  # fdjpeg's CMYK is inverted (Pillow's convention)
        got = ((1 << precision) - 1 - got.astype(np.int64)).astype(got.dtype)
    assert got.dtype == want.dtype and np.array_equal(got, want), f"{path.name} differs from libjpeg"
    return True


def test_corpus_summary(corpus_results, capsys):
    """The numbers for the issue note: decoded, bit-exact, refused."""
    res = list(corpus_results.values())
    pil_ok = [r for r in res if r["pillow"] == "ok"]
    exact = [r for r in pil_ok if r["fd"] == "ok" and r["maxdiff"] == 0]
    decoded = [r for r in res if r["fd"] == "ok"]
    both_refuse = [r for r in res if r["pillow"] != "ok" and r["fd"] != "ok"]
    with capsys.disabled():
        print(f"\ncorpus: {len(res)} files, Pillow decodes {len(pil_ok)}, fdjpeg decodes "
              f"{len(decoded)}, bit-exact {len(exact)}/{len(pil_ok)}, both refuse "
              f"{len(both_refuse)}, documented SIMD-overflow {len(SIMD_OVERFLOW)}, "
              f"tolerated {len(TOLERATED)}")
    assert len(exact) + len(SIMD_OVERFLOW) + len(REFUSED) == len(pil_ok)


# --------------------------------------------------------------------------- generated: cjpeg

SAMPLINGS = ["1x1", "2x1", "1x2", "2x2", "4x1", "1x4", "4x2", "2x4", "3x1", "1x3", "3x2"]
SIZES = [(1, 1), (7, 9), (17, 33), (31, 16), (100, 77), (64, 64)]


@need_cjpeg
@pytest.mark.parametrize("sample", SAMPLINGS)
@pytest.mark.parametrize("size", SIZES)
def test_cjpeg_sampling_and_sizes_match_pillow(tmp_path, sample, size):
    arr = photo("astronaut", *size)
    for extra in ([], ["-progressive"], ["-restart", "1"]):
        data = cjpeg(tmp_path, arr, "-sample", sample, *extra)
        assert_same(fdjpeg.decode(data), pil_decode(data), f"{sample} {size} {extra}")


@need_cjpeg
@pytest.mark.parametrize("args", [
    ["-optimize"], ["-restart", "3"], ["-restart", "1B"], ["-quality", "100"],
    ["-quality", "3"], ["-grayscale"], ["-rgb"], ["-dct", "int", "-smooth", "30"],
    ["-progressive", "-restart", "2"], ["-baseline", "-quality", "5"],
])
def test_cjpeg_options_match_pillow(tmp_path, args):
    for name, size in (("astronaut", (120, 95)), ("coffee", (67, 130))):
        arr = photo(name, *size)
        data = cjpeg(tmp_path, arr, *args)
        assert_same(fdjpeg.decode(data), pil_decode(data), f"{name} {args}")


@need_cjpeg
def test_cjpeg_grayscale_input(tmp_path):
    arr = photo("camera", 99, 101)
    for extra in ([], ["-progressive"], ["-arithmetic"], ["-arithmetic", "-progressive"]):
        data = cjpeg(tmp_path, arr, *extra)
        assert_same(fdjpeg.decode(data), pil_decode(data), str(extra))


# --------------------------------------------------------------------------- arithmetic (SOF9/10)

@need_cjpeg
@pytest.mark.parametrize("args", [
    ["-arithmetic"], ["-arithmetic", "-progressive"], ["-arithmetic", "-restart", "2"],
    ["-arithmetic", "-progressive", "-restart", "1"], ["-arithmetic", "-sample", "1x1"],
    ["-arithmetic", "-sample", "2x1"], ["-arithmetic", "-quality", "30"],
    ["-arithmetic", "-progressive", "-sample", "1x2"],
])
def test_arithmetic_matches_pillow(tmp_path, args):
    for size in ((64, 80), (93, 127), (1, 1), (9, 300)):
        arr = photo("astronaut", *size)
        data = cjpeg(tmp_path, arr, *args)
        sof = data[2:].find(b"\xff\xc9") >= 0 or data[2:].find(b"\xff\xca") >= 0
        assert sof, "cjpeg did not write an arithmetic frame"
        assert_same(fdjpeg.decode(data), pil_decode(data), f"{args} {size}")


@need_cjpeg
def test_arithmetic_coefficients_match_jpeglib(tmp_path):
    jpeglib = pytest.importorskip("jpeglib")
    arr = photo("coffee", 150, 200)
    data = cjpeg(tmp_path, arr, "-arithmetic", "-progressive")
    base = cjpeg(tmp_path, arr, name="huff")  # same coefficients, Huffman-coded
    ours = fdjpeg.read_coefficients(data)["coefficients"]
    ref = jpeglib.read_dct(str(tmp_path / "huff.jpg"))
    for got, want in zip(ours, (ref.Y, ref.Cb, ref.Cr)):
        np.testing.assert_array_equal(got, want)
    assert_same(fdjpeg.decode(data), fdjpeg.decode(base), "arithmetic vs Huffman")


@need_cjpeg
def test_large_arithmetic_file_matches_djpeg(tmp_path):
    """Pillow feeds libjpeg 64 KiB at a time and libjpeg's arithmetic decoder cannot
    suspend, so Pillow fails on arithmetic files larger than that; djpeg (stdio source)
    decodes them and is the reference here."""
    djpeg = shutil.which("djpeg")
    if djpeg is None:
        pytest.skip("djpeg not installed")
    arr = photo("astronaut")
    data = cjpeg(tmp_path, arr, "-arithmetic", "-quality", "98")
    assert len(data) > 65536
    out = subprocess.run([djpeg, "-pnm", str(tmp_path / "in.jpg")], check=True,
                         capture_output=True).stdout
    ref = np.asarray(Image.open(io.BytesIO(out)))
    assert_same(fdjpeg.decode(data), ref, "large arithmetic")


# --------------------------------------------------------------------------- lossless (SOF3)

def _lossless_jpeg(planes: list[np.ndarray], psv: int, pt: int = 0, restart_rows: int = 0,
                   sampling=None) -> bytes:
    """A minimal lossless JPEG writer (T.81 Annex H) for tests: non-interleaved when
    sampling differs, one Huffman table with every category 0..16 at 5 bits."""
    ncomp = len(planes)
    sampling = sampling or [(1, 1)] * ncomp
    maxh = max(h for h, _ in sampling)
    maxv = max(v for _, v in sampling)
    hgt = planes[0].shape[0] * maxv // sampling[0][1]
    wid = planes[0].shape[1] * maxh // sampling[0][0]

    def seg(marker, payload):
        return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload

    bits = [0] * 16
    bits[4] = 17  # 17 codes of length 5
    dht = bytes([0x00]) + bytes(bits) + bytes(range(17))
    out = b"\xff\xd8" + seg(0xC4, dht)
    sof = bytes([8]) + hgt.to_bytes(2, "big") + wid.to_bytes(2, "big") + bytes([ncomp])
    for i, (h, v) in enumerate(sampling):
        sof += bytes([i + 1, (h << 4) | v, 0])
    out += seg(0xC3, sof)
    for ci, plane in enumerate(planes):
        ph, pw = plane.shape
        if restart_rows:  # one DRI per scan: the interval counts this component's samples
            out += seg(0xDD, (restart_rows * pw).to_bytes(2, "big"))
        x = plane.astype(np.int64) >> pt
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

        def flush():
            nonlocal acc, nacc
            if nacc:
                put((1 << (8 - nacc)) - 1, 8 - nacc)

        rst = 0
        for r in range(ph):
            if restart_rows and r and r % restart_rows == 0:
                flush()
                body += bytes([0xFF, 0xD0 + rst])
                rst = (rst + 1) & 7
            first = r == 0 or (restart_rows and r % restart_rows == 0)
            for c in range(pw):
                if first:
                    pred = (1 << (8 - pt - 1)) if c == 0 else x[r, c - 1]
                elif c == 0:
                    pred = x[r - 1, 0]
                else:
                    ra, rb, rc = x[r, c - 1], x[r - 1, c], x[r - 1, c - 1]
                    pred = [None, ra, rb, rc, ra + rb - rc, ra + ((rb - rc) >> 1),
                            rb + ((ra - rc) >> 1), (ra + rb) >> 1][psv]
                diff = int(x[r, c] - pred)
                diff = ((diff + 32768) & 0xFFFF) - 32768
                if diff == 0:
                    put(0, 5)
                    continue
                mag = abs(diff)
                ssss = mag.bit_length()
                put(ssss, 5)
                if ssss < 16:
                    put(diff if diff > 0 else diff + (1 << ssss) - 1, ssss)
        flush()
        sos = bytes([1, ci + 1, 0x00, psv, 0, pt])
        out += seg(0xDA, sos) + bytes(body)
    return out + b"\xff\xd9"


def test_lossless_corpus_file():
    path = CORPUS / "conformance" / "lossless" / "1" / "jpeg_lossless_sel1-8bit.jpg"
    if not path.exists():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    data = path.read_bytes()
    assert_same(fdjpeg.decode(data), pil_decode(data), path.name)


@pytest.mark.parametrize("psv", range(1, 8))
@pytest.mark.parametrize("pt", [0, 2])
def test_lossless_predictors_match_pillow(psv, pt):
    gray = photo("camera", 37, 53)
    data = _lossless_jpeg([gray], psv, pt)
    ref = pil_decode(data)
    assert_same(fdjpeg.decode(data), ref, f"psv {psv} pt {pt}")
    if pt == 0:
        np.testing.assert_array_equal(ref, gray)  # the writer is really lossless


def test_lossless_colour_restarts_and_sampling_match_pillow():
    rgb = photo("astronaut", 40, 50)
    planes = [np.ascontiguousarray(rgb[..., i]) for i in range(3)]
    for kw in ({}, {"restart_rows": 3}):
        data = _lossless_jpeg(planes, 4, **kw)
        assert_same(fdjpeg.decode(data), pil_decode(data), f"rgb {kw}")
    sub = [planes[0], planes[1][::2, ::2].copy(), planes[2][::2, ::2].copy()]
    data = _lossless_jpeg(sub, 6, sampling=[(2, 2), (1, 1), (1, 1)])
    assert_same(fdjpeg.decode(data), pil_decode(data), "subsampled lossless")


def test_lossless_has_no_coefficients():
    data = _lossless_jpeg([photo("camera", 8, 8)], 1)
    with pytest.raises(fdjpeg.UnsupportedJPEGError):
        fdjpeg.read_coefficients(data)
    with pytest.raises(fdjpeg.UnsupportedJPEGError):
        fdjpeg.decode(data, scale=2)
    with pytest.raises(fdjpeg.UnsupportedJPEGError):
        fdjpeg._codec.Decoder(data, purify=np.ones((1, 64), np.uint16)).decode()


def test_lossless_bad_parameters_raise():
    data = bytearray(_lossless_jpeg([photo("camera", 8, 8)], 1))
    sos = data.find(b"\xff\xda")
    data[sos + 7] = 9  # predictor 9 does not exist
    with pytest.raises(fdjpeg.JPEGError):
        fdjpeg.decode(bytes(data))


# --------------------------------------------------------------------------- hostile coefficients

@pytest.mark.parametrize("seed", range(6))
def test_hostile_coefficients_match_pillow_simd_arithmetic(seed):
    """Coefficients far outside what an encoder makes, with large (16-bit) tables: Pillow's
    libjpeg-turbo runs its AVX2 IDCT, whose 16-bit wraps and saturations fdjpeg reproduces."""
    rng = np.random.default_rng(seed)
    hb, wb = 6, 7
    kinds = []
    for _ in range(hb * wb):
        kind = rng.integers(0, 4)
        blk = np.zeros((8, 8), np.int32)
        if kind == 0:    # DC row only (the kernel's shortcut), large values
            blk[0, :] = rng.integers(-1000, 1000, 8)
        elif kind == 1:  # a few coefficients as large as 8-bit Huffman coding allows
            idx = rng.integers(1, 64, 5)
            blk.flat[idx] = rng.integers(-1023, 1023, 5)
        elif kind == 2:  # dense moderate values
            blk[:] = rng.integers(-300, 300, (8, 8))
        else:            # ordinary small block
            blk[:3, :3] = rng.integers(-20, 20, (3, 3))
        blk[0, 0] = rng.integers(-500, 500)  # DC differences stay codable
        kinds.append(blk)
    coef = np.array(kinds, np.int16).reshape(hb, wb, 8, 8)
    table = rng.integers(1, 256, (8, 8)).astype(np.uint16)
    if seed % 2:
        table[rng.integers(0, 8, 4), rng.integers(0, 8, 4)] = rng.integers(300, 65535, 4)
    data = fdjpeg.write_coefficients([coef], table, width=wb * 8, height=hb * 8)
    assert_same(fdjpeg.decode(data), pil_decode(data), f"seed {seed}")


# --------------------------------------------------------------------------- progressive smoothing

def _cut_scans(data: bytes, keep: int) -> bytes:
    """The file up to (not including) SOS number keep, with EOI appended."""
    sos = sos_offsets(data)
    return data[:sos[keep]] + b"\xff\xd9"


@need_cjpeg
@pytest.mark.parametrize("sample", ["1x1", "2x1", "1x2", "2x2"])
@pytest.mark.parametrize("size", [(100, 77), (17, 33), (64, 64), (8, 200)])
def test_partial_progressive_block_smoothing_matches_pillow(tmp_path, sample, size):
    """Files whose scans stop early: libjpeg-turbo estimates the missing low AC (and DC)
    from the 5x5 block neighbourhood; Pillow shows that."""
    arr = photo("astronaut", *size)
    data = cjpeg(tmp_path, arr, "-progressive", "-sample", sample)
    nscans = len(sos_offsets(data))
    assert nscans >= 5
    for keep in range(1, nscans):
        cut = _cut_scans(data, keep)
        assert_same(fdjpeg.decode(cut), pil_decode(cut), f"{sample} {size} scans<{keep}")


def test_partial_progressive_gray_and_pillow_files():
    for arr in (photo("camera", 90, 70), photo("coffee", 55, 91)):
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, "JPEG", progressive=True, quality=85)
        data = buf.getvalue()
        for keep in range(1, len(sos_offsets(data))):
            cut = _cut_scans(data, keep)
            assert_same(fdjpeg.decode(cut), pil_decode(cut), f"scans<{keep}")
            assert_same(fdjpeg.decode(cut, scale=2), np.asarray(
                _pil_draft(cut, 2)), f"scale 2 scans<{keep}")


def _pil_draft(data: bytes, scale: int) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.draft(im.mode, (im.width // scale, im.height // scale))
    im.load()
    return im


# --------------------------------------------------------------------------- CMYK / YCCK

@pytest.mark.parametrize("kw", [{}, {"progressive": True}, {"quality": 40},
                                {"subsampling": 2}, {"restart_marker_blocks": 2}])
def test_cmyk_matches_pillow_and_inverts_like_pillow(kw):
    rgb = photo("astronaut", 61, 83)
    cmyk = Image.fromarray(rgb).convert("CMYK")
    k = np.asarray(cmyk).copy()
    k[..., 3] = (np.arange(83)[None, :] * 3 % 256).astype(np.uint8)  # a real K channel
    buf = io.BytesIO()
    Image.fromarray(k, "CMYK").save(buf, "JPEG", **kw)
    data = buf.getvalue()
    with Image.open(io.BytesIO(data)) as im:
        assert im.mode == "CMYK"
        ref = np.asarray(im)
        ref_rgb = np.asarray(im.convert("RGB"))
    out = fdjpeg.decode(data)
    assert out.shape == (61, 83, 4)
    assert_same(out, ref, f"CMYK {kw}")
    assert_same(fdjpeg.decode(data, mode="CMYK"), ref, "mode=CMYK")
    assert_same(fdjpeg.decode(data, mode="RGB"), ref_rgb, f"CMYK->RGB {kw}")
    # the Adobe convention: stored values are inverted; without inversion we get 255 - x
    raw = fdjpeg._codec.Decoder(data, invert_adobe_cmyk=False).decode()
    assert_same(raw, 255 - ref, "uninverted")


def test_ycck_corpus_file_matches_pillow_rgb():
    path = CORPUS / "conformance" / "ycck.jpg"
    if not path.exists():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    data = path.read_bytes()
    with Image.open(path) as im:
        ref_rgb = np.asarray(im.convert("RGB"))
        ref = np.asarray(im)
    assert_same(fdjpeg.decode(data), ref, "ycck")
    assert_same(fdjpeg.decode(data, mode="RGB"), ref_rgb, "ycck->RGB")


# --------------------------------------------------------------------------- truncation

def _truncation_cases():
    arr = photo("coffee", 90, 120)
    out = []
    for kw in ({"quality": 90}, {"quality": 75, "subsampling": 0},
               {"quality": 80, "restart_marker_blocks": 3},
               {"quality": 90, "progressive": True}):
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, "JPEG", **kw)
        out.append((str(kw), buf.getvalue()))
    return out


def _first_scan_range(data: bytes):
    sos = sos_offsets(data)
    return sos[0], (sos[1] if len(sos) > 1 else len(data))


@pytest.mark.parametrize("case", range(4))
def test_truncated_files_as_pillow(case):
    name, data = _truncation_cases()[case]
    first_lo, _ = _first_scan_range(data)
    cuts = sorted(set(range(first_lo + 2, len(data) - 1, 13)) | {len(data) - 1, len(data) - 2})
    exact = 0
    for cut in cuts:
        c = data[:cut]
        # default: a file cut before its EOI raises, as Pillow does
        try:
            pil_decode(c)
            pil_ok = True
        except OSError:
            pil_ok = False
        if pil_ok:
            assert_same(fdjpeg.decode(c), pil_decode(c), f"{name} cut {cut}")
        else:
            with pytest.raises(fdjpeg.JPEGError):
                fdjpeg.decode(c)
        # allow_truncated: Pillow with LOAD_TRUNCATED_IMAGES (it appends an EOI)
        try:
            ref = pil_decode(c, truncated_ok=True)
        except OSError:  # cut inside the headers: nothing to decode for either
            with pytest.raises(fdjpeg.JPEGError):
                fdjpeg.decode(c, allow_truncated=True)
            continue
        assert_same(fdjpeg.decode(c, allow_truncated=True), ref, f"{name} cut {cut} (truncated)")
        exact += 1
    assert exact > 10


def test_truncated_flag_and_segment_cut():
    _, data = _truncation_cases()[3]
    for blob, cut in ((data, False), (data + b"junk", False), (data[:-2], True),
                      (data[: len(data) // 2], True)):
        dec = fdjpeg._codec.Decoder(blob, allow_truncated=True)
        dec.decode()
        assert dec.was_truncated() == cut
    sos = sos_offsets(data)
    ref = pil_decode(data[: sos[2] + 5], truncated_ok=True)
    assert_same(fdjpeg.decode(data[: sos[2] + 5], allow_truncated=True), ref, "scan cut")
    # cut inside a marker segment between scans: Pillow returns its untouched (black) image
    cut = data[: sos[2] - 3]
    ref = pil_decode(cut, truncated_ok=True)
    assert_same(fdjpeg.decode(cut, allow_truncated=True), ref, "segment cut")
    with pytest.raises(fdjpeg.TruncatedJPEGError):
        fdjpeg.decode(cut)


# --------------------------------------------------------------------------- odd marker layouts

def _pil_jpeg(arr, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", **kw)
    return buf.getvalue()


def _insert_before(data: bytes, marker: int, blob: bytes, nth: int = 0) -> bytes:
    pos = [i for i in range(2, len(data) - 1) if data[i] == 0xFF and data[i + 1] == marker]
    i = pos[nth]
    return data[:i] + blob + data[i:]


@pytest.mark.parametrize("progressive", [False, True])
def test_fill_bytes_app_com_and_junk_match_pillow(progressive):
    arr = photo("astronaut", 70, 90)
    data = _pil_jpeg(arr, progressive=progressive, quality=85)
    com = b"\xff\xfe\x00\x07hello"
    app = b"\xff\xe7\x00\x06abcd"
    variants = {
        "fill before SOF": _insert_before(data, 0xC2 if progressive else 0xC0, b"\xff\xff\xff"),
        "fill before SOS": _insert_before(data, 0xDA, b"\xff" * 5),
        "COM+APP7 before DQT": _insert_before(data, 0xDB, com + app),
        "COM before SOS": _insert_before(data, 0xDA, com),
        "fill before EOI": data[:-2] + b"\xff\xff" + data[-2:],
        "junk after EOI": data + b"\x00garbage\xff\xd8\xff" * 3,
    }
    if progressive:
        variants["APP7 between scans"] = _insert_before(data, 0xDA, app, nth=2)
        variants["COM+fill between scans"] = _insert_before(data, 0xDA, com + b"\xff\xff", nth=3)
    for name, blob in variants.items():
        assert_same(fdjpeg.decode(blob), pil_decode(blob), name)


def test_extraneous_bytes_before_markers_match_pillow():
    arr = photo("coffee", 40, 60)
    data = _pil_jpeg(arr, progressive=True)
    blob = _insert_before(data, 0xDA, b"\x12\x34\x56", nth=1)  # libjpeg warns, skips
    assert_same(fdjpeg.decode(blob), pil_decode(blob), "junk between scans")


@need_jpegtran
def test_non_interleaved_and_custom_scans_match_pillow(tmp_path):
    arr = photo("astronaut", 77, 101)
    base = _pil_jpeg(arr, quality=88)
    scripts = {
        "non-interleaved": "0;\n1;\n2;\n",
        "spectral": "0 1 2: 0 0 0 0;\n0: 1 5 0 0;\n2: 1 63 0 0;\n1: 1 63 0 0;\n0: 6 63 0 0;\n",
        "successive": ("0 1 2: 0 0 0 2;\n0: 1 63 0 2;\n1: 1 63 0 1;\n2: 1 63 0 1;\n"
                       "0 1 2: 0 0 2 1;\n0 1 2: 0 0 1 0;\n0: 1 63 2 1;\n0: 1 63 1 0;\n"
                       "1: 1 63 1 0;\n2: 1 63 1 0;\n"),
    }
    for name, text in scripts.items():
        script = tmp_path / f"{name}.txt"
        script.write_text(text)
        data = jpegtran(tmp_path, base, "-scans", str(script))
        assert_same(fdjpeg.decode(data), pil_decode(data), name)
        for got, want in zip(fdjpeg.read_coefficients(data)["coefficients"],
                             fdjpeg.read_coefficients(base)["coefficients"]):
            np.testing.assert_array_equal(got, want)
    # restart markers in a transcoded progressive file
    data = jpegtran(tmp_path, base, "-progressive", "-restart", "1")
    assert_same(fdjpeg.decode(data), pil_decode(data), "jpegtran -progressive -restart 1")


def test_refusals_are_jpegerrors():
    data = _pil_jpeg(photo("camera", 16, 16))
    cases = {
        "junk after SOI": data[:2] + b"\x00\x01" + data[2:],
        "16-bit lossy": data.replace(b"\xff\xc0\x00\x0b\x08", b"\xff\xc0\x00\x0b\x10", 1),
        "hierarchical": data.replace(b"\xff\xc0", b"\xff\xc5", 1),
        "reserved marker": _insert_before(data, 0xDA, b"\xff\x50\x00\x02"),
        "JPG marker": _insert_before(data, 0xDA, b"\xff\xc8\x00\x02"),
        "SOS table 5": None,
    }
    sos = data.find(b"\xff\xda")
    bad = bytearray(data)
    bad[sos + 6] = 0x55  # DC/AC selectors 5 for the only component
    cases["SOS table 5"] = bytes(bad)
    for name, blob in cases.items():
        with pytest.raises(fdjpeg.JPEGError):
            fdjpeg.decode(blob)
        with pytest.raises(OSError):
            pil_decode(blob)


# --------------------------------------------------------------------------- robustness

_MUTATE = r"""
import random, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import fdjpeg
seeds = [open(p, 'rb').read() for p in sys.argv[3:]]
rng = random.Random(int(sys.argv[2]))
for s in seeds:
    for k in range(60):
        b = bytearray(s)
        for _ in range(rng.randint(1, 6)):
            p = rng.randrange(2, len(b))
            r = rng.random()
            if r < 0.6:
                b[p] = rng.randrange(256)
            elif r < 0.8:
                del b[p:p + rng.randint(1, 20)]
            else:
                b[p:p] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        if rng.random() < 0.3:
            b = b[:rng.randrange(3, len(b))]
        for kw in ({}, {"allow_truncated": True}, {"scale": 4}):
            try:
                out = fdjpeg.decode(bytes(b), max_pixels=1 << 22, **kw)
                assert out.dtype == np.uint8
            except fdjpeg.JPEGError:
                pass
        try:
            fdjpeg.read_coefficients(bytes(b), max_pixels=1 << 22)
        except fdjpeg.JPEGError:
            pass
print("ok")
"""


@need_cjpeg
def test_mutated_files_never_crash(tmp_path):
    """Byte flips, deletions, insertions and cuts of arithmetic, progressive, restart and
    lossless files: every outcome is pixels or a JPEGError, in a subprocess so that a
    crash fails the test instead of the suite."""
    arr = photo("astronaut", 48, 64)
    seeds = []
    for i, args in enumerate((["-arithmetic"], ["-arithmetic", "-progressive", "-restart", "1"],
                              ["-progressive", "-restart", "1"], ["-sample", "2x2", "-restart", "2"])):
        seeds.append(tmp_path / f"s{i}.jpg")
        seeds[-1].write_bytes(cjpeg(tmp_path, arr, *args, name=f"src{i}"))
    seeds.append(tmp_path / "lossless.jpg")
    seeds[-1].write_bytes(_lossless_jpeg([photo("camera", 30, 40)], 5, restart_rows=2))
    proc = subprocess.run([sys.executable, "-c", _MUTATE, str(HERE.parent), "7", *map(str, seeds)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-3000:]


@need_cjpeg
def test_dac_segments_as_pillow(tmp_path):
    """DAC (arithmetic conditioning): default values change nothing; bad index/values are
    errors in libjpeg (so in Pillow) and in fdjpeg."""
    data = cjpeg(tmp_path, photo("astronaut", 40, 56), "-arithmetic")
    same = _insert_before(data, 0xDA, b"\xff\xcc\x00\x08\x00\x10\x10\x05\x11\x05")
    assert_same(fdjpeg.decode(same), pil_decode(same), "default DAC")
    assert_same(fdjpeg.decode(same), fdjpeg.decode(data), "default DAC vs none")
    for bad in (b"\xff\xcc\x00\x04\x20\x05", b"\xff\xcc\x00\x04\x00\x12", b"\xff\xcc\x00\x05\x00\x10\x10"):
        blob = _insert_before(data, 0xDA, bad)
        with pytest.raises(OSError):
            pil_decode(blob)
        with pytest.raises(fdjpeg.JPEGError):
            fdjpeg.decode(blob)


@need_cjpeg
@pytest.mark.parametrize("args", [["-arithmetic"], ["-arithmetic", "-sample", "1x1"],
                                  ["-arithmetic", "-sample", "1x2", "-restart", "1"],
                                  ["-arithmetic", "-progressive"]])
def test_truncated_arithmetic_as_pillow(tmp_path, args):
    """libjpeg's arithmetic decoder cannot wait for data: with LOAD_TRUNCATED_IMAGES Pillow
    keeps the rows output before it failed (none for progressive files); so does
    allow_truncated.  Without it both refuse."""
    data = cjpeg(tmp_path, photo("coffee", 70, 90), *args)
    first = sos_offsets(data)[0]
    for cut in range(first, len(data), 11):
        c = data[:cut]
        with pytest.raises(OSError):
            pil_decode(c)
        with pytest.raises(fdjpeg.JPEGError):
            fdjpeg.decode(c)
        try:
            ref = pil_decode(c, truncated_ok=True)
        except OSError:
            with pytest.raises(fdjpeg.JPEGError):
                fdjpeg.decode(c, allow_truncated=True)
            continue
        assert_same(fdjpeg.decode(c, allow_truncated=True), ref, f"{args} cut {cut}")


@pytest.mark.parametrize("restart_rows", [0, 3])
def test_truncated_lossless_as_pillow(restart_rows):
    """Lossless data that runs out: the rest of the scan is mid-grey (zero differences with
    restarted predictors), as libjpeg-turbo and so Pillow with LOAD_TRUNCATED_IMAGES."""
    rgb = photo("astronaut", 30, 40)
    for planes in ([photo("camera", 40, 50)], [np.ascontiguousarray(rgb[..., i]) for i in range(3)]):
        data = _lossless_jpeg(planes, 6, restart_rows=restart_rows)
        first = sos_offsets(data)[0]
        for cut in range(first + 14, len(data), 17):
            c = data[:cut]
            with pytest.raises(fdjpeg.JPEGError):
                fdjpeg.decode(c)
            ref = pil_decode(c, truncated_ok=True)
            assert_same(fdjpeg.decode(c, allow_truncated=True), ref, f"lossless cut {cut}")


_DIFF_FUZZ = r"""
import io, random, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import fdjpeg
from PIL import Image
rng = random.Random(int(sys.argv[2]))
bad = []
for path in sys.argv[3:]:
    s = open(path, 'rb').read()
    for k in range(100):
        b = bytearray(s)
        for _ in range(rng.randint(1, 3)):
            p = rng.randrange(2, len(b))
            r = rng.random()
            if r < 0.7:
                b[p] = rng.randrange(256)
            elif r < 0.85:
                del b[p:p + rng.randint(1, 4)]
            else:
                b[p:p] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
        d = bytes(b)
        try:
            im = Image.open(io.BytesIO(d))
            im.load()
            ref = np.asarray(im) if im.format in ('JPEG', 'MPO') else None
        except Exception:
            ref = None
        try:
            out = fdjpeg.decode(d)
        except fdjpeg.JPEGError:
            out = None
        same = (ref is None and out is None) or (ref is not None and out is not None and
                                                 ref.shape == out.shape and np.array_equal(ref, out))
        if not same:
            bad.append((path.rsplit('/', 1)[-1], k, 'pillow' if ref is not None else 'refused',
                        'fdjpeg' if out is not None else 'refused'))
print(bad)
"""


@need_cjpeg
def test_differential_fuzz_against_pillow(tmp_path):
    """Randomly damaged files (byte flips, deletions, insertions) of every coding process:
    fdjpeg and Pillow must agree -- same pixels, or both refuse."""
    arr = photo("astronaut", 64, 80)
    seeds = []
    for i, args in enumerate(([], ["-progressive"], ["-restart", "1"], ["-arithmetic"],
                              ["-arithmetic", "-progressive"], ["-sample", "1x1", "-optimize"])):
        seeds.append(tmp_path / f"f{i}.jpg")
        seeds[-1].write_bytes(cjpeg(tmp_path, arr, *args, name=f"fz{i}"))
    seeds.append(tmp_path / "cmyk.jpg")
    Image.fromarray(arr).convert("CMYK").save(seeds[-1], "JPEG")
    seeds.append(tmp_path / "lossless.jpg")
    seeds[-1].write_bytes(_lossless_jpeg([photo("camera", 40, 50)], 4, restart_rows=2))
    proc = subprocess.run([sys.executable, "-c", _DIFF_FUZZ, str(HERE.parent), "11",
                           *map(str, seeds)], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "[]", proc.stdout[-3000:]
