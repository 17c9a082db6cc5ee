"""A stress loop over every C resource path of the Python API, for leak checkers.

    PYTHONMALLOC=malloc valgrind --leak-check=full --show-leak-kinds=definite \\
        --errors-for-leak-kinds=definite --error-exitcode=9 python fuzz/stress_leaks.py 300

or, with an ASan build of the extension, under LD_PRELOAD=libasan.so.  Each
cycle: encode (baseline, progressive, optimized, restarts, 16-bit tables, CMYK),
decode (plain, purified, scaled, into out=), read_coefficients,
write_coefficients, purify, inspect, and the error paths (truncated, corrupt,
not JPEG, too large, too many scans, encoder argument errors).
Prints the number of cycles and of errors seen (errors are expected).
"""
import os
import sys

import numpy as np

sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import fdjpeg  # noqa: E402


def main(cycles):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (19, 27, 3), dtype=np.uint8)
    gray = img[..., 0].copy()
    cmyk = rng.integers(0, 256, (9, 10, 4), dtype=np.uint8)
    good = fdjpeg.encode(img, quality=80, subsampling="4:2:0")
    prog = fdjpeg.encode(img, quality=80, progressive=True)
    sos = good.index(b"\xff\xda")
    bad_inputs = [good[: len(good) // 2], prog[: len(prog) // 2], good[:sos + 5] + b"\x63" + good[sos + 6:],
                  b"\xff\xd8\xff", b"GIF89a", b"\xff\xd8\xff\xc0\x00\x0b\x08\xea\x60\xea\x60\x01\x01\x11\x00\xff\xd9"]
    out = np.empty((19, 27, 3), np.uint8)
    t16 = np.arange(300, 364)
    errors = 0
    for i in range(cycles):
        datas = [fdjpeg.encode(img, quality=50 + i % 50, optimize=bool(i & 1), restart_interval=i % 3),
                 fdjpeg.encode(gray, t16, progressive=True),
                 fdjpeg.encode(cmyk), prog]
        for d in datas:
            fdjpeg.decode(d)
            fdjpeg.decode(d, purify=True, scale=2)
            fdjpeg.inspect(d)
        fdjpeg.decode(good, out=out)
        coefs = fdjpeg.read_coefficients(prog)
        fdjpeg.write_coefficients(coefs)
        fdjpeg.purify(img, subsampling="4:2:2")
        fdjpeg.purify(np.stack([img, img]))
        for b in bad_inputs:
            for kw in ({}, {"allow_truncated": True}, {"purify": True}):
                try:
                    fdjpeg.decode(b, **kw)
                except fdjpeg.JPEGError:
                    errors += 1
            try:
                fdjpeg.read_coefficients(b)
            except fdjpeg.JPEGError:
                errors += 1
        try:
            fdjpeg.decode(prog, max_scans=2)
        except fdjpeg.JPEGTooLargeError:
            errors += 1
        for kw in ({"max_pixels": 3}, {"quality": 0}, {"subsampling": "9:9:9"}):
            try:
                fdjpeg.encode(img, **kw)
            except (ValueError, fdjpeg.JPEGError):
                errors += 1
        try:
            fdjpeg.decode(good, out=np.empty((2, 2), np.uint8))
        except ValueError:
            errors += 1
    print(f"{cycles} cycles, {errors} expected errors")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
