"""fdjpeg against Pillow, simplejpeg, imagecodecs (libjpeg-turbo) and numpy: one run, one table of ratios.

    python bench/compare.py                              # every section, ~10 min on 2 cores
    python bench/compare.py --sections decode,scaled     # only these
    python bench/compare.py --quick                      # small sizes, a smoke run (~1-2 min)
    python bench/compare.py --out bench/results/compare-DATE.md

Every comparison is measured *interleaved* in the same process: for each input, each
contender runs once per repetition in turn, and the minimum over the repetitions is kept;
the totals over all inputs give the ratios.  A ratio > 1 means fdjpeg is faster.  Single-
thread timings use the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID), which other jobs
on a shared machine cannot inflate by preempting us (``--wall`` uses wall-clock time); the
thread-scaling section is necessarily wall-clock and reports how many cores the work
actually got (sum of worker CPU time / wall time) and the ``uptime`` load around it.

Test images that are not in the corpus are made at run time from
``../shared/corpus/imagenet-sample`` and never written to the repository: progressive and
arithmetic files by ``jpegtran`` (lossless transcodes of the corpus files), 12 MP photos by
upscaling corpus photos with Pillow, 224x224 crop files by Pillow's encoder.

Sections (``--sections``, comma-separated; default all, in this order):
  decode       the ImageNet sample: Pillow, simplejpeg, imagecodecs, fdjpeg (+ bit-exact count vs Pillow)
  encode       q75 4:2:0, q90 4:4:4, FD table 4:4:4: Pillow, simplejpeg and imagecodecs (no custom
               tables), fdjpeg
  purify       224x224 RGB crops with the paper's released table: Pillow JPEG round trip with
               qtables=[T, T] at 4:4:4, a vectorised numpy FD, the paper's per-block loop, fdjpeg
  onepass      decode(purify=T) against decode
  progressive  progressive and arithmetic decode (jpegtran transcodes of the ImageNet files);
               Pillow 13's libjpeg-turbo cannot decode arithmetic files, the others can
  large        12 MP photos (4000x3000, 4:2:0, q90): decode, encode, purify
  crops        224x224 JPEG files (q90 4:2:0): decode and encode, where per-call overhead shows
  scaled       reduced-size decode, scale=2, 4, 8: Pillow's draft(), simplejpeg min_width/
               min_height, fdjpeg scale= (imagecodecs' jpeg8_decode has no scaling)
  progenc      progressive encode q90 4:2:0: Pillow, fdjpeg (simplejpeg and imagecodecs'
               jpeg8_encode cannot write progressive files)
  threads      batch decode / purify with 1 and 2 threads (wall clock), the batch entry point
               purify(batch, threads=2) against per-image calls, the torch transform per sample
               against one call on the collated batch
  memory       peak RSS growth of one decode in a fresh subprocess / output array size
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime
import io
import os
import pathlib
import platform
import subprocess
import sys
import time

import numpy as np
from PIL import Image, features

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import fdjpeg  # noqa: E402

try:
    import simplejpeg
except ImportError:  # pragma: no cover - optional contender
    simplejpeg = None

try:  # libjpeg-turbo 3.1 behind a thin Cython wrapper: the second honest peer (issue 16)
    import imagecodecs
except ImportError:  # pragma: no cover - optional contender
    imagecodecs = None

CORPUS = ROOT.parent / "shared" / "corpus" / "imagenet-sample"
pc = time.perf_counter
clock = time.thread_time  # --wall switches to time.perf_counter


# ----------------------------------------------------------------------------- timing

def interleaved(cases: dict, inputs, reps: int):
    """Sum over inputs of the per-input minimum time of each case (seconds)."""
    totals = {name: 0.0 for name in cases}
    names = list(cases)
    for x in inputs:
        best = {name: float("inf") for name in names}
        for r in range(reps):
            order = names[r % len(names):] + names[:r % len(names)]  # rotate who goes first
            for name in order:
                t = clock()
                cases[name](x)
                best[name] = min(best[name], clock() - t)
        for name in names:
            totals[name] += best[name]
    return totals


def machine_lines(argv):
    lines = []
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = next((ln.split(":", 1)[1].strip() for ln in lscpu.splitlines()
                      if ln.startswith("Model name")), platform.processor())
    except OSError:
        model = platform.processor()
    load = os.getloadavg()
    lines.append(f"- machine: {model}, {os.cpu_count()} logical CPUs, {platform.system()} "
                 f"{platform.release()}, Python {platform.python_version()}")
    lines.append(f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}; "
                 f"load average at start {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} "
                 "(other jobs share this machine: ratios are interleaved minima of "
                 + ("wall-clock time)" if clock is pc else "thread CPU time)"))
    info = fdjpeg.build_info()
    lines.append(f"- fdjpeg {info['version']} (kernels: {info['kernels']}); Pillow "
                 f"{Image.__version__} with libjpeg-turbo {features.version('libjpeg_turbo')}; "
                 f"simplejpeg {getattr(simplejpeg, '__version__', 'absent')}; imagecodecs "
                 f"{getattr(imagecodecs, '__version__', 'absent')} "
                 f"({imagecodecs.jpeg8_version() if imagecodecs else ''}); numpy {np.__version__}")
    lines.append(f"- command: `python bench/compare.py {' '.join(argv)}`".rstrip())
    try:
        git = ["git", "-C", str(ROOT)]
        commit = subprocess.run(git + ["rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = bool(subprocess.run(git + ["status", "--porcelain"], capture_output=True,
                                    text=True, check=True).stdout.strip())
        lines.append(f"- git: {commit} (git_dirty: {str(dirty).lower()})")
    except (OSError, subprocess.CalledProcessError):
        pass
    return lines


def row(*cells):
    return "| " + " | ".join(str(c) for c in cells) + " |"


# ----------------------------------------------------------------------------- contenders

def pil_decode(data):
    return np.asarray(Image.open(io.BytesIO(data)))


def simplejpeg_decode(data):
    # colour files to RGB, grey ones to GRAY, accurate DCT and fancy upsampling as Pillow
    gray = simplejpeg.decode_jpeg_header(data)[2] == "Gray"
    return simplejpeg.decode_jpeg(data, colorspace="GRAY" if gray else "RGB",
                                  fastdct=False, fastupsample=False)


def imagecodecs_decode(data):
    # libjpeg-turbo's defaults are Pillow's (ISLOW, fancy upsampling): same pixels
    return imagecodecs.jpeg8_decode(data)


def pil_encode(arr, **kw):
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", **kw)
    return buf.getvalue()


def pil_roundtrip(arr, table):
    t = [int(v) for v in np.asarray(table).reshape(64)]
    return pil_decode(pil_encode(arr, qtables=[t, t], subsampling=0))


def _dct_matrix():
    k = np.arange(8)
    m = np.cos((2 * k[None, :] + 1) * k[:, None] * np.pi / 16) * np.sqrt(2 / 8)
    m[0] /= np.sqrt(2)
    return m


_C = _dct_matrix()


def numpy_fd(rgb, table):
    """Vectorised float FD: YCbCr (JFIF), 8x8 orthonormal DCT of every block at once,
    quantize/dequantize with the table (JPEG scaling: DCT x 8 / (8 q) == DCT / q), IDCT,
    back to RGB, round and clip.  Not bit-exact with libjpeg; the natural numpy baseline."""
    x = rgb.astype(np.float32)
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    ycc = np.stack([0.299 * r + 0.587 * g + 0.114 * b,
                    -0.168736 * r - 0.331264 * g + 0.5 * b + 128,
                    0.5 * r - 0.418688 * g - 0.081312 * b + 128]) - 128
    c, h, w = ycc.shape
    blocks = ycc.reshape(c, h // 8, 8, w // 8, 8).transpose(0, 1, 3, 2, 4)
    coef = _C @ blocks @ _C.T
    t = np.asarray(table, np.float32).reshape(8, 8)
    coef = np.round(coef / t) * t
    out = (_C.T @ coef @ _C).transpose(0, 1, 3, 2, 4).reshape(c, h, w) + 128
    yy, cb, cr = out[0], out[1] - 128, out[2] - 128
    rgb_out = np.stack([yy + 1.402 * cr, yy - 0.344136 * cb - 0.714136 * cr, yy + 1.772 * cb], -1)
    return np.clip(np.rint(rgb_out), 0, 255).astype(np.uint8)


def paper_loop(rgb, table):
    """The paper's released code, re-implemented: per RGB channel (no YCbCr), per 8x8 block
    in a Python loop, scipy DCT-II (orthonormal) of the level-shifted block, quantize and
    dequantize with the table, inverse DCT, round and clip."""
    from scipy.fft import dctn, idctn

    t = np.asarray(table, np.float64).reshape(8, 8)
    x = rgb.astype(np.float64) - 128
    out = np.empty_like(x)
    h, w, ch = x.shape
    for c in range(ch):
        for i in range(0, h, 8):
            for j in range(0, w, 8):
                block = dctn(x[i:i + 8, j:j + 8, c], norm="ortho")
                block = np.round(block / t) * t
                out[i:i + 8, j:j + 8, c] = idctn(block, norm="ortho")
    return np.clip(np.rint(out + 128), 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------- sections

def load_corpus(n):
    if not CORPUS.is_dir():
        sys.exit(f"corpus not found at {CORPUS}")
    files = sorted(CORPUS.iterdir())[:n]
    return [p.read_bytes() for p in files]


def section_decode(datas, reps, out):
    cases = {"Pillow": pil_decode, "fdjpeg": fdjpeg.decode}
    if simplejpeg:
        cases["simplejpeg"] = simplejpeg_decode
    if imagecodecs:
        cases["imagecodecs"] = imagecodecs_decode
    tot = interleaved(cases, datas, reps)
    exact = sum(np.array_equal(pil_decode(d), fdjpeg.decode(d)) for d in datas)
    n = len(datas)
    out.append(f"\n## Decode: ImageNet sample ({n} files, min of {reps} interleaved runs per file)\n")
    out.append(row("decoder", "ms / image", "fdjpeg speed ×"))
    out.append(row("---", "---:", "---:"))
    for name, t in tot.items():
        out.append(row(name, f"{t / n * 1e3:.3f}", f"{t / tot['fdjpeg']:.3f}"))
    out.append(f"\nfdjpeg bit-exact with Pillow on {exact}/{n} files in this run.")
    return {"decode_vs_pil": tot["Pillow"] / tot["fdjpeg"],
            "decode_vs_peers": {k: tot[k] / tot["fdjpeg"] for k in ("simplejpeg", "imagecodecs") if k in tot}}


def section_encode(images, reps, out):
    fd_table = fdjpeg.tables.feature_distillation()
    t = [int(v) for v in fd_table.reshape(64)]
    settings = {
        "q75 4:2:0": (lambda a: pil_encode(a, quality=75, subsampling=2),
                      lambda a: simplejpeg.encode_jpeg(a, quality=75, colorsubsampling="420"),
                      lambda a: imagecodecs.jpeg8_encode(a, level=75, subsampling="420"),
                      lambda a: fdjpeg.encode(a, quality=75, subsampling="4:2:0")),
        "q90 4:4:4": (lambda a: pil_encode(a, quality=90, subsampling=0),
                      lambda a: simplejpeg.encode_jpeg(a, quality=90, colorsubsampling="444"),
                      lambda a: imagecodecs.jpeg8_encode(a, level=90, subsampling="444"),
                      lambda a: fdjpeg.encode(a, quality=90, subsampling="4:4:4")),
        "FD table 4:4:4": (lambda a: pil_encode(a, qtables=[t, t], subsampling=0),
                           None,  # simplejpeg takes no custom tables
                           None,  # nor does imagecodecs' jpeg8_encode
                           lambda a: fdjpeg.encode(a, [fd_table, fd_table], subsampling="4:4:4")),
    }
    n = len(images)
    out.append(f"\n## Encode: {n} ImageNet images (RGB), min of {reps} interleaved runs per image\n")
    out.append(row("setting", "Pillow ms", "simplejpeg ms", "imagecodecs ms", "fdjpeg ms",
                   "fdjpeg vs Pillow ×", "fdjpeg vs simplejpeg ×", "fdjpeg vs imagecodecs ×",
                   "bytes identical to Pillow"))
    out.append(row("---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:"))
    ratios, peers = {}, {}
    for name, (p, s, ic, f) in settings.items():
        cases = {"Pillow": p, "fdjpeg": f}
        if s is not None and simplejpeg:
            cases["simplejpeg"] = s
        if ic is not None and imagecodecs:
            cases["imagecodecs"] = ic
        tot = interleaved(cases, images, reps)
        same = sum(p(a) == f(a) for a in images)
        sj, icd = tot.get("simplejpeg"), tot.get("imagecodecs")
        out.append(row(name, f"{tot['Pillow'] / n * 1e3:.3f}",
                       f"{sj / n * 1e3:.3f}" if sj else "n/a (no custom tables)",
                       f"{icd / n * 1e3:.3f}" if icd else "n/a (no custom tables)",
                       f"{tot['fdjpeg'] / n * 1e3:.3f}", f"{tot['Pillow'] / tot['fdjpeg']:.3f}",
                       f"{sj / tot['fdjpeg']:.3f}" if sj else "n/a",
                       f"{icd / tot['fdjpeg']:.3f}" if icd else "n/a", f"{same}/{n}"))
        ratios[name] = tot["Pillow"] / tot["fdjpeg"]
        peers[name] = {k: tot[k] / tot["fdjpeg"] for k in ("simplejpeg", "imagecodecs") if k in tot}
    return {"encode_vs_pil": ratios, "encode_vs_peers": peers}


def section_purify(crops, reps, loop_crops, out):
    table = fdjpeg.tables.paper_released()
    cases = {
        "Pillow round trip (qtables=[T, T], 4:4:4)": lambda a: pil_roundtrip(a, table),
        "numpy vectorised FD (float)": lambda a: numpy_fd(a, table),
        "fdjpeg.purify": lambda a: fdjpeg.purify(a, table),
    }
    n = len(crops)
    tot = interleaved(cases, crops, reps)
    same = sum(np.array_equal(fdjpeg.purify(a, table), pil_roundtrip(a, table)) for a in crops)
    # the per-block Python loop is ~100x slower: fewer crops, one run each, fdjpeg alongside
    loop_cases = {"paper's released per-block loop (scipy)": lambda a: paper_loop(a, table),
                  "fdjpeg.purify": lambda a: fdjpeg.purify(a, table)}
    ltot = interleaved(loop_cases, crops[:loop_crops], 1)
    fd = tot["fdjpeg.purify"]
    out.append(f"\n## Purify: {n} ImageNet 224×224 RGB crops, paper's released table "
               f"(30, 25 in the low 4×4), min of {reps} interleaved runs per crop\n")
    out.append(row("method", "ms / crop", "fdjpeg speed ×"))
    out.append(row("---", "---:", "---:"))
    for name, t in tot.items():
        out.append(row(name, f"{t / n * 1e3:.3f}", f"{t / fd:.2f}"))
    lname = "paper's released per-block loop (scipy)"
    out.append(row(lname + f" ({loop_crops} crops, 1 run)", f"{ltot[lname] / loop_crops * 1e3:.1f}",
                   f"{ltot[lname] / ltot['fdjpeg.purify']:.0f}"))
    out.append(f"\nfdjpeg.purify identical to the Pillow round trip on {same}/{n} crops.")
    return {"purify_vs_pil": tot["Pillow round trip (qtables=[T, T], 4:4:4)"] / fd}


def section_onepass(datas, reps, out):
    table = fdjpeg.tables.feature_distillation()
    cases = {"decode": fdjpeg.decode, "decode(purify=T)": lambda d: fdjpeg.decode(d, purify=table)}
    tot = interleaved(cases, datas, reps)
    n = len(datas)
    over = tot["decode(purify=T)"] / tot["decode"] - 1
    out.append(f"\n## One-pass purification: decode(purify=T) against decode ({n} ImageNet files, "
               f"min of {reps})\n")
    out.append(row("call", "ms / image"))
    out.append(row("---", "---:"))
    for name, t in tot.items():
        out.append(row(name, f"{t / n * 1e3:.3f}"))
    out.append(f"\ndecode(purify=T) costs {over * 100:+.1f}% over decode.")
    return {"onepass_overhead": over}


def _throughput(fn, items, threads):
    """(items per wall second, cores used = summed worker CPU time / wall time)."""
    cpu = []

    def timed(x):
        t = time.thread_time()
        fn(x)
        cpu.append(time.thread_time() - t)

    t = pc()
    if threads == 1:
        for x in items:
            timed(x)
    else:
        with cf.ThreadPoolExecutor(max_workers=threads) as ex:
            list(ex.map(timed, items, chunksize=4))
    wall = pc() - t
    return len(items) / wall, sum(cpu) / wall


def jpegtran(data, *flags):
    """A lossless transcode of data by libjpeg-turbo's jpegtran (progressive, arithmetic)."""
    r = subprocess.run(["jpegtran", "-copy", "none", *flags], input=data, capture_output=True)
    if r.returncode or not r.stdout:
        raise RuntimeError(f"jpegtran {' '.join(flags)} failed: {r.stderr.decode(errors='replace')}")
    return r.stdout


def refusal(fn, data):
    """None if fn decodes data, else what it raised (a peer that refuses a case is reported)."""
    try:
        fn(data)
        return None
    except Exception as e:  # noqa: BLE001
        return f"{type(e).__name__}: {e}"


def peer_table(out, tot, n, unit="ms / image"):
    """Rows: contender, time per item, fdjpeg speed × (that contender's time / fdjpeg's)."""
    out.append(row("contender", unit, "fdjpeg speed ×"))
    out.append(row("---", "---:", "---:"))
    for name, t in tot.items():
        out.append(row(name, f"{t / n * 1e3:.3f}", f"{t / tot['fdjpeg']:.3f}"))


def also(summary, label, tot, missing=None):
    """Record an issue-16 "also measure" case: fdjpeg's speed against each peer present."""
    summary.setdefault("also", []).append(
        (label, {k: tot[k] / tot["fdjpeg"] for k in tot if k != "fdjpeg"}, missing or {}))


def decoders():
    cases = {"Pillow": pil_decode, "fdjpeg": fdjpeg.decode}
    if simplejpeg:
        cases["simplejpeg"] = simplejpeg_decode
    if imagecodecs:
        cases["imagecodecs"] = imagecodecs_decode
    return cases


def section_progressive(datas, reps, out, summary):
    """Progressive and arithmetic decode of jpegtran transcodes of the ImageNet files."""
    n = len(datas)
    out.append(f"\n## Progressive and arithmetic decode ({n} ImageNet files transcoded losslessly "
               f"by jpegtran -progressive / -arithmetic, min of {reps} interleaved runs per file)")
    for kind, flag in (("progressive", "-progressive"), ("arithmetic", "-arithmetic")):
        files = [jpegtran(d, flag) for d in datas]
        cases, missing = decoders(), {}
        for name in list(cases):
            why = refusal(cases[name], files[0]) if name != "fdjpeg" else None
            if why:
                missing[name] = f"refuses {kind} files: {why}"
                del cases[name]
        tot = interleaved(cases, files, reps)
        ref_name = "Pillow" if "Pillow" in cases else "imagecodecs"
        ref = cases.get(ref_name)
        exact = sum(np.array_equal(ref(d), fdjpeg.decode(d)) for d in files) if ref else None
        out.append(f"\n### {kind.capitalize()}\n")
        peer_table(out, tot, n)
        for name, why in missing.items():
            out.append(row(name, f"n/a ({why})", "n/a"))
        if exact is not None:
            out.append(f"\nfdjpeg bit-exact with {ref_name} on {exact}/{n} files.")
        also(summary, f"{kind} decode (ImageNet, jpegtran)", tot, missing)


def large_photos(datas, k):
    """k 12 MP (4000×3000) photo-like RGB images: colour corpus photos upscaled (bicubic)."""
    imgs = []
    for d in datas:
        with Image.open(io.BytesIO(d)) as im:
            if im.mode != "RGB":
                continue
            imgs.append(np.asarray(im.resize((4000, 3000), Image.BICUBIC)))
        if len(imgs) == k:
            break
    return imgs


def encoders_q90_420():
    """q90 4:2:0 encoders of every available contender (the 12 MP and the crop sections)."""
    cases = {"Pillow": lambda a: pil_encode(a, quality=90, subsampling=2),
             "fdjpeg": lambda a: fdjpeg.encode(a, quality=90, subsampling="4:2:0")}
    if simplejpeg:
        cases["simplejpeg"] = lambda a: simplejpeg.encode_jpeg(a, quality=90, colorsubsampling="420")
    if imagecodecs:
        cases["imagecodecs"] = lambda a: imagecodecs.jpeg8_encode(a, level=90, subsampling="420")
    return cases


def section_large(datas, k, reps, out, summary):
    imgs = large_photos(datas, k)
    files = [pil_encode(a, quality=90, subsampling=2) for a in imgs]
    out.append(f"\n## 12 MP photos ({k} ImageNet photos upscaled to 4000×3000 with Pillow's bicubic, "
               f"q90 4:2:0 by Pillow; min of {reps} interleaved runs per image)\n")
    out.append("### Decode\n")
    tot = interleaved(decoders(), files, reps)
    peer_table(out, tot, k)
    exact = sum(np.array_equal(pil_decode(d), fdjpeg.decode(d)) for d in files)
    out.append(f"\nfdjpeg bit-exact with Pillow on {exact}/{k} files.")
    also(summary, "12 MP decode (4000×3000 4:2:0)", tot)
    out.append("\n### Encode q90 4:2:0\n")
    cases = encoders_q90_420()
    tot = interleaved(cases, imgs, reps)
    peer_table(out, tot, k)
    same = sum(cases["Pillow"](a) == cases["fdjpeg"](a) for a in imgs)
    out.append(f"\nfdjpeg's files byte-identical to Pillow's on {same}/{k} images.")
    also(summary, "12 MP encode q90 4:2:0", tot)
    out.append("\n### Purify (paper's released table, 4:4:4)\n")
    table = fdjpeg.tables.paper_released()
    cases = {"Pillow": lambda a: pil_roundtrip(a, table), "fdjpeg": lambda a: fdjpeg.purify(a, table)}
    tot = interleaved(cases, imgs, reps)
    peer_table(out, tot, k)
    out.append("\n(Pillow: a JPEG round trip with qtables=[T, T]; simplejpeg and imagecodecs take "
               "no custom tables.)")
    also(summary, "12 MP purify (vs a Pillow round trip)", tot,
         {"simplejpeg": "no custom tables", "imagecodecs": "no custom tables"})


def section_crops(crops, reps, out, summary):
    n = len(crops)
    files = [pil_encode(c, quality=90, subsampling=2) for c in crops]
    out.append(f"\n## 224×224 crops as JPEG files ({n} ImageNet crops, q90 4:2:0 by Pillow; "
               f"min of {reps} interleaved runs per crop; per-call overhead shows here)\n")
    out.append("### Decode\n")
    tot = interleaved(decoders(), files, reps)
    peer_table(out, tot, n, "ms / crop")
    exact = sum(np.array_equal(pil_decode(d), fdjpeg.decode(d)) for d in files)
    out.append(f"\nfdjpeg bit-exact with Pillow on {exact}/{n} files.")
    also(summary, "224² decode (q90 4:2:0)", tot)
    out.append("\n### Encode q90 4:2:0\n")
    cases = encoders_q90_420()
    tot = interleaved(cases, crops, reps)
    peer_table(out, tot, n, "ms / crop")
    same = sum(cases["Pillow"](a) == cases["fdjpeg"](a) for a in crops)
    out.append(f"\nfdjpeg's files byte-identical to Pillow's on {same}/{n} crops.")
    also(summary, "224² encode q90 4:2:0", tot)


def pil_draft(data, s):
    """Pillow's reduced-size decode: draft() picks libjpeg's scale 1/s for (w // s, h // s)."""
    im = Image.open(io.BytesIO(data))
    im.draft(im.mode, (im.width // s, im.height // s))
    return np.asarray(im)


def simplejpeg_scaled(data, s):
    # libjpeg-turbo picks the smallest scale n/8 whose output is at least min_width x min_height
    h, w, cs, _ = simplejpeg.decode_jpeg_header(data)
    return simplejpeg.decode_jpeg(data, colorspace="GRAY" if cs == "Gray" else "RGB",
                                  fastdct=False, fastupsample=False,
                                  min_width=-(-w // s), min_height=-(-h // s), min_factor=s)


def section_scaled(datas, reps, out, summary):
    n = len(datas)
    out.append(f"\n## Reduced-size decode, scale = 2, 4, 8 ({n} ImageNet files, min of {reps} "
               "interleaved runs per file; imagecodecs' jpeg8_decode has no scaled decode)\n")
    out.append(row("scale", "Pillow draft() ms", "simplejpeg ms", "fdjpeg ms", "fdjpeg vs Pillow ×",
                   "fdjpeg vs simplejpeg ×", "bit-exact with Pillow", "simplejpeg same shape"))
    out.append(row("---", "---:", "---:", "---:", "---:", "---:", "---:", "---:"))
    for s in (2, 4, 8):
        cases = {"Pillow": lambda d, s=s: pil_draft(d, s), "fdjpeg": lambda d, s=s: fdjpeg.decode(d, scale=s)}
        if simplejpeg:
            cases["simplejpeg"] = lambda d, s=s: simplejpeg_scaled(d, s)
        tot = interleaved(cases, datas, reps)
        exact = sum(np.array_equal(pil_draft(d, s), fdjpeg.decode(d, scale=s)) for d in datas)
        shape = (sum(simplejpeg_scaled(d, s).shape[:2] == fdjpeg.decode(d, scale=s).shape[:2]
                     for d in datas) if simplejpeg else None)
        sj = tot.get("simplejpeg")
        out.append(row(s, f"{tot['Pillow'] / n * 1e3:.3f}", f"{sj / n * 1e3:.3f}" if sj else "n/a",
                       f"{tot['fdjpeg'] / n * 1e3:.3f}", f"{tot['Pillow'] / tot['fdjpeg']:.3f}",
                       f"{sj / tot['fdjpeg']:.3f}" if sj else "n/a", f"{exact}/{n}",
                       f"{shape}/{n}" if shape is not None else "n/a"))
        also(summary, f"decode scale={s} (Pillow: draft)", tot, {"imagecodecs": "no scaled decode"})


def section_progenc(images, reps, out, summary):
    n = len(images)
    cases = {"Pillow": lambda a: pil_encode(a, quality=90, subsampling=2, progressive=True),
             "fdjpeg": lambda a: fdjpeg.encode(a, quality=90, subsampling="4:2:0", progressive=True)}
    tot = interleaved(cases, images, reps)
    same = sum(cases["Pillow"](a) == cases["fdjpeg"](a) for a in images)
    out.append(f"\n## Progressive encode q90 4:2:0 ({n} ImageNet images, min of {reps} interleaved "
               "runs per image)\n")
    peer_table(out, tot, n)
    missing = {"simplejpeg": "no progressive option", "imagecodecs": "jpeg8_encode has no progressive option"}
    for name, why in missing.items():
        out.append(row(name, f"n/a ({why})", "n/a"))
    out.append(f"\nfdjpeg's files byte-identical to Pillow's on {same}/{n} images.")
    also(summary, "progressive encode q90 4:2:0", tot, missing)


def uptime():
    """The ``uptime`` line (load averages over 1, 5, 15 minutes), or os.getloadavg()."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average: " + ", ".join(f"{v:.2f}" for v in os.getloadavg())


def wait_for_load(limit, max_wait, out):
    """Wait (up to max_wait seconds) until the 1-minute load average is below limit."""
    t0 = pc()
    while os.getloadavg()[0] >= limit and pc() - t0 < max_wait:
        time.sleep(5)
    waited = pc() - t0
    ok = os.getloadavg()[0] < limit
    out.append(f"\nWaited {waited:.0f} s for the 1-minute load to fall below {limit}: "
               + ("it did." if ok else "it did not; measured anyway."))


def section_threads(datas, crops, reps, out):
    table = fdjpeg.tables.paper_released()
    jobs = {
        "fdjpeg.decode (ImageNet files)": (fdjpeg.decode, datas),
        "fdjpeg.purify, per-crop calls (224×224) in a thread pool": (lambda a: fdjpeg.purify(a, table), crops),
        "Pillow decode (reference)": (pil_decode, datas),
    }
    before = uptime()
    out.append(f"\n## Batch throughput, 1 and 2 threads (wall clock, best of {reps} passes; "
               f"{os.cpu_count()} logical CPUs shared with other jobs)\n")
    out.append(f"`uptime` before: {before}\n")
    out.append(row("job", "items", "1 thread items/s", "2 threads items/s", "speed-up ×",
                   "cores used, 1 / 2 threads"))
    out.append(row("---", "---:", "---:", "---:", "---:", "---:"))
    res = {}
    for name, (fn, items) in jobs.items():
        one = two = (0.0, 0.0)
        for _ in range(reps):  # alternate so both see the same background load
            one = max(one, _throughput(fn, items, 1))
            two = max(two, _throughput(fn, items, 2))
        out.append(row(name, len(items), f"{one[0]:.0f}", f"{two[0]:.0f}", f"{two[0] / one[0]:.2f}",
                       f"{one[1]:.2f} / {two[1]:.2f}"))
        res[name] = two[0] / one[0]
    # the batch entry point: one call on the (N, 224, 224, 3) batch, C splits it over threads
    batch = np.stack(crops)
    per_image_one = None
    best = {1: (0.0, 0.0), 2: (0.0, 0.0)}
    for _ in range(reps):
        for th in (1, 2):
            t, c = pc(), time.process_time()
            fdjpeg.purify(batch, table, threads=th)
            wall = pc() - t
            best[th] = max(best[th], (len(batch) / wall, (time.process_time() - c) / wall))
        per_image_one = max(per_image_one or (0.0, 0.0), _throughput(lambda a: fdjpeg.purify(a, table), crops, 1))
    name = "fdjpeg.purify, one call on the (N, 224, 224, 3) batch, threads=1 / 2"
    out.append(row(name, len(batch), f"{best[1][0]:.0f}", f"{best[2][0]:.0f}",
                   f"{best[2][0] / best[1][0]:.2f}", f"{best[1][1]:.2f} / {best[2][1]:.2f}"))
    res["fdjpeg.purify batch, threads=2 vs threads=1"] = best[2][0] / best[1][0]
    res["fdjpeg.purify batch on 2 threads vs per-image calls on 1"] = best[2][0] / per_image_one[0]
    out.append(f"\nThe batch call on 2 threads does {best[2][0] / per_image_one[0]:.2f}× the items/s of "
               f"per-image calls on 1 thread ({per_image_one[0]:.0f}/s); on 1 thread it does "
               f"{best[1][0] / per_image_one[0]:.2f}× (what it does once instead of per image: "
               "the Python call, the output allocation, the C state setup; the table is parsed "
               "once either way, purify keeps a Purifier per table value).  Batch rows: "
               "\"cores used\" is process CPU time / wall time.  Per-crop "
               "calls spread over a thread pool pay the per-call overhead on every crop and the "
               "pool's hand-offs on top: the cheap path is one `purify(batch, threads=...)` call.")
    tr = torch_transform(crops, table, reps)
    if tr:
        res.update(tr["res"])
        out.append(tr["text"])
    gil = gil_released(datas)
    out.append(f"\nGIL check (works on a busy machine too): while one fdjpeg.decode of a "
               f"{gil['size']} image ran for {gil['ms']:.0f} ms in the main thread, a pure-Python "
               f"counter thread advanced {gil['during']:,} times ({gil['rate_during']:.0f}/ms, "
               f"against {gil['rate_alone']:.0f}/ms with the main thread asleep): the decode "
               f"{'does not hold' if gil['during'] > 0 else 'HOLDS'} the GIL.")
    out.append(f"\n`uptime` after this section: {uptime()}.  \"cores used\" "
               "above 1 with 2 threads means the two decodes ran at the same time (the GIL is "
               "released); a speed-up below 1.9 with cores used well below 2 means the machine "
               "had no second core to give.")
    return {"threads": res}


def torch_transform(crops, table, reps):
    """Per-call overhead against one call on the batch, one thread: fdjpeg.purify per image
    against purify(np.stack(...)), and fdjpeg.torch.FeatureDistillation per sample (as a
    Dataset transform calls it) against one call on the collated (N, 3, H, W) uint8 tensor,
    at 224×224 and at 32×32 (the top-left corner of the same crops)."""
    try:
        import torch
        from fdjpeg.torch import FeatureDistillation
    except ImportError:
        torch = None
    fd = FeatureDistillation(table) if torch else None
    if torch:
        # torch's intra-op pool makes torch.stack of small tensors ~100x slower on a busy
        # 2-core machine; DataLoader workers run with one torch thread, so measure with one
        threads_before = torch.get_num_threads()
        torch.set_num_threads(1)
    lines = [f"\nPer image or one call on the batch, one thread (min of {reps}, thread CPU time, "
             "µs per image; torch with `torch.set_num_threads(1)`, `torch.stack` counted in the batch):\n",
             row("call", "size", "images", "per image µs", "one batch call µs", "batch speed ×"),
             row("---", "---", "---:", "---:", "---:", "---:")]
    res = {}
    for size in (224, 32):
        imgs = [np.ascontiguousarray(c[:size, :size]) for c in crops]
        n = len(imgs)
        cases = {"per image": lambda L: [fdjpeg.purify(a, table) for a in L],
                 "batch": lambda L: fdjpeg.purify(np.stack(L), table)}
        tot = interleaved(cases, [imgs], reps)
        lines.append(row("`fdjpeg.purify`", f"{size}²", n, f"{tot['per image'] / n * 1e6:.0f}",
                         f"{tot['batch'] / n * 1e6:.0f}", f"{tot['per image'] / tot['batch']:.2f}"))
        res[f"purify {size}²: one batch call vs per-image calls (1 thread)"] = tot["per image"] / tot["batch"]
        if torch:
            ts = [torch.from_numpy(a).permute(2, 0, 1).contiguous() for a in imgs]
            tcases = {"per image": lambda L: [fd(t) for t in L], "batch": lambda L: fd(torch.stack(L))}
            assert all(torch.equal(a, b) for a, b in zip(tcases["per image"](ts[:8]), tcases["batch"](ts[:8])))
            tot = interleaved(tcases, [ts], reps)
            lines.append(row("`fdjpeg.torch.FeatureDistillation` (uint8 CHW)", f"{size}²", n,
                             f"{tot['per image'] / n * 1e6:.0f}", f"{tot['batch'] / n * 1e6:.0f}",
                             f"{tot['per image'] / tot['batch']:.2f}"))
            res[f"torch FeatureDistillation {size}²: collated batch vs per sample"] = tot["per image"] / tot["batch"]
    if torch:
        torch.set_num_threads(threads_before)
    return {"res": res, "text": "\n".join(lines)}


def gil_released(datas):
    """Count a pure-Python thread's progress while the main thread is inside one long
    fdjpeg.decode: a decode that held the GIL would let the counter advance ~0 times."""
    import threading

    big = fdjpeg.encode(np.tile(fdjpeg.decode(datas[0], mode="RGB"), (8, 8, 1)), quality=90)
    state = {"count": 0, "stop": False}
    ready = threading.Event()

    def spin():
        ready.set()
        while not state["stop"]:
            state["count"] += 1

    th = threading.Thread(target=spin)
    th.start()
    ready.wait()
    time.sleep(0.05)
    c0, t0 = state["count"], pc()
    time.sleep(0.1)
    rate_alone = (state["count"] - c0) / ((pc() - t0) * 1e3)
    c0, t0 = state["count"], pc()
    img = fdjpeg.decode(big)
    ms = (pc() - t0) * 1e3
    during = state["count"] - c0
    state["stop"] = True
    th.join()
    return {"size": f"{img.shape[1]}×{img.shape[0]}", "ms": ms, "during": during,
            "rate_during": during / ms, "rate_alone": rate_alone}


_MEM_CHILD = r"""
import sys, numpy as np
sys.path.insert(0, sys.argv[1])
import fdjpeg, io
from PIL import Image
data = open(sys.argv[2], 'rb').read()
which = sys.argv[3]
def status(key):
    for line in open('/proc/self/status'):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
# warm up the code paths on a tiny image so only the decode's own memory counts
tiny = fdjpeg.encode(np.zeros((16, 16, 3), np.uint8))
fdjpeg.decode(tiny); np.asarray(Image.open(io.BytesIO(tiny)))
try:
    open('/proc/self/clear_refs', 'w').write('5')   # reset VmHWM to the current RSS
except OSError:
    pass
base = status('VmRSS')
arr = fdjpeg.decode(data) if which == 'fdjpeg' else np.asarray(Image.open(io.BytesIO(data)))
peak = status('VmHWM')
print(peak - base, arr.nbytes)
"""


def section_memory(paths, out):
    out.append(f"\n## Peak memory of one decode ({len(paths)} largest baseline ImageNet files; fresh "
               "subprocess each; VmHWM after reset via /proc/self/clear_refs, minus VmRSS before)\n")
    out.append(row("decoder", "median peak / output", "max peak / output"))
    out.append(row("---", "---:", "---:"))
    res = {}
    for which in ("fdjpeg", "Pillow"):
        ratios = []
        for p in paths:
            r = subprocess.run([sys.executable, "-c", _MEM_CHILD, str(ROOT), str(p), which],
                               capture_output=True, text=True)
            if r.returncode:
                raise RuntimeError(r.stderr)
            grown, nbytes = map(int, r.stdout.split())
            ratios.append(grown / nbytes)
        out.append(row(which, f"{np.median(ratios):.2f}", f"{max(ratios):.2f}"))
        res[which] = float(np.median(ratios))
    out.append("\nPeak includes the output array itself (1.00 = nothing but the output); "
               "page granularity (4 KiB) and allocator slack are counted.")
    return {"memory": res}


SECTIONS = ("decode", "encode", "purify", "onepass", "progressive", "large", "crops", "scaled",
            "progenc", "threads", "memory")


def parse_sections(text):
    names = [t.strip() for t in text.split(",") if t.strip()]
    if names == ["all"]:
        return list(SECTIONS)
    bad = [t for t in names if t not in SECTIONS]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"unknown section(s) {', '.join(bad) or '(none)'}; "
                                         f"choose from {', '.join(SECTIONS)} or all")
    return [t for t in SECTIONS if t in names]  # always in the documented order


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__[__doc__.index("Sections ("):])
    ap.add_argument("--sections", type=parse_sections, default=list(SECTIONS), metavar="A,B,...",
                    help="comma-separated sections to run (default: all): " + ", ".join(SECTIONS))
    ap.add_argument("--decode-files", type=int, default=1000,
                    help="ImageNet files in the 'decode' section (default 1000; other sections "
                         "use fixed sizes: 100-300 files, 4 12 MP photos)")
    ap.add_argument("--reps", type=int, default=5, help="interleaved repetitions per input (default 5)")
    ap.add_argument("--quick", action="store_true", help="small sizes and 2 repetitions, for a smoke run")
    ap.add_argument("--out", type=pathlib.Path, help="also write the report here (markdown)")
    ap.add_argument("--wall", action="store_true", help="wall-clock instead of thread CPU time")
    ap.add_argument("--wait-load", type=float, metavar="L",
                    help="before the threads section, wait (up to 5 min) for the 1-minute load "
                         "average to fall below L")
    args = ap.parse_args(argv)
    global clock
    if args.wall:
        clock = pc
    argv = sys.argv[1:] if argv is None else argv
    sections = args.sections
    quick = args.quick
    n_dec = 40 if quick else args.decode_files
    reps = 2 if quick else args.reps
    n_img = 20 if quick else 100
    n_mid = 40 if quick else 300      # onepass, threads, crops, scaled
    n_prog = 20 if quick else 100     # progressive / arithmetic
    n_large = 2 if quick else 4
    datas = load_corpus(max(n_dec, 300))
    dec_datas = datas[:n_dec]

    def rgb_images():
        return [np.ascontiguousarray(fdjpeg.decode(d, mode="RGB")) for d in datas[:n_img]]

    def rgb_crops():
        crops = [np.ascontiguousarray(fdjpeg.decode(d, mode="RGB")[:224, :224]) for d in datas[:n_mid + 30]]
        return [c for c in crops if c.shape == (224, 224, 3)][:n_mid]

    out = ["# fdjpeg performance against Pillow, simplejpeg, imagecodecs (libjpeg-turbo) and numpy", ""]
    out += machine_lines(argv)
    out.append(f"- sections: {', '.join(sections)}")
    summary, took = {}, {}
    for name in sections:
        t0 = pc()
        if name == "decode":
            summary.update(section_decode(dec_datas, reps, out))
        elif name == "encode":
            summary.update(section_encode(rgb_images(), max(3, reps - 2), out))
        elif name == "purify":
            summary.update(section_purify(rgb_crops()[:n_img], reps, 3 if quick else 5, out))
        elif name == "onepass":
            summary.update(section_onepass(datas[:n_mid], reps, out))
        elif name == "progressive":
            section_progressive(datas[:n_prog], min(reps, 3), out, summary)
        elif name == "large":
            section_large(datas, n_large, max(2, reps - 2), out, summary)
        elif name == "crops":
            section_crops(rgb_crops(), reps, out, summary)
        elif name == "scaled":
            section_scaled(datas[:n_mid], reps, out, summary)
        elif name == "progenc":
            section_progenc(rgb_images(), max(3, reps - 2), out, summary)
        elif name == "threads":
            if args.wait_load is not None:
                wait_for_load(args.wait_load, 300, out)
            summary.update(section_threads(datas[:n_mid], rgb_crops(), 2 if quick else 3, out))
        elif name == "memory":
            baseline = [p for p in sorted(CORPUS.iterdir())[:max(n_dec, 300)]
                        if not fdjpeg.inspect(p.read_bytes())["progressive"]]
            baseline.sort(key=lambda p: -p.stat().st_size)
            summary.update(section_memory(baseline[:5 if quick else 20], out))
        took[name] = pc() - t0
        print(f"[compare] {name}: {took[name]:.0f} s", file=sys.stderr)
    targets(summary, out)
    out.append("\nWall time per section: " + ", ".join(f"{k} {v:.0f} s" for k, v in took.items())
               + f" (total {sum(took.values()):.0f} s).")
    text = "\n".join(out) + "\n"
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)


def targets(summary, out):
    """The issue-7 and issue-16 target tables, for the sections that ran."""
    yes = lambda ok: "yes" if ok else "no"  # noqa: E731
    rows7 = []
    if "decode_vs_pil" in summary:
        rows7.append(("decode ≥ 1.0× Pillow", f"{summary['decode_vs_pil']:.3f}×", yes(summary["decode_vs_pil"] >= 1)))
    for k, v in summary.get("encode_vs_pil", {}).items():
        rows7.append((f"encode {k} ≥ 1.0× Pillow", f"{v:.3f}×", yes(v >= 1)))
    if "purify_vs_pil" in summary:
        rows7.append(("purify 224² ≥ 3× Pillow round trip (5× goal)", f"{summary['purify_vs_pil']:.2f}×",
                      yes(summary["purify_vs_pil"] >= 3)))
    if "onepass_overhead" in summary:
        rows7.append(("decode(purify=T) within 5% of decode", f"{summary['onepass_overhead'] * 100:+.1f}%",
                      yes(summary["onepass_overhead"] <= 0.05)))
    for k, v in summary.get("threads", {}).items():
        if k.startswith("fdjpeg.decode") or k.startswith("fdjpeg.purify batch, threads"):
            rows7.append((f"2 threads ≥ 1.9× one thread: {k}", f"{v:.2f}×", yes(v >= 1.9)))
    if "memory" in summary:
        m = summary["memory"]["fdjpeg"]
        rows7.append(("decode peak memory ≤ 1.3× output (baseline)", f"{m:.2f}×", yes(m <= 1.3)))
    rows16 = []
    for peer, v in summary.get("decode_vs_peers", {}).items():
        rows16.append((f"decode ≥ 1.0× {peer}", f"{v:.3f}×", yes(v >= 1)))
    for k, pv in summary.get("encode_vs_peers", {}).items():
        for peer, v in pv.items():
            rows16.append((f"encode {k} ≥ 1.0× {peer}", f"{v:.3f}×", yes(v >= 1)))
    if "purify_vs_pil" in summary:
        rows16.append(("purify 224² ≥ 5× Pillow round trip", f"{summary['purify_vs_pil']:.2f}×",
                       yes(summary["purify_vs_pil"] >= 5)))
    th = summary.get("threads", {})
    k = "fdjpeg.decode (ImageNet files)"
    if k in th:
        rows16.append(("decode, 2 threads vs 1 (keep ≥ 1.9×; needs an idle machine)", f"{th[k]:.2f}×",
                       yes(th[k] >= 1.9)))
    k = "fdjpeg.purify batch on 2 threads vs per-image calls on 1"
    if k in th:
        rows16.append(("purify batch on 2 threads vs per-image calls on 1 (keep 2.3×)", f"{th[k]:.2f}×",
                       yes(th[k] >= 2.3)))
    if "onepass_overhead" in summary:
        rows16.append(("decode(purify=T) ≤ +3% over decode", f"{summary['onepass_overhead'] * 100:+.1f}%",
                       yes(summary["onepass_overhead"] <= 0.03)))
    for title, rows in (("Targets (issue 7)", rows7),
                        ("Targets (issue 16: as fast as libjpeg-turbo behind a thin wrapper)", rows16)):
        if rows:
            out.append(f"\n## {title}\n")
            out.append(row("target", "measured", "met"))
            out.append(row("---", "---", "---"))
            out.extend(row(*r) for r in rows)
    if summary.get("also"):
        out.append("\n## Also measured (issue 16: no target yet; must not be worse than Pillow)\n")
        out.append(row("case", "fdjpeg vs Pillow ×", "vs simplejpeg ×", "vs imagecodecs ×",
                       "not worse than Pillow"))
        out.append(row("---", "---:", "---:", "---:", "---"))
        for label, ratios, missing in summary["also"]:
            cells = []
            for peer in ("Pillow", "simplejpeg", "imagecodecs"):
                if peer in ratios:
                    cells.append(f"{ratios[peer]:.3f}")
                else:
                    cells.append(f"n/a ({missing[peer]})" if peer in missing else "n/a")
            verdict = (yes(ratios["Pillow"] >= 1) if "Pillow" in ratios
                       else "Pillow cannot" if "Pillow" in missing else "n/a")
            out.append(row(label, *cells, verdict))


if __name__ == "__main__":
    main()
