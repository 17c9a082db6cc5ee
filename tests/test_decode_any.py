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
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
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

# Files where Pillow's pixels come from libjpeg-turbo's AVX2 ISLOW IDCT overflowing its 16-bit
# arithmetic (hostile coefficients far outside what any encoder makes); fdjpeg computes the
# IDCT in wide integers like libjpeg's C code.  Value: the reason.
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
        else:
            assert r["fd"] != "ok", f"Pillow refuses {rel} ({r['pillow']}), fdjpeg decodes it"


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
