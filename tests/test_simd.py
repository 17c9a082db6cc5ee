"""SIMD kernels (csrc/*_simd.c) against the scalar references and independent numpy models.

Block level: the AVX2 ISLOW IDCT/FDCT must equal the scalar kernels bit for bit on random,
real and extreme blocks (including values that overflow 32-bit lanes, where the AVX2 IDCT
must hand the block to the scalar code), and both must equal a numpy model of libjpeg's
jidctint.c / jfdctint.c arithmetic.  Image level: decode, decode(purify=), encode and purify
with FDJPEG_SIMD=0 (scalar everywhere) must give the same bytes as the default kernels, and
decode must still equal Pillow.

The block-level hooks are not part of the fdjpeg module: csrc/tests/simd_hooks.c is built
with the C library by `make hooks` (csrc/Makefile) into a test-only shared library, loaded
here through ctypes.
"""
import ctypes
import io
import os
import pathlib
import shutil
import subprocess
import sys
from contextlib import contextmanager

import numpy as np
import pytest
from PIL import Image

import fdjpeg

skdata = pytest.importorskip("skimage.data")

ROOT = pathlib.Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
AVX2 = fdjpeg.build_info()["kernels"] == "avx2"
needs_avx2 = pytest.mark.skipif(not AVX2, reason="this CPU (or FDJPEG_SIMD) gives no AVX2 kernels")


class KernelHooks:
    """The kernel table's test entry points (csrc/tests/simd_hooks.c) on numpy arrays."""

    def __init__(self, path):
        lib = self.lib = ctypes.CDLL(str(path))
        p, n = ctypes.c_void_p, ctypes.c_size_t
        lib.fdj_hook_simd_level.restype = ctypes.c_int
        lib.fdj_hook_idct_blocks.argtypes = [p, n, ctypes.c_int, p]
        lib.fdj_hook_fdct_blocks.argtypes = [p, n, ctypes.c_int, p]
        lib.fdj_hook_idct_turbo_emul_blocks.argtypes = [p, n, p, p]
        lib.fdj_hook_idct_turbo_emul_blocks.restype = None
        lib.fdj_hook_idct_fused_blocks.argtypes = [p, n, p, p, p, p]
        lib.fdj_hook_idct_turbo_row.argtypes = [p, n, p, ctypes.c_int, p]
        lib.fdj_hook_idct2_blocks.argtypes = [p, n, ctypes.c_int, p, p]
        lib.fdj_hook_idct_rq_row.argtypes = [p, n, p, p, p]
        lib.fdj_hook_purify_blocks.argtypes = [p, n, p, ctypes.c_int, p, p]
        lib.fdj_hook_purify_tiles.argtypes = [p, n, p, ctypes.c_int, p, p]
        lib.fdj_hook_downsample_row.argtypes = [p, p, ctypes.c_int, ctypes.c_int, p]
        lib.fdj_hook_quantize.argtypes = [p, n, p, ctypes.c_int, p]
        lib.fdj_hook_huff_blocks.argtypes = [p, n, ctypes.c_int, p, n, ctypes.POINTER(n), p]
        lib.fdj_hook_rgb_ycc_row.argtypes = [p, ctypes.c_int, ctypes.c_int, p, p, p]
        lib.fdj_hook_ycc_rgb_row.argtypes = [p, p, p, ctypes.c_int, ctypes.c_int, p]

    @staticmethod
    def _ptr(a):
        return a.ctypes.data_as(ctypes.c_void_p)

    def _simd_level(self):
        """Active SIMD level: 0 scalar, 2 AVX2 (FDJPEG_SIMD=0 forces 0)."""
        return self.lib.fdj_hook_simd_level()

    def _idct_blocks(self, coef, level):
        """ISLOW IDCT of (n, 64) int32 dequantized blocks with the kernel of `level`;
        (n, 8, 8) uint8."""
        src = np.ascontiguousarray(coef, dtype=np.int32).reshape(-1, 64)
        dst = np.empty((src.shape[0], 8, 8), dtype=np.uint8)
        if self.lib.fdj_hook_idct_blocks(self._ptr(src), src.shape[0], level, self._ptr(dst)) != 0:
            raise ValueError(f"SIMD level {level} is not available here")
        return dst

    def _fdct_blocks(self, pixels, level):
        """ISLOW FDCT of (n, 8, 8) uint8 blocks with the kernel of `level`; (n, 64) int32."""
        src = np.ascontiguousarray(pixels, dtype=np.uint8).reshape(-1, 64)
        dst = np.empty((src.shape[0], 64), dtype=np.int32)
        if self.lib.fdj_hook_fdct_blocks(self._ptr(src), src.shape[0], level, self._ptr(dst)) != 0:
            raise ValueError(f"SIMD level {level} is not available here")
        return dst

    def _idct_turbo_emul_blocks(self, coef, q):
        """libjpeg-turbo's AVX2 ISLOW arithmetic on (n, 64) int16 blocks, uint16 table q."""
        c = np.ascontiguousarray(coef, dtype=np.int16).reshape(-1, 64)
        qa = np.ascontiguousarray(q, dtype=np.uint16).reshape(64)
        dst = np.empty((c.shape[0], 8, 8), dtype=np.uint8)
        self.lib.fdj_hook_idct_turbo_emul_blocks(self._ptr(c), c.shape[0], self._ptr(qa), self._ptr(dst))
        return dst

    def _idct_turbo_row(self, coef, q, level):
        """The 16-bit libjpeg-turbo-arithmetic row kernel of `level` (the scalar level: the
        emulation) on (n, 64) int16 blocks laid out as one row, uint16 table q; (n, 8, 8)."""
        c = np.ascontiguousarray(coef, dtype=np.int16).reshape(-1, 64)
        qa = np.ascontiguousarray(q, dtype=np.uint16).reshape(64)
        dst = np.empty((c.shape[0], 8, 8), dtype=np.uint8)
        st = self.lib.fdj_hook_idct_turbo_row(self._ptr(c), c.shape[0], self._ptr(qa), level,
                                              self._ptr(dst))
        if st != 0:
            raise ValueError(f"no turbo row kernel at SIMD level {level} ({st})")
        return dst

    def _idct2_blocks(self, coef, level):
        """The two-block 16-bit IDCT of `level` on (n, 64) int32 blocks, refused blocks by the
        scalar kernel as purify does; ((n, 8, 8) uint8, (n,) bool taken by the 16-bit kernel)."""
        src = np.ascontiguousarray(coef, dtype=np.int32).reshape(-1, 64)
        dst = np.empty((src.shape[0], 8, 8), dtype=np.uint8)
        taken = np.zeros(src.shape[0], dtype=np.uint8)
        st = self.lib.fdj_hook_idct2_blocks(self._ptr(src), src.shape[0], level, self._ptr(dst),
                                            self._ptr(taken))
        if st != 0:
            raise ValueError(f"no two-block IDCT at SIMD level {level} ({st})")
        return dst, taken.astype(bool)

    def _idct_rq_row(self, coef, q, t):
        """The decoder's one-pass FD row kernel (16-bit lanes) on (n, 64) int16 blocks as one
        row, int32 table q, requantization table t; (n, 8, 8)."""
        c = np.ascontiguousarray(coef, dtype=np.int16).reshape(-1, 64)
        qa = np.ascontiguousarray(q, dtype=np.int32).reshape(64)
        ta = np.ascontiguousarray(t, dtype=np.uint16).reshape(64)
        dst = np.empty((c.shape[0], 8, 8), dtype=np.uint8)
        if self.lib.fdj_hook_idct_rq_row(self._ptr(c), c.shape[0], self._ptr(qa), self._ptr(ta),
                                         self._ptr(dst)) != 0:
            raise ValueError("no one-pass FD row kernel is active")
        return dst

    def _purify_blocks(self, pixels, table, level):
        """purify's block pipeline (FDCT, quantize/dequantize by table, IDCT) at `level` on
        (n, 8, 8) uint8 blocks; ((n, 8, 8) uint8, (n,) bool done by the fused kernel)."""
        src = np.ascontiguousarray(pixels, dtype=np.uint8).reshape(-1, 64)
        ta = np.ascontiguousarray(table, dtype=np.uint16).reshape(64)
        dst = np.empty((src.shape[0], 8, 8), dtype=np.uint8)
        taken = np.zeros(src.shape[0], dtype=np.uint8)
        if self.lib.fdj_hook_purify_blocks(self._ptr(src), src.shape[0], self._ptr(ta), level,
                                           self._ptr(dst), self._ptr(taken)) != 0:
            raise ValueError(f"SIMD level {level} is not available here")
        return dst, taken.astype(bool)

    def _purify_tiles(self, tiles, table, level):
        """purify's 4:4:4 RGB tile kernel at `level` (the scalar chain where the level has
        none or the kernel refuses) on (n, 8, 16, 3) uint8 tiles, every component purified
        with table; ((n, 8, 16, 3) uint8, (n,) bool done by the tile kernel)."""
        src = np.ascontiguousarray(tiles, dtype=np.uint8).reshape(-1, 384)
        ta = np.ascontiguousarray(table, dtype=np.uint16).reshape(64)
        dst = np.empty((src.shape[0], 8, 16, 3), dtype=np.uint8)
        taken = np.zeros(src.shape[0], dtype=np.uint8)
        if self.lib.fdj_hook_purify_tiles(self._ptr(src), src.shape[0], self._ptr(ta), level,
                                          self._ptr(dst), self._ptr(taken)) != 0:
            raise ValueError(f"SIMD level {level} is not available here")
        return dst, taken.astype(bool)

    def _idct_fused_blocks(self, coef, q, t=None):
        """The decoder's fused kernels on (n, 64) int16 coefficients with an int32 table q
        (and, with t, one-pass requantization by t); (n, 8, 8) uint8.  Without t returns
        (pixels, accepted): refused blocks (accepted False, pixels zero) are the ones the
        decoder hands to the libjpeg-turbo emulation."""
        c = np.ascontiguousarray(coef, dtype=np.int16).reshape(-1, 64)
        qa = np.ascontiguousarray(q, dtype=np.int32).reshape(64)
        ta = None if t is None else np.ascontiguousarray(t, dtype=np.uint16).reshape(64)
        dst = np.zeros((c.shape[0], 8, 8), dtype=np.uint8)
        acc = np.ones(c.shape[0], dtype=np.uint8)
        st = self.lib.fdj_hook_idct_fused_blocks(self._ptr(c), c.shape[0], self._ptr(qa),
                                                 None if ta is None else self._ptr(ta),
                                                 self._ptr(dst), self._ptr(acc))
        if st != 0:
            raise ValueError("no fused IDCT kernel is active")
        return dst if t is not None else (dst, acc.astype(bool))

    def _quantize(self, dct, qtable, level):
        """The encoder's quantizer of `level` on (n, 64) int32 natural-order DCT blocks:
        (n, 64) int16 in zigzag order."""
        dct = np.ascontiguousarray(dct, dtype=np.int32)
        q = np.ascontiguousarray(qtable, dtype=np.uint16).reshape(64)
        out = np.empty(dct.shape, dtype=np.int16)
        if self.lib.fdj_hook_quantize(self._ptr(dct), dct.shape[0], self._ptr(q), level,
                                      self._ptr(out)) != 0:
            raise ValueError(f"SIMD level {level} is not available here")
        return out

    def _downsample_row(self, a, b, level):
        """The encoder's h2v1 (b None) or h2v2 downsampling of uint8 rows of even length at
        `level`; (len(a) // 2,) uint8 and the columns the level's SIMD kernel did."""
        a = np.ascontiguousarray(a, dtype=np.uint8)
        b = None if b is None else np.ascontiguousarray(b, dtype=np.uint8)
        out = np.empty(a.size // 2, dtype=np.uint8)
        done = self.lib.fdj_hook_downsample_row(self._ptr(a), None if b is None else self._ptr(b),
                                                out.size, level, self._ptr(out))
        if done < 0:
            raise ValueError(f"SIMD level {level} is not available here")
        return out, done

    def _huff_blocks(self, zz, level):
        """(n, 64) int16 zigzag blocks Huffman-coded as one sequential scan with the Annex K
        luminance tables by the block coder of `level`: (status, entropy-coded bytes,
        message)."""
        src = np.ascontiguousarray(zz, dtype=np.int16).reshape(-1, 64)
        cap = 2048 * src.shape[0] + 64
        out = np.empty(cap, dtype=np.uint8)
        n = ctypes.c_size_t(0)
        msg = ctypes.create_string_buffer(512)
        st = self.lib.fdj_hook_huff_blocks(self._ptr(src), src.shape[0], level, self._ptr(out), cap,
                                           ctypes.byref(n), msg)
        if st == -1:
            raise ValueError(f"SIMD level {level} is not available here")
        assert st != -2
        return st, out[:n.value].tobytes(), msg.value.decode()

    def _rgb_ycc_row(self, rgb, level):
        """The RGB -> YCbCr row kernel of `level` on (w, 3) uint8: (y, cb, cr) of the pixels
        it converted."""
        src = np.ascontiguousarray(rgb, dtype=np.uint8).reshape(-1, 3)
        w = src.shape[0]
        planes = [np.zeros(w, np.uint8) for _ in range(3)]
        done = self.lib.fdj_hook_rgb_ycc_row(self._ptr(src), w, level, *map(self._ptr, planes))
        if done < 0:
            raise ValueError(f"SIMD level {level} is not available here")
        return tuple(p[:done] for p in planes)

    def _ycc_rgb_row(self, y, cb, cr, level):
        """The YCbCr -> RGB row kernel of `level` on three uint8 rows: (w, 3) uint8."""
        planes = [np.ascontiguousarray(v, dtype=np.uint8) for v in (y, cb, cr)]
        out = np.zeros((planes[0].size, 3), np.uint8)
        if self.lib.fdj_hook_ycc_rgb_row(*map(self._ptr, planes), planes[0].size, level,
                                         self._ptr(out)) < 0:
            raise ValueError(f"SIMD level {level} is not available here")
        return out


@pytest.fixture(scope="module")
def hooks(tmp_path_factory):
    """Build the test-only hook library with csrc/Makefile (needs make and a C compiler)."""
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if sys.platform == "win32" or not cc or not shutil.which("make"):
        pytest.skip("the kernel hooks need make and a C compiler")
    build = tmp_path_factory.mktemp("hooks")
    env = dict(os.environ, CC=cc)
    env.pop("CFLAGS", None)
    r = subprocess.run(["make", "-j2", "-C", str(ROOT / "csrc"), f"BUILD={build}", "hooks"],
                       capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    return KernelHooks(build / "libfdjpeg_test_hooks.so")


@contextmanager
def scalar_kernels():
    """Force the scalar path for the calls inside (the C code reads FDJPEG_SIMD per call)."""
    old = os.environ.get("FDJPEG_SIMD")
    os.environ["FDJPEG_SIMD"] = "0"
    try:
        yield
    finally:
        if old is None:
            del os.environ["FDJPEG_SIMD"]
        else:
            os.environ["FDJPEG_SIMD"] = old


# ----------------------------------------------------------------------------- numpy models

def _wrap32(x):
    return ((x + 2 ** 31) % 2 ** 32) - 2 ** 31


def _idct_1d(x, shift):
    """One jidctint.c pass over axis 0 of int64 arrays x[0..7] (the full formula; libjpeg's
    zero shortcuts give the same values)."""
    z2, z3 = x[2], x[6]
    z1 = (z2 + z3) * 4433
    tmp2 = z1 + z3 * -15137
    tmp3 = z1 + z2 * 6270
    tmp0 = (x[0] + x[4]) * 8192
    tmp1 = (x[0] - x[4]) * 8192
    t10, t13, t11, t12 = tmp0 + tmp3, tmp0 - tmp3, tmp1 + tmp2, tmp1 - tmp2
    a0, a1, a2, a3 = x[7], x[5], x[3], x[1]
    z1, z2, z3, z4 = a0 + a3, a1 + a2, a0 + a2, a1 + a3
    z5 = (z3 + z4) * 9633
    a0, a1, a2, a3 = a0 * 2446, a1 * 16819, a2 * 25172, a3 * 12299
    z1, z2 = z1 * -7373, z2 * -20995
    z3, z4 = z3 * -16069 + z5, z4 * -3196 + z5
    a0, a1, a2, a3 = a0 + z1 + z3, a1 + z2 + z4, a2 + z2 + z3, a3 + z1 + z4
    r = 1 << (shift - 1)
    out = [t10 + a3, t11 + a2, t12 + a1, t13 + a0, t13 - a0, t12 - a1, t11 - a2, t10 - a3]
    return np.stack([(v + r) >> shift for v in out])


def idct_model(blocks):
    """(n, 64) int32 dequantized blocks -> (n, 8, 8) uint8, libjpeg-turbo's ISLOW IDCT with its
    64-bit arithmetic, int workspace and "& 1023" range-limit table."""
    x = blocks.astype(np.int64).reshape(-1, 8, 8).transpose(1, 2, 0)  # [row, col, n]
    ws = _wrap32(_idct_1d(x, 11))                                     # columns: along rows
    out = _idct_1d(ws.transpose(1, 0, 2), 18)                         # rows: [col_out, row, n]
    v = out.transpose(1, 0, 2) & 1023                                 # [row, col, n]
    s = np.where(v >= 512, v - 1024, v) + 128
    return np.clip(s, 0, 255).astype(np.uint8).transpose(2, 0, 1)


def _fdct_1d(x, pass2):
    t0, t7 = x[0] + x[7], x[0] - x[7]
    t1, t6 = x[1] + x[6], x[1] - x[6]
    t2, t5 = x[2] + x[5], x[2] - x[5]
    t3, t4 = x[3] + x[4], x[3] - x[4]
    t10, t13, t11, t12 = t0 + t3, t0 - t3, t1 + t2, t1 - t2
    sh = 15 if pass2 else 11
    d = lambda v, n: (v + (1 << (n - 1))) >> n  # noqa: E731
    out = [None] * 8
    out[0] = d(t10 + t11, 2) if pass2 else (t10 + t11) * 4
    out[4] = d(t10 - t11, 2) if pass2 else (t10 - t11) * 4
    z1 = (t12 + t13) * 4433
    out[2] = d(z1 + t13 * 6270, sh)
    out[6] = d(z1 - t12 * 15137, sh)
    z1, z2, z3, z4 = t4 + t7, t5 + t6, t4 + t6, t5 + t7
    z5 = (z3 + z4) * 9633
    t4, t5, t6, t7 = t4 * 2446, t5 * 16819, t6 * 25172, t7 * 12299
    z1, z2 = z1 * -7373, z2 * -20995
    z3, z4 = z3 * -16069 + z5, z4 * -3196 + z5
    out[7], out[5] = d(t4 + z1 + z3, sh), d(t5 + z2 + z4, sh)
    out[3], out[1] = d(t6 + z2 + z3, sh), d(t7 + z1 + z4, sh)
    return np.stack(out)


def fdct_model(pixels):
    """(n, 8, 8) uint8 -> (n, 64) int32, jfdctint.c (output 8x the orthonormal DCT)."""
    x = pixels.astype(np.int64).transpose(2, 1, 0) - 128   # [col, row, n]
    rows = _fdct_1d(x, False)                              # [k (col freq), row, n]
    cols = _fdct_1d(rows.transpose(1, 0, 2), True)         # [k_row, k_col, n]
    return cols.transpose(2, 0, 1).reshape(-1, 64).astype(np.int32)


# ----------------------------------------------------------------------------- block level

def _random_blocks(rng, n, scale):
    """Laplacian-distributed coefficients with a few zeroed high bands, like real blocks."""
    b = np.round(rng.laplace(0, scale, size=(n, 64))).astype(np.int64)
    keep = rng.integers(1, 65, size=n)
    b[np.arange(64)[None, :] >= keep[:, None]] = 0
    return np.clip(b, -2 ** 31, 2 ** 31 - 1).astype(np.int32)


def test_idct_model_matches_scalar_kernel(hooks):
    rng = np.random.default_rng(1)
    blocks = np.concatenate([_random_blocks(rng, 3000, 40), _random_blocks(rng, 1000, 3000)])
    assert np.array_equal(hooks._idct_blocks(blocks, 0), idct_model(blocks))


@needs_avx2
@pytest.mark.parametrize("scale", [1, 30, 300, 3000, 30000, 3e6, 3e9])
def test_idct_avx2_equals_scalar_random(scale, hooks):
    rng = np.random.default_rng(int(scale) % 1000 + 7)
    blocks = _random_blocks(rng, 4000, scale)
    simd = hooks._idct_blocks(blocks, 2)
    assert np.array_equal(simd, hooks._idct_blocks(blocks, 0))
    assert np.array_equal(simd, idct_model(blocks))


@needs_avx2
def test_idct_avx2_equals_scalar_extreme(hooks):
    rng = np.random.default_rng(3)
    lim = [32767, 32768, 65535, 2 ** 20, 2 ** 31 - 1]
    blocks = []
    for v in lim:
        signs = rng.choice([-1, 1], size=(200, 64))
        blocks.append(np.clip(signs.astype(np.int64) * v, -2 ** 31, 2 ** 31 - 1))
        one = np.zeros((64, 64), np.int64)
        one[np.arange(64), np.arange(64)] = v          # one coefficient at every position
        blocks += [one, -one]
    dc = np.zeros((4001, 64), np.int64)
    dc[:, 0] = np.arange(-2000, 2001) * 17          # DC-only, across the range-limit wrap
    blocks.append(dc)
    blocks.append(np.array([[-2 ** 31] + [0] * 63, [2 ** 31 - 1] * 64, [-2 ** 31] * 64]))
    # the workspace bound: inputs that pass the first check but not the second
    edge = np.zeros((2, 64), np.int64)
    edge[0, ::1] = 32767
    edge[1, ::2] = -32767
    blocks.append(edge)
    blocks = np.concatenate(blocks).astype(np.int32)
    simd = hooks._idct_blocks(blocks, 2)
    assert np.array_equal(simd, hooks._idct_blocks(blocks, 0))
    assert np.array_equal(simd, idct_model(blocks))


@needs_avx2
def test_idct_avx2_on_real_coefficients(hooks):
    """Dequantized blocks of real files (as the decoder feeds the kernel)."""
    img = np.ascontiguousarray(skdata.astronaut())
    blocks = []
    for q in (10, 75, 100):
        data = fdjpeg.encode(img, quality=q)
        coefs = fdjpeg.read_coefficients(data)
        for c, tab in zip(coefs["coefficients"], coefs["tables"]):
            blocks.append(c.reshape(-1, 64).astype(np.int32) * np.asarray(tab, np.int32).reshape(64))
    blocks = np.concatenate(blocks)
    assert np.array_equal(hooks._idct_blocks(blocks, 2), hooks._idct_blocks(blocks, 0))


def test_fdct_model_matches_scalar_kernel(hooks):
    rng = np.random.default_rng(5)
    px = rng.integers(0, 256, size=(3000, 8, 8), dtype=np.uint8)
    assert np.array_equal(hooks._fdct_blocks(px, 0), fdct_model(px))


@needs_avx2
def test_fdct_avx2_equals_scalar(hooks):
    rng = np.random.default_rng(6)
    px = [rng.integers(0, 256, size=(4000, 8, 8), dtype=np.uint8),
          np.zeros((1, 8, 8), np.uint8), np.full((1, 8, 8), 255, np.uint8)]
    checker = (np.indices((8, 8)).sum(0) % 2 * 255).astype(np.uint8)
    px += [checker[None], (255 - checker)[None]]
    img = np.ascontiguousarray(skdata.camera())
    h, w = (img.shape[0] // 8) * 8, (img.shape[1] // 8) * 8
    px.append(img[:h, :w].reshape(h // 8, 8, w // 8, 8).transpose(0, 2, 1, 3).reshape(-1, 8, 8))
    px = np.concatenate(px)
    simd = hooks._fdct_blocks(px, 2)
    assert np.array_equal(simd, hooks._fdct_blocks(px, 0))
    assert np.array_equal(simd, fdct_model(px))


def quantize_model(dct, q):
    """jcdctmgr.c's quantizer: dct / (8 q) rounded half away from zero, in zigzag order."""
    d = 8 * q.reshape(64).astype(np.int64)
    x = dct.astype(np.int64)
    v = np.sign(x) * ((np.abs(x) + d // 2) // d)
    return v[:, ZIGZAG].astype(np.int16)


def test_quantizer_avx2_equals_scalar_and_model(hooks):
    rng = np.random.default_rng(9)
    # every ISLOW output range (|x| <= 8192 for 8-bit samples), the rounding ties, and
    # distinct values per position so a wrong zigzag lane cannot go unnoticed
    dct = [rng.integers(-8192, 8193, size=(3000, 64)),
           np.tile(np.arange(64) * 97 - 3000, (1, 1)), np.full((1, 64), 8192), np.full((1, 64), -8192),
           np.zeros((1, 64))]
    dct = np.concatenate(dct).astype(np.int32)
    tables = [np.ones(64), np.arange(1, 65), fdjpeg.tables.feature_distillation().reshape(64),
              np.full(64, 255), np.full(64, 8191), rng.integers(1, 65536, size=64)]
    levels = [0] + ([2] if hooks._simd_level() >= 2 else [])
    for q in tables:
        q = np.asarray(q, dtype=np.uint16)
        ties = (np.arange(64) % 7 - 3) * 8 * q.astype(np.int64) + 4 * q.astype(np.int64)  # x = (k + 1/2) 8q
        x = np.concatenate([dct, np.clip(ties, -2**31, 2**31 - 1)[None].astype(np.int32)])
        want = quantize_model(x, q)
        for level in levels:
            assert np.array_equal(hooks._quantize(x, q, level), want), (level, q[:4])


def downsample_model(a, b=None):
    """jcsample.c's h2v1 / h2v2 box downsampling: alternating bias 0,1 / 1,2 along the row."""
    a = a.astype(np.int32)
    x = np.arange(a.size // 2)
    if b is None:
        return ((a[0::2] + a[1::2] + (x & 1)) >> 1).astype(np.uint8)
    b = b.astype(np.int32)
    return ((a[0::2] + a[1::2] + b[0::2] + b[1::2] + 1 + (x & 1)) >> 2).astype(np.uint8)


@pytest.mark.parametrize("kind", ["h2v1", "h2v2"])
def test_downsample_avx2_equals_scalar_and_model(kind, hooks):
    rng = np.random.default_rng(5)
    rows = [rng.integers(0, 256, size=(2, 2 * n), dtype=np.uint8) for n in (1, 15, 16, 31, 32, 33, 47, 48, 49, 63, 64, 65, 112, 113, 200, 1000)]
    rows += [np.full((2, 128), 255, np.uint8), np.zeros((2, 128), np.uint8),
             np.tile(np.array([[255, 0], [0, 255]], np.uint8), (1, 64))]
    levels = [0] + ([2] if hooks._simd_level() >= 2 else [])
    for ab in rows:
        b = None if kind == "h2v1" else ab[1]
        want = downsample_model(ab[0], b)
        for level in levels:
            got, done = hooks._downsample_row(ab[0], b, level)
            assert np.array_equal(got, want), (kind, level, ab.shape)
            # the AVX2 kernel does whole 32-column steps and one of 16, the scalar reference
            # the rest
            assert done == (want.size // 16 * 16 if level == 2 else 0)


# zigzag position -> natural (row-major) index (T.81 Figure A.6)
ZIGZAG = np.array([0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48,
                   41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15,
                   23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63])


def _huff_test_blocks():
    """Zigzag blocks that reach every path of the sequential block coder: Laplacian blocks of
    every density, zero runs of 15/16/17/31/32/47/48 (ZRL codes) before the last position,
    all 64 nonzero, the largest magnitudes (AC size 10, DC difference size 11), dense -1/+1
    blocks whose codes are mostly 1-bits (0xFF bytes, stuffing)."""
    rng = np.random.default_rng(21)
    blocks = []
    for scale in (0.5, 2, 8, 60, 300):
        b = np.round(rng.laplace(0, scale, size=(400, 64)))
        keep = rng.integers(1, 65, size=400)
        b[np.arange(64)[None, :] >= keep[:, None]] = 0
        blocks.append(np.clip(b, -1023, 1023))
    for run in (15, 16, 17, 31, 32, 47, 48, 62):
        b = np.zeros((2, 64))
        b[:, 0] = (run * 37) % 500 - 250
        b[0, 1 + run] = 5          # run zeros between DC and this coefficient
        if 1 + run < 63:
            b[1, 63] = -3          # and a last coefficient at 63 after another run
        b[1, 1] = 1
        blocks.append(b)
    full = rng.choice([-1023, -512, -1, 1, 2, 700, 1023], size=(20, 64))
    blocks.append(full)
    dc = np.zeros((6, 64))
    dc[:, 0] = [1023, -1024, 1023, -1024, 0, 1023]   # DC differences of +-2047 (size 11)
    blocks.append(dc)
    ones = rng.choice([-1, 1], size=(40, 64))       # mostly 1-bit codes
    blocks.append(ones)
    return np.concatenate(blocks).astype(np.int16)


def _scan_as_jpeg(scan, nblocks):
    """A baseline grayscale JPEG (8 x 8*nblocks, quantizer 1, Annex K tables, from Pillow)
    whose entropy-coded segment is `scan`."""
    width = 8 * nblocks
    buf = io.BytesIO()
    Image.fromarray(np.zeros((8, width), np.uint8)).save(buf, "JPEG", quality=100)
    data = buf.getvalue()
    sos = data.index(b"\xff\xda")
    hdr_end = sos + 2 + int.from_bytes(data[sos + 2:sos + 4], "big")
    return data[:hdr_end] + scan + b"\xff\xd9"


def test_huffman_block_coder_bmi2_equals_scalar_and_jpeglib(hooks, tmp_path):
    jpeglib = pytest.importorskip("jpeglib")
    blocks = _huff_test_blocks()
    st, ref, msg = hooks._huff_blocks(blocks, 0)
    assert st == 0, msg
    assert b"\xff\x00" in ref                      # the stuffing path ran
    if hooks._simd_level() >= 2:
        assert hooks._huff_blocks(blocks, 2) == (st, ref, msg)
    # independent decoder: jpeglib (libjpeg) reads the scan back to the same coefficients
    path = tmp_path / "scan.jpg"
    path.write_bytes(_scan_as_jpeg(ref, len(blocks)))
    got = np.asarray(jpeglib.read_dct(str(path)).Y).reshape(len(blocks), 64)
    want = np.zeros_like(got)
    want[:, ZIGZAG] = blocks
    assert np.array_equal(got, want)


@pytest.mark.parametrize("bad", ["ac", "dc"])
def test_huffman_block_coder_range_errors_agree(bad, hooks):
    blocks = _huff_test_blocks()[:50].copy()
    if bad == "ac":
        blocks[30, 17] = -1024           # AC size 11: no code in 8-bit JPEG
    else:
        blocks[29, 0], blocks[30, 0] = -1024, 1024  # DC difference 2048: size 12
    results = [hooks._huff_blocks(blocks, lv) for lv in ([0, 2] if hooks._simd_level() >= 2 else [0])]
    st, _, msg = results[0]
    assert st != 0 and "out of range" in msg
    assert all((r[0], r[2]) == (st, msg) for r in results)


def rgb_ycc_model(rgb):
    """jccolor.c's RGB -> YCbCr in 16-bit fixed point (JFIF 1.02)."""
    r, g, b = (rgb[:, i].astype(np.int64) for i in range(3))
    y = (19595 * r + 38470 * g + 7471 * b + 32768) >> 16
    cb = (-11059 * r - 21709 * g + 32768 * b + (128 << 16) + 32767) >> 16
    cr = (32768 * r - 27439 * g - 5329 * b + (128 << 16) + 32767) >> 16
    return tuple(v.astype(np.uint8) for v in (y, cb, cr))


@needs_avx2
def test_rgb_ycc_avx2_equals_model(hooks):
    """Every RGB triple whose channels are 0, 1, 127, 128, 254, 255 or random, in rows whose
    widths hit the 16- and 8-pixel steps and their tails."""
    rng = np.random.default_rng(9)
    edge = np.array([0, 1, 127, 128, 254, 255])
    grid = np.stack(np.meshgrid(edge, edge, edge), -1).reshape(-1, 3)
    rows = [grid, rng.integers(0, 256, size=(4096, 3))]
    rows += [rng.integers(0, 256, size=(w, 3)) for w in (7, 8, 15, 16, 17, 23, 24, 31, 33)]
    for rgb in rows:
        rgb = rgb.astype(np.uint8)
        got = hooks._rgb_ycc_row(rgb, 2)
        assert got[0].size == rgb.shape[0] // 8 * 8
        want = rgb_ycc_model(rgb[:got[0].size])
        for a, b in zip(got, want):
            assert np.array_equal(a, b)


def ycc_rgb_model(y, cb, cr):
    """jdcolor.c's YCbCr -> RGB in 16-bit fixed point (JFIF 1.02), clamped to 0..255."""
    y, b, r = y.astype(np.int64), cb.astype(np.int64) - 128, cr.astype(np.int64) - 128
    rgb = np.stack([y + ((91881 * r + 32768) >> 16),
                    y + ((-22554 * b - 46802 * r + 32768) >> 16),
                    y + ((116130 * b + 32768) >> 16)], -1)
    return np.clip(rgb, 0, 255).astype(np.uint8)


@needs_avx2
def test_ycc_rgb_avx2_equals_model_exhaustively(hooks):
    """All 2^24 (Y, Cb, Cr) triples through the AVX2 row kernel (16-bit lanes) against the
    closed-form model and the scalar level, in rows of 65536 pixels; then rows whose widths
    leave tails of every length."""
    cb, cr = (v.ravel().astype(np.uint8) for v in np.meshgrid(np.arange(256), np.arange(256)))
    for yv in range(256):
        y = np.full(cb.size, yv, np.uint8)
        got = hooks._ycc_rgb_row(y, cb, cr, 2)
        assert np.array_equal(got, ycc_rgb_model(y, cb, cr)), yv
        if yv % 51 == 0:
            assert np.array_equal(got, hooks._ycc_rgb_row(y, cb, cr, 0)), yv
    rng = np.random.default_rng(11)
    for w in list(range(1, 40)) + [224, 225, 239]:
        y, cb, cr = rng.integers(0, 256, size=(3, w)).astype(np.uint8)
        assert np.array_equal(hooks._ycc_rgb_row(y, cb, cr, 2), ycc_rgb_model(y, cb, cr)), w


def test_level_hook_refuses_unavailable_level(hooks):
    with scalar_kernels():
        assert hooks._simd_level() == 0
        assert fdjpeg.build_info()["kernels"] == "scalar"
        with pytest.raises(ValueError):
            hooks._idct_blocks(np.zeros((1, 64), np.int32), 2)


def test_build_info_names_the_active_kernels(hooks):
    assert fdjpeg.build_info()["kernels"] == ("avx2" if hooks._simd_level() >= 2 else "scalar")


# ----------------------------------------------------------------------------- image level

def _images():
    rng = np.random.default_rng(11)
    astro = np.ascontiguousarray(skdata.astronaut())
    yield "astronaut", astro
    yield "chelsea", np.ascontiguousarray(skdata.chelsea())
    yield "coffee-odd", np.ascontiguousarray(skdata.coffee()[:123, :157])
    # widths around the 16-pixel SIMD steps and the fancy-upsampling edges
    for w in (1, 2, 3, 5, 15, 16, 17, 31, 33, 34, 47, 65):
        yield f"noise-w{w}", rng.integers(0, 256, size=(19, w, 3), dtype=np.uint8)
    yield "saturated", np.where(rng.random((40, 72, 3)) < 0.5, 0, 255).astype(np.uint8)


def _pil_jpeg(img, **kw):
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", **kw)
    return buf.getvalue()


@needs_avx2
@pytest.mark.parametrize("subsampling", [0, 1, 2])
@pytest.mark.parametrize("quality", [5, 90, 100])
def test_decode_simd_equals_scalar_and_pillow(subsampling, quality):
    for name, img in _images():
        data = _pil_jpeg(img, quality=quality, subsampling=subsampling)
        fast = fdjpeg.decode(data)
        with scalar_kernels():
            slow = fdjpeg.decode(data)
        assert np.array_equal(fast, slow), name
        assert np.array_equal(fast, np.asarray(Image.open(io.BytesIO(data)))), name


@needs_avx2
def test_decode_purify_simd_equals_scalar():
    fd = fdjpeg.tables.feature_distillation()
    for name, img in _images():
        data = _pil_jpeg(img, quality=95, subsampling=2)
        fast = fdjpeg.decode(data, purify=fd)
        with scalar_kernels():
            slow = fdjpeg.decode(data, purify=fd)
        assert np.array_equal(fast, slow), name


@needs_avx2
@pytest.mark.parametrize("subsampling", ["4:4:4", "4:2:2", "4:2:0"])
def test_encode_and_purify_simd_equal_scalar(subsampling):
    fd = fdjpeg.tables.feature_distillation()
    for name, img in _images():
        fast = fdjpeg.encode(img, fd, subsampling=subsampling)
        pfast = fdjpeg.purify(img, fd, subsampling=subsampling)
        with scalar_kernels():
            slow = fdjpeg.encode(img, fd, subsampling=subsampling)
            pslow = fdjpeg.purify(img, fd, subsampling=subsampling)
        assert fast == slow, name
        assert np.array_equal(pfast, pslow), name
        assert np.array_equal(pfast, fdjpeg.decode(fast)), name


@needs_avx2
def test_corpus_decode_simd_equals_scalar():
    folder = CORPUS / "imagenet-sample"
    if not folder.is_dir():
        pytest.skip(f"corpus not found at {folder}")
    for path in sorted(folder.iterdir())[:40]:
        data = path.read_bytes()
        fast = fdjpeg.decode(data)
        with scalar_kernels():
            slow = fdjpeg.decode(data)
        assert np.array_equal(fast, slow), path.name


# ----------------------------------------------------------------------------- fused kernels

def _requantize(v, t):
    """One-pass FD requantization: t * round(v / t), half away from zero (int64 numpy)."""
    q = (np.abs(v) + t // 2) // t
    return np.sign(v) * q * t


@needs_avx2
@pytest.mark.parametrize("kind", ["typical", "large", "hostile", "edge", "magic"])
def test_fused_dequantize_requantize_idct(kind, hooks):
    rng = np.random.default_rng({"typical": 21, "large": 22, "hostile": 23, "edge": 24, "magic": 25}[kind])
    n = 3000
    if kind == "typical":
        coef = np.round(rng.laplace(0, 6, size=(n, 64)))
        q = rng.integers(1, 100, size=64)
        tabs = [rng.integers(1, 80, size=64), np.full(64, 30)]
    elif kind == "large":
        coef = np.round(rng.laplace(0, 300, size=(n, 64)))
        q = rng.integers(1, 256, size=64)
        tabs = [rng.integers(1, 65536, size=64), np.full(64, 1)]
    elif kind == "magic":
        # |c*q| + t/2 < 2^15 everywhere: the multiply-shift division, with steps up to 40000
        coef = np.round(rng.laplace(0, 20, size=(n, 64)))
        q = rng.integers(1, 12, size=64)
        tabs = [rng.integers(1, 40000, size=64), rng.integers(1, 300, size=64), np.full(64, 3)]
    elif kind == "edge":
        # values around the limits the turbo check guards (int16 sums, DC row 8191, +-512 out)
        coef = rng.choice([-3000, -1025, -1024, -1, 0, 1, 1023, 1024, 4095, 8191], size=(n, 64))
        coef[rng.random((n, 64)) < 0.7] = 0
        q = rng.choice([1, 2, 3, 4, 8], size=64)
        tabs = [np.full(64, 7)]
    else:
        coef = rng.choice([-32768, -32767, -1, 0, 1, 32767], size=(n, 64))
        q = rng.choice([-32768, -1, 1, 255, 32767], size=64)   # the decoder's int16 multipliers
        tabs = [rng.integers(1, 65536, size=64), np.full(64, 65535), np.full(64, 2)]
    coef = np.clip(coef, -32768, 32767).astype(np.int16)
    v = coef.astype(np.int64) * q.astype(np.int64)
    plain = hooks._idct_blocks(v.astype(np.int32), 0)
    fused, accepted = hooks._idct_fused_blocks(coef, q)
    # accepted blocks: the exact result, which is also libjpeg-turbo's AVX2 result (Pillow)
    turbo = hooks._idct_turbo_emul_blocks(coef, q.astype(np.int64) & 0xFFFF)
    assert np.array_equal(fused[accepted], plain[accepted])
    assert np.array_equal(fused[accepted], turbo[accepted])
    if kind == "hostile":
        assert not accepted.any() or not accepted.all()  # the 16-bit limits are reached
    for t in tabs:
        ref = hooks._idct_blocks(_requantize(v, t.astype(np.int64)).astype(np.int32), 0)
        assert np.array_equal(hooks._idct_fused_blocks(coef, q, t), ref)


@needs_avx2
def test_fused_kernel_takes_every_block_of_real_files(hooks):
    """The libjpeg-turbo guard costs nothing on real data: every block of real files is
    accepted, and equals both the scalar IDCT and the libjpeg-turbo AVX2 model."""
    files = []
    if (CORPUS / "imagenet-sample").is_dir():
        files = [p.read_bytes() for p in sorted((CORPUS / "imagenet-sample").iterdir())[:15]]
    img = np.ascontiguousarray(skdata.astronaut())
    files += [_pil_jpeg(img, quality=q) for q in (1, 50, 100)]
    for data in files:
        r = fdjpeg.read_coefficients(data)
        for c, tab in zip(r["coefficients"], r["tables"]):
            coef = c.reshape(-1, 64)
            q = np.asarray(tab, np.int64).reshape(64)
            fused, accepted = hooks._idct_fused_blocks(coef, q.astype(np.int16).astype(np.int32))
            assert accepted.all()
            v = (coef.astype(np.int64) * q.astype(np.int16)).astype(np.int32)
            assert np.array_equal(fused, hooks._idct_blocks(v, 0))
            assert np.array_equal(fused, hooks._idct_turbo_emul_blocks(coef, q))


def test_requant_division_constants():
    """floor(n / t) == (n * magic) >> shift for n < 2^15 (the fused kernel's division):
    every n for t <= 256, edge values of n for every t up to 65535."""
    def consts(t):
        t = np.asarray(t, np.int64)
        l = np.ceil(np.log2(t)).astype(np.int64)
        l = np.where((1 << l) < t, l + 1, l)          # guard float rounding of log2
        l = np.where((l > 0) & ((1 << (l - 1)) >= t), l - 1, l)
        shift = 15 + l
        magic = ((1 << shift) + t - 1) // t
        return magic, shift
    n = np.arange(1 << 15, dtype=np.int64)
    for t in range(1, 257):
        m, sh = consts(t)
        assert np.array_equal((n * m) >> sh, n // t), t
        assert int(n[-1] * m) < 2 ** 31
    t = np.arange(1, 65536, dtype=np.int64)
    m, sh = consts(t)
    assert (m * 32767 < 2 ** 31).all()
    for nn in [0, 1, 32767] + [None]:
        vals = t - 1 if nn is None else np.full_like(t, nn)
        vals = np.minimum(vals, 32767)
        assert np.array_equal((vals * m) >> sh, vals // t)
    for k in (1, 2, 3):
        vals = np.minimum(k * t, 32767)
        assert np.array_equal((vals * m) >> sh, vals // t)
        vals = np.minimum(k * t - 1, 32767)
        assert np.array_equal((vals * m) >> sh, vals // t)


# ----------------------------------------------------------------------------- 16-bit IDCT

def _turbo_cases(kind, rng, n):
    """(coef int16 (n, 64), q uint16 (64,)) for the 16-bit kernel tests."""
    if kind == "typical":
        coef = np.round(rng.laplace(0, 8, size=(n, 64)))
        coef[rng.random((n, 64)) < 0.6] = 0
        q = rng.integers(1, 100, size=64)
    elif kind == "dc_only":
        coef = np.zeros((n, 64))
        coef[:, 0] = rng.integers(-2048, 2048, size=n)
        coef[rng.random(n) < 0.1, 0] = rng.choice([-32768, 32767, 8191, 8192, -8193])
        q = rng.integers(1, 256, size=64)
    elif kind == "rows_zero":
        # row 0 only in some blocks (the block-wide shortcut), DC rows past 8191 (it wraps)
        coef = np.round(rng.laplace(0, 500, size=(n, 64)))
        coef[rng.random(n) < 0.5, 8:] = 0
        q = rng.integers(1, 64, size=64)
    elif kind == "large":
        coef = np.round(rng.laplace(0, 600, size=(n, 64)))
        q = rng.integers(1, 256, size=64)
    elif kind == "edge":
        coef = rng.choice([-32768, -32767, -8193, -8192, -1, 0, 1, 8191, 8192, 16383, 32767], size=(n, 64))
        coef[rng.random((n, 64)) < 0.6] = 0
        q = rng.choice([1, 2, 4, 255, 32767, 32768, 65535], size=64)
    else:  # hostile: anything, wrapping multiplies included
        coef = rng.integers(-32768, 32768, size=(n, 64))
        coef[rng.random((n, 64)) < 0.3] = 0
        q = rng.integers(0, 65536, size=64)
    return np.clip(coef, -32768, 32767).astype(np.int16), q.astype(np.uint16)


@needs_avx2
@pytest.mark.parametrize("kind", ["typical", "dc_only", "rows_zero", "large", "edge", "hostile"])
def test_idct_turbo_row_equals_emulation(kind, hooks):
    """The 16-bit AVX2 row kernel computes libjpeg-turbo's AVX2 arithmetic: equal to the scalar
    emulation (dec_idct_emul.c) on every block, hostile ones included, for odd and even rows,
    and equal to the exact ISLOW IDCT wherever the fused kernel's range checks accept a block."""
    rng = np.random.default_rng({"typical": 31, "dc_only": 32, "rows_zero": 33, "large": 34,
                                 "edge": 35, "hostile": 36}[kind])
    for n in (1, 2, 3, 40, 2001):
        coef, q = _turbo_cases(kind, rng, n)
        ref = hooks._idct_turbo_row(coef, q, 0)
        got = hooks._idct_turbo_row(coef, q, 2)
        bad = np.nonzero((got != ref).reshape(n, -1).any(axis=1))[0]
        assert bad.size == 0, (kind, n, bad[:5], coef[bad[:1]].tolist(), q.tolist())
        fused, accepted = hooks._idct_fused_blocks(coef, q.astype(np.int16).astype(np.int32))
        assert np.array_equal(got[accepted], fused[accepted])
    if kind in ("edge", "hostile"):
        v = coef.astype(np.int64) * q.astype(np.int16)
        exact = hooks._idct_blocks(np.clip(v, -2**31, 2**31 - 1).astype(np.int32), 0)
        assert not np.array_equal(got, exact)  # the 16-bit limits were reached


@needs_avx2
def test_idct_turbo_row_on_real_coefficients(hooks):
    """Real files: the row kernel equals the exact ISLOW IDCT and the emulation on every block."""
    files = []
    if (CORPUS / "imagenet-sample").is_dir():
        files = [p.read_bytes() for p in sorted((CORPUS / "imagenet-sample").iterdir())[:10]]
    img = np.ascontiguousarray(skdata.astronaut())
    files += [_pil_jpeg(img, quality=q) for q in (1, 50, 100)]
    for data in files:
        r = fdjpeg.read_coefficients(data)
        for c, tab in zip(r["coefficients"], r["tables"]):
            coef = c.reshape(-1, 64)
            q = np.asarray(tab, np.int64).reshape(64)
            got = hooks._idct_turbo_row(coef, q, 2)
            v = (coef.astype(np.int64) * q.astype(np.int16)).astype(np.int32)
            assert np.array_equal(got, hooks._idct_blocks(v, 0))
            assert np.array_equal(got, hooks._idct_turbo_row(coef, q, 0))


@needs_avx2
@pytest.mark.parametrize("kind", ["purify", "bound", "large", "extreme"])
def test_idct2_exact_where_taken(kind, hooks):
    """The two-block 16-bit IDCT equals the scalar ISLOW IDCT (libjpeg's C arithmetic, with its
    "& 1023" wrap) on every block, taking exactly the blocks with |dc| + 2 sum|ac| <= 4080 and
    leaving the others to the scalar kernel."""
    rng = np.random.default_rng({"purify": 41, "bound": 42, "large": 43, "extreme": 44}[kind])
    n = 4001
    if kind == "purify":
        # what purify feeds it: dequantized FDCT output of real pixels
        img = np.ascontiguousarray(skdata.astronaut()[:, :, 0]).astype(np.int64)
        blocks = img[:504, :504].reshape(63, 8, 63, 8).swapaxes(1, 2).reshape(-1, 64)
        ws = hooks._fdct_blocks(blocks.astype(np.uint8), 0).astype(np.int64)
        t = rng.integers(1, 60, size=64)
        v = np.sign(ws) * ((np.abs(ws) + 4 * t) // (8 * t)) * t
    elif kind == "bound":
        # around the bound: scaled so that |dc| + 2 sum|ac| lands near 4080
        v = rng.laplace(0, 1, size=(n, 64))
        w = np.abs(v).sum(axis=1) * 2 - np.abs(v[:, 0])
        v = np.round(v * (rng.uniform(3900, 4300, size=n) / w)[:, None]).astype(np.int64)
    elif kind == "large":
        v = np.round(rng.laplace(0, 200, size=(n, 64))).astype(np.int64)
        v[rng.random((n, 64)) < 0.5] = 0
    else:
        v = rng.choice([-2**31, -40000, -32768, -4080, -2040, 0, 2040, 4080, 32767, 40000, 2**31 - 1],
                       size=(n, 64)).astype(np.int64)
        v[rng.random((n, 64)) < 0.9] = 0
    v = v.astype(np.int32)
    got, taken = hooks._idct2_blocks(v, 2)
    assert np.array_equal(got, hooks._idct_blocks(v, 0))
    a = np.abs(v.astype(np.int64))
    assert np.array_equal(taken, a[:, 0] + 2 * a[:, 1:].sum(axis=1) <= 4080)
    if kind in ("purify", "bound"):
        assert taken.any()


@needs_avx2
@pytest.mark.parametrize("kind", ["typical", "large", "hostile", "edge", "magic", "real"])
def test_requantize_idct_row_kernel(kind, hooks):
    """The decoder's one-pass FD row kernel (requantization and IDCT in 16-bit lanes, the
    one-block kernels for what they cannot take) equals the scalar reference (requantize, then
    the scalar ISLOW IDCT) on every block, for odd and even rows."""
    rng = np.random.default_rng({"typical": 51, "large": 52, "hostile": 53, "edge": 54,
                                 "magic": 55, "real": 56}[kind])
    n = 2001
    if kind == "real":
        data = _pil_jpeg(np.ascontiguousarray(skdata.astronaut()), quality=90)
        r = fdjpeg.read_coefficients(data)
        coef = r["coefficients"][0].reshape(-1, 64)
        q = np.asarray(r["tables"][0], np.int64).reshape(64)
        tabs = [np.asarray(fdjpeg.tables.paper_released(), np.int64).reshape(-1)[:64], np.full(64, 3)]
    elif kind == "typical":
        coef = np.round(rng.laplace(0, 6, size=(n, 64)))
        q = rng.integers(1, 100, size=64)
        tabs = [rng.integers(1, 80, size=64), np.full(64, 30), np.full(64, 1), np.full(64, 2), rng.integers(1, 4, size=64)]
    elif kind == "large":
        coef = np.round(rng.laplace(0, 300, size=(n, 64)))
        q = rng.integers(1, 256, size=64)
        tabs = [rng.integers(1, 65536, size=64), np.full(64, 1), np.full(64, 2)]
    elif kind == "magic":
        coef = np.round(rng.laplace(0, 20, size=(n, 64)))
        q = rng.integers(1, 12, size=64)
        tabs = [rng.integers(1, 40000, size=64), rng.integers(1, 300, size=64)]
    elif kind == "edge":
        coef = rng.choice([-3000, -1025, -1024, -1, 0, 1, 1023, 1024, 4095, 8191], size=(n, 64))
        coef[rng.random((n, 64)) < 0.8] = 0
        q = rng.choice([1, 2, 3, 4, 8], size=64)
        tabs = [np.full(64, 7), rng.integers(1, 20, size=64)]
    else:
        coef = rng.choice([-32768, -32767, -1, 0, 1, 32767], size=(n, 64))
        q = rng.choice([-32768, -1, 1, 255, 32767], size=64)
        tabs = [rng.integers(1, 65536, size=64), np.full(64, 65535), np.full(64, 2)]
    coef = np.clip(coef, -32768, 32767).astype(np.int16)
    q = q.astype(np.int16).astype(np.int32)          # the decoder's int16 multipliers
    v = coef.astype(np.int64) * q.astype(np.int64)
    for t in tabs:
        ref = hooks._idct_blocks(_requantize(v, t.astype(np.int64)).astype(np.int32), 0)
        for m in (len(coef), len(coef) - 1):
            assert np.array_equal(hooks._idct_rq_row(coef[:m], q, t), ref[:m]), (kind, m)


def test_requant_division_constants_16bit():
    """The 16-bit form of the fused kernel's division (fdj_requant_table's v16 fields):
    x = (n * magic) >> 16, then (x * post) >> 16 | x (t = 2) | n (t = 1) equals floor(n / t)
    for every n < 2^15 and t <= 300, and edge values of n for every t up to 65535."""
    def quot(n, t):
        l = np.zeros_like(t)
        while ((1 << l) < t).any():
            l = np.where((1 << l) < t, l + 1, l)
        shift = 15 + l
        magic = ((1 << shift) + t - 1) // t
        m16 = np.where(t >= 3, magic, np.where(t == 2, 0x8000, 0))
        post = np.where(t >= 3, 1 << np.maximum(32 - shift, 0), 0)
        assert (m16 < 1 << 16).all() and (post < 1 << 16).all()
        x = (n * m16) >> 16
        return np.where(t == 1, n, np.where(t == 2, x, (x * post) >> 16))
    n = np.arange(1 << 15, dtype=np.int64)
    for t in range(1, 301):
        assert np.array_equal(quot(n, np.full_like(n, t)), n // t), t
    t = np.arange(1, 65536, dtype=np.int64)
    for nn in (0, 1, 2, 3, 32766, 32767):
        assert np.array_equal(quot(np.full_like(t, nn), t), nn // t)
    for k in (1, 2, 3):
        vals = np.minimum(k * t - 1, 32767)
        assert np.array_equal(quot(vals, t), vals // t)
        vals = np.minimum(k * t, 32767)
        assert np.array_equal(quot(vals, t), vals // t)



@needs_avx2
@pytest.mark.parametrize("kind", ["photo", "noise", "edges", "flat"])
def test_fused_purify_blocks_equal_scalar(kind, hooks):
    """purify's fused two-block kernel (FDCT, quantize/dequantize, IDCT in 16-bit lanes) equals
    the scalar FDCT -> quantize/dequantize -> IDCT on every block, for tables it takes (every
    entry <= 4080) and tables it must leave to the separate kernels."""
    rng = np.random.default_rng({"photo": 61, "noise": 62, "edges": 63, "flat": 64}[kind])
    if kind == "photo":
        img = np.ascontiguousarray(skdata.astronaut())
        blocks = img[:256, :256].transpose(2, 0, 1).reshape(3, 32, 8, 32, 8).swapaxes(2, 3).reshape(-1, 8, 8)
    elif kind == "noise":
        blocks = rng.integers(0, 256, size=(3001, 8, 8))
    elif kind == "edges":
        blocks = rng.choice([0, 255], size=(3001, 8, 8))
        blocks[::3] = np.where(np.arange(8)[None, None, :] < rng.integers(0, 9, size=(1001, 1, 1)), 0, 255)
    else:
        blocks = np.broadcast_to(rng.integers(0, 256, size=(3001, 1, 1)), (3001, 8, 8)).copy()
        blocks[1::2, rng.integers(0, 8), rng.integers(0, 8)] ^= 1
    blocks = blocks.astype(np.uint8)
    paper = np.asarray(fdjpeg.tables.paper_released(), np.int64).reshape(64)
    tables = [paper, np.full(64, 1), np.full(64, 2), rng.integers(1, 256, size=64), np.full(64, 4080),
              np.full(64, 4081), rng.integers(1, 65536, size=64)]
    for t in tables:
        ref, _ = hooks._purify_blocks(blocks, t, 0)
        got, taken = hooks._purify_blocks(blocks, t, 2)
        assert np.array_equal(got, ref), (kind, t[:4])
        if t.max() > 4080:
            assert not taken.any()
        elif kind in ("photo", "flat"):
            assert taken.mean() > 0.9, taken.mean()


@needs_avx2
@pytest.mark.parametrize("kind", ["photo", "noise", "edges", "flat", "extremes"])
def test_purify_tile_kernel_equals_scalar_chain(kind, hooks):
    """purify's 4:4:4 tile kernel (RGB -> YCbCr -> FDCT -> quantize/dequantize -> IDCT ->
    RGB for 16x8 pixels in registers) equals the scalar chain (jccolor's formulas,
    fdj_fdct_islow, the scalar quantizer, fdj_idct_islow, jdcolor's formulas) on every tile
    it takes, and takes nearly every tile of a photo; the tiles it refuses are the ones
    with a block outside the 16-bit IDCT's bound."""
    rng = np.random.default_rng({"photo": 71, "noise": 72, "edges": 73, "flat": 74, "extremes": 75}[kind])
    if kind == "photo":
        img = np.ascontiguousarray(skdata.astronaut())
        tiles = img[:512, :512].reshape(64, 8, 32, 16, 3).swapaxes(1, 2).reshape(-1, 8, 16, 3)
    elif kind == "noise":
        tiles = rng.integers(0, 256, size=(1501, 8, 16, 3))
    elif kind == "edges":
        tiles = rng.choice([0, 255], size=(1501, 8, 16, 3))
    elif kind == "flat":
        tiles = np.broadcast_to(rng.integers(0, 256, size=(1501, 1, 1, 3)), (1501, 8, 16, 3)).copy()
        tiles[1::2, rng.integers(0, 8), rng.integers(0, 16)] ^= 1
    else:   # the colour extremes: every corner of the RGB cube, in every position
        corners = np.array([[r, g, b] for r in (0, 255) for g in (0, 255) for b in (0, 255)])
        tiles = corners[rng.integers(0, 8, size=(1501, 8, 16))]
    tiles = tiles.astype(np.uint8)
    paper = np.asarray(fdjpeg.tables.paper_released(), np.int64).reshape(64)
    tables = [paper, np.full(64, 1), np.full(64, 2), rng.integers(1, 256, size=64),
              np.full(64, 4080), np.full(64, 4081)]
    for t in tables:
        ref, _ = hooks._purify_tiles(tiles, t, 0)
        got, taken = hooks._purify_tiles(tiles, t, 2)
        assert np.array_equal(got, ref), (kind, t[:4])
        if t.max() > 4080:
            assert not taken.any()
        elif kind == "photo":
            assert taken.mean() > 0.95, taken.mean()
    if kind in ("noise", "edges"):
        _, taken = hooks._purify_tiles(tiles, np.full(64, 1), 2)
        assert not taken.all()      # the refusal is exercised


def zero_pattern_tiles(table, n, seed):
    """(n, 8, 16, 3) uint8 tiles whose blocks quantize (with table, every component) to
    chosen zero patterns: per block and channel, a few DCT bands with rows <= rmax and
    columns <= cmax (rmax, cmax drawn, mostly <= 3) at amplitudes within 15% of the
    quantizer's zero threshold |x| = 4T (x the ISLOW output, 8 times the orthonormal
    DCT), so each lands on either side; the rest of the block is flat."""
    from scipy.fft import idctn
    rng = np.random.default_rng(seed)
    t = np.asarray(table, np.float64).reshape(8, 8)
    lims = [0, 0, 1, 1, 2, 3, 3, 4, 5, 7]
    tiles = np.empty((n, 8, 16, 3))
    for i in range(n):
        for c in range(3):
            for b in range(2):
                f = np.zeros((8, 8))
                rmax, cmax = rng.choice(lims), rng.choice(lims)
                for _ in range(rng.integers(0, 4)):
                    u, v = rng.integers(0, rmax + 1), rng.integers(0, cmax + 1)
                    if u or v:
                        f[u, v] = rng.choice([-1, 1]) * t[u, v] / 2 * rng.uniform(0.85, 1.15)
                tiles[i, :, 8 * b:8 * b + 8, c] = rng.integers(40, 216) + idctn(f, norm="ortho")
    return np.clip(np.rint(tiles), 0, 255).astype(np.uint8)


@needs_avx2
def test_purify_tile_kernel_zero_patterns_equal_scalar_chain(hooks):
    """The tile kernel's zero-pattern shortcuts (DC-only pairs found before quantizing, pass
    1 without rows 4..7, transpose and pass 2 without columns 4..7) equal the scalar chain
    on tiles whose coefficients sit just below and just above the zero threshold 4T, for
    the default FD table, the paper's, T = 1, a table with huge high bands, random ones;
    and the kernel takes (does not refuse) nearly all of them."""
    rng = np.random.default_rng(81)
    huge = np.full((8, 8), 4080)
    huge[:2, :2] = 3
    tables = [np.asarray(fdjpeg.tables.default_fd()), np.asarray(fdjpeg.tables.paper_released()),
              np.ones((8, 8), int), huge, rng.integers(1, 64, (8, 8)), rng.integers(1, 400, (8, 8))]
    for k, t in enumerate(tables):
        tiles = zero_pattern_tiles(t, 1200, 90 + k)
        ref, _ = hooks._purify_tiles(tiles, t.reshape(64), 0)
        got, taken = hooks._purify_tiles(tiles, t.reshape(64), 2)
        assert np.array_equal(got, ref), k
        if k != 2:   # T = 1 refuses busy tiles (the 16-bit IDCT's bound)
            assert taken.mean() > 0.9, (k, taken.mean())


@needs_avx2
def test_purifier_takes_the_kernels_of_the_level_at_the_call():
    """A kept purifier (fdjpeg.Purifier, and purify's) is made per SIMD level: under
    FDJPEG_SIMD=0 the scalar references run, and give the same pixels."""
    img = np.ascontiguousarray(skdata.astronaut()[:123, :157])
    t = fdjpeg.tables.paper_released()
    pf = fdjpeg.Purifier(t)
    fast = pf(img)
    with scalar_kernels():
        slow = pf(img)
        pslow = fdjpeg.purify(img, t)
    assert len(pf._plans) == 2
    assert np.array_equal(fast, slow) and np.array_equal(fast, pslow)


def test_purify_quantizer_16bit_equals_float():
    """purify's fused kernel quantizes in 16-bit lanes: floor((|x| + 4T) / 8T) by the
    multiply-high constants of fdj_purify_consts_init.  That equals the encoder's float
    quantizer (trunc((|x| + (4T + 0.5)) * (1 / 8T)) in float32, enc_fdct.c) for every |x| < 2^14
    (the FDCT of 8-bit samples stays within 8192) and every T the kernel takes (1..4080)."""
    a = np.arange(1 << 14, dtype=np.int64)
    af = a.astype(np.float32)
    for t in range(1, 4081):
        bias = np.float32(4 * t) + np.float32(0.5)
        inv = np.float32(1.0) / np.float32(8 * t)
        flt = np.trunc((af + bias) * inv).astype(np.int64)
        d = 8 * t
        l = int(d - 1).bit_length()            # ceil(log2 d)
        shift = 15 + l
        magic = ((1 << shift) + d - 1) // d
        post = 1 << (32 - shift)
        assert magic < 1 << 16 and post < 1 << 16
        n = a + 4 * t
        assert n[-1] < 1 << 15
        q16 = (((n * magic) >> 16) * post) >> 16
        assert np.array_equal(q16, flt), t
