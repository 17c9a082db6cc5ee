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
#include "fdj_simd_x86.h"

#define CONST_BITS 13
#define PASS1_BITS 2

#define F_0_298 2446
#define F_0_390 3196
#define F_0_541 4433
#define F_0_765 6270
#define F_0_899 7373
#define F_1_175 9633
#define F_1_501 12299
#define F_1_847 15137
#define F_1_961 16069
#define F_2_053 16819
#define F_2_562 20995
#define F_3_072 25172

/* (lo, hi) int16 constant pair in each 32-bit lane: madd(unpack(x, y), PAIR(a, b)) = x*a + y*b */
#define PAIR(a, b) _mm256_set1_epi32((int32_t)(((uint32_t)(uint16_t)(int16_t)(b) << 16) | (uint16_t)(int16_t)(a)))

/* One 8-point pass over x[0..7] (x[k] = input k, 16 independent int16 lanes),
 * results descaled by `descale` and saturated to int16, in x. */
FDJ_AVX2 static inline void pass16(__m256i x[8], int descale)
{
    const __m256i rnd = _mm256_set1_epi32(1 << (descale - 1)), zero = _mm256_setzero_si256();
    __m256i l, h, t0l, t0h, t1l, t1h, t2l, t2h, t3l, t3h, s, d;
    __m256i t10l, t10h, t11l, t11h, t12l, t12h, t13l, t13h;
    __m256i z3l, z3h, z4l, z4h, o0l, o0h, o1l, o1h, o2l, o2h, o3l, o3h;

    /* even part: tmp3 = in2 * (0.541 + 0.765) + in6 * 0.541,
     * tmp2 = in2 * 0.541 + in6 * (0.541 - 1.847), tmp0/1 = (in0 +- in4) << 13 */
    l = _mm256_unpacklo_epi16(x[2], x[6]);
    h = _mm256_unpackhi_epi16(x[2], x[6]);
    t3l = _mm256_madd_epi16(l, PAIR(F_0_541 + F_0_765, F_0_541));
    t3h = _mm256_madd_epi16(h, PAIR(F_0_541 + F_0_765, F_0_541));
    t2l = _mm256_madd_epi16(l, PAIR(F_0_541, F_0_541 - F_1_847));
    t2h = _mm256_madd_epi16(h, PAIR(F_0_541, F_0_541 - F_1_847));
    s = _mm256_add_epi16(x[0], x[4]);
    d = _mm256_sub_epi16(x[0], x[4]);
    /* int16 in the high half of a 32-bit lane, shifted right by 3: value << 13;
     * the rounding constant of the descale goes in here */
    t0l = _mm256_add_epi32(_mm256_srai_epi32(_mm256_unpacklo_epi16(zero, s), 16 - CONST_BITS), rnd);
    t0h = _mm256_add_epi32(_mm256_srai_epi32(_mm256_unpackhi_epi16(zero, s), 16 - CONST_BITS), rnd);
    t1l = _mm256_add_epi32(_mm256_srai_epi32(_mm256_unpacklo_epi16(zero, d), 16 - CONST_BITS), rnd);
    t1h = _mm256_add_epi32(_mm256_srai_epi32(_mm256_unpackhi_epi16(zero, d), 16 - CONST_BITS), rnd);
    t10l = _mm256_add_epi32(t0l, t3l);
    t10h = _mm256_add_epi32(t0h, t3h);
    t13l = _mm256_sub_epi32(t0l, t3l);
    t13h = _mm256_sub_epi32(t0h, t3h);
    t11l = _mm256_add_epi32(t1l, t2l);
    t11h = _mm256_add_epi32(t1h, t2h);
    t12l = _mm256_sub_epi32(t1l, t2l);
    t12h = _mm256_sub_epi32(t1h, t2h);

    /* odd part: z3 = in7 + in3, z4 = in5 + in1 in 16 bits */
    s = _mm256_add_epi16(x[7], x[3]);
    d = _mm256_add_epi16(x[5], x[1]);
    l = _mm256_unpacklo_epi16(s, d);
    h = _mm256_unpackhi_epi16(s, d);
    z3l = _mm256_madd_epi16(l, PAIR(F_1_175 - F_1_961, F_1_175));
    z3h = _mm256_madd_epi16(h, PAIR(F_1_175 - F_1_961, F_1_175));
    z4l = _mm256_madd_epi16(l, PAIR(F_1_175, F_1_175 - F_0_390));
    z4h = _mm256_madd_epi16(h, PAIR(F_1_175, F_1_175 - F_0_390));
    l = _mm256_unpacklo_epi16(x[7], x[1]);
    h = _mm256_unpackhi_epi16(x[7], x[1]);
    o0l = _mm256_add_epi32(_mm256_madd_epi16(l, PAIR(F_0_298 - F_0_899, -F_0_899)), z3l);
    o0h = _mm256_add_epi32(_mm256_madd_epi16(h, PAIR(F_0_298 - F_0_899, -F_0_899)), z3h);
    o3l = _mm256_add_epi32(_mm256_madd_epi16(l, PAIR(-F_0_899, F_1_501 - F_0_899)), z4l);
    o3h = _mm256_add_epi32(_mm256_madd_epi16(h, PAIR(-F_0_899, F_1_501 - F_0_899)), z4h);
    l = _mm256_unpacklo_epi16(x[5], x[3]);
    h = _mm256_unpackhi_epi16(x[5], x[3]);
    o1l = _mm256_add_epi32(_mm256_madd_epi16(l, PAIR(F_2_053 - F_2_562, -F_2_562)), z4l);
    o1h = _mm256_add_epi32(_mm256_madd_epi16(h, PAIR(F_2_053 - F_2_562, -F_2_562)), z4h);
    o2l = _mm256_add_epi32(_mm256_madd_epi16(l, PAIR(-F_2_562, F_3_072 - F_2_562)), z3l);
    o2h = _mm256_add_epi32(_mm256_madd_epi16(h, PAIR(-F_2_562, F_3_072 - F_2_562)), z3h);

#define OUT(a, op, b)                                                                            \
    _mm256_packs_epi32(_mm256_srai_epi32(op(a##l, b##l), descale), _mm256_srai_epi32(op(a##h, b##h), descale))
    x[0] = OUT(t10, _mm256_add_epi32, o3);
    x[7] = OUT(t10, _mm256_sub_epi32, o3);
    x[1] = OUT(t11, _mm256_add_epi32, o2);
    x[6] = OUT(t11, _mm256_sub_epi32, o2);
    x[2] = OUT(t12, _mm256_add_epi32, o1);
    x[5] = OUT(t12, _mm256_sub_epi32, o1);
    x[3] = OUT(t13, _mm256_add_epi32, o0);
    x[4] = OUT(t13, _mm256_sub_epi32, o0);
#undef OUT
}

/* 8x8 transpose of int16 lanes within each 128-bit half (both blocks at once). */
FDJ_AVX2 static inline void transpose16(__m256i r[8])
{
    __m256i t0 = _mm256_unpacklo_epi16(r[0], r[1]), t1 = _mm256_unpackhi_epi16(r[0], r[1]);
    __m256i t2 = _mm256_unpacklo_epi16(r[2], r[3]), t3 = _mm256_unpackhi_epi16(r[2], r[3]);
    __m256i t4 = _mm256_unpacklo_epi16(r[4], r[5]), t5 = _mm256_unpackhi_epi16(r[4], r[5]);
    __m256i t6 = _mm256_unpacklo_epi16(r[6], r[7]), t7 = _mm256_unpackhi_epi16(r[6], r[7]);
    __m256i u0 = _mm256_unpacklo_epi32(t0, t2), u1 = _mm256_unpackhi_epi32(t0, t2);
    __m256i u2 = _mm256_unpacklo_epi32(t1, t3), u3 = _mm256_unpackhi_epi32(t1, t3);
    __m256i u4 = _mm256_unpacklo_epi32(t4, t6), u5 = _mm256_unpackhi_epi32(t4, t6);
    __m256i u6 = _mm256_unpacklo_epi32(t5, t7), u7 = _mm256_unpackhi_epi32(t5, t7);
    r[0] = _mm256_unpacklo_epi64(u0, u4);
    r[1] = _mm256_unpackhi_epi64(u0, u4);
    r[2] = _mm256_unpacklo_epi64(u1, u5);
    r[3] = _mm256_unpackhi_epi64(u1, u5);
    r[4] = _mm256_unpacklo_epi64(u2, u6);
    r[5] = _mm256_unpackhi_epi64(u2, u6);
    r[6] = _mm256_unpacklo_epi64(u3, u7);
    r[7] = _mm256_unpackhi_epi64(u3, u7);
}

/* Second pass input x[k] = workspace column k (lane j: row j): pass 2, then
 * pixels, transposed back to rows: r[i] = rows 2i, 2i+1 of block a (low half)
 * and of block b (high half), 8 bytes each. */
FDJ_AVX2 static inline void pass2_pixels(__m256i x[8], __m256i r[4])
{
    const __m256i pairs = _mm256_setr_epi8(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15,
                                           0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
    const __m256i center = _mm256_set1_epi8((char)0x80);
    __m256i w01, w23, w45, w67, a0, a1, b0, b1;
    pass16(x, CONST_BITS + PASS1_BITS + 3);
    /* -128..127 (saturating), + 128; w = per row (lane j) the byte pair of two columns */
    w01 = _mm256_shuffle_epi8(_mm256_xor_si256(_mm256_packs_epi16(x[0], x[1]), center), pairs);
    w23 = _mm256_shuffle_epi8(_mm256_xor_si256(_mm256_packs_epi16(x[2], x[3]), center), pairs);
    w45 = _mm256_shuffle_epi8(_mm256_xor_si256(_mm256_packs_epi16(x[4], x[5]), center), pairs);
    w67 = _mm256_shuffle_epi8(_mm256_xor_si256(_mm256_packs_epi16(x[6], x[7]), center), pairs);
    a0 = _mm256_unpacklo_epi16(w01, w23); /* rows 0..3, columns 0..3 */
    a1 = _mm256_unpackhi_epi16(w01, w23); /* rows 4..7, columns 0..3 */
    b0 = _mm256_unpacklo_epi16(w45, w67); /* rows 0..3, columns 4..7 */
    b1 = _mm256_unpackhi_epi16(w45, w67);
    r[0] = _mm256_unpacklo_epi32(a0, b0);
    r[1] = _mm256_unpackhi_epi32(a0, b0);
    r[2] = _mm256_unpacklo_epi32(a1, b1);
    r[3] = _mm256_unpackhi_epi32(a1, b1);
}

/* Block a at out, block b at out + 8. */
FDJ_AVX2 static inline void store_pair(const __m256i r[4], uint8_t *out, ptrdiff_t stride)
{
    int i;
    for (i = 0; i < 4; i++) {
        __m256i p = _mm256_permute4x64_epi64(r[i], 0xD8); /* a row 2i, b row 2i | a, b row 2i+1 */
        _mm_storeu_si128((__m128i *)(void *)(out + 2 * i * stride), _mm256_castsi256_si128(p));
        _mm_storeu_si128((__m128i *)(void *)(out + (2 * i + 1) * stride), _mm256_extracti128_si256(p, 1));
    }
}

/* Block a only. */
FDJ_AVX2 static inline void store_a(const __m256i r[4], uint8_t *out, ptrdiff_t stride)
{
    int i;
    for (i = 0; i < 4; i++) {
        __m128i p = _mm256_castsi256_si128(r[i]);
        _mm_storel_epi64((__m128i *)(void *)(out + 2 * i * stride), p);
        _mm_storeh_pd((double *)(void *)(out + (2 * i + 1) * stride), _mm_castsi128_pd(p));
    }
}

static const int16_t zero_block[64] = {0};

/* Both blocks DC only: every pixel of a block is sat8(((w << 13) + 2^17) >> 18)
 * + 128 with w its (c * q) << 2 (pass 2 of a row (w, 0, ..., 0)), computed as
 * ((w >> 4) + 1) >> 1, which cannot wrap; w in word 0 of each half. */
FDJ_AVX2 static inline void dc_fill(__m256i w, uint8_t *out, ptrdiff_t stride, int pair)
{
    __m256i v = _mm256_srai_epi16(_mm256_add_epi16(_mm256_srai_epi16(w, 4), _mm256_set1_epi16(1)), 1);
    __m256i p = _mm256_xor_si256(_mm256_packs_epi16(v, v), _mm256_set1_epi8((char)0x80));
    __m256i all = _mm256_shuffle_epi8(p, _mm256_setzero_si256()); /* byte 0 of each half everywhere */
    __m128i row = _mm_unpacklo_epi64(_mm256_castsi256_si128(all), _mm256_extracti128_si256(all, 1));
    int i;
    if (pair) {
        for (i = 0; i < 8; i++)
            _mm_storeu_si128((__m128i *)(void *)(out + i * stride), row);
    } else {
        for (i = 0; i < 8; i++)
            _mm_storel_epi64((__m128i *)(void *)(out + i * stride), row);
    }
}

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
        dc_fill(shortcut, out, stride, b != NULL);
        return;
    }
    if (rz == 0xFFFFFFFFu) {
        for (i = 0; i < 8; i++)
            x[i] = shortcut;
    } else {
        for (i = 1; i < 8; i++)
            x[i] = _mm256_mullo_epi16(c[i], qv[i]);
        pass16(x, CONST_BITS - PASS1_BITS);
        if ((rz & 0xFFFFu) == 0xFFFFu || (rz >> 16) == 0xFFFFu) {
            /* one block takes the shortcut: (c * q) << 2 in every row, wrapping in 16 bits */
            __m256i m = _mm256_setr_m128i(_mm_set1_epi32((rz & 0xFFFFu) == 0xFFFFu ? -1 : 0),
                                          _mm_set1_epi32((rz >> 16) == 0xFFFFu ? -1 : 0));
            for (i = 0; i < 8; i++)
                x[i] = _mm256_blendv_epi8(x[i], shortcut, m);
        }
    }
    transpose16(x);
    pass2_pixels(x, r);
    if (b)
        store_pair(r, out, stride);
    else
        store_a(r, out, stride);
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

/* Which of the two blocks in x (int16, saturated from int32) have
 * |dc| + 2 sum|ac| <= 4080 (bit 0: a, bit 1: b). */
FDJ_AVX2 static inline int exact_mask(const __m256i x[8])
{
    const __m256i cap = _mm256_set1_epi16(8192);
    __m256i ac = _mm256_abs_epi16(x[1]), dc, sum;
    int i, bad;
    for (i = 2; i < 8; i++)
        ac = _mm256_adds_epu16(ac, _mm256_abs_epi16(x[i])); /* |-32768| = 32768 unsigned */
    ac = _mm256_min_epu16(ac, cap);
    dc = _mm256_min_epu16(_mm256_abs_epi16(x[0]), cap);
    /* 2 * column sums of rows 1..7, row 0 weighted (1, 2, 2, ..., 2) */
    sum = _mm256_add_epi32(_mm256_madd_epi16(ac, _mm256_set1_epi16(2)),
                           _mm256_madd_epi16(dc, _mm256_setr_epi16(1, 2, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 2)));
    sum = _mm256_add_epi32(sum, _mm256_shuffle_epi32(sum, 0x4E));
    sum = _mm256_add_epi32(sum, _mm256_shuffle_epi32(sum, 0xB1));
    bad = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(sum, _mm256_set1_epi32(4080))));
    return ((bad & 0x0F) ? 0 : 1) | ((bad & 0xF0) ? 0 : 2);
}

/* x: two blocks in int16 lanes; pixels of both written; returns exact_mask. */
FDJ_AVX2 static inline int exact_pair(__m256i x[8], uint8_t *out, ptrdiff_t stride, int pair)
{
    __m256i r[4];
    int ok = exact_mask(x);
    if (!(ok & 1) && (!pair || !(ok & 2)))
        return 0;
    pass16(x, CONST_BITS - PASS1_BITS); /* no shortcut needed: |dc << 2| fits in 16 bits here */
    transpose16(x);
    pass2_pixels(x, r);
    if (pair)
        store_pair(r, out, stride);
    else
        store_a(r, out, stride);
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

/* Two blocks' requantized values into x (both blocks, int16); the blocks whose
 * every product c * q fits in int16 and every n = |c * q| + T/2 is below 2^15
 * (then floor(n / T) is exact by the table's 16-bit constants, fdj_simd.h)
 * come back in the result (bit 0: a, bit 1: b). */
FDJ_AVX2 static inline int requant16(const __m256i c[8], const __m256i qv[8],
                                     const fdj_requant_table *rt, __m256i x[8])
{
#define RT(field, i) _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(rt->field + 8 * (i))))
    __m256i exact = _mm256_set1_epi16(-1), big = _mm256_setzero_si256();
    unsigned m;
    int i;
    for (i = 0; i < 8; i++) {
        __m256i d, n, xq, quo;
        if (_mm256_testz_si256(c[i], c[i])) { /* zero rows are common: they stay zero */
            x[i] = _mm256_setzero_si256();
            continue;
        }
        d = _mm256_mullo_epi16(c[i], qv[i]);
        exact = _mm256_and_si256(exact, _mm256_cmpeq_epi16(_mm256_mulhi_epi16(c[i], qv[i]),
                                                           _mm256_srai_epi16(d, 15)));
        n = _mm256_add_epi16(_mm256_abs_epi16(d), RT(half16, i)); /* <= 0xFFFF: no wrap */
        big = _mm256_or_si256(big, n);
        xq = _mm256_mulhi_epu16(n, RT(magic16, i));
        quo = _mm256_or_si256(_mm256_mulhi_epu16(xq, RT(post16, i)),
                              _mm256_or_si256(_mm256_and_si256(xq, RT(keepx16, i)),
                                              _mm256_and_si256(n, RT(keepn16, i))));
        /* T * quotient <= n < 2^15; negated for d < 0, zero for d == 0 */
        x[i] = _mm256_sign_epi16(_mm256_mullo_epi16(quo, RT(t16, i)), d);
    }
#undef RT
    /* a lane is bad where c * q wrapped or n has its sign bit (bit 7 of a word's high byte) */
    m = ~(unsigned)_mm256_movemask_epi8(exact) | ((unsigned)_mm256_movemask_epi8(big) & 0xAAAAAAAAu);
    return ((m & 0xFFFFu) ? 0 : 1) | ((m >> 16) ? 0 : 2);
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
    ok = requant16(c, qv, rt, x);
    if (!b)
        ok &= 1;
    if (!ok)
        return 0;
    ok &= exact_mask(x);
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
        dc_fill(_mm256_slli_epi16(x[0], PASS1_BITS), out, stride, b != NULL);
        return ok;
    }
    if (rz == 0xFFFFFFFFu) {
        __m256i s = _mm256_slli_epi16(x[0], PASS1_BITS);
        for (i = 0; i < 8; i++)
            x[i] = s;
    } else {
        pass16(x, CONST_BITS - PASS1_BITS);
    }
    transpose16(x);
    pass2_pixels(x, r);
    if (b)
        store_pair(r, out, stride);
    else
        store_a(r, out, stride);
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

#endif /* FDJ_X86_SIMD */
