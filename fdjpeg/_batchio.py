"""File I/O of the batch tools, shared by the CLI (fdjpeg/cli.py) and Dask (fdjpeg/dask.py).

Reading any image, choosing the output of each input (a file or a whole tree), writing an
output without ever losing a user's file (temporary file in the target folder, then an atomic
rename; the mode a plain ``open(path, "wb")`` would give, or the old file's mode when it is
replaced), and the one unit of work both tools run per file: ``purify_to_bytes``.
"""
from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import numpy as np

JPEG_SUFFIXES = {".jpg", ".jpeg", ".jpe", ".jfif"}
IMAGE_SUFFIXES = JPEG_SUFFIXES | {".png", ".bmp", ".ppm", ".pgm", ".pnm", ".tif", ".tiff", ".webp",
                                  ".npy"}
# output suffix -> Pillow format for pixel outputs
PIXEL_FORMATS = {".png": "PNG", ".bmp": "BMP", ".ppm": "PPM", ".pgm": "PPM", ".pnm": "PPM",
                 ".tif": "TIFF", ".tiff": "TIFF", ".webp": "WEBP"}


class UsageError(Exception):
    """Bad command-line input (exit code 2)."""


def _read_umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once, at import (os.umask is process-wide, not thread-safe)


def read_pixels(path):
    """uint8 pixels of any image file (Pillow), or of a .npy array."""
    path = Path(path)
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

    Refuses to replace an existing file unless ``force``.  The new file gets the mode
    ``open(dst, "wb")`` would give it (0666 & ~umask), or the replaced file's mode."""
    dst = Path(dst)
    if dst.exists() and not force:
        raise FileExistsError(f"{dst} exists (use --force to overwrite)")
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix="." + dst.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        try:
            mode = stat.S_IMODE(os.stat(dst).st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~_UMASK
        os.chmod(tmp, mode)
        if dst.exists() and not force:  # appeared while we worked
            raise FileExistsError(f"{dst} exists (use --force to overwrite)")
        os.replace(tmp, dst)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def encode_pixels_as(arr, dst):
    """Pixels -> bytes in the format of ``dst``'s suffix (png, npy, bmp, ppm/pgm, tif, webp)."""
    import io

    suffix = Path(dst).suffix.lower()
    buf = io.BytesIO()
    if suffix == ".npy":
        np.save(buf, arr, allow_pickle=False)
        return buf.getvalue()
    from PIL import Image

    fmt = PIXEL_FORMATS.get(suffix)
    if fmt is None:
        raise ValueError(f"cannot write pixels as {suffix!r} (use .png, .npy, .bmp, .ppm, .tif)")
    mode = {2: "L"}.get(arr.ndim) or {1: "L", 3: "RGB", 4: "CMYK"}[arr.shape[2]]
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.dtype == np.uint16:  # 12-bit / 16-bit lossless JPEG (the precision branch's rule)
        if arr.ndim != 2 or fmt not in ("PNG", "TIFF"):
            raise ValueError("16-bit pixels can only be written as .npy, or as .png/.tif when grey")
        Image.fromarray(arr.astype("<u2", copy=False)).save(buf, format=fmt)  # mode I;16
        return buf.getvalue()
    if mode == "CMYK" and fmt != "TIFF":
        raise ValueError("CMYK pixels can only be written as .tif or .npy")
    Image.fromarray(arr, mode).save(buf, format=fmt)
    return buf.getvalue()


def _inside(path, folder):
    try:
        Path(path).resolve().relative_to(Path(folder).resolve())
        return True
    except ValueError:
        return False


def collect_jobs(src, dst, suffixes, out_suffix):
    """(input, output) pairs for a file or a folder (recursive, outputs mirror the tree).

    A folder input never reads from the output tree (an output folder inside the input
    folder is skipped while walking), and two inputs that would write one output
    (``a.jpg`` and ``a.png`` -> ``a.jpg``) are refused, with their names, before anything
    is written (UsageError)."""
    src, dst = Path(src), Path(dst)
    if not src.exists():
        raise UsageError(f"{src}: no such file or folder")
    if src.is_dir():
        if dst.exists() and not dst.is_dir():
            raise UsageError(f"{dst} is a file; a folder input needs an output folder")
        if src.resolve() == dst.resolve():
            raise UsageError(f"{dst}: the output folder must not be the input folder")
        out_inside = _inside(dst, src)
        files = sorted(p for p in src.rglob("*")
                       if p.is_file() and p.suffix.lower() in suffixes
                       and not (out_inside and _inside(p, dst)))
        jobs = []
        for p in files:
            rel = p.relative_to(src)
            jobs.append((p, (dst / rel).with_suffix(out_suffix if out_suffix else p.suffix)))
        _refuse_collisions(jobs)
        return jobs, True
    if dst.is_dir():
        return [(src, dst / (src.stem + (out_suffix or src.suffix)))], False
    return [(src, dst)], False


def _refuse_collisions(jobs):
    seen = {}
    clashes = []
    for s, d in jobs:
        key = os.path.normcase(str(d))
        if key in seen:
            clashes.append(f"{seen[key]} and {s} -> {d}")
        else:
            seen[key] = s
    if clashes:
        more = f" (and {len(clashes) - 5} more)" if len(clashes) > 5 else ""
        raise UsageError("two inputs would write the same output, nothing was written: "
                         + "; ".join(clashes[:5]) + more)


def purify_to_bytes(src, table, *, subsampling="4:4:4", keep_metadata=True):
    """The purified JPEG of one input file and how it was made: ``(bytes, method)``.

    A JPEG with DCT coefficients is transcoded (``fdjpeg.transcode``: requantized to the
    table, no pixel decoding, metadata kept unless ``keep_metadata`` is false); any other
    image -- and a lossless JPEG, whose pixels are exact -- is encoded with the table
    (``fdjpeg.encode``, the sensor-side two-pass path)."""
    import fdjpeg

    src = Path(src)
    raw = src.read_bytes()
    if raw[:2] == b"\xff\xd8":
        if not fdjpeg.inspect(raw)["lossless"]:
            return fdjpeg.transcode(raw, purify=table, keep_metadata=keep_metadata), "transcode"
        return fdjpeg.encode(fdjpeg.decode(raw), table, subsampling=subsampling), "encode"
    return fdjpeg.encode(read_pixels(src), table, subsampling=subsampling), "encode"


def purify_to_pixels(src, table, *, subsampling="4:4:4"):
    """The pixels of the purified image of one input file, and how they were made: what
    ``purify_to_bytes`` writes, decoded (for an output named .png, .npy, ...)."""
    import fdjpeg

    src = Path(src)
    raw = src.read_bytes()
    if raw[:2] == b"\xff\xd8":
        if not fdjpeg.inspect(raw)["lossless"]:
            return fdjpeg.decode(raw, purify=table), "decode"
        return fdjpeg.purify(fdjpeg.decode(raw), table, subsampling=subsampling), "purify"
    return fdjpeg.purify(read_pixels(src), table, subsampling=subsampling), "purify"
