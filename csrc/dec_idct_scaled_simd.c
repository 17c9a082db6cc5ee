/*
 * dec_idct_scaled_simd.c -- AVX2 siblings of the fused dequantize + reduced
 * 4x4 (and, at the end, 2x2) inverse DCT (jidctred.c arithmetic; scalar reference fdj_idct_4x4 in
 * dec_idct.c, fed the dequantized block as fdj_dequant_row does), the luma
 * kernel of decode(scale=2) and the chroma one of scale=4 at 4:2:0; chosen in
 * fdj_simd.c (fdj_kernels.idct_4x4_q).
 *
 * The scalar code computes in 64-bit; this kernel computes the same
 * expressions in 32-bit lanes: pass 1 with the eight columns in the lanes of
 * one vector per coefficient row (row 4 is not read), pass 2 with the four
 * workspace rows in the lanes of one 128-bit vector per column (column 4 is
 * not read).  Every intermediate of a pass is a linear form of its inputs whose
 * coefficients sum in absolute value to at most 77,910 (16384 + 15137 + 6270 +
 * the odd part's 1730 + 11893 + 17799 + 8697, the larger of its two forms), so
 * inputs of magnitude at most RED_SAFE = 27000 keep every value, rounding
 * constant (2^18 at most) included, below 2^31 (77910 * 27000 + 2^18 <
 * 2.11e9).  The products coef * q are exact in int32 (int16 times int16).
 * Blocks whose dequantized values or first-pass results exceed RED_SAFE (never
 * the case for real 8-bit JPEG data) are refused: the caller runs the scalar
 * reference.  The scalar code's DC-only shortcuts give what the full formulas
 * give (the DC's shift is exact), so the kernel needs none of them.  libjpeg's
 * "& 1023" range-limit wrap is reproduced by sign-extending the low ten bits
 * before the saturating packs.
 */
#include "fdj_internal.h"

#ifdef FDJ_X86_SIMD
#include "fdj_simd_x86.h"

#define RED_SAFE 27000

/* The constants, as rows of 8 lanes in memory: _mm256_set1_epi32 of each
 * is rebuilt from a general register on every call (the kernels are called
 * through a pointer, once per block), three instructions where a memory
 * operand costs none.  The kernels read them through a pointer the compiler
 * cannot see through (KC_OPAQUE), or it would fold the loads back into those
 * broadcasts. */
#define RED2_SAFE 24000
enum { K_15137, K_M6270, K_M1730, K_11893, K_M17799, K_8697, K_M4176, K_M4926, K_7373, K_20995,
       K_M5906, K_6967, K_M10426, K_29692, K_SAFE4, K_SAFE2, K_R11, K_R12, K_R18, K_R19, K_128 };
#define ROW8(v) {v, v, v, v, v, v, v, v}
static const int32_t kc_rows[][8] __attribute__((aligned(32))) = {
    ROW8(15137), ROW8(-6270), ROW8(-1730), ROW8(11893), ROW8(-17799), ROW8(8697), ROW8(-4176),
    ROW8(-4926), ROW8(7373), ROW8(20995), ROW8(-5906), ROW8(6967), ROW8(-10426), ROW8(29692),
    ROW8(RED_SAFE), ROW8(RED2_SAFE), ROW8(1 << 11), ROW8(1 << 12), ROW8(1 << 18), ROW8(1 << 19),
    ROW8(128)};
#define KC_OPAQUE()                                                                               \
    const int32_t(*kc)[8] = kc_rows;                                                              \
    __asm__("" : "+r"(kc))
#define KV(i) _mm256_load_si256((const __m256i *)(const void *)kc[i])
#define KX(i) _mm_load_si128((const __m128i *)(const void *)kc[i])
#define MUL8(a, k) _mm256_mullo_epi32((a), KV(k))
#define MUL4(a, k) _mm_mullo_epi32((a), KX(k))

/* Nonzero if some lane of v is outside [-RED_SAFE, RED_SAFE]: v's lanes are
 * never INT32_MIN here (products of int16s, or first-pass results of safe
 * inputs), so abs is exact. */
FDJ_AVX2 static inline __m256i over8(__m256i v, __m256i lim)
{
    return _mm256_cmpgt_epi32(_mm256_abs_epi32(v), lim);
}

/* Nonzero if the block's coefficients other than the DC are all zero.  Both
 * passes of jidctred.c's 4x4 and 2x2 then give every pixel the value of its
 * 1x1 IDCT (their DC shortcuts shift exactly: (4 * dc + 16) >> 5 equals
 * (dc + 4) >> 3), computed here in 64 bits like the scalar code, so these
 * blocks need no range check. */
FDJ_AVX2 static inline int dc_only(const int16_t coef[64])
{
    const __m256i *p = (const __m256i *)(const void *)coef;
    __m256i m = _mm256_and_si256(_mm256_loadu_si256(p),
                                 _mm256_setr_epi16(0, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                                   -1, -1, -1, -1));
    m = _mm256_or_si256(_mm256_or_si256(m, _mm256_loadu_si256(p + 1)),
                        _mm256_or_si256(_mm256_loadu_si256(p + 2), _mm256_loadu_si256(p + 3)));
    return _mm256_testz_si256(m, m);
}

FDJ_AVX2 int fdj_idct_4x4_q_avx2(const int16_t coef[64], const int32_t q[64], uint8_t *out,
                                 ptrdiff_t stride)
{
    static const int rows[7] = {0, 1, 2, 3, 5, 6, 7};
    KC_OPAQUE();
    __m256i x[8], bad = _mm256_setzero_si256(), r1 = KV(K_R11), lim = KV(K_SAFE4);
    __m256i tmp0, tmp2, tmp10, tmp12, o0, o2, w[4], t0, t1, t2, t3;
    __m128i c0, c1, c2, c3, c5, c6, c7, u0, u2, u10, u12, uo0, uo2, y[4], a, b, p;
    const __m128i r2 = KX(K_R18);
    int i;
    if (dc_only(coef)) { /* common: flat blocks */
        uint32_t v = fdj_idct_1x1_pixel((int64_t)coef[0] * q[0]) * 0x01010101u;
        for (i = 0; i < 4; i++)
            memcpy(out + i * stride, &v, 4);
        return 1;
    }
    for (i = 0; i < 7; i++) {
        int k = rows[i];
        x[k] = _mm256_mullo_epi32(
            _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)(const void *)(coef + 8 * k))),
            _mm256_loadu_si256((const __m256i *)(const void *)(q + 8 * k)));
        bad = _mm256_or_si256(bad, over8(x[k], lim));
    }
    if (!_mm256_testz_si256(bad, bad))
        return 0;

    /* pass 1: columns in lanes, results descaled by CONST_BITS - PASS1_BITS + 1 */
    tmp0 = _mm256_slli_epi32(x[0], 13 + 1);
    tmp2 = _mm256_add_epi32(MUL8(x[2], K_15137), MUL8(x[6], K_M6270)); /* FIX_1_847759065, -FIX_0_765366865 */
    tmp10 = _mm256_add_epi32(_mm256_add_epi32(tmp0, tmp2), r1);
    tmp12 = _mm256_add_epi32(_mm256_sub_epi32(tmp0, tmp2), r1);
    /* z1 = row 7, z2 = row 5, z3 = row 3, z4 = row 1 */
    o0 = _mm256_add_epi32(_mm256_add_epi32(MUL8(x[7], K_M1730), MUL8(x[5], K_11893)),
                          _mm256_add_epi32(MUL8(x[3], K_M17799), MUL8(x[1], K_8697)));
    o2 = _mm256_add_epi32(_mm256_add_epi32(MUL8(x[7], K_M4176), MUL8(x[5], K_M4926)),
                          _mm256_add_epi32(MUL8(x[3], K_7373), MUL8(x[1], K_20995)));
    w[0] = _mm256_srai_epi32(_mm256_add_epi32(tmp10, o2), 12);
    w[3] = _mm256_srai_epi32(_mm256_sub_epi32(tmp10, o2), 12);
    w[1] = _mm256_srai_epi32(_mm256_add_epi32(tmp12, o0), 12);
    w[2] = _mm256_srai_epi32(_mm256_sub_epi32(tmp12, o0), 12);
    bad = _mm256_or_si256(_mm256_or_si256(over8(w[0], lim), over8(w[1], lim)),
                          _mm256_or_si256(over8(w[2], lim), over8(w[3], lim)));
    if (!_mm256_testz_si256(bad, bad))
        return 0;

    /* 4x4 transposes in each 128-bit half: t_k = [column k | column k + 4],
     * lanes = workspace rows 0..3 */
    t0 = _mm256_unpacklo_epi32(w[0], w[1]);
    t1 = _mm256_unpackhi_epi32(w[0], w[1]);
    t2 = _mm256_unpacklo_epi32(w[2], w[3]);
    t3 = _mm256_unpackhi_epi32(w[2], w[3]);
    w[0] = _mm256_unpacklo_epi64(t0, t2);
    w[1] = _mm256_unpackhi_epi64(t0, t2);
    w[2] = _mm256_unpacklo_epi64(t1, t3);
    w[3] = _mm256_unpackhi_epi64(t1, t3);
    c0 = _mm256_castsi256_si128(w[0]);
    c1 = _mm256_castsi256_si128(w[1]);
    c5 = _mm256_extracti128_si256(w[1], 1);
    c2 = _mm256_castsi256_si128(w[2]);
    c6 = _mm256_extracti128_si256(w[2], 1);
    c3 = _mm256_castsi256_si128(w[3]);
    c7 = _mm256_extracti128_si256(w[3], 1);

    /* pass 2: rows in lanes, descaled by CONST_BITS + PASS1_BITS + 3 + 1 */
    u0 = _mm_slli_epi32(c0, 13 + 1);
    u2 = _mm_add_epi32(MUL4(c2, K_15137), MUL4(c6, K_M6270));
    u10 = _mm_add_epi32(_mm_add_epi32(u0, u2), r2);
    u12 = _mm_add_epi32(_mm_sub_epi32(u0, u2), r2);
    uo0 = _mm_add_epi32(_mm_add_epi32(MUL4(c7, K_M1730), MUL4(c5, K_11893)),
                        _mm_add_epi32(MUL4(c3, K_M17799), MUL4(c1, K_8697)));
    uo2 = _mm_add_epi32(_mm_add_epi32(MUL4(c7, K_M4176), MUL4(c5, K_M4926)),
                        _mm_add_epi32(MUL4(c3, K_7373), MUL4(c1, K_20995)));
    y[0] = _mm_srai_epi32(_mm_add_epi32(u10, uo2), 19);
    y[3] = _mm_srai_epi32(_mm_sub_epi32(u10, uo2), 19);
    y[1] = _mm_srai_epi32(_mm_add_epi32(u12, uo0), 19);
    y[2] = _mm_srai_epi32(_mm_sub_epi32(u12, uo0), 19);
    for (i = 0; i < 4; i++) /* range limit: low ten bits sign-extended, + 128 */
        y[i] = _mm_add_epi32(_mm_srai_epi32(_mm_slli_epi32(y[i], 22), 22), KX(K_128));
    a = _mm_packs_epi32(y[0], y[1]);
    b = _mm_packs_epi32(y[2], y[3]);
    p = _mm_packus_epi16(a, b); /* byte 4 * column + row */
    p = _mm_shuffle_epi8(p, _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
    for (i = 0; i < 4; i++) {
        uint32_t v = (uint32_t)_mm_cvtsi128_si32(p);
        memcpy(out + i * stride, &v, 4);
        p = _mm_srli_si128(p, 4);
    }
    return 1;
}

/* The 2x2 sibling (fdj_idct_2x2: rows and columns 0, 1, 3, 5, 7 read).  Its
 * forms: 32768 * DC + the odd part's 5906 + 6967 + 10426 + 29692, 85,759 in
 * all, so inputs of magnitude at most RED2_SAFE = 24000 stay below 2^31 with
 * the rounding constant (2^19 at most).  Pass 1 as above (columns in lanes,
 * two workspace rows); pass 2 multiplies each workspace row by the odd
 * constants lane-wise and sums horizontally. */
FDJ_AVX2 static inline __m256i over8_2(__m256i v, __m256i lim)
{
    return _mm256_cmpgt_epi32(_mm256_abs_epi32(v), lim);
}

FDJ_AVX2 int fdj_idct_2x2_q_avx2(const int16_t coef[64], const int32_t q[64], uint8_t *out,
                                 ptrdiff_t stride)
{
    static const int rows[5] = {0, 1, 3, 5, 7};
    KC_OPAQUE();
    __m256i x[8], bad = _mm256_setzero_si256(), lim = KV(K_SAFE2), tmp10, odd, w0, w1, m0, m1;
    __m128i s, d, y, r;
    int i;
    uint16_t v;
    if (dc_only(coef)) {
        v = (uint16_t)(fdj_idct_1x1_pixel((int64_t)coef[0] * q[0]) * 0x0101u);
        memcpy(out, &v, 2);
        memcpy(out + stride, &v, 2);
        return 1;
    }
    for (i = 0; i < 5; i++) {
        int k = rows[i];
        x[k] = _mm256_mullo_epi32(
            _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)(const void *)(coef + 8 * k))),
            _mm256_loadu_si256((const __m256i *)(const void *)(q + 8 * k)));
        bad = _mm256_or_si256(bad, over8_2(x[k], lim));
    }
    if (!_mm256_testz_si256(bad, bad))
        return 0;
    /* pass 1: descaled by CONST_BITS - PASS1_BITS + 2 */
    tmp10 = _mm256_add_epi32(_mm256_slli_epi32(x[0], 13 + 2), KV(K_R12));
    odd = _mm256_add_epi32(_mm256_add_epi32(MUL8(x[7], K_M5906), MUL8(x[5], K_6967)),
                           _mm256_add_epi32(MUL8(x[3], K_M10426), MUL8(x[1], K_29692)));
    w0 = _mm256_srai_epi32(_mm256_add_epi32(tmp10, odd), 13);
    w1 = _mm256_srai_epi32(_mm256_sub_epi32(tmp10, odd), 13);
    bad = _mm256_or_si256(over8_2(w0, lim), over8_2(w1, lim));
    if (!_mm256_testz_si256(bad, bad))
        return 0;
    /* pass 2: odd part of each workspace row, summed across its lanes */
    {
        const __m256i c = _mm256_setr_epi32(0, 29692, 0, -10426, 0, 6967, 0, -5906);
        m0 = _mm256_mullo_epi32(w0, c);
        m1 = _mm256_mullo_epi32(w1, c);
    }
    m0 = _mm256_hadd_epi32(m0, m1); /* per half: m0 pairs, m1 pairs */
    s = _mm_add_epi32(_mm256_castsi256_si128(m0), _mm256_extracti128_si256(m0, 1));
    s = _mm_hadd_epi32(s, s);      /* [T0, T1, T0, T1] */
    s = _mm_sign_epi32(s, _mm_setr_epi32(1, 1, -1, -1));
    d = _mm256_castsi256_si128(_mm256_unpacklo_epi32(w0, w1)); /* [DC0, DC1, ...] */
    d = _mm_unpacklo_epi64(d, d);
    d = _mm_add_epi32(_mm_slli_epi32(d, 13 + 2), KX(K_R19));
    y = _mm_srai_epi32(_mm_add_epi32(d, s), 20); /* [r0c0, r1c0, r0c1, r1c1] */
    y = _mm_add_epi32(_mm_srai_epi32(_mm_slli_epi32(y, 22), 22), KX(K_128));
    r = _mm_packus_epi16(_mm_packs_epi32(y, y), _mm_setzero_si128());
    r = _mm_shuffle_epi8(r, _mm_setr_epi8(0, 2, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    v = (uint16_t)_mm_cvtsi128_si32(r);
    memcpy(out, &v, 2);
    v = (uint16_t)((uint32_t)_mm_cvtsi128_si32(r) >> 16);
    memcpy(out + stride, &v, 2);
    return 1;
}

#endif /* FDJ_X86_SIMD */
