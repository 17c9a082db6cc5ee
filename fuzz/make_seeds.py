"""Write fuzz seed corpora into fuzz/work/seeds/<target>/ (git-ignored).

    python fuzz/make_seeds.py [--corpus ../shared/corpus] [--out fuzz/work/seeds]

Decoder seeds: the shared conformance and malformed files (<= 64 KiB each), the
20 smallest ImageNet sample files, the regression files, and generated JPEGs
covering every coding option Pillow, cjpeg and jpegtran write (grey, 4:4:4,
4:2:2, 4:2:0, 4:4:0, 4:1:1, progressive, optimized, restarts, 16-bit tables,
CMYK, arithmetic, non-interleaved, lossless when cjpeg is there).  Round-trip
seeds: option headers with small pixel payloads.
"""
import argparse
import io
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
MAX_SEED = 64 * 1024


def photo(h, w, ch, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = 128 + 70 * np.sin(x / 3.0 + seed) * np.cos(y / 4.0)
    img = base[..., None] + rng.normal(0, 20, (h, w, ch)) + np.arange(ch) * 25
    img = np.clip(img, 0, 255).astype(np.uint8)
    return img[..., 0] if ch == 1 else img


def pillow_seeds():
    out = {}
    k = 0
    for (h, w) in [(1, 1), (8, 8), (9, 17), (16, 16), (23, 31), (40, 33)]:
        for ch, mode in [(1, "L"), (3, "RGB"), (4, "CMYK")]:
            arr = photo(h, w, ch, k)
            im = Image.fromarray(arr, mode)
            opts = [dict(quality=75)]
            if ch == 3:
                opts += [dict(quality=90, subsampling=s) for s in (0, 1, 2)]
            opts += [dict(quality=60, progressive=True), dict(quality=85, optimize=True),
                     dict(quality=100), dict(quality=5)]
            if ch != 4:
                opts.append(dict(qtables=[[300 + i for i in range(64)]] * (1 if ch == 1 else 2)))
            for o in opts:
                buf = io.BytesIO()
                try:
                    im.save(buf, "JPEG", **o)
                except (OSError, ValueError):
                    continue
                k += 1
                out[f"pil_{k:03d}_{mode}_{w}x{h}.jpg"] = buf.getvalue()
    return out


def tool_seeds(tmp):
    out = {}
    cjpeg, jpegtran = shutil.which("cjpeg"), shutil.which("jpegtran")
    if not cjpeg:
        return out
    src = Path(tmp) / "s.ppm"
    Image.fromarray(photo(27, 35, 3, 99)).save(src)
    gsrc = Path(tmp) / "g.pgm"
    Image.fromarray(photo(19, 21, 1, 98)).save(gsrc)
    variants = {
        "arith": ["-arithmetic"],
        "arith_prog": ["-arithmetic", "-progressive"],
        "s411": ["-sample", "4x1,1x1,1x1"],
        "s440": ["-sample", "1x2,1x1,1x1"],
        "s2x2_1x2": ["-sample", "2x2,1x2,1x1"],
        "restart_rows": ["-restart", "1"],
        "restart_blocks": ["-restart", "3B"],
        "rgb": ["-rgb"],
        "smooth": ["-smooth", "30"],
        "dct_float": ["-dct", "float"],
        "q16bit": ["-quality", "1"],
        "lossless": ["-lossless", "1"],
        "lossless7": ["-lossless", "7,2"],
    }
    for name, args in variants.items():
        for tag, s in (("c", src), ("g", gsrc)):
            r = subprocess.run([cjpeg, *args, str(s)], capture_output=True)
            if r.returncode == 0 and r.stdout:
                out[f"cjpeg_{name}_{tag}.jpg"] = r.stdout
    base = out.get("cjpeg_restart_rows_c.jpg")
    if jpegtran and base:
        for name, args in {"tran_prog": ["-progressive"], "tran_rot": ["-rotate", "90"],
                           "tran_opt": ["-optimize"], "tran_gray": ["-grayscale"]}.items():
            r = subprocess.run([jpegtran, *args], input=base, capture_output=True)
            if r.returncode == 0:
                out[name + ".jpg"] = r.stdout
    return out


# T.81 Table K.3 (DC luminance): counts per code length, symbols 0..11
_DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]


def _canonical_codes(bits):
    codes, code, k = {}, 0, 0
    for length, count in enumerate(bits, start=1):
        for _ in range(count):
            codes[k] = (code, length)
            code += 1
            k += 1
        code <<= 1
    return codes


def lossless_jpeg(img, predictor):
    """A minimal SOF3 (lossless, Huffman) file, T.81 Annex H: 8-bit, Pt = 0,
    every component 1x1, interleaved -- libjpeg-turbo 2.1's cjpeg cannot write these."""
    img = img[..., None] if img.ndim == 2 else img
    h, w, nc = img.shape
    codes = _canonical_codes(_DC_BITS)
    x = img.astype(np.int32)
    bits, nbits, out = 0, 0, bytearray()

    def put(value, n):
        nonlocal bits, nbits
        bits = (bits << n) | (value & ((1 << n) - 1))
        nbits += n
        while nbits >= 8:
            byte = (bits >> (nbits - 8)) & 0xFF
            out.append(byte)
            if byte == 0xFF:
                out.append(0)
            nbits -= 8

    for r in range(h):
        for c in range(w):
            for k in range(nc):
                if r == 0 and c == 0:
                    pred = 128
                elif r == 0:
                    pred = x[r, c - 1, k]
                elif c == 0:
                    pred = x[r - 1, c, k]
                else:
                    ra, rb, rc = x[r, c - 1, k], x[r - 1, c, k], x[r - 1, c - 1, k]
                    pred = [None, ra, rb, rc, ra + rb - rc, ra + ((rb - rc) >> 1),
                            rb + ((ra - rc) >> 1), (ra + rb) >> 1][predictor]
                diff = int(x[r, c, k] - pred)
                size = abs(diff).bit_length()
                code, length = codes[size]
                put(code, length)
                if size:
                    put(diff if diff > 0 else diff - 1, size)
    if nbits:
        put((1 << (8 - nbits)) - 1, 8 - nbits)
    sof = bytes([8]) + h.to_bytes(2, "big") + w.to_bytes(2, "big") + bytes([nc])
    sof += b"".join(bytes([k + 1, 0x11, 0]) for k in range(nc))
    dht = bytes([0x00]) + bytes(_DC_BITS) + bytes(range(12))
    sos = bytes([nc]) + b"".join(bytes([k + 1, 0x00]) for k in range(nc)) + bytes([predictor, 0, 0])

    def seg(code, payload):
        return bytes([0xFF, code]) + (len(payload) + 2).to_bytes(2, "big") + payload

    return b"\xff\xd8" + seg(0xC3, sof) + seg(0xC4, dht) + seg(0xDA, sos) + bytes(out) + b"\xff\xd9"


def lossless_seeds():
    out = {}
    for pred in range(1, 8):
        out[f"lossless_p{pred}_gray.jpg"] = lossless_jpeg(photo(9, 13, 1, pred), pred)
        out[f"lossless_p{pred}_rgb.jpg"] = lossless_jpeg(photo(7, 11, 3, pred), pred)
    return out


def precision_seeds():
    """12-bit lossy (every sampling, optimized) and 2..16-bit lossless files from
    imagecodecs' libjpeg-turbo 3, when it is installed."""
    try:
        import imagecodecs
    except ImportError:
        return {}
    out = {}
    rng = np.random.default_rng(12)
    for i, sub in enumerate(("444", "422", "420", "411", "440")):
        img = rng.integers(0, 4096, (9 + i, 21 - i, 3)).astype(np.uint16)
        out[f"p12_{sub}.jpg"] = imagecodecs.jpeg8_encode(img, level=40 + 10 * i, bitspersample=12,
                                                         subsampling=sub, optimize=i % 2 == 1)
    out["p12_gray.jpg"] = imagecodecs.jpeg8_encode(rng.integers(0, 4096, (17, 9)).astype(np.uint16),
                                                   level=90, bitspersample=12)
    for bits in (2, 6, 10, 12, 16):
        for pred in (1, 4, 7):
            img = rng.integers(0, 1 << bits, (7, 11)).astype(np.uint16 if bits > 8 else np.uint8)
            out[f"lossless{bits}_p{pred}.jpg"] = imagecodecs.jpeg8_encode(
                img, lossless=True, bitspersample=bits, predictor=pred)
    return out


def region_precision_seeds(corpus):
    """Seeds for the region decode of frames above 8 bits (fuzz_region on the new
    paths): precision_seeds, the corpus's precision/ files, 8-bit lossless, and
    12-bit files imagecodecs does not write (restarts in MCUs and rows,
    progressive) from fdjpeg's 12-bit encoder when it is importable."""
    out = dict(precision_seeds())
    out.update({f"ll8_{k}": v for k, v in lossless_seeds().items()})
    if corpus.is_dir():
        for p in sorted((corpus / "precision").rglob("*")):
            if p.is_file() and p.stat().st_size <= MAX_SEED:
                out["corpus_" + p.name] = p.read_bytes()
    try:
        import fdjpeg
    except ImportError:
        return out
    rng = np.random.default_rng(17)
    for i, (sub, kw) in enumerate([("4:2:0", dict(restart_interval=2)),
                                   ("4:2:2", dict(restart_rows=1)),
                                   ("4:4:0", dict(progressive=True)),
                                   ("4:1:1", dict(restart_interval=1)),
                                   ("4:4:4", dict(restart_rows=2, progressive=True))]):
        img = (rng.integers(0, 4096, (19 + 7 * i, 33 - 3 * i, 3))).astype(np.uint16)
        out[f"p12_fdj_{i}.jpg"] = fdjpeg.encode(img, quality=60 + 8 * i, subsampling=sub, **kw)
    return out


def roundtrip_seeds():
    rng = np.random.default_rng(7)
    out = {}
    for i in range(40):
        head = bytes([rng.integers(0, 80), rng.integers(0, 80), i % 3 | (i & 4), i * 37 % 256,
                      (i * 13) % 256, (i * 29) % 100, i % 9, 0])
        tables = bytes(rng.integers(0, 256, 128, dtype=np.uint8)) if i % 4 == 0 else b""
        pix = photo(16, 16, 3, i).tobytes()[: 200 + 37 * i]
        out[f"rt_{i:02d}.bin"] = head + tables + pix
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=str(HERE.parent.parent / "shared" / "corpus"))
    ap.add_argument("--out", default=str(HERE / "work" / "seeds"))
    a = ap.parse_args()
    out = Path(a.out)
    dec = out / "decode"
    rt = out / "roundtrip"
    for d in (dec, rt):
        d.mkdir(parents=True, exist_ok=True)
    n = 0
    corpus = Path(a.corpus)
    if corpus.is_dir():
        files = [p for sub in ("conformance", "malformed", "precision")
                 for p in (corpus / sub).rglob("*")
                 if p.is_file() and p.suffix.lower() in (".jpg", ".jpeg") and p.stat().st_size <= MAX_SEED]
        inet = sorted((corpus / "imagenet-sample").glob("*.JPEG"), key=lambda p: p.stat().st_size)[:20]
        for p in files + inet:
            shutil.copyfile(p, dec / ("corpus_" + "_".join(p.relative_to(corpus).parts)))
            n += 1
    for p in sorted((HERE / "regressions").glob("*")):
        if p.is_file() and p.suffix != ".md":
            shutil.copyfile(p, dec / ("regression_" + p.name))
            n += 1
    with tempfile.TemporaryDirectory() as tmp:
        gen = {**pillow_seeds(), **tool_seeds(tmp), **lossless_seeds(), **precision_seeds()}
    for name, data in gen.items():
        (dec / name).write_bytes(data)
    for name, data in roundtrip_seeds().items():
        (rt / name).write_bytes(data)
    prec = out / "precision"
    prec.mkdir(parents=True, exist_ok=True)
    for name, data in region_precision_seeds(corpus).items():
        (prec / name).write_bytes(data)
    print(f"{n} corpus/regression + {len(gen)} generated decoder seeds in {dec}; "
          f"{len(os.listdir(rt))} round-trip seeds in {rt}")


if __name__ == "__main__":
    main()
