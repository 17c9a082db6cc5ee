/*
 * dec_idct_simd.c -- AVX2 siblings of the ISLOW inverse DCT (T.81 A.3.3;
 * scalar reference dec_idct.c) and of the fused dequantize (+ FD requantize)
 * + IDCT kernels (scalar reference dec_dequant.c); chosen in fdj_simd.c.
 *
 * The scalar IDCT computes in 64-bit (libjpeg's JLONG); this kernel computes
 * the same expressions in 32-bit lanes, eight columns (then eight rows) at a
 * time.  That is exact whenever no intermediate leaves the int32 range, which
 * a bound on the inputs of each pass guarantees: every intermediate of a pass
 * is a linear form of its eight inputs whose coefficients sum in absolute
 * value to at most 61,214 (enumerated term by term; the largest is the
 * output tmp12 - tmp1), so inputs of at most IDCT_SAFE = 32767 in magnitude
 * keep every value, rounding constant included, below 2^31.  Blocks whose coefficients, or whose first-pass results, exceed
 * that bound (never the case for 8-bit JPEG data dequantized by tables up to
 * 255, only for hostile or 16-bit-table input) are handed to the scalar code.
 * libjpeg's "& 1023" range-limit wrap is reproduced by sign-extending the low
 * ten bits before the saturating packs.
 */
#include "fdj_internal.h"

#ifdef FDJ_X86_SIMD
#include "fdj_simd_x86.h"
#endif

#define CONST_BITS 13
#define PASS1_BITS 2
#define IDCT_SAFE 32767

#ifdef FDJ_X86_SIMD

/* OR of |r[0..7]|: a lane with a bit at or above bit k set (tested by the
 * caller against ~(2^k - 1)) is outside [-(2^k - 1), 2^k - 1]; abs(INT32_MIN)
 * stays INT32_MIN, which has such bits too. */
FDJ_AVX2 static inline __m256i abs_or8(const __m256i r[8])
{
    __m256i m = _mm256_or_si256(_mm256_abs_epi32(r[0]), _mm256_abs_epi32(r[1]));
    m = _mm256_or_si256(m, _mm256_or_si256(_mm256_abs_epi32(r[2]), _mm256_abs_epi32(r[3])));
    m = _mm256_or_si256(m, _mm256_or_si256(_mm256_abs_epi32(r[4]), _mm256_abs_epi32(r[5])));
    return _mm256_or_si256(m, _mm256_or_si256(_mm256_abs_epi32(r[6]), _mm256_abs_epi32(r[7])));
}

/* Nonzero if every lane of r[0..7] lies in [-IDCT_SAFE, IDCT_SAFE] (IDCT_SAFE = 2^15 - 1). */
FDJ_AVX2 static inline int all_safe(const __m256i r[8])
{
    return _mm256_testz_si256(abs_or8(r), _mm256_set1_epi32(~IDCT_SAFE));
}

#define MUL(a, c) _mm256_mullo_epi32((a), _mm256_set1_epi32(c))
#define ADD _mm256_add_epi32
#define SUB _mm256_sub_epi32

/* One 1-D pass of jidctint.c over eight vectors (x[k] = input k, lanes are
 * independent), results descaled by `shift` with rounding. */
FDJ_AVX2 static inline void idct_pass(__m256i x[8], int shift)
{
    const __m256i round = _mm256_set1_epi32(1 << (shift - 1));
    __m256i z1, z2, z3, z4, z5, tmp0, tmp1, tmp2, tmp3, tmp10, tmp11, tmp12, tmp13;
    z2 = x[2];
    z3 = x[6];
    z1 = MUL(ADD(z2, z3), 4433);                 /* FIX_0_541196100 */
    tmp2 = ADD(z1, MUL(z3, -15137));             /* -FIX_1_847759065 */
    tmp3 = ADD(z1, MUL(z2, 6270));               /* FIX_0_765366865 */
    tmp0 = _mm256_slli_epi32(ADD(x[0], x[4]), CONST_BITS);
    tmp1 = _mm256_slli_epi32(SUB(x[0], x[4]), CONST_BITS);
    tmp10 = ADD(tmp0, tmp3);
    tmp13 = SUB(tmp0, tmp3);
    tmp11 = ADD(tmp1, tmp2);
    tmp12 = SUB(tmp1, tmp2);

    tmp0 = x[7];
    tmp1 = x[5];
    tmp2 = x[3];
    tmp3 = x[1];
    z1 = ADD(tmp0, tmp3);
    z2 = ADD(tmp1, tmp2);
    z3 = ADD(tmp0, tmp2);
    z4 = ADD(tmp1, tmp3);
    z5 = MUL(ADD(z3, z4), 9633);                 /* FIX_1_175875602 */
    tmp0 = MUL(tmp0, 2446);                      /* FIX_0_298631336 */
    tmp1 = MUL(tmp1, 16819);                     /* FIX_2_053119869 */
    tmp2 = MUL(tmp2, 25172);                     /* FIX_3_072711026 */
    tmp3 = MUL(tmp3, 12299);                     /* FIX_1_501321110 */
    z1 = MUL(z1, -7373);                         /* -FIX_0_899976223 */
    z2 = MUL(z2, -20995);                        /* -FIX_2_562915447 */
    z3 = ADD(MUL(z3, -16069), z5);               /* -FIX_1_961570560 */
    z4 = ADD(MUL(z4, -3196), z5);                /* -FIX_0_390180644 */
    tmp0 = ADD(tmp0, ADD(z1, z3));
    tmp1 = ADD(tmp1, ADD(z2, z4));
    tmp2 = ADD(tmp2, ADD(z2, z3));
    tmp3 = ADD(tmp3, ADD(z1, z4));

    tmp10 = ADD(tmp10, round);
    tmp11 = ADD(tmp11, round);
    tmp12 = ADD(tmp12, round);
    tmp13 = ADD(tmp13, round);
    x[0] = _mm256_srai_epi32(ADD(tmp10, tmp3), shift);
    x[7] = _mm256_srai_epi32(SUB(tmp10, tmp3), shift);
    x[1] = _mm256_srai_epi32(ADD(tmp11, tmp2), shift);
    x[6] = _mm256_srai_epi32(SUB(tmp11, tmp2), shift);
    x[2] = _mm256_srai_epi32(ADD(tmp12, tmp1), shift);
    x[5] = _mm256_srai_epi32(SUB(tmp12, tmp1), shift);
    x[3] = _mm256_srai_epi32(ADD(tmp13, tmp0), shift);
    x[4] = _mm256_srai_epi32(SUB(tmp13, tmp0), shift);
}

/* libjpeg's range limit: sign-extend the low 10 bits, add 128; the
 * saturating packs that follow clamp to 0..255. */
FDJ_AVX2 static inline __m256i range_wrap(__m256i v)
{
    return ADD(_mm256_srai_epi32(_mm256_slli_epi32(v, 22), 22), _mm256_set1_epi32(128));
}

FDJ_AVX2 static inline void store_rows(__m256i r[8], uint8_t *out, ptrdiff_t stride)
{
    int i;
    for (i = 0; i < 8; i += 4) {
        __m256i a = _mm256_permute4x64_epi64(_mm256_packs_epi32(r[i], r[i + 1]), 0xD8);
        __m256i b = _mm256_permute4x64_epi64(_mm256_packs_epi32(r[i + 2], r[i + 3]), 0xD8);
        /* low lane: row i, row i+2; high lane: row i+1, row i+3 */
        __m256i p = _mm256_packus_epi16(a, b);
        __m128i lo = _mm256_castsi256_si128(p), hi = _mm256_extracti128_si256(p, 1);
        _mm_storel_epi64((__m128i *)(void *)(out + i * stride), lo);
        _mm_storel_epi64((__m128i *)(void *)(out + (i + 1) * stride), hi);
        _mm_storel_epi64((__m128i *)(void *)(out + (i + 2) * stride), _mm_unpackhi_epi64(lo, lo));
        _mm_storel_epi64((__m128i *)(void *)(out + (i + 3) * stride), _mm_unpackhi_epi64(hi, hi));
    }
}

/* OR of |in0 + in4|, |in0 - in4|, |in7 + in3|, |in5 + in1|: the sums
 * libjpeg-turbo's AVX2 kernel forms in 16 bits from a pass's inputs. */
FDJ_AVX2 static inline __m256i sums_abs_or(const __m256i x[8])
{
    __m256i m = _mm256_or_si256(_mm256_abs_epi32(ADD(x[0], x[4])), _mm256_abs_epi32(SUB(x[0], x[4])));
    return _mm256_or_si256(m, _mm256_or_si256(_mm256_abs_epi32(ADD(x[7], x[3])),
                                              _mm256_abs_epi32(ADD(x[5], x[1]))));
}

/* The IDCT of x[0..7] (coefficient rows) into out; returns 0 (nothing
 * written) when the block needs other arithmetic.  Always: the scalar code's
 * 64-bit range.  With `turbo`, also wherever libjpeg-turbo's AVX2 kernel
 * (what Pillow runs on x86-64, modelled in dec_idct_emul.c) could differ from
 * the exact result: a dequantized value, a 16-bit sum or a first-pass result
 * outside int16, a DC row beyond 8191 (its "rows 1-7 zero" shortcut shifts
 * it left by 2 in 16 bits) or an output outside -512..511 (it saturates where
 * libjpeg's C table wraps).  Real images never get there; the decoder gives
 * such blocks to fdj_idct_islow_avx2_emul. */
FDJ_AVX2 static inline int idct_vec(__m256i x[8], uint8_t *out, ptrdiff_t stride, int turbo)
{
    __m256i ac, bad;
    int i;
    /* DC only (common in chroma and smooth areas): one value for the block,
     * as both scalar passes' shortcuts give. */
    ac = _mm256_blend_epi32(x[0], _mm256_setzero_si256(), 1);
    for (i = 1; i < 8; i++)
        ac = _mm256_or_si256(ac, x[i]);
    if (_mm256_testz_si256(ac, ac)) {
        int dc = _mm256_cvtsi256_si32(x[0]), v;
        uint8_t b;
        if (dc < -IDCT_SAFE || dc > IDCT_SAFE)
            return 0;
        v = (dc * 4 + 16) >> 5; /* DESCALE(dc << PASS1_BITS, PASS1_BITS + 3) */
        if (turbo && (dc < -8191 || dc > 8191 || v < -512 || v > 511))
            return 0;
        v &= 1023;
        b = (uint8_t)(v < 128 ? v + 128 : v < 512 ? 255 : v < 896 ? 0 : v - 896);
        for (i = 0; i < 8; i++)
            memset(out + i * stride, b, 8);
        return 1;
    }
    if (turbo) {
        /* |values| and |16-bit sums| <= 32767, |DC row| <= 8191 (each a little
         * stricter than needed at the negative end: refusing is always safe) */
        bad = _mm256_and_si256(_mm256_or_si256(abs_or8(x), sums_abs_or(x)),
                               _mm256_set1_epi32(~32767));
        bad = _mm256_or_si256(bad, _mm256_and_si256(_mm256_abs_epi32(x[0]), _mm256_set1_epi32(~8191)));
        if (!_mm256_testz_si256(bad, bad))
            return 0;
    } else if (!all_safe(x)) {
        return 0;
    }
    /* pass 1: columns (lanes), x[k] = row k of the coefficients */
    idct_pass(x, CONST_BITS - PASS1_BITS);
    if (!all_safe(x)) /* int16 range: also what the kernel's saturating pack keeps */
        return 0;
    /* x[k] = workspace row k; pass 2 works along rows */
    fdj_transpose8x32(x);
    if (turbo && !_mm256_testz_si256(sums_abs_or(x), _mm256_set1_epi32(~32767)))
        return 0;
    idct_pass(x, CONST_BITS + PASS1_BITS + 3);
    if (turbo && !_mm256_testz_si256(abs_or8(x), _mm256_set1_epi32(~511)))
        return 0; /* outputs within -511..511, where saturation and the wrap agree */
    for (i = 0; i < 8; i++)
        x[i] = range_wrap(x[i]);
    fdj_transpose8x32(x);
    store_rows(x, out, stride);
    return 1;
}

FDJ_AVX2 void fdj_idct_islow_avx2(const int32_t in[64], uint8_t *out, ptrdiff_t stride)
{
    __m256i x[8];
    int i;
    for (i = 0; i < 8; i++)
        x[i] = _mm256_loadu_si256((const __m256i *)(const void *)(in + 8 * i));
    if (!idct_vec(x, out, stride, 0))
        fdj_idct_islow(in, out, stride);
}

FDJ_AVX2 int fdj_idct_islow_q_avx2(const int16_t coef[64], const int32_t q[64], uint8_t *out,
                                   ptrdiff_t stride)
{
    __m256i x[8];
    int i;
    /* int16 * int16 products: exact in int32, as the scalar dequantizer */
    for (i = 0; i < 8; i++)
        x[i] = _mm256_mullo_epi32(
            _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)(const void *)(coef + 8 * i))),
            _mm256_loadu_si256((const __m256i *)(const void *)(q + 8 * i)));
    return idct_vec(x, out, stride, 1);
}

/* One-pass FD: dequantize, requantize by T (round half away from zero, as
 * fd_requantize_block in dec_dequant.c) and IDCT.  n = |c*q| + T/2 is
 * divided by T with the table's multiply-shift when every n of the block is
 * below 2^15 (real files), else in float32, which is exact after the floor
 * for n < 2^24: the quotient's relative error is below 2^-24, so it cannot
 * reach the next integer, at least 1/T away.  Returns 0, writing nothing, for larger n or an
 * IDCT outside the 32-bit range: the caller takes the scalar reference
 * (fdj_idct_islow_rq, dec_dequant.c). */
/* The requantization of fdj_idct_islow_rq_avx2 (below) into x[0..7]; 0 for
 * an n of 2^24 or more (x undefined). */
FDJ_AVX2 static inline int requant_vec(const int16_t coef[64], const int32_t q[64],
                                       const fdj_requant_table *rt, __m256i x[8])
{
    __m256i v[8], n[8], big = _mm256_setzero_si256();
    int i, nz = 0;
    for (i = 0; i < 8; i++) {
        __m128i c16 = _mm_loadu_si128((const __m128i *)(const void *)(coef + 8 * i));
        if (_mm_testz_si128(c16, c16)) { /* zero rows are common: requantized to zero */
            v[i] = n[i] = _mm256_setzero_si256();
            continue;
        }
        nz |= 1 << i;
        v[i] = _mm256_mullo_epi32(_mm256_cvtepi16_epi32(c16),
                                  _mm256_loadu_si256((const __m256i *)(const void *)(q + 8 * i)));
        n[i] = _mm256_add_epi32(_mm256_abs_epi32(v[i]),
                                _mm256_loadu_si256((const __m256i *)(const void *)(rt->half + 8 * i)));
        big = _mm256_or_si256(big, n[i]);
    }
    if (_mm256_testz_si256(big, _mm256_set1_epi32(~32767))) {
        for (i = 0; i < 8; i++) {
            __m256i quo;
            if (!(nz & (1 << i))) {
                x[i] = _mm256_setzero_si256();
                continue;
            }
            quo = _mm256_srlv_epi32(
                _mm256_mullo_epi32(n[i], _mm256_loadu_si256((const __m256i *)(const void *)(rt->magic + 8 * i))),
                _mm256_loadu_si256((const __m256i *)(const void *)(rt->shift + 8 * i)));
            x[i] = _mm256_sign_epi32(
                _mm256_mullo_epi32(quo, _mm256_loadu_si256((const __m256i *)(const void *)(rt->t + 8 * i))),
                v[i]); /* v < 0: negated; v == 0: n < t so the quotient is 0 */
        }
        return 1;
    }
    if (_mm256_testz_si256(big, _mm256_set1_epi32(~((1 << 24) - 1)))) {
        for (i = 0; i < 8; i++) {
            __m256i tt = _mm256_loadu_si256((const __m256i *)(const void *)(rt->t + 8 * i));
            __m256 quo = _mm256_floor_ps(_mm256_div_ps(_mm256_cvtepi32_ps(n[i]), _mm256_cvtepi32_ps(tt)));
            x[i] = _mm256_sign_epi32(_mm256_mullo_epi32(_mm256_cvttps_epi32(quo), tt), v[i]);
        }
        return 1;
    }
    return 0; /* the scalar reference */
}

/* One-pass FD: dequantize, requantize by T (round half away from zero, as
 * fd_requantize_block in dec_dequant.c) and IDCT.  n = |c*q| + T/2 is
 * divided by T with the table's multiply-shift when every n of the block is
 * below 2^15 (real files), else in float32, which is exact after the floor
 * for n < 2^24: the quotient's relative error is below 2^-24, so it cannot
 * reach the next integer, at least 1/T away.  Returns 0, writing nothing, for larger n or an
 * IDCT outside the 32-bit range: the caller takes the scalar reference
 * (fdj_idct_islow_rq, dec_dequant.c). */
FDJ_AVX2 int fdj_idct_islow_rq_avx2(const int16_t coef[64], const int32_t q[64],
                                     const fdj_requant_table *rt, uint8_t *out, ptrdiff_t stride)
{
    __m256i x[8];
    if (!requant_vec(coef, q, rt, x))
        return 0;
    return idct_vec(x, out, stride, 0);
}

#endif /* FDJ_X86_SIMD */
