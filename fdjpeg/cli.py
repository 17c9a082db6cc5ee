"""The ``fdjpeg`` command line: encode, decode, purify, inspect, tables, eval.

    fdjpeg purify photo.jpg clean.jpg           # lossless: requantized coefficients written with T
    fdjpeg purify images/ clean/ --jobs 4       # a whole folder, in parallel, with a progress bar
    fdjpeg encode raw.png sensor.jpg --table fd # two-pass (sensor side): encode with the FD table
    fdjpeg decode x.jpg x.png --purify fd       # one-pass purified decode to PNG (or .npy)
    fdjpeg inspect x.jpg --plot tables.png      # header facts, tables, known-table check, heat-map
    fdjpeg tables show fd --format cjpeg        # print / export a table
    fdjpeg tables design photos/ -o mine.json   # design an FD table from benign images
    fdjpeg eval ...                             # the evaluation harness (fdjpeg.eval)

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
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import numpy as np

from fdjpeg._progress import progress as progress_bar

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NO_INPUT = 0, 1, 2, 3

JPEG_SUFFIXES = {".jpg", ".jpeg", ".jpe", ".jfif"}
IMAGE_SUFFIXES = JPEG_SUFFIXES | {".png", ".bmp", ".ppm", ".pgm", ".pnm", ".tif", ".tiff", ".webp", ".npy"}


class UsageError(Exception):
    """Bad command-line input (exit code 2)."""


# ---------------------------------------------------------------------------
# tables on the command line


def parse_table(spec):
    """A table spec -> what fdjpeg's ``table=``/``purify=`` take (a list of (8, 8) tables).

    ``fd`` (package default), ``paper`` (the paper's released code), ``q<N>``/``quality:<N>``
    (libjpeg's standard luma and chroma tables at quality N), an integer (uniform step), or a
    file: JSON written by ``fdjpeg tables show --format json`` or cjpeg ``-qtables`` text.
    """
    from fdjpeg import tables

    s = str(spec).strip()
    low = s.lower()
    if low in ("fd", "default", "true"):
        return [tables.feature_distillation()]
    if low == "paper":
        return [tables.paper_released()]
    for prefix in ("quality:", "q"):
        if low.startswith(prefix) and low[len(prefix):].isdigit():
            q = int(low[len(prefix):])
            if not 1 <= q <= 100:
                raise UsageError(f"quality must be 1..100, got {q}")
            return [tables.standard(q), tables.standard(q, chroma=True)]
    if s.isdigit():
        step = int(s)
        if not 1 <= step <= 65535:
            raise UsageError(f"a uniform step must be 1..65535, got {step}")
        return [np.full((8, 8), step, dtype=np.uint16)]
    path = Path(s)
    if not path.is_file():
        raise UsageError(f"table {spec!r}: not 'fd', 'paper', 'q<N>', a step, or an existing file")
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        if text.lstrip().startswith(("{", "[")):
            return tables.from_json(text)
        return tables.from_cjpeg(text)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"table file {path}: {exc}") from None


# ---------------------------------------------------------------------------
# file plumbing


def _read_pixels(path):
    """uint8 pixels of any image file (Pillow), or of a .npy array."""
    if path.suffix.lower() == ".npy":
        arr = np.load(path, allow_pickle=False)
        if arr.dtype != np.uint8:
            raise ValueError(f"{path.name}: .npy input must be uint8, not {arr.dtype}")
        return arr
    from PIL import Image

    with Image.open(path) as im:
        if im.mode not in ("L", "RGB", "CMYK"):
            im = im.convert("L" if im.mode in ("1", "LA", "I", "I;16", "F") else "RGB")
        return np.asarray(im)


def check_target(dst, force):
    """Fail early (before any work) when ``dst`` exists and ``force`` is not set."""
    if not force and Path(dst).exists():
        raise FileExistsError(f"{dst} exists (use --force to overwrite)")


def write_atomic(dst, data, force):
    """Write bytes to ``dst`` through a temporary file in the same folder + os.replace.

    Refuses to replace an existing file unless ``force``."""
    dst = Path(dst)
    if dst.exists() and not force:
        raise FileExistsError(f"{dst} exists (use --force to overwrite)")
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix="." + dst.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        if dst.exists() and not force:  # appeared while we worked
            raise FileExistsError(f"{dst} exists (use --force to overwrite)")
        os.replace(tmp, dst)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _encode_output(arr, dst):
    """Pixels -> bytes in the format of ``dst``'s suffix (png, npy, bmp, ppm/pgm, tif)."""
    import io

    suffix = dst.suffix.lower()
    buf = io.BytesIO()
    if suffix == ".npy":
        np.save(buf, arr, allow_pickle=False)
        return buf.getvalue()
    from PIL import Image

    fmt = {".png": "PNG", ".bmp": "BMP", ".ppm": "PPM", ".pgm": "PPM", ".pnm": "PPM",
           ".tif": "TIFF", ".tiff": "TIFF"}.get(suffix)
    if fmt is None:
        raise ValueError(f"cannot write pixels as {suffix!r} (use .png, .npy, .bmp, .ppm, .tif)")
    mode = {2: "L"}.get(arr.ndim) or {1: "L", 3: "RGB", 4: "CMYK"}[arr.shape[2]]
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if mode == "CMYK" and fmt != "TIFF":
        raise ValueError("CMYK pixels can only be written as .tif or .npy")
    Image.fromarray(arr, mode).save(buf, format=fmt)
    return buf.getvalue()


def collect_jobs(src, dst, suffixes, out_suffix):
    """(input, output) pairs for a file or a folder (recursive, outputs mirror the tree)."""
    src, dst = Path(src), Path(dst)
    if not src.exists():
        raise UsageError(f"{src}: no such file or folder")
    if src.is_dir():
        if dst.exists() and not dst.is_dir():
            raise UsageError(f"{dst} is a file; a folder input needs an output folder")
        files = sorted(p for p in src.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
        jobs = []
        for p in files:
            rel = p.relative_to(src)
            jobs.append((p, (dst / rel).with_suffix(out_suffix if out_suffix else p.suffix)))
        return jobs, True
    if dst.is_dir():
        return [(src, dst / (src.stem + (out_suffix or src.suffix)))], False
    return [(src, dst)], False


def _progress(total, desc, enabled):
    return progress_bar(total, desc, enabled, unit="file")


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


_COPIED_SEGMENTS = {f"APP{i}" for i in range(1, 16) if i != 14} | {"COM"}


def metadata_segments(data, info):
    """The file's metadata segments (APP1-APP13, APP15: Exif, XMP, ICC, ...; COM) as bytes, in
    file order; APP0 (JFIF) and APP14 (Adobe) are left to the writer, which makes its own."""
    out = b""
    for name, off, length in info["markers"]:
        if name in _COPIED_SEGMENTS and length >= 2:
            out += bytes(data[off:off + 2 + length])
    return out


def transcode_purify(data, table, keep_metadata=True):
    """One-pass purification as a file: read the quantized coefficients, requantize each
    component to its T (D = c*Q, c' = round(D / T), half away from zero) and write them with T.
    The result decodes exactly like ``fdjpeg.decode(data, purify=table)``; ``table`` takes the
    forms ``purify=`` takes (one table, Pillow's two slots, one per component, True)."""
    import fdjpeg
    from fdjpeg._tableforms import table_slots

    src = fdjpeg.read_coefficients(data)
    coefs = src["coefficients"]
    tabs, slots = table_slots(table, len(coefs))
    new = []
    for c, (blocks, q) in enumerate(zip(coefs, src["tables"])):
        t = tabs[slots[c]].astype(np.int64).reshape(8, 8)
        d = blocks.astype(np.int64) * np.asarray(q, dtype=np.int64).reshape(8, 8)
        r = np.sign(d) * ((2 * np.abs(d) + t) // (2 * t))
        if r.size and np.abs(r).max() > 32767:
            raise ValueError(f"component {c}: requantized coefficient out of range")
        new.append(r.astype(np.int16))
    kw = {}
    if keep_metadata:
        info = fdjpeg.inspect(data)
        kw["extra_segments"] = metadata_segments(data, info)
        if info.get("jfif_unit") == 1:
            kw["dpi"] = info["jfif_density"]
    return fdjpeg.write_coefficients({**src, "coefficients": new}, table, **kw)


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
        arr = fdjpeg.decode(data, purify=purify)
        write_atomic(dst, _encode_output(arr, Path(dst)), args.force)
        return {"shape": list(arr.shape)}

    return _batch_command(args, "decode", JPEG_SUFFIXES, out_suffix, work)


def cmd_purify(args):
    import fdjpeg

    table = parse_table(args.table)

    def work(src, dst):
        check_target(dst, args.force)
        src = Path(src)
        raw = src.read_bytes()
        if raw[:2] == b"\xff\xd8":
            data = transcode_purify(raw, table, keep_metadata=not args.strip)
            how = "transcode"
        else:
            data = fdjpeg.encode(_read_pixels(src), table, subsampling=args.subsampling)
            how = "encode"
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
