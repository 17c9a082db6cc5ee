"""Hardening (issue 8): hostile input, limits, misuse, leaks and threads.

- Inline byte strings, one per error path, each asserting the exception class
  and the specific message (what is wrong and where).
- Limits: a 60000 x 60000 header is refused before allocating (the peak
  virtual memory of a fresh process stays small); thousands of progressive
  scans stop at the scan limit, quickly; the pixel limit is exact.
- Misuse: TypeError / ValueError with messages that say what was wrong.
- Every prefix and thousands of deterministic mutations of real files raise
  only fdjpeg.JPEGError (or decode); the fuzzers' regression files and the
  shared malformed corpus likewise.
- 10,000 encode / decode / failed-decode / purify cycles do not grow the
  process (RSS from /proc/self/statm).
- Concurrent decode / encode / purify / read_coefficients from many threads
  equal the serial results.
"""
import io
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import fdjpeg
from fdjpeg import (JPEGError, JPEGTooLargeError, NotJPEGError, TruncatedJPEGError,
                    UnsupportedJPEGError)

ROOT = Path(__file__).resolve().parents[1]
from conftest import CORPUS  # noqa: E402  (FDJPEG_CORPUS or ../shared/corpus)
REGRESSIONS = ROOT / "fuzz" / "regressions"


# ---- helpers ---------------------------------------------------------------

def pil_jpeg(arr, **kw):
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", **kw)
    return buf.getvalue()


def pattern(h, w, ch=3, seed=0):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = 128 + 70 * np.sin(x / 4.0 + seed) * np.cos(y / 5.0)
    img = np.clip(base[..., None] + rng.normal(0, 15, (h, w, ch)) + np.arange(ch) * 20, 0, 255)
    img = img.astype(np.uint8)
    return img[..., 0] if ch == 1 else img


def segments(data):
    """(code, offset, length) of the header segments up to the first SOS (independent walk)."""
    out, pos = [], 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        code = data[pos + 1]
        length = (data[pos + 2] << 8) | data[pos + 3]
        out.append((code, pos, length))
        if code == 0xDA:
            break
        pos += 2 + length
    return out


def seg_offset(data, code, nth=0):
    offs = [off for c, off, _ in segments(data) if c == code]
    return offs[nth]


def patched(data, at, *values):
    b = bytearray(data)
    b[at:at + len(values)] = bytes(values)
    return bytes(b)


@pytest.fixture(scope="module")
def rgb420():
    return pil_jpeg(pattern(21, 30), quality=85, subsampling=2)


@pytest.fixture(scope="module")
def prog():
    return pil_jpeg(pattern(24, 33), quality=80, progressive=True)


def raises(exc, match_text, fn, *a, **kw):
    with pytest.raises(exc) as ei:
        fn(*a, **kw)
    assert match_text in str(ei.value), f"{str(ei.value)!r} lacks {match_text!r}"
    return ei.value


# ---- inline byte strings: one per error path --------------------------------

SOI, EOI = b"\xff\xd8", b"\xff\xd9"
GRAY_SOF0_8x8 = b"\xff\xc0\x00\x0b\x08\x00\x08\x00\x08\x01\x01\x11\x00"


@pytest.mark.parametrize("data, exc, text", [
    (b"", NotJPEGError, "no SOI marker at offset 0"),
    (b"\x89PNG\r\n\x1a\n", NotJPEGError, "no SOI marker at offset 0"),
    # Pillow's signature is FF D8 FF: SOI not followed by a marker is not a JPEG
    (SOI, NotJPEGError, "the SOI marker is not followed by another marker"),
    (SOI + b"JFIF", NotJPEGError, "the SOI marker is not followed by another marker"),
    (SOI + b"\xff", TruncatedJPEGError, "ends at offset 3 before the EOI marker"),
    (SOI + EOI, JPEGError, "no image"),
    # 16-bit DQT: 3 bytes of table leave one odd byte (libjpeg's JERR_BAD_LENGTH)
    (SOI + b"\xff\xdb\x00\x06\x10\x00\x01\x02" + EOI, JPEGError, "bad DQT length at offset 2"),
    (SOI + b"\xff\xdb\x00\x43\x05" + bytes(64) + EOI, JPEGError, "bad DQT table index 5 at offset 2"),
    (SOI + b"\xff\xdb\x00\x43\x20" + bytes(64) + EOI, JPEGError, "bad DQT precision 2 at offset 2"),
    # segment length below 2
    # (APPn/COM below 2 are skipped as empty, as libjpeg and Pillow do; DQT is an error)
    (SOI + b"\xff\xdb\x00\x01" + EOI, JPEGError, "length 1 at offset 2"),
    # truncated segment lengths: the DQT claims 67 bytes, 5 follow
    (SOI + b"\xff\xdb\x00\x43\x00\x01\x02\x03", TruncatedJPEGError,
     "marker 0xDB at offset 2 has length 67 past the end of data"),
    (SOI + b"\xff\xe1\x10\x00Exif\x00\x00", TruncatedJPEGError,
     "marker 0xE1 at offset 2 has length 4096 past the end of data"),
    # cut short, but what is there is already a bad table: libjpeg reports that first
    (SOI + b"\xff\xdb\x00\x43\x20\x01", JPEGError, "bad DQT table at offset 2"),
    # ends inside a marker's length field
    (SOI + b"\xff\xdb\x00", TruncatedJPEGError, "ends inside the 0xDB marker at offset 2"),
    # SOF length 12 for 1 component (11 needed)
    (SOI + b"\xff\xc0\x00\x0c\x08\x00\x08\x00\x08\x01\x01\x11\x00\x00" + EOI, JPEGError,
     "bad SOF length 12 for 1 components at offset 2"),
    (SOI + b"\xff\xc0\x00\x05\x08\x00\x08" + EOI, JPEGError, "bad SOF length 5 at offset 2"),
    (SOI + GRAY_SOF0_8x8 + GRAY_SOF0_8x8 + EOI, JPEGError, "duplicate SOF marker at offset 15"),
    (SOI + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" + EOI, JPEGError, "SOS before SOF at offset 2"),
    (SOI + b"\xff\xc0\x00\x0b\x08\x00\x08\x00\x00\x01\x01\x11\x00" + EOI, JPEGError, "empty image"),
    (SOI + b"\xff\xc0\x00\x0b\x08\x00\x08\x00\x08\x01\x01\x51\x00" + EOI, JPEGError,
     "bad sampling factors 5x1 for component"),
    (SOI + b"\xff\xc1\x00\x0b\x10\x00\x08\x00\x08\x01\x01\x11\x00" + EOI, UnsupportedJPEGError,
     "16-bit sample precision is not supported"),
    (SOI + b"\xff\xc0\x00\x0b\x08\x00\x00\x00\x08\x01\x01\x11\x00" + EOI, UnsupportedJPEGError,
     "height 0"),
    (SOI + b"\xff\xdd\x00\x05\x00\x01\x00" + EOI, JPEGError, "bad DRI length 5 at offset 2"),
    # DHT: 17 codes of length 1 cannot exist
    # (checked when a scan uses the table, as libjpeg does)
    (SOI + b"\xff\xc4\x00\x24\x00\x11" + bytes(15) + bytes(range(17))
     + b"\xff\xdb\x00\x43\x00" + b"\x01" * 64
     + b"\xff\xc0\x00\x0b\x08\x00\x01\x00\x01\x01\x01\x11\x00"
     + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00\x00" + EOI, JPEGError,
     "bad Huffman table"),
    (SOI + b"\xff\xc4\x00\x14\x05\x01" + bytes(15) + b"\x00" + EOI, JPEGError, "bad DHT table index"),
    (SOI + b"\xff\xd8" + EOI, JPEGError, "unexpected SOI marker at offset 2"),
])
def test_inline_error(data, exc, text):
    err = raises(exc, text, fdjpeg.decode, data)
    assert isinstance(err, OSError)  # JPEGError is an OSError, like Pillow's


def test_sos_errors_in_a_real_file(rgb420):
    sos = seg_offset(rgb420, 0xDA)
    # first component selector of the SOS -> an id the frame does not have
    raises(JPEGError, f"component id 77 at offset {sos}", fdjpeg.decode, patched(rgb420, sos + 5, 77))
    raises(JPEGError, "Huffman table selector", fdjpeg.decode, patched(rgb420, sos + 6, 0x50))
    sof = seg_offset(rgb420, 0xC0)
    # component 0 uses table slot 3, never defined
    raises(JPEGError, "quantization table 3 is not defined", fdjpeg.decode, patched(rgb420, sof + 12, 3))
    raises(JPEGError, "bad SOF length", fdjpeg.decode, patched(rgb420, sof + 3, 12))
    dqt = seg_offset(rgb420, 0xDB)
    raises(JPEGError, f"bad DQT table at offset {dqt}", fdjpeg.decode, patched(rgb420, dqt + 2, 0xFF, 0xFF))
    raises(TruncatedJPEGError, "marker 0xE0 at offset 2 has length 65535 past the end of data",
           fdjpeg.decode, patched(rgb420, 4, 0xFF, 0xFF))
    # entropy data cut: truncated (or, on request, decoded with grey fill)
    cut = rgb420[: sos + 60]
    raises(TruncatedJPEGError, "", fdjpeg.decode, cut)
    out = fdjpeg.decode(cut, allow_truncated=True)
    assert out.shape == (21, 30, 3)


def test_errors_also_from_inspect_and_coefficients(rgb420):
    for fn in (fdjpeg.inspect, fdjpeg.read_coefficients):
        raises(JPEGError, "SOS before SOF", fn, SOI + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" + EOI)
        raises(NotJPEGError, "no SOI", fn, b"GIF89a")


# ---- limits -----------------------------------------------------------------

HUGE_SOF = b"\xff\xc0\x00\x0b\x08\xea\x60\xea\x60\x01\x01\x11\x00"  # 60000 x 60000 grey
HUGE = SOI + HUGE_SOF + EOI
# the same frame with tables and a scan header: a complete header that opens
HUGE_SOS = (SOI + b"\xff\xdb\x00\x43\x00" + bytes([1] * 64) + HUGE_SOF
            + b"\xff\xc4\x00\x14\x00\x01" + bytes(15) + b"\x00"
            + b"\xff\xc4\x00\x14\x10\x01" + bytes(15) + b"\x00"
            + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" + EOI)


def _proc_status(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return None


def test_huge_header_refused_before_allocating():
    raises(JPEGTooLargeError, "60000", fdjpeg.decode, HUGE)
    raises(JPEGTooLargeError, "60000", fdjpeg.inspect, HUGE)
    raises(JPEGTooLargeError, "image of 60000 x 60000 = 3600000000 pixels exceeds the limit of "
           "178956970 pixels", fdjpeg.decode, HUGE_SOS)
    # with a limit that allows it, the header still opens without pixel work,
    # and the output shape is what decode would have to allocate
    assert fdjpeg.inspect(HUGE_SOS, max_pixels=60000 * 60000)["size"] == (60000, 60000)
    dec = fdjpeg._api._open(HUGE_SOS, max_pixels=60000 * 60000)
    assert dec.output_shape() == (60000, 60000, 1)
    if not Path("/proc/self/status").exists():
        pytest.skip("no /proc: cannot measure peak memory")
    # a fresh process: peak virtual memory (VmPeak counts even untouched
    # mallocs) hardly moves when the 3.6 GB image is refused
    code = textwrap.dedent(f"""
        import fdjpeg
        from pathlib import Path
        def peak():
            for l in Path('/proc/self/status').read_text().splitlines():
                if l.startswith('VmPeak:'):
                    return int(l.split()[1]) * 1024
        before = peak()
        for _ in range(20):
            for data in ({HUGE!r}, {HUGE_SOS!r}):
                try:
                    fdjpeg.decode(data)
                except fdjpeg.JPEGTooLargeError:
                    pass
            fdjpeg.inspect({HUGE_SOS!r}, max_pixels=60000 * 60000)
        print(peak() - before)
    """)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                       timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    grew = int(r.stdout.split()[-1])
    assert grew < 64 * 2 ** 20, f"peak virtual memory grew by {grew / 2 ** 20:.0f} MiB"


def test_pixel_limit_is_exact(rgb420):
    raises(JPEGTooLargeError, "", fdjpeg.decode, rgb420, max_pixels=21 * 30 - 1)
    assert fdjpeg.decode(rgb420, max_pixels=21 * 30).shape == (21, 30, 3)
    # the default is Pillow's
    assert fdjpeg.DEFAULT_MAX_PIXELS == 2 * 89_478_485 == Image.MAX_IMAGE_PIXELS * 2


def many_scans(n):
    """A grey 8x8 progressive file: one DC first scan, then n-1 DC refinement scans."""
    dqt = b"\xff\xdb\x00\x43\x00" + bytes([1] * 64)
    sof2 = b"\xff\xc2\x00\x0b\x08\x00\x08\x00\x08\x01\x01\x11\x00"
    dht = b"\xff\xc4\x00\x14\x00\x01" + bytes(15) + b"\x00"  # one 1-bit code, symbol 0
    first = b"\xff\xda\x00\x08\x01\x01\x00\x00\x00\x00" + b"\x00"
    refine = b"\xff\xda\x00\x08\x01\x01\x00\x00\x00\x10" + b"\x00"
    return SOI + dqt + sof2 + dht + first + refine * (n - 1) + EOI


def test_thousands_of_scans_stop_at_the_scan_limit():
    data = many_scans(5000)
    t0 = time.perf_counter()
    raises(JPEGTooLargeError, "more than 64 scans", fdjpeg.decode, data, max_scans=64)
    raises(JPEGTooLargeError, "more than 1000 scans", fdjpeg.decode, data)
    raises(JPEGTooLargeError, "more than 10 scans", fdjpeg.read_coefficients, data, max_scans=10)
    assert time.perf_counter() - t0 < 10
    # under the limit the same construction decodes (the scans are valid)
    assert fdjpeg.decode(many_scans(20), max_scans=20).shape == (8, 8)
    raises(JPEGTooLargeError, "more than 19 scans", fdjpeg.decode, many_scans(20), max_scans=19)


def test_bounded_work_on_garbage():
    # a megabyte with no marker after SOI, and one of 0xFF fill bytes: linear scans, no spin
    t0 = time.perf_counter()
    raises(TruncatedJPEGError, "before the EOI", fdjpeg.decode,
           SOI + b"\xff\xfe\x00\x02" + bytes(range(1, 255)) * 4000)
    raises(TruncatedJPEGError, "before the EOI", fdjpeg.decode, SOI + b"\xff" * 1_000_000)
    raises(JPEGError, "", fdjpeg.decode, SOI + b"\xff\x00" * 500_000)
    assert time.perf_counter() - t0 < 10


def test_segment_byte_limit():
    com = b"\xff\xfe\xff\xff" + bytes(65533)
    data = SOI + com * 1100 + EOI  # ~72 MB of COM segments, over the 64 MiB default
    raises(JPEGTooLargeError, "marker segments exceed the limit", fdjpeg.decode, data)


# ---- misuse -----------------------------------------------------------------

def test_decode_misuse(rgb420):
    for bad in ("not bytes", 123, None, 4.5, [1, 2]):
        raises(TypeError, "bytes-like", fdjpeg.decode, bad)
    raises(ValueError, "scale must be 1, 2, 4 or 8", fdjpeg.decode, rgb420, scale=3)
    raises(ValueError, "mode must be", fdjpeg.decode, rgb420, mode="HSV")
    raises(ValueError, "max_pixels must be a positive integer", fdjpeg.decode, rgb420, max_pixels=0)
    raises(ValueError, "max_scans must be a positive integer", fdjpeg.decode, rgb420, max_scans=-1)
    raises(ValueError, "mode='CMYK' needs", fdjpeg.decode, rgb420, mode="CMYK")
    raises(ValueError, "out must be uint8 with shape", fdjpeg.decode, rgb420, out=np.zeros((21, 30), np.uint8))
    raises(ValueError, "out must be uint8 with shape", fdjpeg.decode, rgb420,
           out=np.zeros((21, 30, 3), np.float32))
    ro = np.zeros((21, 30, 3), np.uint8)
    ro.flags.writeable = False
    raises(ValueError, "writeable", fdjpeg.decode, rgb420, out=ro)
    with pytest.raises((TypeError, ValueError)):
        fdjpeg.decode(rgb420, purify=np.zeros(64))  # table entries must be >= 1
    with pytest.raises((TypeError, ValueError)):
        fdjpeg.decode(rgb420, purify=np.full(63, 10))


def test_encode_misuse():
    img = pattern(10, 12)
    raises(TypeError, "numpy uint8 array", fdjpeg.encode, img.tolist())
    raises(TypeError, "dtype uint8", fdjpeg.encode, img.astype(np.float32))
    raises(TypeError, "dtype uint8", fdjpeg.encode, img.astype(np.int16))
    # uint16 is 12-bit input (tests/test_precision.py): samples above 4095 are refused
    raises(ValueError, "0..4095", fdjpeg.encode, img.astype(np.uint16) * 17)
    raises(ValueError, "1, 3 or 4 channels", fdjpeg.encode, np.zeros((4, 4, 2), np.uint8))
    raises(ValueError, "shape", fdjpeg.encode, np.zeros((4, 4, 3, 1), np.uint8))
    raises(ValueError, "must not be empty", fdjpeg.encode, np.zeros((0, 4, 3), np.uint8))
    for q in (0, 101, -5):
        raises(ValueError, "quality must be in 1..100", fdjpeg.encode, img, quality=q)
    raises(TypeError, "quality must be an integer", fdjpeg.encode, img, quality=75.5)
    raises(ValueError, "either table or quality", fdjpeg.encode, img, np.full(64, 10), quality=75)
    raises(ValueError, "subsampling must be one of", fdjpeg.encode, img, subsampling="4:2:1")
    raises(ValueError, "subsampling must be one of", fdjpeg.encode, img, subsampling=7)
    raises(TypeError, "subsampling must be a string", fdjpeg.encode, img, subsampling=2.0)
    raises(ValueError, "restart_interval must be in 0..65535", fdjpeg.encode, img, restart_interval=70000)
    raises(TypeError, "optimize must be True or False", fdjpeg.encode, img, optimize="yes")
    raises(ValueError, "keep_rgb applies to 3-channel", fdjpeg.encode, img[..., 0], keep_rgb=True)
    for bad in (0, 65536, -1):
        t = np.full(64, 10)
        t[5] = bad
        with pytest.raises(ValueError) as ei:
            fdjpeg.encode(img, t)
        assert "65535" in str(ei.value) or str(bad) in str(ei.value), str(ei.value)
    with pytest.raises(ValueError):
        fdjpeg.encode(img, np.full(63, 10))
    raises(ValueError, "extra_segments: incomplete segment at offset 0", fdjpeg.encode, img,
           extra_segments=b"\xff\xe1\x00")
    raises(ValueError, "extra_segments: expected an APPn or COM marker at offset 0", fdjpeg.encode, img,
           extra_segments=b"\xff\xdb\x00\x04ab")
    raises(ValueError, "extra_segments: bad segment length", fdjpeg.encode, img,
           extra_segments=b"\xff\xfe\x00\x01")
    raises(TypeError, "extra_segments must be bytes-like", fdjpeg.encode, img, extra_segments="COM")
    raises(ValueError, "dpi values must round to 1..65535", fdjpeg.encode, img, dpi=(0, 72))
    # a valid COM segment goes through
    assert b"\xff\xfe\x00\x05hi!" in fdjpeg.encode(img, extra_segments=b"\xff\xfe\x00\x05hi!")
    # the encoder's own pixel limit, checked before any work
    raises(JPEGTooLargeError, "exceeds the limit", fdjpeg.encode, img, max_pixels=119)
    assert fdjpeg.decode(fdjpeg.encode(img, max_pixels=120)).shape == img.shape


def test_purify_misuse():
    img = pattern(9, 9)
    raises(TypeError, "dtype uint8", fdjpeg.purify, img.astype(np.int32))
    raises(ValueError, "subsampling must be one of", fdjpeg.purify, img, subsampling="3:1:1")
    with pytest.raises(ValueError):
        fdjpeg.purify(img, np.zeros(64))
    with pytest.raises(ValueError):
        fdjpeg.purify(np.zeros((2, 2, 2, 2, 2), np.uint8))


# ---- mutations, prefixes, regression files, malformed corpus ----------------

def _decode_everything(data):
    """Run every entry point; only JPEGError (incl. subclasses) may come out."""
    for fn, kw in ((fdjpeg.decode, {}), (fdjpeg.decode, {"allow_truncated": True, "scale": 2}),
                   (fdjpeg.decode, {"purify": True}), (fdjpeg.decode, {"mode": "L"}),
                   (fdjpeg.read_coefficients, {})):
        try:
            fn(data, max_pixels=1 << 22, max_scans=200, **kw)
        except JPEGError:
            pass
    try:
        fdjpeg.inspect(data, max_pixels=1 << 22)
    except JPEGError:
        pass


def test_every_prefix_fails_cleanly(rgb420, prog):
    for data in (rgb420, prog):
        for cut in range(len(data)):
            try:
                out = fdjpeg.decode(data[:cut])
            except JPEGError:
                continue
            pytest.fail(f"prefix of {cut} bytes decoded to {out.shape} without EOI")
        for cut in range(0, len(data), 7):
            try:
                assert fdjpeg.decode(data[:cut], allow_truncated=True).ndim == 3
            except JPEGError:
                pass


def test_mutations_raise_only_jpeg_errors(rgb420, prog):
    rng = np.random.default_rng(2024)
    gray = pil_jpeg(pattern(17, 19, 1), quality=70)
    for base in (rgb420, prog, gray):
        for _ in range(400):
            b = bytearray(base)
            for _ in range(int(rng.integers(1, 5))):
                kind = rng.integers(0, 3)
                at = int(rng.integers(0, len(b)))
                if kind == 0:
                    b[at] = int(rng.integers(0, 256))
                elif kind == 1:
                    del b[at:at + int(rng.integers(1, 16))]
                else:
                    b[at:at] = bytes(rng.integers(0, 256, int(rng.integers(1, 8)), dtype=np.uint8))
            _decode_everything(bytes(b))


def _regression_files():
    if not REGRESSIONS.is_dir():
        return []
    return sorted(p for p in REGRESSIONS.rglob("*") if p.is_file() and p.suffix.lower() in (".jpg", ".jpeg"))


@pytest.mark.parametrize("path", _regression_files(), ids=lambda p: p.name)
def test_fuzz_regression_files(path):
    _decode_everything(path.read_bytes())


def test_shared_malformed_corpus():
    folder = CORPUS / "malformed"
    if not folder.is_dir():
        pytest.skip(f"shared corpus not found at {folder}")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg"))
    assert files
    for p in files:
        _decode_everything(p.read_bytes())


# ---- leaks --------------------------------------------------------------------

def _rss():
    page = os.sysconf("SC_PAGE_SIZE")
    return int(Path("/proc/self/statm").read_text().split()[1]) * page


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs /proc/self/statm (Linux)")
def test_ten_thousand_cycles_do_not_grow_the_process():
    img = pattern(24, 40)
    good = fdjpeg.encode(img, quality=80, subsampling="4:2:0")
    bad = good[:len(good) // 2]
    corrupt = patched(good, seg_offset(good, 0xDA) + 5, 99)
    out = np.empty((24, 40, 3), np.uint8)

    def cycle(i):
        data = fdjpeg.encode(img, quality=50 + i % 50, optimize=bool(i & 1))
        fdjpeg.decode(data, out=out)
        fdjpeg.decode(data, purify=True)
        fdjpeg.purify(img, subsampling="4:2:0")
        for broken in (bad, corrupt, b"\xff\xd8\xff"):
            try:
                fdjpeg.decode(broken)
            except JPEGError:
                pass
        if i % 10 == 0:
            fdjpeg.read_coefficients(good)
            try:
                fdjpeg.encode(img, max_pixels=5)
            except JPEGTooLargeError:
                pass

    for i in range(500):  # warm up allocator pools and caches
        cycle(i)
    before = _rss()
    for i in range(10_000):
        cycle(i)
    grew = _rss() - before
    # a leak of a decoder (several KiB) or of one output per cycle would be 10s of MiB
    assert grew < 4 * 2 ** 20, f"RSS grew by {grew / 2 ** 20:.1f} MiB over 10,000 cycles"


# ---- threads ------------------------------------------------------------------

def _thread_inputs():
    imgs = [pattern(37, 53, 3, 1), pattern(64, 48, 1, 2), pattern(17, 120, 3, 3)]
    try:
        from skimage import data as skd
        imgs += [skd.astronaut()[::2, ::2].copy(), skd.camera()[::2, ::2].copy(), skd.coffee()[:160, :200].copy()]
    except ImportError:  # pragma: no cover
        pass
    return imgs


def test_threads_equal_serial_results():
    imgs = _thread_inputs()
    tasks = []
    for k, img in enumerate(imgs):
        sub = ("4:4:4", "4:2:0", "4:2:2")[k % 3]
        prog = k % 2 == 1
        tasks.append(("encode", k, lambda img=img, sub=sub, prog=prog:
                      fdjpeg.encode(img, quality=85, subsampling=sub, progressive=prog)))
        jpg = fdjpeg.encode(img, quality=85, subsampling=sub, progressive=prog)
        tasks.append(("decode", k, lambda jpg=jpg: fdjpeg.decode(jpg)))
        tasks.append(("decode-purify", k, lambda jpg=jpg: fdjpeg.decode(jpg, purify=True)))
        tasks.append(("purify", k, lambda img=img, sub=sub: fdjpeg.purify(img, subsampling=sub)))
        tasks.append(("coefficients", k, lambda jpg=jpg: np.concatenate(
            [c.ravel() for c in fdjpeg.read_coefficients(jpg)["coefficients"]])))
        tasks.append(("scaled", k, lambda jpg=jpg: fdjpeg.decode(jpg, scale=4)))
    serial = [fn() for _, _, fn in tasks]

    errors, results = [], {}
    n_threads, rounds = 8, 6

    def worker(t):
        try:
            order = np.random.default_rng(t).permutation(len(tasks) * rounds) % len(tasks)
            for i in order:
                got = tasks[i][2]()
                ref = serial[i]
                same = got == ref if isinstance(ref, bytes) else np.array_equal(got, ref)
                if not same:
                    results.setdefault("mismatch", []).append(tasks[i][:2])
        except Exception as e:  # pragma: no cover - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors[:3]
    assert not results.get("mismatch"), results["mismatch"][:10]
