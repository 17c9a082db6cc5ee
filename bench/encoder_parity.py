"""Encoder parity with Pillow on the ImageNet sample: bytes and quantized DCT coefficients.

    nice -n 19 python bench/encoder_parity.py [--limit N] [--out bench/results/encoder_parity]

Every image of ``../shared/corpus/imagenet-sample`` is decoded with Pillow (colour files to RGB,
grey ones stay L) and encoded by ``fdjpeg.encode`` and by Pillow's ``save`` (libjpeg-turbo) at
four settings:

  q75 4:2:0          quality=75, 4:2:0 (grey: no subsampling)
  FD table 4:4:4     the package's FD table (``fdjpeg.tables.parse(True)``) for luma and chroma
  random16 4:2:2     two random tables per image (seed = image index), entries log-uniform in
                     1..8191 with at least one entry > 255, so the DQT is 16-bit (SOF1);
                     8191 is the top of libjpeg-turbo's exact quantizer range
  q90 progressive    quality=90, progressive, 4:2:0 (Pillow's default sampling; grey: none)

For each pair of files the script compares the bytes and, read back by jpeglib (its own libjpeg,
independent of both encoders), the quantized coefficients of every component: it counts
coefficients compared and coefficients that differ (a component whose block grid differs counts
all its coefficients as differing).  Results: ``<out>.json`` and ``<out>.md`` with versions, git
commit, ``git_dirty``, machine, command and run time.
"""
from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import pathlib
import platform
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image, features

ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
import fdjpeg  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "imagenet-sample"
SETTINGS = ("q75 4:2:0", "FD table 4:4:4", "random16 4:2:2", "q90 progressive")
_PIL_SUB = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2}


def random_tables(seed: int) -> np.ndarray:
    """Two 8x8 tables, entries log-uniform in 1..8191, at least one entry > 255 in each."""
    rng = np.random.default_rng(seed)
    tabs = np.rint(np.exp(rng.uniform(0.0, np.log(8191.0), (2, 64)))).astype(np.int64)
    tabs = np.clip(tabs, 1, 8191)
    for t in tabs:
        if t.max() <= 255:
            t[rng.integers(64)] = rng.integers(256, 8192)
    return tabs.reshape(2, 8, 8).astype(np.uint16)


def encoders(setting: str, img: np.ndarray, index: int):
    """(fdjpeg bytes, Pillow bytes) for one setting."""
    gray = img.ndim == 2
    if setting == "q75 4:2:0":
        fd_kw, pil_kw, sub = {"quality": 75}, {"quality": 75}, "4:2:0"
    elif setting == "FD table 4:4:4":
        t = fdjpeg.tables.parse(True)[0]
        pt = [int(v) for v in t.reshape(64)]
        fd_kw = {"table": t if gray else [t, t]}
        pil_kw = {"qtables": [pt] if gray else [pt, pt]}
        sub = "4:4:4"
    elif setting == "random16 4:2:2":
        tabs = random_tables(index)
        fd_kw = {"table": tabs[0] if gray else [tabs[0], tabs[1]]}
        pil_kw = {"qtables": [[int(v) for v in tabs[0].ravel()]] if gray else
                  [[int(v) for v in t.ravel()] for t in tabs]}
        sub = "4:2:2"
    elif setting == "q90 progressive":
        fd_kw, pil_kw, sub = ({"quality": 90, "progressive": True},
                              {"quality": 90, "progressive": True}, "4:2:0")
    else:
        raise ValueError(f"unknown setting {setting!r}")
    if not gray:
        fd_kw["subsampling"] = sub
        pil_kw["subsampling"] = _PIL_SUB[sub]
    ours = fdjpeg.encode(img, **fd_kw)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", **pil_kw)
    return ours, buf.getvalue()


def read_dct(data: bytes, folder: str, name: str):
    """Quantized coefficients per component, as jpeglib reads them (a list of arrays)."""
    import jpeglib

    path = os.path.join(folder, name)
    with open(path, "wb") as f:
        f.write(data)
    d = jpeglib.read_dct(path)
    comps = [d.Y] + ([d.Cb, d.Cr] if d.Cb is not None else [])
    return [np.array(c) for c in comps]


def coefficient_diff(a: bytes, b: bytes, folder: str):
    """(coefficients compared, coefficients that differ) between two JPEG files, per
    jpeglib.  Components whose block grids differ count every coefficient as differing;
    a different number of components counts the extra components as differing."""
    ca, cb = read_dct(a, folder, "a.jpg"), read_dct(b, folder, "b.jpg")
    compared = differ = 0
    for x, y in zip(ca, cb):
        if x.shape == y.shape:
            compared += x.size
            differ += int(np.count_nonzero(x != y))
        else:
            n = max(x.size, y.size)
            compared += n
            differ += n
    for extra in ca[len(cb):] + cb[len(ca):]:
        compared += extra.size
        differ += extra.size
    return compared, differ


def load_pixels(path: pathlib.Path) -> np.ndarray:
    with Image.open(path) as im:
        im = im.convert("L" if im.mode == "L" else "RGB")
        return np.asarray(im)


def run(files, settings=SETTINGS, progress=None):
    """Compare every file at every setting; returns the per-setting totals."""
    totals = {s: {"images": 0, "files_identical": 0, "coefficients_compared": 0,
                  "coefficients_differing": 0, "mismatches": []} for s in settings}
    gray = 0
    with tempfile.TemporaryDirectory() as folder:
        for index, path in enumerate(files):
            img = load_pixels(path)
            gray += img.ndim == 2
            for s in settings:
                ours, ref = encoders(s, img, index)
                compared, differ = coefficient_diff(ours, ref, folder)
                t = totals[s]
                t["images"] += 1
                t["files_identical"] += ours == ref
                t["coefficients_compared"] += compared
                t["coefficients_differing"] += differ
                if differ or ours != ref:
                    t["mismatches"].append({"file": path.name, "bytes_equal": ours == ref,
                                            "coefficients_differing": differ})
            if progress:
                progress(index + 1)
    return {"settings": totals, "gray_images": gray}


def _git(*args):
    try:
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True,
                              check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None


def provenance(argv):
    import jpeglib

    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = next((ln.split(":", 1)[1].strip() for ln in lscpu.splitlines()
                      if ln.startswith("Model name")), platform.processor())
    except OSError:
        model = platform.processor()
    status = _git("status", "--porcelain")
    commit = _git("rev-parse", "HEAD")
    return {
        "command": "python bench/encoder_parity.py " + " ".join(argv),
        "date": f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}",
        "git_commit": commit.strip() if commit else None,
        "git_dirty": bool(status.strip()) if status is not None else None,
        "machine": f"{model}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}",
        "versions": {"fdjpeg": fdjpeg.build_info()["version"], "python": platform.python_version(),
                     "Pillow": Image.__version__,
                     "Pillow libjpeg-turbo": features.version("libjpeg_turbo"),
                     "jpeglib": jpeglib.__version__, "jpeglib libjpeg": jpeglib.version.get(),
                     "numpy": np.__version__},
    }


def markdown(result):
    p = result["provenance"]
    lines = ["# Encoder parity: fdjpeg.encode against Pillow's save on the ImageNet sample", "",
             f"- command: `{p['command'].strip()}` ({result['seconds']:.0f} s)",
             f"- date: {p['date']}; git {p['git_commit']} (dirty: {str(p['git_dirty']).lower()})",
             f"- machine: {p['machine']}",
             "- versions: " + ", ".join(f"{k} {v}" for k, v in p["versions"].items()),
             f"- images: {result['images']} from `{result['corpus']}` ({result['gray_images']} grey, "
             "encoded as L; the rest as RGB); coefficients read back by jpeglib",
             f"- FD table: the package default (`fdjpeg.tables.parse(True)`), luma row 0: "
             f"{result['fd_table'][0]}",
             "", "| setting | images | files byte-identical | coefficients compared | differing |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for s, t in result["settings"].items():
        lines.append(f"| {s} | {t['images']} | {t['files_identical']}/{t['images']} | "
                     f"{t['coefficients_compared']:,} | {t['coefficients_differing']:,} |")
    total = result["total"]
    lines += ["", f"Total: {total['coefficients_differing']:,} of {total['coefficients_compared']:,} "
              f"coefficients differ; {total['files_identical']:,} of {total['files']:,} files "
              "byte-identical.", "",
              "Settings: " + "; ".join(result["setting_notes"]) + "."]
    mism = [(s, m) for s, t in result["settings"].items() for m in t["mismatches"]]
    if mism:
        lines += ["", "Mismatches:"] + [f"- {s}: {m['file']} (bytes equal: {m['bytes_equal']}, "
                                        f"{m['coefficients_differing']} coefficients differ)"
                                        for s, m in mism[:50]]
    return "\n".join(lines) + "\n"


SETTING_NOTES = [
    "q75 4:2:0 = `encode(img, quality=75, subsampling='4:2:0')` vs `save(quality=75, subsampling=2)`",
    "FD table 4:4:4 = `encode(img, [T, T], subsampling='4:4:4')` vs `save(qtables=[T, T], subsampling=0)`",
    "random16 4:2:2 = two tables per image (seed = image index), entries log-uniform in 1..8191, "
    "at least one > 255 (16-bit DQT), `subsampling='4:2:2'` vs `subsampling=1`",
    "q90 progressive = `encode(img, quality=90, progressive=True, subsampling='4:2:0')` vs "
    "`save(quality=90, progressive=True, subsampling=2)`",
    "grey images: the same tables, no subsampling",
]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=pathlib.Path, default=CORPUS)
    ap.add_argument("--limit", type=int, default=None, help="first N images only")
    ap.add_argument("--out", type=pathlib.Path, default=ROOT / "bench" / "results" / "encoder_parity",
                    help="write <out>.json and <out>.md (default bench/results/encoder_parity)")
    args = ap.parse_args(argv)
    argv = sys.argv[1:] if argv is None else argv
    if not args.corpus.is_dir():
        sys.exit(f"corpus not found at {args.corpus}")
    files = sorted(p for p in args.corpus.iterdir() if p.suffix.lower() in (".jpeg", ".jpg"))
    if args.limit is not None:
        files = files[:args.limit]
    prov = provenance(argv)
    t0 = time.perf_counter()

    def progress(i):
        if i % 50 == 0 or i == len(files):
            print(f"{i}/{len(files)} images, {time.perf_counter() - t0:.0f} s", file=sys.stderr)

    res = run(files, progress=progress)
    seconds = time.perf_counter() - t0
    st = res["settings"]
    result = {
        "what": "fdjpeg.encode vs Pillow save: bytes and jpeglib DCT coefficients",
        "corpus": os.path.relpath(args.corpus, ROOT),
        "images": len(files), "gray_images": res["gray_images"],
        "fd_table": fdjpeg.tables.parse(True)[0].tolist(),
        "settings": st, "setting_notes": SETTING_NOTES,
        "total": {"files": sum(t["images"] for t in st.values()),
                  "files_identical": sum(t["files_identical"] for t in st.values()),
                  "coefficients_compared": sum(t["coefficients_compared"] for t in st.values()),
                  "coefficients_differing": sum(t["coefficients_differing"] for t in st.values())},
        "seconds": round(seconds, 1), "provenance": prov,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=1)
    # one line per innermost list of numbers (the 8x8 table) instead of one line per number
    text = re.sub(r"\[[\d,\s]*\]", lambda m: json.dumps(json.loads(m.group(0))), text)
    pathlib.Path(str(args.out) + ".json").write_text(text + "\n")
    md = markdown(result)
    pathlib.Path(str(args.out) + ".md").write_text(md)
    print(md)
    return result


if __name__ == "__main__":
    main()
