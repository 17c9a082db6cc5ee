/*
 * fdj_idct16_x86.h -- the ISLOW inverse DCT in 16-bit lanes, two blocks per
 * ymm register (block a in the low 128-bit half, block b in the high half),
 * with libjpeg-turbo's AVX2 arithmetic (jidctint-avx2.asm, modelled in scalar
 * C by dec_idct_emul.c).  Shared by the decoder's kernels (dec_idct16_simd.c,
 * which explains the arithmetic and the exactness bound) and purify's fused
 * kernel (enc_fdct_simd.c).  Include only inside #ifdef FDJ_X86_SIMD.
 */
#ifndef FDJ_IDCT16_X86_H
#define FDJ_IDCT16_X86_H

#include "fdj_islow.h"
#include "fdj_simd_x86.h"

/* (lo, hi) int16 constant pair in each 32-bit lane: madd(unpack(x, y), FDJ_PAIR16(a, b)) = x*a + y*b */
#define FDJ_PAIR16(a, b) _mm256_set1_epi32((int32_t)(((uint32_t)(uint16_t)(int16_t)(b) << 16) | (uint16_t)(int16_t)(a)))

/* One 8-point pass over x[0..7] (x[k] = input k, 16 independent int16 lanes),
 * results descaled by `descale` and saturated to int16, in x. */
FDJ_AVX2 static inline void fdj_idct16_pass(__m256i x[8], int descale)
{
    const __m256i rnd = _mm256_set1_epi32(1 << (descale - 1)), zero = _mm256_setzero_si256();
    __m256i l, h, t0l, t0h, t1l, t1h, t2l, t2h, t3l, t3h, s, d;
    __m256i t10l, t10h, t11l, t11h, t12l, t12h, t13l, t13h;
    __m256i z3l, z3h, z4l, z4h, o0l, o0h, o1l, o1h, o2l, o2h, o3l, o3h;

    /* even part: tmp3 = in2 * (0.541 + 0.765) + in6 * 0.541,
     * tmp2 = in2 * 0.541 + in6 * (0.541 - 1.847), tmp0/1 = (in0 +- in4) << 13 */
    l = _mm256_unpacklo_epi16(x[2], x[6]);
    h = _mm256_unpackhi_epi16(x[2], x[6]);
    t3l = _mm256_madd_epi16(l, FDJ_PAIR16(FIX_0_541196100 + FIX_0_765366865, FIX_0_541196100));
    t3h = _mm256_madd_epi16(h, FDJ_PAIR16(FIX_0_541196100 + FIX_0_765366865, FIX_0_541196100));
    t2l = _mm256_madd_epi16(l, FDJ_PAIR16(FIX_0_541196100, FIX_0_541196100 - FIX_1_847759065));
    t2h = _mm256_madd_epi16(h, FDJ_PAIR16(FIX_0_541196100, FIX_0_541196100 - FIX_1_847759065));
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
    z3l = _mm256_madd_epi16(l, FDJ_PAIR16(FIX_1_175875602 - FIX_1_961570560, FIX_1_175875602));
    z3h = _mm256_madd_epi16(h, FDJ_PAIR16(FIX_1_175875602 - FIX_1_961570560, FIX_1_175875602));
    z4l = _mm256_madd_epi16(l, FDJ_PAIR16(FIX_1_175875602, FIX_1_175875602 - FIX_0_390180644));
    z4h = _mm256_madd_epi16(h, FDJ_PAIR16(FIX_1_175875602, FIX_1_175875602 - FIX_0_390180644));
    l = _mm256_unpacklo_epi16(x[7], x[1]);
    h = _mm256_unpackhi_epi16(x[7], x[1]);
    o0l = _mm256_add_epi32(_mm256_madd_epi16(l, FDJ_PAIR16(FIX_0_298631336 - FIX_0_899976223, -FIX_0_899976223)), z3l);
    o0h = _mm256_add_epi32(_mm256_madd_epi16(h, FDJ_PAIR16(FIX_0_298631336 - FIX_0_899976223, -FIX_0_899976223)), z3h);
    o3l = _mm256_add_epi32(_mm256_madd_epi16(l, FDJ_PAIR16(-FIX_0_899976223, FIX_1_501321110 - FIX_0_899976223)), z4l);
    o3h = _mm256_add_epi32(_mm256_madd_epi16(h, FDJ_PAIR16(-FIX_0_899976223, FIX_1_501321110 - FIX_0_899976223)), z4h);
    l = _mm256_unpacklo_epi16(x[5], x[3]);
    h = _mm256_unpackhi_epi16(x[5], x[3]);
    o1l = _mm256_add_epi32(_mm256_madd_epi16(l, FDJ_PAIR16(FIX_2_053119869 - FIX_2_562915447, -FIX_2_562915447)), z4l);
    o1h = _mm256_add_epi32(_mm256_madd_epi16(h, FDJ_PAIR16(FIX_2_053119869 - FIX_2_562915447, -FIX_2_562915447)), z4h);
    o2l = _mm256_add_epi32(_mm256_madd_epi16(l, FDJ_PAIR16(-FIX_2_562915447, FIX_3_072711026 - FIX_2_562915447)), z3l);
    o2h = _mm256_add_epi32(_mm256_madd_epi16(h, FDJ_PAIR16(-FIX_2_562915447, FIX_3_072711026 - FIX_2_562915447)), z3h);

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
FDJ_AVX2 static inline void fdj_transpose8x16(__m256i r[8])
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
FDJ_AVX2 static inline void fdj_idct16_pixels(__m256i x[8], __m256i r[4])
{
    const __m256i pairs = _mm256_setr_epi8(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15,
                                           0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
    const __m256i center = _mm256_set1_epi8((char)0x80);
    __m256i w01, w23, w45, w67, a0, a1, b0, b1;
    fdj_idct16_pass(x, CONST_BITS + PASS1_BITS + 3);
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
FDJ_AVX2 static inline void fdj_store8x8_pair(const __m256i r[4], uint8_t *out, ptrdiff_t stride)
{
    int i;
    for (i = 0; i < 4; i++) {
        __m256i p = _mm256_permute4x64_epi64(r[i], 0xD8); /* a row 2i, b row 2i | a, b row 2i+1 */
        _mm_storeu_si128((__m128i *)(void *)(out + 2 * i * stride), _mm256_castsi256_si128(p));
        _mm_storeu_si128((__m128i *)(void *)(out + (2 * i + 1) * stride), _mm256_extracti128_si256(p, 1));
    }
}

/* Block a only. */
FDJ_AVX2 static inline void fdj_store8x8_a(const __m256i r[4], uint8_t *out, ptrdiff_t stride)
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
FDJ_AVX2 static inline void fdj_idct16_dc_fill(__m256i w, uint8_t *out, ptrdiff_t stride, int pair)
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

/* Which of the two blocks in x (int16, saturated from int32) have
 * |dc| + 2 sum|ac| <= 4080 (bit 0: a, bit 1: b). */
FDJ_AVX2 static inline int fdj_idct16_exact_mask(const __m256i x[8])
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

#endif /* FDJ_IDCT16_X86_H */
