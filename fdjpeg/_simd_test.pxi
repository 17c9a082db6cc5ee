# Test hooks for the SIMD kernels (tests/test_simd.py, bench/): run the kernel
# that a SIMD level selects on raw blocks, so the AVX2 siblings can be checked
# bit for bit against the scalar references on any input, hostile ones included.
from libc.stdint cimport int32_t

cdef extern from "fdj_simd.h" nogil:
    ctypedef void (*fdj_idct_fn)(const int32_t *inp, uint8_t *out, ptrdiff_t stride)
    ctypedef void (*fdj_fdct_fn)(const uint8_t *inp, ptrdiff_t stride, int32_t *out)
    int fdj_simd_level()
    fdj_idct_fn fdj_idct_islow_for(int level)
    fdj_fdct_fn fdj_fdct_islow_for(int level)


def _simd_level():
    """Active SIMD level: 0 scalar, 2 AVX2 (FDJPEG_SIMD=0 forces 0)."""
    return fdj_simd_level()


def _idct_blocks(coef, int level):
    """ISLOW IDCT of (n, 64) dequantized blocks (int32, natural order) with the
    kernel of `level` (0 = scalar reference); returns (n, 8, 8) uint8."""
    cdef cnp.ndarray src = np.ascontiguousarray(coef, dtype=np.int32).reshape(-1, 64)
    cdef Py_ssize_t n = src.shape[0], i
    cdef cnp.ndarray dst = np.empty((n, 8, 8), dtype=np.uint8)
    cdef const int32_t *s = <const int32_t *>cnp.PyArray_DATA(src)
    cdef uint8_t *o = <uint8_t *>cnp.PyArray_DATA(dst)
    cdef fdj_idct_fn fn
    if level > fdj_simd_level():
        raise ValueError(f"SIMD level {level} is not available here")
    fn = fdj_idct_islow_for(level)
    with nogil:
        for i in range(n):
            fn(s + 64 * i, o + 64 * i, 8)
    return dst


def _fdct_blocks(pixels, int level):
    """ISLOW FDCT of (n, 8, 8) uint8 blocks with the kernel of `level`;
    returns (n, 64) int32 (8 x the orthonormal DCT, natural order)."""
    cdef cnp.ndarray src = np.ascontiguousarray(pixels, dtype=np.uint8).reshape(-1, 64)
    cdef Py_ssize_t n = src.shape[0], i
    cdef cnp.ndarray dst = np.empty((n, 64), dtype=np.int32)
    cdef const uint8_t *s = <const uint8_t *>cnp.PyArray_DATA(src)
    cdef int32_t *o = <int32_t *>cnp.PyArray_DATA(dst)
    cdef fdj_fdct_fn fn
    if level > fdj_simd_level():
        raise ValueError(f"SIMD level {level} is not available here")
    fn = fdj_fdct_islow_for(level)
    with nogil:
        for i in range(n):
            fn(s + 64 * i, 8, o + 64 * i)
    return dst
