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


cdef extern from "fdj_simd.h" nogil:
    ctypedef int (*fdj_idct_q_fn)(const int16_t *coef, const int32_t *q, uint8_t *out,
                                  ptrdiff_t stride)
    ctypedef struct fdj_requant_table:
        pass
    void fdj_requant_table_init(fdj_requant_table *rt, const uint16_t *t)
    ctypedef int (*fdj_idct_rq_fn)(const int16_t *coef, const int32_t *q,
                                   const fdj_requant_table *rt, uint8_t *out, ptrdiff_t stride)
    fdj_idct_q_fn fdj_idct_islow_q_for(int level)
    fdj_idct_rq_fn fdj_idct_islow_rq_for(int level)


cdef extern from "dec_internal.h" nogil:
    int fdj_idct_islow_rq(const int16_t *coef, const int32_t *q, const fdj_requant_table *rt,
                          uint8_t *out, ptrdiff_t stride)
    void fdj_idct_islow_avx2_emul(const int16_t *coef, const uint16_t *q, uint8_t *out,
                                  ptrdiff_t stride)


def _idct_turbo_emul_blocks(coef, q):
    """libjpeg-turbo's AVX2 ISLOW arithmetic (dec_idct_emul.c) on (n, 64) int16 blocks with
    a uint16 table q: what Pillow shows on x86-64; (n, 8, 8) uint8."""
    cdef cnp.ndarray c = np.ascontiguousarray(coef, dtype=np.int16).reshape(-1, 64)
    cdef cnp.ndarray qa = np.ascontiguousarray(q, dtype=np.uint16).reshape(64)
    cdef Py_ssize_t n = c.shape[0], i
    cdef cnp.ndarray dst = np.empty((n, 8, 8), dtype=np.uint8)
    cdef const int16_t *cs = <const int16_t *>cnp.PyArray_DATA(c)
    cdef const uint16_t *qs = <const uint16_t *>cnp.PyArray_DATA(qa)
    cdef uint8_t *o = <uint8_t *>cnp.PyArray_DATA(dst)
    with nogil:
        for i in range(n):
            fdj_idct_islow_avx2_emul(cs + 64 * i, qs, o + 64 * i, 8)
    return dst


def _idct_fused_blocks(coef, q, t=None):
    """The decoder's fused AVX2 kernels on (n, 64) int16 coefficients with an int32
    dequantization table q (and, with t, one-pass requantization by t); (n, 8, 8) uint8.
    Without t returns (pixels, accepted): blocks the kernel refuses (accepted False, pixels
    zero) are the ones the decoder hands to the libjpeg-turbo emulation.
    Raises ValueError where no fused kernel is active."""
    cdef cnp.ndarray c = np.ascontiguousarray(coef, dtype=np.int16).reshape(-1, 64)
    cdef cnp.ndarray qa = np.ascontiguousarray(q, dtype=np.int32).reshape(64)
    cdef cnp.ndarray ta = np.ascontiguousarray(t if t is not None else np.ones(64), dtype=np.uint16).reshape(64)
    cdef fdj_requant_table rt
    cdef Py_ssize_t n = c.shape[0], i
    cdef cnp.ndarray dst = np.empty((n, 8, 8), dtype=np.uint8)
    cdef const int16_t *cs = <const int16_t *>cnp.PyArray_DATA(c)
    cdef const int32_t *qs = <const int32_t *>cnp.PyArray_DATA(qa)
    fdj_requant_table_init(&rt, <const uint16_t *>cnp.PyArray_DATA(ta))
    cdef uint8_t *o = <uint8_t *>cnp.PyArray_DATA(dst)
    cdef fdj_idct_q_fn fq = fdj_idct_islow_q_for(fdj_simd_level())
    cdef fdj_idct_rq_fn frq = fdj_idct_islow_rq_for(fdj_simd_level())
    cdef bint requant = t is not None
    cdef cnp.ndarray acc = np.ones(n, dtype=np.uint8)
    cdef uint8_t *ap = <uint8_t *>cnp.PyArray_DATA(acc)
    if (requant and frq == NULL) or (not requant and fq == NULL):
        raise ValueError("no fused IDCT kernel is active")
    dst[...] = 0
    with nogil:
        for i in range(n):
            if requant:
                if not frq(cs + 64 * i, qs, &rt, o + 64 * i, 8):
                    fdj_idct_islow_rq(cs + 64 * i, qs, &rt, o + 64 * i, 8)
            else:
                ap[i] = 1 if fq(cs + 64 * i, qs, o + 64 * i, 8) else 0
    if requant:
        return dst
    return dst, acc.astype(bool)
