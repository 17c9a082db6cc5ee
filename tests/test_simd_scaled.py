"""The scaled-decode kernels (csrc/dec_idct_scaled_simd.c) against their scalar references.

decode(scale=2/4/8) runs jidctred.c's reduced 4x4 / 2x2 / 1x1 IDCTs (csrc/dec_idct.c) on
dequantized blocks.  The AVX2 siblings fuse the dequantization and compute in 32-bit lanes;
they must give the scalar reference's pixels for every block they accept, refuse (for the
scalar code) the blocks whose values leave their exact range, and accept every block of real
files.  The scalar references themselves are checked against an independent numpy model of
jidctred.c's 64-bit arithmetic.  Image level: decode(scale=...) with FDJPEG_SIMD=0 gives the
default kernels' bytes; Pillow's draft() parity is tested in test_pillow.py/test_decode.py.

The block-level hook (fdj_hook_idct_reduced_blocks) is in csrc/tests/simd_hooks.c, built by
test_simd.py's `hooks` fixture.
"""
import ctypes
import pathlib

import numpy as np
import pytest

import fdjpeg
from test_simd import CORPUS, hooks, needs_avx2, scalar_kernels  # noqa: F401 (fixture)

skdata = pytest.importorskip("skimage.data")


def _reduced(hooks, coef, q, bs, level):
    """(pixels (n, bs, bs) uint8, accepted (n,) bool) of the hook at `level`."""
    lib = hooks.lib
    p, n = ctypes.c_void_p, ctypes.c_size_t
    lib.fdj_hook_idct_reduced_blocks.argtypes = [p, n, p, ctypes.c_int, ctypes.c_int, p, p]
    c = np.ascontiguousarray(coef, dtype=np.int16).reshape(-1, 64)
    qa = np.ascontiguousarray(q, dtype=np.int32).reshape(64)
    dst = np.zeros((c.shape[0], bs, bs), dtype=np.uint8)
    acc = np.zeros(c.shape[0], dtype=np.uint8)
    st = lib.fdj_hook_idct_reduced_blocks(hooks._ptr(c), c.shape[0], hooks._ptr(qa), bs, level,
                                          hooks._ptr(dst), hooks._ptr(acc))
    if st != 0:
        raise ValueError(f"no reduced IDCT at level {level} ({st})")
    return dst, acc.astype(bool)


def _wrap32(x):
    return ((x + 2 ** 31) % 2 ** 32) - 2 ** 31


def _red_1d(x, bs, shift):
    """One jidctred.c pass (bs = 4 or 2 outputs) over axis 0 of int64 x[0..7]."""
    r = 1 << (shift - 1)
    if bs == 4:
        t0 = x[0] * 2 ** 14
        t2 = x[2] * 15137 - x[6] * 6270
        t10, t12 = t0 + t2, t0 - t2
        z1, z2, z3, z4 = x[7], x[5], x[3], x[1]
        o0 = z1 * -1730 + z2 * 11893 + z3 * -17799 + z4 * 8697
        o2 = z1 * -4176 + z2 * -4926 + z3 * 7373 + z4 * 20995
        out = [t10 + o2, t12 + o0, t12 - o0, t10 - o2]
    else:
        t10 = x[0] * 2 ** 15
        o = x[7] * -5906 + x[5] * 6967 + x[3] * -10426 + x[1] * 29692
        out = [t10 + o, t10 - o]
    return np.stack([(v + r) >> shift for v in out])


def reduced_model(coef, q, bs):
    """(n, 64) int16 blocks times table q -> (n, bs, bs) uint8: jidctred.c with 64-bit
    intermediates, an int workspace and libjpeg's "& 1023" range-limit table."""
    x = (coef.astype(np.int64) * np.asarray(q, np.int64).reshape(64)).reshape(-1, 8, 8)
    x = x.transpose(1, 2, 0)                                     # [row, col, n]
    extra = 1 if bs == 4 else 2
    ws = _wrap32(_red_1d(x, bs, 13 - 2 + extra))                 # [row_out, col, n]
    out = _red_1d(ws.transpose(1, 0, 2), bs, 13 + 2 + 3 + extra)  # [col_out, row_out, n]
    v = out.transpose(1, 0, 2) & 1023                            # [row, col, n]
    s = np.where(v >= 512, v - 1024, v) + 128
    return np.clip(s, 0, 255).astype(np.uint8).transpose(2, 0, 1)


def _random_blocks(rng, n, scale):
    b = np.round(rng.laplace(0, scale, size=(n, 64)))
    keep = rng.integers(1, 65, size=n)
    b[np.arange(64)[None, :] >= keep[:, None]] = 0
    return np.clip(b, -32768, 32767).astype(np.int16)


def _tables(rng):
    return [np.ones(64, np.int32), rng.integers(1, 256, 64).astype(np.int32),
            rng.integers(1, 65536, 64).astype(np.int32).astype(np.int16).astype(np.int32)]


@pytest.mark.parametrize("bs", [4, 2])
def test_reduced_model_matches_scalar_reference(bs, hooks):
    rng = np.random.default_rng(11 + bs)
    for q in _tables(rng):
        for scale in (3, 40, 3000):
            coef = _random_blocks(rng, 1500, scale)
            ref, _ = _reduced(hooks, coef, q, bs, 0)
            assert np.array_equal(ref, reduced_model(coef, q, bs))


@needs_avx2
@pytest.mark.parametrize("bs", [4, 2])
@pytest.mark.parametrize("scale", [1, 30, 300, 3000, 30000])
def test_reduced_avx2_equals_scalar_random(bs, scale, hooks):
    rng = np.random.default_rng(int(scale) + bs)
    for q in _tables(rng):
        coef = _random_blocks(rng, 3000, scale)
        ref, _ = _reduced(hooks, coef, q, bs, 0)
        simd, acc = _reduced(hooks, coef, q, bs, 2)
        assert np.array_equal(simd[acc], ref[acc])
        assert not simd[~acc].any()                     # refused: nothing written
        if scale <= 300 and q.max() == 1:
            assert acc.all()                            # small values: always accepted


@needs_avx2
@pytest.mark.parametrize("bs", [4, 2])
def test_reduced_avx2_extreme_blocks_refused_or_exact(bs, hooks):
    """Values at and beyond the 32-bit bound: accepted blocks exact, large ones refused."""
    rng = np.random.default_rng(5)
    blocks, q = [], np.full(64, 32767, np.int32)
    for v in (1, 100, 800, 820, 1000, 32767):
        signs = rng.choice([-1, 1], size=(300, 64))
        blocks.append(signs * v)
        one = np.zeros((64, 64), np.int64)
        one[np.arange(64), np.arange(64)] = v           # one coefficient at every position
        blocks += [one, -one]
    dc = np.zeros((4001, 64), np.int64)
    dc[:, 0] = np.arange(-2000, 2001)                   # DC only, across the range-limit wrap
    blocks.append(dc)
    coef = np.concatenate(blocks).astype(np.int16)
    for qq in (q, np.ones(64, np.int32) * 17, -q):
        ref, _ = _reduced(hooks, coef, qq, bs, 0)
        assert np.array_equal(ref, reduced_model(coef, qq, bs))
        simd, acc = _reduced(hooks, coef, qq, bs, 2)
        assert np.array_equal(simd[acc], ref[acc])
        assert acc.any() and not acc.all()              # both sides of the bound are exercised
    full = np.full((1, 64), 32767, np.int16)
    assert not _reduced(hooks, full, q, bs, 2)[1][0]


@needs_avx2
@pytest.mark.parametrize("bs", [4, 2])
def test_reduced_avx2_on_real_coefficients(bs, hooks):
    """Real files' blocks, as the decoder feeds the kernels: all accepted, all exact."""
    img = np.ascontiguousarray(skdata.astronaut())
    for quality in (10, 75, 100):
        coefs = fdjpeg.read_coefficients(fdjpeg.encode(img, quality=quality))
        for c, tab in zip(coefs["coefficients"], coefs["tables"]):
            blocks = c.reshape(-1, 64)
            q = np.asarray(tab, np.int32).reshape(64)
            ref, _ = _reduced(hooks, blocks, q, bs, 0)
            simd, acc = _reduced(hooks, blocks, q, bs, 2)
            assert acc.all()
            assert np.array_equal(simd, ref)


def _corpus_files(k):
    files = sorted((CORPUS / "imagenet-sample").glob("*.JPEG"))
    if not files:
        pytest.skip(f"the corpus is not at {CORPUS}")
    return files[:k]


@pytest.mark.parametrize("scale", [2, 4, 8])
def test_scaled_decode_scalar_equals_default_kernels(scale):
    """FDJPEG_SIMD=0 (scalar references everywhere) gives the default kernels' bytes."""
    img = np.ascontiguousarray(skdata.astronaut())
    datas = [fdjpeg.encode(img, quality=q, subsampling=s) for q, s in ((90, "4:4:4"), (75, "4:2:0"))]
    datas += [p.read_bytes() for p in _corpus_files(20)]
    fast = [fdjpeg.decode(d, scale=scale) for d in datas]
    with scalar_kernels():
        slow = [fdjpeg.decode(d, scale=scale) for d in datas]
    for a, b in zip(fast, slow):
        assert np.array_equal(a, b)
