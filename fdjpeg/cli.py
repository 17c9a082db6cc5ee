"""The ``fdjpeg`` command line: encode, decode, purify, inspect, tables, eval.

    fdjpeg purify photo.jpg clean.jpg           # transcode: coefficients requantized to T, no pixels
    fdjpeg purify images/ clean/ --jobs 4       # a whole folder, in parallel, with a progress bar
    fdjpeg encode raw.png sensor.jpg --table fd # two-pass (sensor side): encode with the FD table
    fdjpeg decode x.jpg x.png --purify          # one-pass purified decode to PNG (or .npy), table fd
    fdjpeg inspect x.jpg --plot tables.png      # header facts, tables, known-table check, heat-map
    fdjpeg tables show fd --format cjpeg        # print / export a table
    fdjpeg tables design photos/ -o mine.json   # design an FD table from benign images
    fdjpeg eval ...                             # the evaluation harness (fdjpeg.eval)

Folders are walked recursively; outputs mirror the input tree (never read back as inputs;
two inputs mapping to one output are refused before anything is written).  Nothing is ever
overwritten without ``--force`` (``--skip-existing`` resumes instead); every output is written
to a temporary file in the target folder and renamed into place (mode 0666 & ~umask, or the
replaced file's), so a failure never leaves a half-written file.  A file that fails is
reported at the end and the others still run; the last line counts written, skipped, failed.

Exit codes: 0 all done; 1 some files failed (the rest were written) -- for ``inspect``, a
truncated or damaged file; 2 usage error (bad arguments, missing input, bad table); 3 no input
files found.
"""
import argparse
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import numpy as np

from fdjpeg._batchio import (  # noqa: F401  (public names of this module, kept)
    IMAGE_SUFFIXES,
    JPEG_SUFFIXES,
    PIXEL_FORMATS,
    UsageError,
    check_target,
    collect_jobs,
    write_atomic,
)
from fdjpeg._batchio import encode_pixels_as as _encode_output
from fdjpeg._batchio import read_pixels as _read_pixels
from fdjpeg._progress import progress as progress_bar

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


def _progress(total, desc, enabled):
    return progress_bar(total, desc, enabled, unit="file")


def run_batch(jobs, work, *, jobs_n=1, desc="", progress=False, skip_existing=False):
    """Run ``work(src, dst)`` over all jobs; returns a result dict per job, in input order.

    With ``skip_existing`` a job whose output exists is not run (result ``skipped``)."""
    results = [None] * len(jobs)
    bar = _progress(len(jobs), desc, progress)

    def one(i):
        src, dst = jobs[i]
        if skip_existing and Path(dst).exists():
            return {"input": str(src), "output": str(dst), "ok": True, "skipped": True}
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


def summary_counts(results):
    """(written, skipped, failed) of a batch."""
    failed = sum(1 for r in results if not r["ok"])
    skipped = sum(1 for r in results if r["ok"] and r.get("skipped"))
    return len(results) - failed - skipped, skipped, failed


def _report(results, args, command):
    written, skipped, failed_n = summary_counts(results)
    failed = [r for r in results if not r["ok"]]
    if args.json:
        print(json.dumps({"command": command, "total": len(results), "ok": len(results) - len(failed),
                          "written": written, "skipped": skipped, "failed": len(failed),
                          "files": results}, indent=2))
    else:
        if getattr(args, "verbose", False):
            for r in results:
                if r["ok"]:
                    what = "skipped (exists)" if r.get("skipped") else r["output"]
                    print(f"{r['input']} -> {what}")
        if failed:
            print(f"\n{len(failed)} of {len(results)} files failed:", file=sys.stderr)
            for r in failed:
                print(f"  {r['input']}: {r['error']}", file=sys.stderr)
        if not args.quiet:
            print(f"fdjpeg {command}: {written} written, {skipped} skipped, {failed_n} failed")
    return EXIT_FAILED if failed else EXIT_OK


def _batch_command(args, command, suffixes, out_suffix, work):
    if getattr(args, "skip_existing", False) and args.force:
        raise UsageError("--skip-existing and --force exclude each other")
    jobs, is_dir = collect_jobs(args.input, args.output, suffixes, out_suffix)
    if not jobs:
        print(f"fdjpeg {command}: no input files in {args.input}", file=sys.stderr)
        return EXIT_NO_INPUT
    # the progress bar only on a terminal (never into a log file or a pipe)
    show = ((is_dir or len(jobs) > 1) and not args.quiet and not args.json and not args.no_progress
            and sys.stderr.isatty())
    results = run_batch(jobs, work, jobs_n=args.jobs, desc=command, progress=show,
                        skip_existing=getattr(args, "skip_existing", False))
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


def _output_kind(args):
    """"jpeg", "pixels" or None (a folder output) for the output name of a file run; a name
    that is neither is a usage error, before any work."""
    out = Path(args.output)
    if out.is_dir() or Path(args.input).is_dir():
        return None
    suffix = out.suffix.lower()
    if suffix in JPEG_SUFFIXES:
        return "jpeg"
    if suffix in PIXEL_FORMATS or suffix == ".npy":
        return "pixels"
    raise UsageError(f"{out}: the output format follows the name, and {suffix or 'no suffix'!r} "
                     f"is not one fdjpeg writes (.jpg for JPEG; .png, .npy, .bmp, .ppm, .tif, "
                     f".webp for pixels)")


def cmd_encode(args):
    import fdjpeg

    if _output_kind(args) == "pixels":
        raise UsageError(f"encode writes JPEG files; {args.output} names a "
                         f"{Path(args.output).suffix} file: give it a .jpg name (fdjpeg decode "
                         f"writes pixels)")
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
    if _output_kind(args) == "jpeg":
        raise UsageError(f"decode writes pixels; {args.output} names a JPEG file: give it a "
                         f".png/.npy/... name (fdjpeg purify writes a purified JPEG)")

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
    from fdjpeg._batchio import purify_to_bytes, purify_to_pixels

    table = parse_table(args.table)
    pixels_out = _output_kind(args) == "pixels"

    def work(src, dst):
        check_target(dst, args.force)
        if pixels_out:  # out.png: the purified pixels in the format the name asks for
            arr, how = purify_to_pixels(src, table, subsampling=args.subsampling)
            data = _encode_output(arr, Path(dst))
        else:
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
    if "comment" in info:
        out["comment"] = bytes(info["comment"]).decode("latin-1")
    out["fd_table"] = any(v["known"] is not None and "FD" in v["known"] for v in qt.values())
    out["damaged"] = _damage(data, info)
    return out


def _damage(data, info):
    """None when the entropy-coded data reads to the end, else what is wrong with it (a
    truncated or corrupt file; the headers alone can look fine)."""
    import fdjpeg

    try:
        if info["lossless"]:
            fdjpeg.decode(data)
        else:
            fdjpeg.read_coefficients(data)
    except fdjpeg.JPEGError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


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
    meta = []
    for key, label in (("exif", "EXIF"), ("xmp", "XMP"), ("icc_profile", "ICC")):
        n = rep.get(key + "_bytes")
        meta.append(f"{label} {n} bytes" if n is not None else f"{label} none")
    print("  metadata: " + ", ".join(meta))
    if "dpi" in rep:
        print(f"  dpi: {rep['dpi'][0]:g} x {rep['dpi'][1]:g}")
    elif "jfif_density" in rep:
        print(f"  density: {rep['jfif_density'][0]} x {rep['jfif_density'][1]} (no unit)")
    if "comment" in rep:
        text = rep["comment"]
        shown = text if len(text) <= 60 else text[:57] + "..."
        print(f"  comment: {shown!r} ({rep['comment_bytes']} bytes)")
    print("  FD table: " + ("yes" if rep["fd_table"] else "no"))
    if rep.get("damaged"):
        print(f"  DAMAGED: {rep['damaged']}")


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
    damaged = [r for r in reports if r.get("damaged")]
    for r in damaged:
        print(f"{r['file']}: damaged: {r['damaged']}", file=sys.stderr)
    return EXIT_FAILED if failed or damaged else EXIT_OK


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
        from fdjpeg.eval import run as evaluation
    except ImportError as exc:
        print(f"fdjpeg eval: the evaluation harness is not available ({exc})", file=sys.stderr)
        return EXIT_USAGE
    try:
        rc = evaluation.main(list(argv))
    except SystemExit as exc:  # argparse inside the harness (--help, bad arguments)
        rc = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_USAGE)
    return int(rc or 0)


# ---------------------------------------------------------------------------
# argument parsing


class _HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Descriptions and examples as written; every option's default shown (not for flags)."""

    def _get_help_string(self, action):
        if action.default in (None, False) or isinstance(action, argparse._VersionAction):
            return action.help
        return super()._get_help_string(action)


_BATCH_NOTES = """

Folders are walked recursively and the outputs mirror the tree; the output folder is never read
as input, and two inputs that would write one output are refused before anything is written.
Nothing is overwritten without --force (--skip-existing resumes an interrupted run instead);
outputs are written through a temporary file, with the mode a plain file would get.  Prints one
summary line (written, skipped, failed); --verbose lists every file; the progress bar appears
only on a terminal.  Exit codes: 0 done, 1 some files failed, 2 usage error, 3 no input files.
"""


def _add_batch_options(p):
    p.add_argument("input", help="input file or folder (folders are walked recursively)")
    p.add_argument("output", help="output file (its suffix chooses the format) or folder")
    g = p.add_mutually_exclusive_group()
    g.add_argument("-f", "--force", action="store_true", help="overwrite existing outputs")
    g.add_argument("--skip-existing", action="store_true",
                   help="leave existing outputs alone and do the rest (resume a run)")
    p.add_argument("-j", "--jobs", type=int, default=1, help="parallel workers")
    p.add_argument("--json", action="store_true", help="print a JSON report on stdout")
    p.add_argument("-v", "--verbose", action="store_true", help="print a line per file")
    p.add_argument("-q", "--quiet", action="store_true", help="print failures only (no summary)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar even on a terminal")


def _sub(sub, name, help, description, examples):
    import textwrap

    first, _, rest = description.partition("\n")
    description = textwrap.fill(first, 96) + ("\n" + rest if rest else "")
    return sub.add_parser(name, help=help, formatter_class=_HelpFormatter,
                          description=description,
                          epilog="examples:\n" + "\n".join(f"  {e}" for e in examples))


def build_parser():
    parser = argparse.ArgumentParser(
        prog="fdjpeg", description="JPEG codec with Feature Distillation (Liu et al., CVPR 2019). "
        "Words as in docs/glossary.md; tables as in docs/tables.md.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit codes: 0 ok, 1 some files failed (inspect: a damaged file), 2 usage error, "
               "3 no input files\n\nexamples:\n  fdjpeg purify photo.jpg clean.jpg\n"
               "  fdjpeg purify images/ clean/ --jobs 4")
    from fdjpeg import __version__

    parser.add_argument("--version", action="version", version=f"fdjpeg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    table_help = ("fd (the package's FD table), paper, q<N> (libjpeg's tables at quality N), a "
                  "step, or a JSON/cjpeg table file (docs/tables.md)")

    p = _sub(sub, "encode", "encode images (PNG, PPM, .npy, ...) as JPEG, with an FD table by default",
             "Encode images as JPEG files.  With an FD table (the default) this is the sensor's "
             "half of two-pass Feature Distillation: the file's coefficients lie on the table's "
             "grid.  The output must be a .jpg name (or a folder)." + _BATCH_NOTES,
             ["fdjpeg encode raw.png sensor.jpg --table fd",
              "fdjpeg encode shots/ jpegs/ --quality 90 --subsampling 4:2:0 --jobs 2"])
    _add_batch_options(p)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--table", help=table_help + " (default: fd)")
    g.add_argument("--quality", type=int, help="libjpeg quality 1..100 instead of a table")
    p.add_argument("--subsampling", default="4:4:4", choices=["4:4:4", "4:2:2", "4:2:0"],
                   help="chroma subsampling")
    p.add_argument("--optimize", action="store_true", help="optimal Huffman tables")
    p.add_argument("--progressive", action="store_true", help="progressive JPEG")
    p.add_argument("--include-jpeg", action="store_true", help="re-encode .jpg inputs in folders too")
    p.set_defaults(func=cmd_encode)

    p = _sub(sub, "decode", "decode JPEGs to PNG/.npy/..., optionally purified (one-pass)",
             "Decode JPEG files to pixels (bit-exact with Pillow), written in the format the "
             "output name asks for (.png, .npy, .bmp, .ppm, .tif, .webp).  --purify runs "
             "one-pass Feature Distillation in the decoder; --purify alone uses the package's "
             "FD table.  A lossless JPEG has no coefficients: its decoded pixels are purified "
             "with fdjpeg.purify instead." + _BATCH_NOTES,
             ["fdjpeg decode photo.jpg photo.png --purify",
              "fdjpeg decode jpegs/ arrays/ --format npy --purify q50"])
    _add_batch_options(p)
    p.add_argument("--purify", metavar="TABLE", nargs="?", const="fd",
                   help="purify in the decoder with this table (alone: fd): " + table_help)
    p.add_argument("--format", default="png", help="output suffix for folder outputs (png, npy, ...)")
    p.set_defaults(func=cmd_decode)

    p = _sub(sub, "purify", "purify images: JPEGs are transcoded, other images encoded with T",
             "One-pass Feature Distillation as files.  A JPEG input is transcoded "
             "(fdjpeg.transcode: its coefficients requantized to the table, no pixel decoding; "
             "the result decodes exactly like 'fdjpeg decode --purify'; metadata kept unless "
             "--strip).  Other images, and lossless JPEGs, are encoded with the table.  An "
             "output named .png/.npy/... receives the purified pixels instead." + _BATCH_NOTES,
             ["fdjpeg purify photo.jpg clean.jpg",
              "fdjpeg purify images/ clean/ --table paper --jobs 4 --skip-existing"])
    _add_batch_options(p)
    p.add_argument("--table", default="fd", help=table_help)
    p.add_argument("--subsampling", default="4:4:4", choices=["4:4:4", "4:2:2", "4:2:0"],
                   help="for non-JPEG inputs (JPEG inputs keep their sampling)")
    p.add_argument("--strip", action="store_true",
                   help="drop metadata (Exif, XMP, ICC, comments) of JPEG inputs")
    p.set_defaults(func=cmd_purify)

    p = _sub(sub, "inspect", "size, sampling, markers, metadata, quantization tables (FD or not)",
             "Header facts of JPEG files without decoding pixels: size, mode, coding, sampling, "
             "restart interval, markers, EXIF/XMP/ICC sizes, dpi, comment, every quantization "
             "table and whether it is a known (FD or libjpeg) table.  The entropy-coded data is "
             "checked too: a truncated or damaged file is flagged and the exit status is 1 "
             "(0 when every file is sound, 2 usage error, 3 no input files).",
             ["fdjpeg inspect photo.jpg", "fdjpeg inspect images/ --json > report.json"])
    p.add_argument("files", nargs="+", help="JPEG files or folders")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--plot", metavar="PNG", help="write a heat-map of the tables and the band sigma")
    p.add_argument("-f", "--force", action="store_true", help="overwrite the plot file")
    p.set_defaults(func=cmd_inspect)

    p = _sub(sub, "tables", "print/export a table, or design an FD table from images",
             "Print or export a quantization table in any form of docs/tables.md, or design an "
             "FD table from a folder of benign images (the paper's frequency-component analysis).",
             ["fdjpeg tables show fd --format cjpeg", "fdjpeg tables design photos/ -o mine.json --format json"])
    tsub = p.add_subparsers(dest="action", metavar="ACTION")
    tsub.required = True
    for name, helptext, examples in (
            ("show", "print or export a table",
             ["fdjpeg tables show fd", "fdjpeg tables show q75 --format json -o q75.json"]),
            ("design", "design an FD table from a folder",
             ["fdjpeg tables design photos/", "fdjpeg tables design photos/ --n-as 10 -o mine.json --format json"])):
        q = _sub(tsub, name, helptext, helptext[0].upper() + helptext[1:] + ".", examples)
        if name == "show":
            q.add_argument("spec", nargs="?", default="fd", help=table_help)
        else:
            q.add_argument("folder", help="folder of benign images")
            q.add_argument("--s-md", type=int, default=30, help="step of the malicious-defense band")
            q.add_argument("--s-as", type=int, default=20, help="step of the accuracy-sensitive band")
            q.add_argument("--n-as", type=int, default=15, help="bands in the accuracy-sensitive band")
            q.add_argument("--channel", default="luma", choices=["luma", "chroma", "all"],
                           help="which planes' statistics")
        q.add_argument("--format", default="text", choices=["text", "json", "cjpeg"], help="output format")
        q.add_argument("-o", "--output", help="write to this file instead of stdout")
        q.add_argument("-f", "--force", action="store_true", help="overwrite the output file")
        q.set_defaults(func=cmd_tables)

    sub.add_parser("eval", help="run the evaluation harness (fdjpeg eval --help; studies: "
                   "fdjpeg eval search-fd-table|adaptive-attacks|offgrid-auc|...)", add_help=False)
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
