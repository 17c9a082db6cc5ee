"""Subprocess worker for the corpus tests: decode files with Pillow and fdjpeg, compare.

Run as ``python corpus_check.py ROOT PATH...`` (paths relative to ROOT).  For each file it
prints one JSON line *after* the file is done (flushed), so a parent that sees the worker die
knows which file killed it (the first one without a line) and can restart after it.

Each line: {"path", "pillow": "ok"|error class, "pil_mode", "fd": "ok"|error class,
"fd_msg", "shape_ok", "maxdiff", "ndiff"}.  Pillow is the reference: it opens the file,
checks that it is a JPEG, and loads the pixels (np.asarray); fdjpeg decodes with defaults,
and with mode="RGB" where Pillow's mode is CMYK (compared with Pillow's .convert("RGB")).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def pillow_pixels(data: bytes):
    """(status, mode, array) as Pillow decodes the data; status is "ok" or an error class."""
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.format not in ("JPEG", "MPO"):  # MPO: a JPEG with an MPF APP2 segment
                return f"not-jpeg:{im.format}", None, None
            im.load()
            return "ok", im.mode, np.asarray(im)
    except Exception as exc:  # the reference's refusal is data, not a failure
        return type(exc).__name__, None, None


def check(root: Path, rel: str) -> dict:
    import fdjpeg

    data = (root / rel).read_bytes()
    pil_status, pil_mode, ref = pillow_pixels(data)
    res = {"path": rel, "pillow": pil_status, "pil_mode": pil_mode, "fd": "ok", "fd_msg": "",
           "shape_ok": None, "maxdiff": None, "ndiff": None}
    try:
        out = fdjpeg.decode(data)
    except fdjpeg.JPEGError as exc:
        res["fd"] = type(exc).__name__
        res["fd_msg"] = str(exc)
        res["fd_is_jpegerror"] = True
        return res
    except Exception as exc:  # anything but JPEGError is a bug the test reports
        res["fd"] = type(exc).__name__
        res["fd_msg"] = str(exc)
        res["fd_is_jpegerror"] = False
        return res
    res["fd_shape"] = list(out.shape)
    if ref is not None:
        res["shape_ok"] = out.shape == ref.shape
        if res["shape_ok"]:
            d = np.abs(out.astype(np.int16) - ref.astype(np.int16))
            res["maxdiff"] = int(d.max()) if d.size else 0
            res["ndiff"] = int((d != 0).sum())
        if pil_mode == "CMYK":
            from PIL import Image
            import io

            with Image.open(io.BytesIO(data)) as im:
                rgb_ref = np.asarray(im.convert("RGB"))
            rgb = fdjpeg.decode(data, mode="RGB")
            res["rgb_maxdiff"] = int(np.abs(rgb.astype(np.int16) - rgb_ref).max())
    return res


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo's fdjpeg
    root = Path(argv[1])
    for rel in argv[2:]:
        print(json.dumps(check(root, rel)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
