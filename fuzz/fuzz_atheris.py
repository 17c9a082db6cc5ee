"""atheris target over fdjpeg's Python API: decode (plain, purified, scaled,
grey), read_coefficients, inspect and the Pillow drop-in ``fdjpeg.open``.

    python fuzz/fuzz_atheris.py fuzz/work/corpus/atheris fuzz/work/seeds/decode -max_total_time=600

Only the documented exceptions may escape: fdjpeg.JPEGError (an OSError) from
the codec API; from fdjpeg.open Pillow's types (UnidentifiedImageError,
DecompressionBombError, OSError).  Anything else -- or a crash in the C
extension -- is a finding.  Python code is instrumented for coverage
(atheris.instrument_imports); the C extension is not (it is covered by the
libFuzzer targets), so the coverage numbers count Python edges only.
Limits: 256 K pixels and 64 scans, as the C harnesses.
"""
import io
import os
import sys
import warnings

import atheris

# the repository root (an in-place build), unless fdjpeg is installed
sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

with atheris.instrument_imports():
    import numpy as np
    from PIL import Image

    import fdjpeg
    from fdjpeg import pillow as _fdpillow  # noqa: F401  (instrument the drop-in too)

MAX_PIXELS = 1 << 18
LIMITS = dict(max_pixels=MAX_PIXELS, max_scans=64)


def one_input(data):
    if not data:
        return
    ob = data[-1] ^ 0xD9  # as the C harnesses: a normal JPEG ends in FF D9
    kw = dict(LIMITS)
    kw["scale"] = (1, 2, 4, 8)[ob & 3]
    kw["mode"] = (None, "L", "RGB")[(ob >> 2) % 3]
    kw["allow_truncated"] = bool(ob & 16)
    if ob & 32:
        kw["purify"] = True
    try:
        out = fdjpeg.decode(data, **kw)
        assert out.dtype == np.uint8 and out.ndim in (2, 3)
    except fdjpeg.JPEGError:
        pass
    except ValueError as e:
        # the only ValueError allowed here: mode='CMYK'-style mismatches never
        # occur with these modes, so any ValueError is a finding
        raise AssertionError(f"ValueError from decode of data: {e}") from e
    try:
        info = fdjpeg.inspect(data, max_pixels=MAX_PIXELS)
        assert info["width"] >= 1 and info["height"] >= 1
    except fdjpeg.JPEGError:
        pass
    if ob & 64:
        try:
            coefs = fdjpeg.read_coefficients(data, **LIMITS)
            assert all(c.dtype == np.int16 and c.ndim == 4 for c in coefs["coefficients"])
        except fdjpeg.JPEGError:
            pass
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS // 2  # fdjpeg.open's bomb check: 2x this
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            im = fdjpeg.open(io.BytesIO(data))
            im.load()
            assert im.size[0] >= 1 and im.size[1] >= 1
        except (Image.UnidentifiedImageError, Image.DecompressionBombError, OSError):
            pass


def main():
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
