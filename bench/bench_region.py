"""Region decode cost against region size and position (issue 17).

    python bench/bench_region.py [--reps N] [--out bench/results/region.md]

One 2400x1800 photo-like image (skimage's astronaut upscaled, with grain), encoded by Pillow at
quality 90 in three codings: baseline 4:2:0, the same with a restart marker every MCU row, and
progressive; with imagecodecs also at 12 bits (imagecodecs' SOF1 4:2:0 q90, fdjpeg's with a
restart marker every MCU row) and as a 16-bit lossless grey frame.  For each, the thread-CPU time (interleaved repetitions, minimum) of
``fdjpeg.decode(data, region=...)`` for regions of several sizes and positions, beside a full
fdjpeg decode and imagecodecs' full decode (libjpeg-turbo 3) followed by the same crop, the way
a loader without region decode gets a crop.  Every region result is checked against the full
decode's crop before timing.
"""
import argparse
import io
import os
import platform
import subprocess
import time

import numpy as np
from PIL import Image

import fdjpeg

try:
    import imagecodecs
except ImportError:  # pragma: no cover
    imagecodecs = None


def make_image(w=2400, h=1800):
    try:
        from skimage.data import astronaut
        src = Image.fromarray(astronaut())
    except ImportError:  # pragma: no cover
        y, x = np.mgrid[0:512, 0:512]
        src = Image.fromarray(np.stack([x % 256, y % 256, (x + y) % 256], -1).astype(np.uint8))
    big = np.asarray(src.resize((w, h), Image.Resampling.LANCZOS)).astype(np.int16)
    grain = np.random.default_rng(0).normal(0, 6, big.shape)
    return np.clip(big + grain, 0, 255).astype(np.uint8)


def encode(img, **kw):
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=90, subsampling="4:2:0", **kw)
    return buf.getvalue()


def regions(w, h):
    q = (w // 4, h // 4)
    return [
        ("full image", (0, 0, w, h)),
        ("half x half, top-left", (0, 0, w // 2, h // 2)),
        ("quarter x quarter, top-left", (0, 0, *q)),
        ("quarter x quarter, centre", (w * 3 // 8, h * 3 // 8, *q)),
        ("quarter x quarter, bottom-right", (w - q[0], h - q[1], *q)),
        ("224x224, top", (w // 2 - 112, 0, 224, 224)),
        ("224x224, centre", (w // 2 - 112, h // 2 - 112, 224, 224)),
        ("224x224, bottom", (w // 2 - 112, h - 224, 224, 224)),
        ("full-width strip of 64 rows, bottom", (0, h - 64, w, 64)),
        ("1 pixel, bottom-right", (w - 1, h - 1, 1, 1)),
    ]


def timeit(fns, reps):
    """Interleaved repetitions, thread-CPU minimum per function (seconds)."""
    best = [float("inf")] * len(fns)
    for _ in range(reps):
        for i, fn in enumerate(fns):
            t = time.thread_time()
            fn()
            best[i] = min(best[i], time.thread_time() - t)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--out", default=None, help="write the markdown table here")
    ap.add_argument("--only", default=None,
                    help="comma-separated codings to run (e.g. 'baseline'), default all")
    args = ap.parse_args()

    img = make_image()
    h, w = img.shape[:2]
    files = {
        "baseline": encode(img),
        "restart every MCU row": encode(img, restart_marker_rows=1),
        "progressive": encode(img, progressive=True),
    }
    if imagecodecs is not None:
        # above 8 bits (issue 17, second session): the same image at 12 bits, written by
        # imagecodecs (SOF1 4:2:0 q90) and by fdjpeg with restart markers (imagecodecs writes
        # none), and a 16-bit lossless grey frame
        img12 = (img.astype(np.uint16) << 4) | (img.astype(np.uint16) >> 4)
        files["12-bit 4:2:0 q90 (imagecodecs, SOF1)"] = imagecodecs.jpeg8_encode(
            img12, level=90, bitspersample=12, subsampling="420")
        files["12-bit, restart every MCU row (fdjpeg)"] = fdjpeg.encode(
            img12, quality=90, subsampling="4:2:0", restart_rows=1)
        grey16 = (img12[..., 1].astype(np.uint16) << 4) | (img12[..., 1] >> 8)
        files["16-bit lossless grey (imagecodecs, psv 1)"] = imagecodecs.jpeg8_encode(
            grey16, lossless=True, bitspersample=16, predictor=1)
    if args.only:
        keep = [k.strip() for k in args.only.split(",")]
        files = {k: v for k, v in files.items() if k in keep}
    lines = []
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, cwd=os.path.dirname(__file__)).stdout.strip()
    except OSError:  # pragma: no cover
        commit = "?"
    lines.append(f"# Region decode cost ({w}x{h}, Pillow q90 4:2:0)\n")
    lines.append(f"`python bench/bench_region.py --reps {args.reps}` at {commit}, "
                 f"{platform.machine()} {platform.processor() or ''}, fdjpeg kernels "
                 f"{fdjpeg._codec.kernel_name() if hasattr(fdjpeg._codec, 'kernel_name') else '?'}, "
                 f"imagecodecs {imagecodecs.__version__ if imagecodecs else 'absent'}.  "
                 "Thread-CPU time, minimum of interleaved repetitions; 'vs full' is the region "
                 "decode's time over fdjpeg's full decode of the same file.\n")
    for name, data in files.items():
        full = fdjpeg.decode(data)
        lines.append(f"\n## {name} ({len(data) / 1e6:.2f} MB)\n")
        lines.append("| region (x, y, w, h) | | fdjpeg region ms | vs full | fdjpeg full + crop ms "
                     "| imagecodecs full + crop ms |")
        lines.append("|---|---|---:|---:|---:|---:|")
        for label, (x, y, rw, rh) in regions(w, h):
            got = fdjpeg.decode(data, region=(x, y, rw, rh))
            assert np.array_equal(got, full[y:y + rh, x:x + rw]), (name, label)
            fns = [lambda: fdjpeg.decode(data, region=(x, y, rw, rh)),
                   lambda: fdjpeg.decode(data)[y:y + rh, x:x + rw].copy()]
            if imagecodecs is not None:
                fns.append(lambda: imagecodecs.jpeg8_decode(data)[y:y + rh, x:x + rw].copy())
            t = timeit(fns, args.reps)
            ic = f"{t[2] * 1e3:.1f}" if imagecodecs is not None else "-"
            lines.append(f"| {label} | ({x}, {y}, {rw}, {rh}) | {t[0] * 1e3:.1f} | "
                         f"{t[0] / t[1]:.2f} | {t[1] * 1e3:.1f} | {ic} |")
    lines.append("""
## What the cost is made of

- IDCT, upsampling and colour conversion run only for the MCUs the region touches plus the
  one-sample ring fancy upsampling reads: their cost is proportional to the region's area.
- Sequential files without restart markers must be entropy-decoded from the first MCU up to
  the region's last MCU row (plus one for vertical upsampling context): a region near the
  bottom costs about the entropy-decoding share of a full decode (the 1-pixel bottom-right
  row), whatever its size; nothing after that row is read.
- With restart markers the decoder scans the bytes for the markers and starts at the restart
  interval that holds the region's first needed MCU: cost follows the region's area wherever
  it is.
- Progressive (and other multi-scan or arithmetic) files decode every coefficient of every
  scan, as a full decode; only the rendering is saved (the 'vs full' ratios above).
- The MCU rows before the region are walked in skip mode: the Huffman decoder advances the bit
  position and the DC predictions without storing a coefficient (no stores, no clearing, no
  dequantization or IDCT).
- 12-bit files follow the same rules (the IDCT and rendering are scalar, so the share saved
  by a small region is larger). Lossless files are reconstructed down to the region's last
  row (the predictors need every row above it; nothing below is read when one scan holds
  every component), and only the region is upsampled and converted.
""")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
