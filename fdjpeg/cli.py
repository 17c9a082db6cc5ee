"""The ``fdjpeg`` command line: encode, decode, purify, inspect, tables, eval.

    fdjpeg purify photo.jpg clean.jpg           # lossless: requantized coefficients written with T
    fdjpeg purify images/ clean/ --jobs 4       # a whole folder, in parallel, with a progress bar
    fdjpeg encode raw.png sensor.jpg --table fd # two-pass (sensor side): encode with the FD table
    fdjpeg decode x.jpg x.png --purify fd       # one-pass purified decode to PNG (or .npy)
    fdjpeg inspect x.jpg --plot tables.png      # header facts, tables, known-table check, heat-map
    fdjpeg tables show fd --format cjpeg        # print / export a table
    fdjpeg tables design photos/ -o mine.json   # design an FD table from benign images
    fdjpeg eval ...                             # the evaluation harness (fdjpeg.evaluate)

Folders are walked recursively; outputs mirror the input tree.  Nothing is ever overwritten
without ``--force``; every output is written to a temporary file in the target folder and
renamed into place, so a failure never leaves a half-written file.  A file that fails is
reported at the end and the others still run.

Exit codes: 0 all done; 1 some files failed (the rest were written); 2 usage error (bad
arguments, missing input, bad table); 3 no input files found.
"""
import argparse
import json
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import numpy as np

from fdjpeg._batchio import (  # noqa: F401  (public names of this module, kept)
    IMAGE_SUFFIXES,
    JPEG_SUFFIXES,
    UsageError,
    check_target,
    collect_jobs,
    write_atomic,
)
from fdjpeg._batchio import encode_pixels_as as _encode_output
from fdjpeg._batchio import read_pixels as _read_pixels

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NO_INPUT = 0, 1, 2, 3


# ---------------------------------------------------------------------------
# tables on the command line


def parse_table(spec):
    """A table spec -> a list of (8, 8) tables: :func:`fdjpeg.tables.parse` (the one table
    vocabulary: ``fd``, ``paper``, ``q<N>``, a step, a JSON/cjpeg file, ...), with its errors
    as usage errors (exit code 2)."""
    from fdjpeg import tables

    try:
        return tables.parse(spec)
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None


class _SimpleBar:
    """A progress bar for when tqdm is not installed."""

    def __init__(self, total, desc, stream):
        self.total, self.desc, self.stream, self.n = total, desc, stream, 0
        self.lock = threading.Lock()

    def update(self, k=1):
        with self.lock:
            self.n += k
            width = 30
            filled = width * self.n // max(1, self.total)
            self.stream.write(f"\r{self.desc} [{'#' * filled}{'.' * (width - filled)}] {self.n}/{self.total}")
            if self.n >= self.total:
                self.stream.write("\n")
            self.stream.flush()

    def close(self):
        pass


def _progress(total, desc, enabled):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return _SimpleBar(total, desc, sys.stderr)
    return tqdm(total=total, desc=desc, unit="file", file=sys.stderr)


def run_batch(jobs, work, *, jobs_n=1, desc="", progress=False):
    """Run ``work(src, dst)`` over all jobs; returns a result dict per job, in input order."""
    results = [None] * len(jobs)
    bar = _progress(len(jobs), desc, progress)

    def one(i):
        src, dst = jobs[i]
        try:
            extra = work(src, dst) or {}
            return {"input": str(src), "output": str(dst), "ok": True, **extra}
        except Exception as exc:  # one bad file must not stop the batch
            return {"input": str(src), "output": str(dst), "ok": False,
                    "error": f"{type(exc).__name__}: {exc}"}

    try:
        if jobs_n <= 1:
            for i in range(len(jobs)):
                results[i] = one(i)
                if bar:
                    bar.update(1)
        else:
            with ThreadPoolExecutor(max_workers=jobs_n) as pool:  # the codec releases the GIL
                futs = {pool.submit(one, i): i for i in range(len(jobs))}
                for fut in as_completed(futs):
                    results[futs[fut]] = fut.result()
                    if bar:
                        bar.update(1)
    finally:
        if bar:
            bar.close()
    return results


def _report(results, args, command):
    failed = [r for r in results if not r["ok"]]
    if args.json:
        print(json.dumps({"command": command, "total": len(results), "ok": len(results) - len(failed),
                          "failed": len(failed), "files": results}, indent=2))
    else:
        if not args.quiet:
            for r in results:
                if r["ok"]:
                    print(f"{r['input']} -> {r['output']}")
        if failed:
            print(f"\n{len(failed)} of {len(results)} files failed:", file=sys.stderr)
            for r in failed:
                print(f"  {r['input']}: {r['error']}", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


def _batch_command(args, command, suffixes, out_suffix, work):
    jobs, is_dir = collect_jobs(args.input, args.output, suffixes, out_suffix)
    if not jobs:
        print(f"fdjpeg {command}: no input files in {args.input}", file=sys.stderr)
        return EXIT_NO_INPUT
    show = (is_dir or len(jobs) > 1) and not args.quiet and not args.json and not args.no_progress
    results = run_batch(jobs, work, jobs_n=args.jobs, desc=command, progress=show)
    return _report(results, args, command)


# ---------------------------------------------------------------------------
# commands


def metadata_segments(data, info):
    """The file's metadata segments (APP1-APP13, APP15, COM) as bytes, in file order (the
    segments ``fdjpeg.transcode`` copies)."""
    from fdjpeg._encode_api import _metadata_segments

    return _metadata_segments(data, info)


def transcode_purify(data, table, keep_metadata=True):
    """Old name of :func:`fdjpeg.transcode` (``transcode(data, purify=table)``), kept."""
    import fdjpeg

    return fdjpeg.transcode(data, purify=table, keep_metadata=keep_metadata)


def cmd_encode(args):
    import fdjpeg

    table = parse_table(args.table) if args.table else None
    if table is None and args.quality is None:
        table = parse_table("fd")

    def work(src, dst):
        check_target(dst, args.force)
        pixels = _read_pixels(src)
        kw = dict(subsampling=args.subsampling, optimize=args.optimize, progressive=args.progressive)
        if args.quality is not None:
            data = fdjpeg.encode(pixels, quality=args.quality, **kw)
        else:
            data = fdjpeg.encode(pixels, table, **kw)
        write_atomic(dst, data, args.force)
        return {"bytes": len(data)}

    return _batch_command(args, "encode", IMAGE_SUFFIXES - JPEG_SUFFIXES | (JPEG_SUFFIXES if args.include_jpeg else set()),
                          ".jpg", work)


def cmd_decode(args):
    import fdjpeg

    purify = parse_table(args.purify) if args.purify else None
    out_suffix = "." + args.format.lstrip(".")

    def work(src, dst):
        check_target(dst, args.force)
        data = Path(src).read_bytes()
        if purify is not None and fdjpeg.inspect(data)["lossless"]:
            # no DCT coefficients to requantize in the decoder: decode, then purify the
            # pixels -- what decode()'s error advises (fdjpeg.purify(pixels, table))
            arr = fdjpeg.purify(fdjpeg.decode(data), purify)
            how = "decode+purify"
        else:
            arr = fdjpeg.decode(data, purify=purify)
            how = "decode"
        write_atomic(dst, _encode_output(arr, Path(dst)), args.force)
        return {"shape": list(arr.shape), "method": how}

    return _batch_command(args, "decode", JPEG_SUFFIXES, out_suffix, work)


def cmd_purify(args):
    from fdjpeg._batchio import purify_to_bytes

    table = parse_table(args.table)

    def work(src, dst):
        check_target(dst, args.force)
        data, how = purify_to_bytes(src, table, subsampling=args.subsampling,
                                    keep_metadata=not args.strip)
        write_atomic(dst, data, args.force)
        return {"method": how, "bytes": len(data)}

    return _batch_command(args, "purify", IMAGE_SUFFIXES, ".jpg", work)


def _jsonable(obj):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, bytes):
        return {"bytes": len(obj)}
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj


def inspect_file(path):
    """Header facts of one JPEG as a JSON-able dict (no pixel decoding), via ``fdjpeg.inspect``."""
    import fdjpeg
    from fdjpeg import tables

    data = Path(path).read_bytes()
    info = fdjpeg.inspect(data)
    comps = [{"id": c["id"], "h": c["h"], "v": c["v"], "table_slot": c["tq"],
              "blocks": [c["height_in_blocks"], c["width_in_blocks"]]} for c in info["components"]]
    qt = {}
    for slot, t in sorted(info["qtables"].items()):
        qt[int(slot)] = {"table": np.asarray(t).reshape(8, 8).tolist(),
                         "bits": info["qtable_bits"].get(slot), "known": tables.known_table_name(t)}
    markers = [{"marker": name, "offset": off, "length": ln} for name, off, ln in info["markers"]]
    out = {
        "file": str(path), "bytes": len(data), "width": info["width"], "height": info["height"],
        "mode": info["mode"], "components": info["num_components"], "color": info["jpeg_color"],
        "sof": f"SOF{info['sof']}", "coding": info["coding"], "progressive": info["progressive"],
        "arithmetic": info["arithmetic"], "sampling": info["sampling"],
        "restart_interval": info["restart_interval"], "scans": info["scans"],
        "component_info": comps, "qtables": qt, "markers": markers,
    }
    for key in ("jfif_version", "jfif_unit", "jfif_density", "dpi", "adobe", "adobe_transform"):
        if key in info:
            out[key] = info[key]
    for key in ("exif", "xmp", "icc_profile", "comment"):
        if key in info:
            out[key + "_bytes"] = len(info[key])
    out["fd_table"] = any(v["known"] is not None and "FD" in v["known"] for v in qt.values())
    return out


def _print_inspect(rep):
    print(f"{rep['file']}: {rep['width']}x{rep['height']} {rep['mode']}, {rep['components']} component(s) "
          f"({rep['color']}), {rep['sof']} {rep['coding']}, {rep['scans']} scan(s), {rep['bytes']} bytes")
    if rep["sampling"]:
        print(f"  sampling: {rep['sampling']}  " + " ".join(
            f"C{c['id']}={c['h']}x{c['v']}/slot{c['table_slot']}" for c in rep["component_info"]))
    if rep["restart_interval"]:
        print(f"  restart interval: {rep['restart_interval']} MCUs")
    print("  markers: " + " ".join(m["marker"] for m in rep["markers"]))
    for slot, q in sorted(rep["qtables"].items()):
        print(f"  table {slot} ({q['bits']}-bit): {q['known'] or 'not a known table'}")
        for row in q["table"]:
            print("    " + " ".join(f"{v:4d}" for v in row))
    print("  FD table: " + ("yes" if rep["fd_table"] else "no"))


def plot_inspect(path, out_png, force=False):
    """PNG heat-map of the file's quantization tables and the band sigma of its luma."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import fdjpeg
    from fdjpeg import tables

    rep = inspect_file(path)
    data = Path(path).read_bytes()
    pixels = fdjpeg.decode(data)
    panels = [(f"table {s}" + (f"\n{q['known']}" if q["known"] else ""), np.array(q["table"]))
              for s, q in sorted(rep["qtables"].items())]
    if pixels.ndim == 2 or pixels.shape[-1] in (1, 3):
        panels.append(("band σ (luma)", tables.band_std(pixels)))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.6), squeeze=False)
    from matplotlib.colors import LogNorm

    for ax, (title, mat) in zip(axes[0], panels):
        mat = np.asarray(mat, dtype=np.float64)
        # sigma spans orders of magnitude (DC vs the rest): a log scale keeps the AC bands visible
        norm = LogNorm(vmin=max(mat.min(), 1e-3), vmax=max(mat.max(), 1e-3 * 1.01)) if title.startswith("band") else None
        im = ax.imshow(mat, cmap="viridis", norm=norm)
        ax.set_title(title, fontsize=8)
        ax.set_xticks(range(8))
        ax.set_yticks(range(8))
        ax.set_xlabel("horizontal frequency", fontsize=7)
        ax.set_ylabel("vertical frequency", fontsize=7)
        shade = im.norm(mat)
        for (i, j), v in np.ndenumerate(mat):
            ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=6,
                    color="black" if shade[i, j] > 0.6 else "white")
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.suptitle(Path(path).name, fontsize=9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    write_atomic(out_png, buf.getvalue(), force)


def cmd_inspect(args):
    paths = []
    for p in args.files:
        p = Path(p)
        if p.is_dir():
            paths += sorted(q for q in p.rglob("*") if q.suffix.lower() in JPEG_SUFFIXES)
        elif p.exists():
            paths.append(p)
        else:
            raise UsageError(f"{p}: no such file or folder")
    if not paths:
        return EXIT_NO_INPUT
    if args.plot and len(paths) > 1:
        raise UsageError("--plot takes one input file")
    reports, failed = [], []
    for p in paths:
        try:
            rep = inspect_file(p)
            if args.plot:
                plot_inspect(p, args.plot, args.force)
                rep["plot"] = str(args.plot)
            reports.append(rep)
        except Exception as exc:
            failed.append({"file": str(p), "error": f"{type(exc).__name__}: {exc}"})
    if args.json:
        print(json.dumps(_jsonable(reports if len(paths) > 1 or failed else reports[0]), indent=2))
    else:
        for rep in reports:
            _print_inspect(rep)
    for f in failed:
        print(f"{f['file']}: {f['error']}", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


def cmd_tables(args):
    from fdjpeg import tables

    if args.action == "show":
        tabs = parse_table(args.spec)
    else:  # design
        src = Path(args.folder)
        if not src.is_dir():
            raise UsageError(f"{src}: not a folder")
        files = sorted(p for p in src.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            print(f"fdjpeg tables design: no images in {src}", file=sys.stderr)
            return EXIT_NO_INPUT
        imgs = (_read_pixels(p) for p in files)
        sigma = tables.band_std(imgs, channel=args.channel)
        tabs = [tables.feature_distillation(sigma, s_md=args.s_md, s_as=args.s_as, n_as=args.n_as)]
    if args.format == "json":
        text = tables.to_json(tabs)
    elif args.format == "cjpeg":
        text = tables.to_cjpeg(tabs)
    else:
        lines = []
        for i, t in enumerate(tabs):
            lines.append(f"# table {i}: {tables.known_table_name(t) or 'custom'}")
            lines += [" ".join(f"{int(v):4d}" for v in row) for row in np.asarray(t).reshape(8, 8)]
        text = "\n".join(lines) + "\n"
    if args.output:
        write_atomic(args.output, text.encode("utf-8"), args.force)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return EXIT_OK


def cmd_eval(argv):
    try:
        from fdjpeg import evaluate
    except ImportError as exc:
        print(f"fdjpeg eval: the evaluation harness is not available ({exc})", file=sys.stderr)
        return EXIT_USAGE
    try:
        rc = evaluate.main(list(argv))
    except SystemExit as exc:  # argparse inside the harness (--help, bad arguments)
        rc = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_USAGE)
    return int(rc or 0)


# ---------------------------------------------------------------------------
# argument parsing


def _add_batch_options(p):
    p.add_argument("input", help="input file or folder (folders are walked recursively)")
    p.add_argument("output", help="output file or folder")
    p.add_argument("-f", "--force", action="store_true", help="overwrite existing outputs")
    p.add_argument("-j", "--jobs", type=int, default=1, help="parallel workers (default 1)")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    p.add_argument("-q", "--quiet", action="store_true", help="print failures only")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def build_parser():
    parser = argparse.ArgumentParser(
        prog="fdjpeg", description="JPEG codec with Feature Distillation (Liu et al., CVPR 2019).",
        epilog="exit codes: 0 ok, 1 some files failed, 2 usage error, 3 no input files")
    from fdjpeg import __version__

    parser.add_argument("--version", action="version", version=f"fdjpeg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    table_help = "fd (default FD table), paper, q<N> (standard tables), a step, or a JSON/cjpeg table file"

    p = sub.add_parser("encode", help="encode images (PNG, PPM, .npy, ...) as JPEG, with an FD table by default")
    _add_batch_options(p)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--table", help=table_help + " (default fd)")
    g.add_argument("--quality", type=int, help="libjpeg quality 1..100 instead of a table")
    p.add_argument("--subsampling", default="4:4:4", choices=["4:4:4", "4:2:2", "4:2:0"])
    p.add_argument("--optimize", action="store_true", help="optimal Huffman tables")
    p.add_argument("--progressive", action="store_true")
    p.add_argument("--include-jpeg", action="store_true", help="re-encode .jpg inputs in folders too")
    p.set_defaults(func=cmd_encode)

    p = sub.add_parser("decode", help="decode JPEGs to PNG/.npy/..., optionally purified (one-pass)")
    _add_batch_options(p)
    p.add_argument("--purify", metavar="TABLE", help="purify in the decoder with this table: " + table_help)
    p.add_argument("--format", default="png", help="output suffix for folder/directory outputs (png, npy, ...)")
    p.set_defaults(func=cmd_decode)

    p = sub.add_parser("purify", help="purify: JPEG input is transcoded losslessly, other images are encoded with T")
    _add_batch_options(p)
    p.add_argument("--table", default="fd", help=table_help)
    p.add_argument("--subsampling", default="4:4:4", choices=["4:4:4", "4:2:2", "4:2:0"],
                   help="for non-JPEG inputs (JPEG inputs keep their sampling)")
    p.add_argument("--strip", action="store_true",
                   help="drop metadata (Exif, XMP, ICC, comments); by default JPEG inputs keep it")
    p.set_defaults(func=cmd_purify)

    p = sub.add_parser("inspect", help="size, sampling, markers, quantization tables (and whether they are FD)")
    p.add_argument("files", nargs="+", help="JPEG files or folders")
    p.add_argument("--json", action="store_true")
    p.add_argument("--plot", metavar="PNG", help="write a heat-map of the tables and the band sigma")
    p.add_argument("-f", "--force", action="store_true", help="overwrite the plot file")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("tables", help="print/export a table, or design an FD table from images")
    tsub = p.add_subparsers(dest="action", metavar="ACTION")
    tsub.required = True
    for name, helptext in (("show", "print or export a table"), ("design", "design an FD table from a folder")):
        q = tsub.add_parser(name, help=helptext)
        if name == "show":
            q.add_argument("spec", nargs="?", default="fd", help=table_help)
        else:
            q.add_argument("folder", help="folder of benign images")
            q.add_argument("--s-md", type=int, default=30, help="step of the malicious-defense band (30)")
            q.add_argument("--s-as", type=int, default=20, help="step of the accuracy-sensitive band (20)")
            q.add_argument("--n-as", type=int, default=15, help="bands in the accuracy-sensitive band (15)")
            q.add_argument("--channel", default="luma", choices=["luma", "chroma", "all"])
        q.add_argument("--format", default="text", choices=["text", "json", "cjpeg"])
        q.add_argument("-o", "--output", help="write to this file instead of stdout")
        q.add_argument("-f", "--force", action="store_true")
        q.set_defaults(func=cmd_tables)

    sub.add_parser("eval", help="run the evaluation harness (fdjpeg eval --help)", add_help=False)
    return parser


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "eval":
        return cmd_eval(argv[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0) if exc.code in (0, None) else EXIT_USAGE
    if getattr(args, "jobs", 1) is not None and getattr(args, "jobs", 1) < 1:
        print("fdjpeg: --jobs must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"fdjpeg {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into head & co.
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
