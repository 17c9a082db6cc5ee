"""fdjpeg against Pillow, simplejpeg, imagecodecs (libjpeg-turbo) and numpy: one run, one table of ratios.

    python bench/compare.py [--decode-files 1000] [--quick] [--out bench/results/compare.md]

Every comparison is measured *interleaved* in the same process: for each input, each
contender runs once per repetition in turn, and the minimum over the repetitions is kept;
the totals over all inputs give the ratios.  A ratio > 1 means fdjpeg is faster.  Single-
thread timings use the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID), which other jobs
on a shared machine cannot inflate by preempting us (``--wall`` uses wall-clock time); the
thread-scaling section is necessarily wall-clock and reports how many cores the work
actually got (sum of worker CPU time / wall time).

Sections (issue 7):
  decode     the ImageNet sample: Pillow, simplejpeg, imagecodecs, fdjpeg (+ bit-exact count vs Pillow)
  encode     q75 4:2:0, q90 4:4:4, FD table 4:4:4: Pillow, simplejpeg and imagecodecs (no custom
             tables), fdjpeg
  purify     224x224 RGB crops with the paper's released table: Pillow JPEG round trip with
             qtables=[T, T] at 4:4:4, a vectorised numpy FD, the paper's per-block loop, fdjpeg
  one-pass   decode(purify=T) against decode
  threads    batch decode / purify with 1 and 2 threads (ThreadPoolExecutor)
  memory     peak RSS growth of one decode in a fresh subprocess / output array size
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


def section_threads(datas, crops, reps, out):
    table = fdjpeg.tables.paper_released()
    jobs = {
        "fdjpeg.decode (ImageNet files)": (fdjpeg.decode, datas),
        "fdjpeg.purify (224×224 crops)": (lambda a: fdjpeg.purify(a, table), crops),
        "Pillow decode (reference)": (pil_decode, datas),
    }
    out.append(f"\n## Batch throughput, 1 and 2 threads (best of {reps} passes; "
               f"{os.cpu_count()} logical CPUs shared with other jobs)\n")
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
               f"{best[1][0] / per_image_one[0]:.2f}× (the per-call checks and table parsing it "
               "skips).  Batch rows: \"cores used\" is process CPU time / wall time.")
    gil = gil_released(datas)
    out.append(f"\nGIL check (works on a busy machine too): while one fdjpeg.decode of a "
               f"{gil['size']} image ran for {gil['ms']:.0f} ms in the main thread, a pure-Python "
               f"counter thread advanced {gil['during']:,} times ({gil['rate_during']:.0f}/ms, "
               f"against {gil['rate_alone']:.0f}/ms with the main thread asleep): the decode "
               f"{'does not hold' if gil['during'] > 0 else 'HOLDS'} the GIL.")
    out.append(f"\nLoad average after this section: {os.getloadavg()[0]:.2f}.  \"cores used\" "
               "above 1 with 2 threads means the two decodes ran at the same time (the GIL is "
               "released); a speed-up below 1.9 with cores used well below 2 means the machine "
               "had no second core to give.")
    return {"threads": res}


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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--decode-files", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    ap.add_argument("--out", type=pathlib.Path, help="also write the report here (markdown)")
    ap.add_argument("--wall", action="store_true", help="wall-clock instead of thread CPU time")
    args = ap.parse_args(argv)
    global clock
    if args.wall:
        clock = pc
    argv = sys.argv[1:] if argv is None else argv
    n_dec = 40 if args.quick else args.decode_files
    reps = 2 if args.quick else args.reps
    n_img = 20 if args.quick else 100
    datas = load_corpus(max(n_dec, 300))
    dec_datas = datas[:n_dec]
    images = []
    for d in datas[:n_img * 2]:
        a = fdjpeg.decode(d, mode="RGB")
        images.append(np.ascontiguousarray(a))
    images = images[:n_img]
    crops = [np.ascontiguousarray(fdjpeg.decode(d, mode="RGB")[:224, :224]) for d in datas[:300]]
    crops = [c for c in crops if c.shape == (224, 224, 3)]
    crops_bench = crops[:n_img]

    out = ["# fdjpeg performance against Pillow, simplejpeg, imagecodecs (libjpeg-turbo) and numpy", ""]
    out += machine_lines(argv)
    summary = {}
    summary.update(section_decode(dec_datas, reps, out))
    summary.update(section_encode(images, max(3, reps - 2), out))
    summary.update(section_purify(crops_bench, reps, 3 if args.quick else 5, out))
    summary.update(section_onepass(datas[:40 if args.quick else 300], reps, out))
    summary.update(section_threads(datas[:40 if args.quick else 300], crops[:40 if args.quick else 300],
                                   2 if args.quick else 3, out))
    baseline = [p for p in sorted(CORPUS.iterdir())[:max(n_dec, 300)]
                if not fdjpeg.inspect(p.read_bytes())["progressive"]]
    baseline.sort(key=lambda p: -p.stat().st_size)
    summary.update(section_memory(baseline[:5 if args.quick else 20], out))

    enc = summary["encode_vs_pil"]
    out.append("\n## Targets (issue 7)\n")
    out.append(row("target", "measured", "met"))
    out.append(row("---", "---", "---"))
    out.append(row("decode ≥ 1.0× Pillow", f"{summary['decode_vs_pil']:.3f}×",
                   "yes" if summary["decode_vs_pil"] >= 1 else "no"))
    for k, v in enc.items():
        out.append(row(f"encode {k} ≥ 1.0× Pillow", f"{v:.3f}×", "yes" if v >= 1 else "no"))
    out.append(row("purify 224² ≥ 3× Pillow round trip (5× goal)", f"{summary['purify_vs_pil']:.2f}×",
                   "yes" if summary["purify_vs_pil"] >= 3 else "no"))
    out.append(row("decode(purify=T) within 5% of decode", f"{summary['onepass_overhead'] * 100:+.1f}%",
                   "yes" if summary["onepass_overhead"] <= 0.05 else "no"))
    for k, v in summary["threads"].items():
        if k.startswith("fdjpeg"):
            out.append(row(f"2 threads ≥ 1.9× one thread: {k}", f"{v:.2f}×", "yes" if v >= 1.9 else "no"))
    m = summary["memory"]["fdjpeg"]
    out.append(row("decode peak memory ≤ 1.3× output (baseline)", f"{m:.2f}×", "yes" if m <= 1.3 else "no"))
    out.append("\n## Targets (issue 16: as fast as libjpeg-turbo behind a thin wrapper)\n")
    out.append(row("target", "measured", "met"))
    out.append(row("---", "---", "---"))
    for peer, v in summary["decode_vs_peers"].items():
        out.append(row(f"decode ≥ 1.0× {peer}", f"{v:.3f}×", "yes" if v >= 1 else "no"))
    for k, pv in summary["encode_vs_peers"].items():
        for peer, v in pv.items():
            out.append(row(f"encode {k} ≥ 1.0× {peer}", f"{v:.3f}×", "yes" if v >= 1 else "no"))
    out.append(row("purify 224² ≥ 5× Pillow round trip", f"{summary['purify_vs_pil']:.2f}×",
                   "yes" if summary["purify_vs_pil"] >= 5 else "no"))
    out.append(row("decode(purify=T) ≤ +3% over decode", f"{summary['onepass_overhead'] * 100:+.1f}%",
                   "yes" if summary["onepass_overhead"] <= 0.03 else "no"))
    text = "\n".join(out) + "\n"
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)


if __name__ == "__main__":
    main()
