"""Higher-precision decode/encode speed: fdjpeg against imagecodecs' libjpeg-turbo 3.

    python bench/precision.py [--reps 15] [--out bench/results/precision.md]

Inputs: the real files of ../shared/corpus/precision/ and synthetic 1024x1024 images (a smooth
field plus noise) written by imagecodecs: 12-bit grey and 4:2:0 colour (SOF1), 12- and 16-bit
lossless. Each contender runs once per repetition in turn (interleaved) and the minimum of the
calling thread's CPU time is kept; ratio > 1 means fdjpeg is faster. Every decode is checked
for equality with libjpeg-turbo's before timing, every encode for identical bytes.
"""
from __future__ import annotations

import argparse
import datetime
import pathlib
import time

import numpy as np

import fdjpeg

ROOT = pathlib.Path(__file__).resolve().parents[1]
PRECISION = ROOT.parent / "shared" / "corpus" / "precision"


def cpu_min(fns, reps):
    best = [float("inf")] * len(fns)
    for _ in range(reps):
        for i, fn in enumerate(fns):
            t0 = time.thread_time()
            fn()
            best[i] = min(best[i], time.thread_time() - t0)
    return best


def synthetic(rng):
    y, x = np.mgrid[0:1024, 0:1024]
    base = (np.sin(x / 9) + np.cos(y / 13) + 2) / 4 * 4095
    g = np.clip(base + rng.normal(0, 40, x.shape), 0, 4095).astype(np.uint16)
    rgb = np.ascontiguousarray(np.stack([g, g[::-1], g[:, ::-1]], -1))
    return g, rgb


def main():
    import imagecodecs

    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    g, rgb = synthetic(rng)
    dec_cases = {p.name: p.read_bytes() for p in sorted(PRECISION.glob("*.jpg"))}
    dec_cases.update({
        "12-bit grey 1024² q90 (SOF1)": imagecodecs.jpeg8_encode(g, level=90, bitspersample=12),
        "12-bit colour 4:2:0 1024² q90": imagecodecs.jpeg8_encode(rgb, level=90, bitspersample=12,
                                                                 subsampling="420"),
        "16-bit lossless grey 1024² (psv 1)": imagecodecs.jpeg8_encode(
            g << 4, lossless=True, bitspersample=16, predictor=1),
        "12-bit lossless grey 1024² (psv 7)": imagecodecs.jpeg8_encode(
            g, lossless=True, bitspersample=12, predictor=7),
    })
    rows = ["| decode | pixels | fdjpeg ms | imagecodecs ms | ratio |", "|---|---:|---:|---:|---:|"]
    for name, data in dec_cases.items():
        got, want = fdjpeg.decode(data), imagecodecs.jpeg8_decode(data)
        if got.ndim == 3 and got.shape[2] == 4:  # fdjpeg's CMYK is inverted (Pillow's convention)
            got = ((1 << fdjpeg.inspect(data)["precision"]) - 1 - got.astype(np.int64)).astype(got.dtype)
        assert np.array_equal(got, want), name
        f, r = cpu_min([lambda: fdjpeg.decode(data), lambda: imagecodecs.jpeg8_decode(data)], a.reps)
        rows.append(f"| {name} | {want.shape[0] * want.shape[1]:,} | {f * 1e3:.2f} | {r * 1e3:.2f} | "
                    f"{r / f:.2f} |")
    rows += ["", "| 12-bit encode | fdjpeg ms | imagecodecs ms | ratio |", "|---|---:|---:|---:|"]
    for name, img, kw in (("grey 1024² q90", g, {}), ("colour 4:2:0 1024² q90", rgb, {"subsampling": "420"})):
        want = imagecodecs.jpeg8_encode(img, level=90, bitspersample=12, **kw)
        sub = {"subsampling": "4:2:0"} if kw else {}
        assert fdjpeg.encode(img, quality=90, **sub) == want, name
        f, r = cpu_min([lambda: fdjpeg.encode(img, quality=90, **sub),
                        lambda: imagecodecs.jpeg8_encode(img, level=90, bitspersample=12, **kw)],
                       max(3, a.reps // 3))
        rows.append(f"| {name} | {f * 1e3:.1f} | {r * 1e3:.1f} | {r / f:.2f} |")
    # region decode above 8 bits (native since issue 17's second session): fdjpeg's region
    # against a full decode + crop by fdjpeg and by imagecodecs (which has no region decode)
    rows += ["", "| region decode | region (x, y, w, h) | fdjpeg region ms | fdjpeg full + crop ms "
             "| imagecodecs full + crop ms | vs imagecodecs |", "|---|---|---:|---:|---:|---:|"]
    region_cases = {k: dec_cases[k] for k in ("12-bit grey 1024² q90 (SOF1)",
                                              "12-bit colour 4:2:0 1024² q90",
                                              "12-bit lossless grey 1024² (psv 7)",
                                              "16-bit lossless grey 1024² (psv 1)")}
    for name, data in region_cases.items():
        want = imagecodecs.jpeg8_decode(data)
        hh, ww = want.shape[:2]
        for label, (x, y, rw, rh) in (("quarter x quarter, top-left", (0, 0, ww // 4, hh // 4)),
                                      ("quarter x quarter, bottom-right",
                                       (ww - ww // 4, hh - hh // 4, ww // 4, hh // 4)),
                                      ("224x224, centre", (ww // 2 - 112, hh // 2 - 112, 224, 224))):
            got = fdjpeg.decode(data, region=(x, y, rw, rh))
            assert np.array_equal(got, want[y:y + rh, x:x + rw]), (name, label)
            f, ff, r = cpu_min([lambda: fdjpeg.decode(data, region=(x, y, rw, rh)),
                                lambda: fdjpeg.decode(data)[y:y + rh, x:x + rw].copy(),
                                lambda: imagecodecs.jpeg8_decode(data)[y:y + rh, x:x + rw].copy()],
                               a.reps)
            rows.append(f"| {name}: {label} | ({x}, {y}, {rw}, {rh}) | {f * 1e3:.2f} | "
                        f"{ff * 1e3:.2f} | {r * 1e3:.2f} | {r / f:.2f} |")
    # fused 12-bit purification against the round trip a user would otherwise run
    rows += ["", "| 12-bit purify, colour 1024² 4:4:4 | fdjpeg ms | imagecodecs encode + decode ms "
             "| ratio |", "|---|---:|---:|---:|"]
    q90 = np.asarray(fdjpeg.inspect(imagecodecs.jpeg8_encode(rgb[:8, :8], level=90, bitspersample=12))
                     ["qtables"][0], np.uint16)
    T = np.maximum(q90 // 16, 1)
    f, r = cpu_min([lambda: fdjpeg.purify(rgb, T),
                    lambda: imagecodecs.jpeg8_decode(imagecodecs.jpeg8_encode(
                        rgb, level=90, bitspersample=12, subsampling="444"))],
                   max(3, a.reps // 3))
    rows.append(f"| `purify(rgb12, T)` vs q90 round trip | {f * 1e3:.1f} | {r * 1e3:.1f} | "
                f"{r / f:.2f} |")
    head = (f"# Higher precision: fdjpeg vs imagecodecs {imagecodecs.__version__} "
            f"({imagecodecs.jpeg8_version()})\n\n`python bench/precision.py --reps {a.reps}`, "
            f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, thread CPU time, "
            "minimum of interleaved repetitions; every output checked equal first.\n")
    text = head + "\n" + "\n".join(rows) + "\n"
    print(text)
    if a.out:
        pathlib.Path(a.out).write_text(text)


if __name__ == "__main__":
    main()
