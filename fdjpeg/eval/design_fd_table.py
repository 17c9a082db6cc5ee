"""Compute the band statistics that ship with fdjpeg (fdjpeg/data/fd_band_std.json).

Frequency-component analysis of the paper (Sec. 3.2 A) on benign natural images:
the 1,000 photos of ``shared/corpus/imagenet-sample`` (one per ImageNet class),
each decoded by Pillow (CMYK and palette files converted to RGB, grayscale kept
as L), resized so the short side is 256 (Pillow BILINEAR, which is antialiased
when shrinking) and centre-cropped to 224x224 -- the pixels the classifier and
the defense see in the evaluation protocol (design-notes Sec. 4).  The standard
deviation of each of the 64 luma DCT bands over all 28x28 blocks of every crop
is computed with ``fdjpeg.tables.band_std`` (channel "luma": libjpeg's
fixed-point Y for RGB, gray samples as they are).

Run from the repository root (``fdjpeg eval design-fd-table ...`` is the same):

    python -m fdjpeg.eval.design_fd_table          # writes fdjpeg/data/fd_band_std.json
    python -m fdjpeg.eval.design_fd_table --check  # recompute and compare, write nothing

Only the 64 numbers are committed, never the images.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from fdjpeg import tables

ROOT = Path(__file__).resolve().parents[2]  # the repository: default corpus and output
CORPUS = ROOT.parent / "shared" / "corpus" / "imagenet-sample"
OUT = ROOT / "fdjpeg" / "data" / "fd_band_std.json"


def protocol_crop(path: Path, short: int = 256, crop: int = 224) -> np.ndarray:
    """Pillow decode, short side -> 256 (bilinear), centre crop 224."""
    with Image.open(path) as im:
        im = im.convert("L") if im.mode in ("L", "I;16", "1") else im.convert("RGB")
        w, h = im.size
        scale = short / min(w, h)
        nw, nh = max(short, round(w * scale)), max(short, round(h * scale))
        im = im.resize((nw, nh), Image.BILINEAR)
        left, top = (nw - crop) // 2, (nh - crop) // 2
        im = im.crop((left, top, left + crop, top + crop))
        return np.asarray(im, dtype=np.uint8)


def compute(files):
    # accumulate per image through band_std's own pooling: feed an iterator
    return tables.band_std((protocol_crop(f) for f in files), channel="luma")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--check", action="store_true",
                    help="recompute and compare with the shipped file; write nothing")
    args = ap.parse_args(argv)

    files = sorted(args.corpus.glob("*.JPEG"))
    if not files:
        print(f"no *.JPEG under {args.corpus}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    std = compute(files)
    dt = time.perf_counter() - t0
    n_gray = 0
    for f in files:
        with Image.open(f) as im:
            n_gray += im.mode == "L"

    doc = {
        "description": "Standard deviation of each of the 64 pre-quantization luma DCT bands "
                       "(orthonormal 8x8 DCT of level-shifted samples = JPEG FDCT), natural "
                       "order, used by fdjpeg.tables.feature_distillation() to rank bands.",
        "source": "shared/corpus/imagenet-sample: the 1,000 benign ImageNet photos, one per class "
                  "(public imagenet-sample-images collection)",
        "n_images": len(files),
        "n_gray_images": n_gray,
        "n_blocks": len(files) * 28 * 28,
        "preprocessing": "Pillow 13 decode; RGB (CMYK/palette converted by Pillow) or L kept; "
                         "resize short side to 256 with Image.BILINEAR; centre crop 224x224",
        "channel": "luma: libjpeg fixed-point Y = (19595R + 38470G + 7471B + 32768) >> 16; "
                   "gray used as is",
        "statistic": "population standard deviation around each band's mean over all full "
                     "8x8 blocks",
        "generated_by": "python -m fdjpeg.eval.design_fd_table",
        "order": "natural",
        "std": [[round(float(v), 4) for v in row] for row in std],
    }
    fd = tables.feature_distillation(std)
    print(f"{len(files)} images ({n_gray} gray) in {dt:.1f} s")
    print("sigma (natural order):")
    print(np.array2string(std, precision=1, suppress_small=True, max_line_width=120))
    print("FD table (s_md=30, s_as=20, n_as=15):")
    print(fd)

    if args.check:
        shipped = tables.shipped_band_std()
        diff = float(np.max(np.abs(shipped - np.asarray(doc["std"]))))
        same = np.array_equal(fd, tables.feature_distillation())
        print(f"max |shipped - recomputed| = {diff:.4g}; same FD table: {same}")
        return 0 if diff < 1e-3 and same else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, indent=1)
    # one row of 8 numbers per line
    rows = ",\n  ".join(json.dumps(row) for row in doc["std"])
    text = text[:text.index('"std": [')] + '"std": [\n  ' + rows + "\n ]\n}"
    args.out.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
