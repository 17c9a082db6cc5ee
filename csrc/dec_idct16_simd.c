/*
 * dec_idct16_simd.c -- the ISLOW inverse DCT (T.81 A.3.3) in 16-bit lanes,
 * two blocks per call: block a in the low 128-bit half of each ymm register,
 * block b in the high half, one row (eight columns) per register.
 *
 * The arithmetic is libjpeg-turbo's AVX2 kernel's (jidctint-avx2.asm), which
 * dec_idct_emul.c models in scalar C: 16-bit dequantizing multiply, 16-bit
 * sums in0 +- in4, in7 + in3, in5 + in1, the constant products as pmaddwd
 * pairs (in2, in6), (z3, z4), (in7, in1), (in5, in3) -- exact 32-bit sums of
 * two 16x16 products -- then 32-bit sums, descaling and a saturating pack to
 * int16 after each pass, the block-wide "rows 1..7 zero" shortcut of pass 1
 * ((c * q) << 2 in 16 bits) and a saturating pack to -128..127 before adding
 * 128.  Computing that arithmetic (not an approximation of it) makes
 *
 *   - fdj_idct_islow_turbo_row_avx2 equal to fdj_idct_islow_avx2_emul for
 *     every input, hostile ones included: what Pillow shows on x86-64, and
 *     what the decoder gives for every block (it takes the exact ISLOW
 *     result, which equals this one, wherever no 16-bit limit is reached);
 *   - fdj_idct_islow2_avx2 equal to fdj_idct_islow (libjpeg's C arithmetic)
 *     for blocks whose values are small enough that no 16-bit limit can be
 *     reached: |dc| + 2 * sum|ac| <= 4080 (bound below); it reports the
 *     blocks it could not take and the caller runs the scalar reference.
 *
 * The bound: each first-pass result is a sum of the column's inputs times
 * fixed-point constants of at most 11363 (1.387 * 2^13; 8192 for the DC
 * row), descaled by 2^11, so |ws| <= 4|dc| + 5.55 sum|ac| + 1/2; each output
 * is the same over a workspace row descaled by 2^18, so
 * |out| <= |dc| / 8 + 0.2405 sum|ac| + 0.7.  With |dc| + 2 sum|ac| <= 4080
 * every 16-bit value and sum stays below 16,400 in magnitude and every output
 * within -510..510, where libjpeg's "& 1023" range-limit table and the
 * saturating packs agree; 32-bit sums of int16 inputs cannot overflow.
 */
#include "dec_internal.h"

#ifdef FDJ_X86_SIMD
#include "fdj_idct16_x86.h"

/* Blocks a and b (b NULL: a only) with libjpeg-turbo's arithmetic. */
FDJ_AVX2 static inline void turbo_pair(const int16_t *a, const int16_t *b, const __m256i qv[8],
                                       uint8_t *out, ptrdiff_t stride)
{
    const __m256i zero = _mm256_setzero_si256();
    __m256i c[8], x[8], r[4], rows, ac, shortcut;
    unsigned rz, dc_only;
    const int16_t *bb = b ? b : zero_block;
    int i;
    for (i = 0; i < 8; i++)
        c[i] = _mm256_inserti128_si256(
            _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(a + 8 * i))),
            _mm_loadu_si128((const __m128i *)(const void *)(bb + 8 * i)), 1);
    rows = _mm256_or_si256(_mm256_or_si256(_mm256_or_si256(c[1], c[2]), _mm256_or_si256(c[3], c[4])),
                           _mm256_or_si256(_mm256_or_si256(c[5], c[6]), c[7]));
    /* the AC coefficients of row 0: every word but the first of each half */
    ac = _mm256_or_si256(rows, _mm256_blend_epi16(c[0], zero, 0x01));
    rz = (unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi16(rows, zero));    /* rows 1..7 zero */
    dc_only = (unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi16(ac, zero));
    x[0] = _mm256_mullo_epi16(c[0], qv[0]);
    shortcut = _mm256_slli_epi16(x[0], PASS1_BITS);
    if (dc_only == 0xFFFFFFFFu) {
        fdj_idct16_dc_fill(shortcut, out, stride, b != NULL);
        return;
    }
    if (rz == 0xFFFFFFFFu) {
        for (i = 0; i < 8; i++)
            x[i] = shortcut;
    } else {
        for (i = 1; i < 8; i++)
            x[i] = _mm256_mullo_epi16(c[i], qv[i]);
        fdj_idct16_pass(x, CONST_BITS - PASS1_BITS);
        if ((rz & 0xFFFFu) == 0xFFFFu || (rz >> 16) == 0xFFFFu) {
            /* one block takes the shortcut: (c * q) << 2 in every row, wrapping in 16 bits */
            __m256i m = _mm256_inserti128_si256(
                _mm256_castsi128_si256(_mm_set1_epi32((rz & 0xFFFFu) == 0xFFFFu ? -1 : 0)),
                _mm_set1_epi32((rz >> 16) == 0xFFFFu ? -1 : 0), 1);
            for (i = 0; i < 8; i++)
                x[i] = _mm256_blendv_epi8(x[i], shortcut, m);
        }
    }
    fdj_transpose8x16(x);
    fdj_idct16_pixels(x, r);
    if (b)
        fdj_store8x8_pair(r, out, stride);
    else
        fdj_store8x8_a(r, out, stride);
}

FDJ_AVX2 void fdj_idct_islow_turbo_row_avx2(const int16_t *coef, const uint16_t q[64], int nblocks,
                                            uint8_t *out, ptrdiff_t stride)
{
    __m256i qv[8];
    int i, bx;
    for (i = 0; i < 8; i++)
        qv[i] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(q + 8 * i)));
    for (bx = 0; bx + 2 <= nblocks; bx += 2)
        turbo_pair(coef + (size_t)bx * 64, coef + (size_t)bx * 64 + 64, qv, out + (ptrdiff_t)bx * 8, stride);
    if (bx < nblocks)
        turbo_pair(coef + (size_t)bx * 64, NULL, qv, out + (ptrdiff_t)bx * 8, stride);
}

/* x: two blocks in int16 lanes; pixels of both written; returns fdj_idct16_exact_mask. */
FDJ_AVX2 static inline int exact_pair(__m256i x[8], uint8_t *out, ptrdiff_t stride, int pair)
{
    __m256i r[4];
    int ok = fdj_idct16_exact_mask(x);
    if (!(ok & 1) && (!pair || !(ok & 2)))
        return 0;
    fdj_idct16_pass(x, CONST_BITS - PASS1_BITS); /* no shortcut needed: |dc << 2| fits in 16 bits here */
    fdj_transpose8x16(x);
    fdj_idct16_pixels(x, r);
    if (pair)
        fdj_store8x8_pair(r, out, stride);
    else
        fdj_store8x8_a(r, out, stride);
    return ok;
}

FDJ_AVX2 int fdj_idct_islow2_avx2(const int32_t a[64], const int32_t b[64], uint8_t *out,
                                  ptrdiff_t stride)
{
    __m256i x[8];
    int i;
    for (i = 0; i < 8; i++)
        x[i] = _mm256_permute4x64_epi64(
            _mm256_packs_epi32(_mm256_loadu_si256((const __m256i *)(const void *)(a + 8 * i)),
                               _mm256_loadu_si256((const __m256i *)(const void *)(b + 8 * i))),
            0xD8);
    return exact_pair(x, out, stride, 1);
}

/* ---- one-pass FD: dequantize, requantize, IDCT, all in 16-bit lanes ---- */

/* Two blocks' requantized values into x (both blocks, int16); the blocks
 * whose every coefficient is within the table's CMAX (then c * q fits in
 * int16 and n = |c * q| + T/2 < 2^15, where floor(n / T) is exact by the
 * table's 16-bit constants, fdj_simd.h) come back in the result (bit 0: a,
 * bit 1: b).  small_t: the table has a T of 1 or 2. */
FDJ_AVX2 static inline int requant16(const __m256i c[8], const __m256i qv[8],
                                     const fdj_requant_table *rt, __m256i x[8], int small_t)
{
#define RT(field, i) _mm256_loadu_si256((const __m256i *)(const void *)rt->v16[field][i])
    __m256i over = _mm256_setzero_si256();
    unsigned m;
    int i;
    for (i = 0; i < 8; i++) {
        __m256i d, n, xq, quo;
        if (_mm256_testz_si256(c[i], c[i])) { /* zero rows are common: they stay zero */
            x[i] = _mm256_setzero_si256();
            continue;
        }
        /* |c| > CMAX (unsigned: |-32768| = 32768 counts as large) */
        over = _mm256_or_si256(over, _mm256_subs_epu16(_mm256_abs_epi16(c[i]), RT(FDJ_RQ_CMAX, i)));
        d = _mm256_mullo_epi16(c[i], qv[i]);
        n = _mm256_add_epi16(_mm256_abs_epi16(d), RT(FDJ_RQ_HALF, i));
        xq = _mm256_mulhi_epu16(n, RT(FDJ_RQ_MAGIC, i));
        quo = _mm256_mulhi_epu16(xq, RT(FDJ_RQ_POST, i));
        if (small_t)
            quo = _mm256_or_si256(quo, _mm256_or_si256(_mm256_and_si256(xq, RT(FDJ_RQ_KEEPX, i)),
                                                       _mm256_and_si256(n, RT(FDJ_RQ_KEEPN, i))));
        /* T * quotient <= n < 2^15; negated for d < 0, zero for d == 0 */
        x[i] = _mm256_sign_epi16(_mm256_mullo_epi16(quo, RT(FDJ_RQ_T, i)), d);
    }
#undef RT
    m = (unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi16(over, _mm256_setzero_si256()));
    return ((m & 0xFFFFu) == 0xFFFFu ? 1 : 0) | ((m >> 16) == 0xFFFFu ? 2 : 0);
}

/* Blocks a and b (b NULL: a only): returns the blocks done exactly. */
FDJ_AVX2 static inline int rq_pair(const int16_t *a, const int16_t *b, const __m256i qv[8],
                                   const fdj_requant_table *rt, uint8_t *out, ptrdiff_t stride)
{
    const __m256i zero = _mm256_setzero_si256();
    __m256i c[8], x[8], r[4], rows, ac;
    const int16_t *bb = b ? b : zero_block;
    unsigned rz, dc_only;
    int i, ok;
    for (i = 0; i < 8; i++)
        c[i] = _mm256_inserti128_si256(
            _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(a + 8 * i))),
            _mm_loadu_si128((const __m128i *)(const void *)(bb + 8 * i)), 1);
    ok = rt->small_t ? requant16(c, qv, rt, x, 1) : requant16(c, qv, rt, x, 0);
    if (!b)
        ok &= 1;
    if (!ok)
        return 0;
    ok &= fdj_idct16_exact_mask(x);
    if (!ok)
        return 0;
    /* zero coefficients requantize to zero: the shortcuts below are exact for
     * blocks within the bound (no 16-bit limit reached, see the top) */
    rows = _mm256_or_si256(_mm256_or_si256(_mm256_or_si256(c[1], c[2]), _mm256_or_si256(c[3], c[4])),
                           _mm256_or_si256(_mm256_or_si256(c[5], c[6]), c[7]));
    ac = _mm256_or_si256(rows, _mm256_blend_epi16(c[0], zero, 0x01));
    rz = (unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi16(rows, zero));
    dc_only = (unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi16(ac, zero));
    if (dc_only == 0xFFFFFFFFu) {
        fdj_idct16_dc_fill(_mm256_slli_epi16(x[0], PASS1_BITS), out, stride, b != NULL);
        return ok;
    }
    if (rz == 0xFFFFFFFFu) {
        __m256i s = _mm256_slli_epi16(x[0], PASS1_BITS);
        for (i = 0; i < 8; i++)
            x[i] = s;
    } else {
        fdj_idct16_pass(x, CONST_BITS - PASS1_BITS);
    }
    fdj_transpose8x16(x);
    fdj_idct16_pixels(x, r);
    if (b)
        fdj_store8x8_pair(r, out, stride);
    else
        fdj_store8x8_a(r, out, stride);
    return ok;
}

FDJ_AVX2 void fdj_idct_islow_rq_row_avx2(const int16_t *coef, const int32_t q[64],
                                         const fdj_requant_table *rt, int nblocks, uint8_t *out,
                                         ptrdiff_t stride)
{
    __m256i qv[8];
    int i, bx;
    for (i = 0; i < 8; i++) /* the int16 multipliers (q holds them sign-extended) */
        qv[i] = _mm256_broadcastsi128_si256(_mm_packs_epi32(
            _mm_loadu_si128((const __m128i *)(const void *)(q + 8 * i)),
            _mm_loadu_si128((const __m128i *)(const void *)(q + 8 * i + 4))));
    for (bx = 0; bx < nblocks; bx += 2) {
        const int16_t *a = coef + (size_t)bx * 64;
        uint8_t *o = out + (ptrdiff_t)bx * 8;
        int nb = bx + 2 <= nblocks ? 2 : 1, done = rq_pair(a, nb == 2 ? a + 64 : NULL, qv, rt, o, stride), j;
        for (j = 0; j < nb; j++)
            if (!(done & (1 << j)) && !fdj_idct_islow_rq_avx2(a + 64 * j, q, rt, o + 8 * j, stride))
                fdj_idct_islow_rq(a + 64 * j, q, rt, o + 8 * j, stride);
    }
}

/* ---- one-pass FD after the Huffman decoder's requantization: IDCT only ---- */

/* Blocks a and b (b NULL: a only) of int16 values: returns the blocks done
 * (those within fdj_idct16_exact_mask's bound, where the 16-bit lanes equal
 * libjpeg's C arithmetic; the shortcuts are exact there as in rq_pair). */
FDJ_AVX2 static inline int pre_pair(const int16_t *a, const int16_t *b, uint8_t *out,
                                    ptrdiff_t stride)
{
    const __m256i zero = _mm256_setzero_si256();
    __m256i x[8], r[4], rows, ac;
    const int16_t *bb = b ? b : zero_block;
    unsigned rz, dc_only;
    int i, ok;
    for (i = 0; i < 8; i++)
        x[i] = _mm256_inserti128_si256(
            _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(a + 8 * i))),
            _mm_loadu_si128((const __m128i *)(const void *)(bb + 8 * i)), 1);
    ok = fdj_idct16_exact_mask(x);
    if (!b)
        ok &= 1;
    if (!ok)
        return 0;
    rows = _mm256_or_si256(_mm256_or_si256(_mm256_or_si256(x[1], x[2]), _mm256_or_si256(x[3], x[4])),
                           _mm256_or_si256(_mm256_or_si256(x[5], x[6]), x[7]));
    ac = _mm256_or_si256(rows, _mm256_blend_epi16(x[0], zero, 0x01));
    rz = (unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi16(rows, zero));
    dc_only = (unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi16(ac, zero));
    if (dc_only == 0xFFFFFFFFu) {
        fdj_idct16_dc_fill(_mm256_slli_epi16(x[0], PASS1_BITS), out, stride, b != NULL);
        return ok;
    }
    if (rz == 0xFFFFFFFFu) {
        __m256i s = _mm256_slli_epi16(x[0], PASS1_BITS);
        for (i = 0; i < 8; i++)
            x[i] = s;
    } else {
        fdj_idct16_pass(x, CONST_BITS - PASS1_BITS);
    }
    fdj_transpose8x16(x);
    fdj_idct16_pixels(x, r);
    if (b)
        fdj_store8x8_pair(r, out, stride);
    else
        fdj_store8x8_a(r, out, stride);
    return ok;
}

FDJ_AVX2 void fdj_idct_islow_pre_row_avx2(const int16_t *x, int nblocks, uint8_t *out,
                                          ptrdiff_t stride)
{
    int bx;
    for (bx = 0; bx < nblocks; bx += 2) {
        const int16_t *a = x + (size_t)bx * 64;
        uint8_t *o = out + (ptrdiff_t)bx * 8;
        int nb = bx + 2 <= nblocks ? 2 : 1, done = pre_pair(a, nb == 2 ? a + 64 : NULL, o, stride), j;
        for (j = 0; j < nb; j++)
            if (!(done & (1 << j))) {
                /* outside the 16-bit bound: the 32-bit kernel (exact for every input) */
                int32_t tmp[64];
                int i;
                for (i = 0; i < 64; i++)
                    tmp[i] = a[64 * j + i];
                fdj_idct_islow_avx2(tmp, o + 8 * j, stride);
            }
    }
}

#endif /* FDJ_X86_SIMD */
