"""The one-pass FD row kernel after the Huffman decoder's requantization
(fdj_idct_islow_pre_row_avx2, csrc/dec_idct16_simd.c): IDCT of int16 rows of requantized
values.  Its scalar reference (dec_dequant.c pre_row, each block as int32 through
fdj_idct_islow) against the numpy model of jidctint.c (64-bit, "& 1023" range limit), and the
AVX2 kernel against the scalar reference on blocks inside its 16-bit bound (|dc| + 2 sum|ac| <=
4080), outside it (the 32-bit fallback), DC-only and rows-zero blocks, rows of 1, 2, 3, 7 and 40
blocks (pairs and the odd tail, both blocks of a pair on either side of the bound).  Hook:
fdj_hook_idct_pre_row (csrc/tests/simd_hooks.c)."""
import ctypes

import numpy as np
import pytest

from test_simd import hooks, idct_model, needs_avx2  # noqa: F401 (fixture)


def _pre_row(hooks, blocks, level):
    lib = hooks.lib
    lib.fdj_hook_idct_pre_row.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                                          ctypes.c_void_p]
    x = np.ascontiguousarray(blocks, dtype=np.int16).reshape(-1, 64)
    n = x.shape[0]
    out = np.zeros((8, 8 * n), dtype=np.uint8)
    assert lib.fdj_hook_idct_pre_row(hooks._ptr(x), n, level, hooks._ptr(out)) == 0
    return out.reshape(8, n, 8).transpose(1, 0, 2)


def _blocks(kind, rng, n):
    b = np.zeros((n, 64), np.int64)
    if kind == "small":      # inside the 16-bit bound
        m = rng.random((n, 64)) < 0.2
        b[m] = rng.integers(-60, 61, m.sum())
        b[:, 0] = rng.integers(-1000, 1001, n)
    elif kind == "large":    # outside it: the 32-bit kernel
        b = rng.integers(-32768, 32768, (n, 64))
    elif kind == "dc":
        b[:, 0] = rng.integers(-32768, 32768, n)
    elif kind == "rows_zero":
        b[:, :8] = rng.integers(-2000, 2001, (n, 8))
    elif kind == "mixed":    # alternate blocks on both sides of the bound
        b[:, 0] = rng.integers(-1000, 1001, n)
        b[::2, 1:] = rng.integers(-3, 4, (len(b[::2]), 63))
        b[1::2, 1:] = rng.integers(-3000, 3001, (len(b[1::2]), 63))
    elif kind == "edge":
        b[:, :] = rng.choice([-32768, 32767, 0, 4080, -4080, 2040, -2040], (n, 64))
    return b.astype(np.int16)


KINDS = ["small", "large", "dc", "rows_zero", "mixed", "edge"]


@pytest.mark.parametrize("kind", KINDS)
def test_pre_row_scalar_reference_equals_model(kind, hooks):
    rng = np.random.default_rng(len(kind))
    b = _blocks(kind, rng, 40)
    np.testing.assert_array_equal(_pre_row(hooks, b, 0), idct_model(b.astype(np.int32)))


@needs_avx2
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", [1, 2, 3, 7, 40])
def test_pre_row_avx2_equals_scalar(kind, n, hooks):
    rng = np.random.default_rng(100 * n + len(kind))
    b = _blocks(kind, rng, n)
    np.testing.assert_array_equal(_pre_row(hooks, b, 2), _pre_row(hooks, b, 0))
