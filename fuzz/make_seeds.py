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
        files = [p for sub in ("conformance", "malformed") for p in (corpus / sub).rglob("*")
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
        gen = {**pillow_seeds(), **tool_seeds(tmp)}
    for name, data in gen.items():
        (dec / name).write_bytes(data)
    for name, data in roundtrip_seeds().items():
        (rt / name).write_bytes(data)
    print(f"{n} corpus/regression + {len(gen)} generated decoder seeds in {dec}; "
          f"{len(os.listdir(rt))} round-trip seeds in {rt}")


if __name__ == "__main__":
    main()
