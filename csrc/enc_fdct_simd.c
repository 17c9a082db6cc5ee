/*
 * enc_fdct_simd.c -- AVX2 siblings of the ISLOW forward DCT (T.81 A.3.3; one
 * block, or two side by side in 16-bit lanes) and of the quantizer (A.3.4);
 * scalar references in enc_fdct.c, chosen in fdj_simd.c.
 *
 * Same int32 expressions as the scalar code, eight rows (then eight columns)
 * per instruction.  The input is 8-bit samples, so every intermediate stays
 * far inside int32 and the result equals the scalar FDCT for every block.
 */
#include "enc_internal.h"

#ifdef FDJ_X86_SIMD
#include "fdj_fdct16_x86.h"
#include "fdj_idct16_x86.h"
#endif

#include "fdj_islow.h"

#ifdef FDJ_X86_SIMD

#define MUL(a, c) _mm256_mullo_epi32((a), _mm256_set1_epi32(c))
#define ADD _mm256_add_epi32
#define SUB _mm256_sub_epi32
#define DESCALE(x, n) _mm256_srai_epi32(ADD((x), _mm256_set1_epi32(1 << ((n)-1))), (n))

/* One 1-D pass of jfdctint.c over x[0..7] (lanes independent).  Pass 1
 * scales the DC/4 terms up by PASS1_BITS; pass 2 descales them. */
FDJ_AVX2 static inline void fdct_pass(__m256i x[8], int pass2)
{
    const int shift = pass2 ? CONST_BITS + PASS1_BITS : CONST_BITS - PASS1_BITS;
    __m256i tmp0 = ADD(x[0], x[7]), tmp7 = SUB(x[0], x[7]);
    __m256i tmp1 = ADD(x[1], x[6]), tmp6 = SUB(x[1], x[6]);
    __m256i tmp2 = ADD(x[2], x[5]), tmp5 = SUB(x[2], x[5]);
    __m256i tmp3 = ADD(x[3], x[4]), tmp4 = SUB(x[3], x[4]);
    __m256i tmp10 = ADD(tmp0, tmp3), tmp13 = SUB(tmp0, tmp3);
    __m256i tmp11 = ADD(tmp1, tmp2), tmp12 = SUB(tmp1, tmp2);
    __m256i z1, z2, z3, z4, z5;
    if (pass2) {
        x[0] = DESCALE(ADD(tmp10, tmp11), PASS1_BITS);
        x[4] = DESCALE(SUB(tmp10, tmp11), PASS1_BITS);
    } else {
        x[0] = _mm256_slli_epi32(ADD(tmp10, tmp11), PASS1_BITS);
        x[4] = _mm256_slli_epi32(SUB(tmp10, tmp11), PASS1_BITS);
    }
    z1 = MUL(ADD(tmp12, tmp13), 4433);             /* FIX_0_541196100 */
    if (pass2) {
        x[2] = DESCALE(ADD(z1, MUL(tmp13, 6270)), CONST_BITS + PASS1_BITS);
        x[6] = DESCALE(SUB(z1, MUL(tmp12, 15137)), CONST_BITS + PASS1_BITS);
    } else {
        x[2] = DESCALE(ADD(z1, MUL(tmp13, 6270)), CONST_BITS - PASS1_BITS);
        x[6] = DESCALE(SUB(z1, MUL(tmp12, 15137)), CONST_BITS - PASS1_BITS);
    }
    z1 = ADD(tmp4, tmp7);
    z2 = ADD(tmp5, tmp6);
    z3 = ADD(tmp4, tmp6);
    z4 = ADD(tmp5, tmp7);
    z5 = MUL(ADD(z3, z4), 9633);                   /* FIX_1_175875602 */
    tmp4 = MUL(tmp4, 2446);                        /* FIX_0_298631336 */
    tmp5 = MUL(tmp5, 16819);                       /* FIX_2_053119869 */
    tmp6 = MUL(tmp6, 25172);                       /* FIX_3_072711026 */
    tmp7 = MUL(tmp7, 12299);                       /* FIX_1_501321110 */
    z1 = MUL(z1, -7373);                           /* -FIX_0_899976223 */
    z2 = MUL(z2, -20995);                          /* -FIX_2_562915447 */
    z3 = ADD(MUL(z3, -16069), z5);                 /* -FIX_1_961570560 */
    z4 = ADD(MUL(z4, -3196), z5);                  /* -FIX_0_390180644 */
    {
        const __m256i round = _mm256_set1_epi32(1 << (shift - 1));
        x[7] = _mm256_srai_epi32(ADD(ADD(ADD(tmp4, z1), z3), round), shift);
        x[5] = _mm256_srai_epi32(ADD(ADD(ADD(tmp5, z2), z4), round), shift);
        x[3] = _mm256_srai_epi32(ADD(ADD(ADD(tmp6, z2), z3), round), shift);
        x[1] = _mm256_srai_epi32(ADD(ADD(ADD(tmp7, z1), z4), round), shift);
    }
}

FDJ_AVX2 void fdj_fdct_islow_avx2(const uint8_t *in, ptrdiff_t stride, int32_t out[64])
{
    const __m256i center = _mm256_set1_epi32(128);
    __m256i x[8];
    int i;
    for (i = 0; i < 8; i++) {
        __m128i row = _mm_loadl_epi64((const __m128i *)(const void *)(in + i * stride));
        x[i] = _mm256_sub_epi32(_mm256_cvtepu8_epi32(row), center);
    }
    /* pass 1 along rows: make x[k] = column k (lanes = rows) */
    fdj_transpose8x32(x);
    fdct_pass(x, 0);
    /* x[k] = coefficient column k per row; pass 2 along columns */
    fdj_transpose8x32(x);
    fdct_pass(x, 1);
    for (i = 0; i < 8; i++)
        _mm256_storeu_si256((__m256i *)(void *)(out + 8 * i), x[i]);
}




FDJ_AVX2 void fdj_fdct_islow2_avx2(const uint8_t *a, const uint8_t *b, ptrdiff_t stride,
                                     int32_t outa[64], int32_t outb[64])
{
    const __m256i center = _mm256_set1_epi16(128);
    __m256i x[8];
    int i;
    for (i = 0; i < 8; i++) {
        __m128i rows = _mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)(const void *)(a + i * stride)),
                                          _mm_loadl_epi64((const __m128i *)(const void *)(b + i * stride)));
        /* lanes 0..7: row i of a, lanes 8..15: row i of b (one per 128-bit half) */
        x[i] = _mm256_sub_epi16(_mm256_cvtepu8_epi16(rows), center);
    }
    fdj_transpose8x16(x); /* x[k] = column k: pass 1 runs along rows */
    fdj_fdct16_pass(x, 0);
    fdj_transpose8x16(x); /* x[k] = row k: pass 2 runs along columns */
    fdj_fdct16_pass(x, 1);
    for (i = 0; i < 8; i++) {
        _mm256_storeu_si256((__m256i *)(void *)(outa + 8 * i), _mm256_cvtepi16_epi32(_mm256_castsi256_si128(x[i])));
        _mm256_storeu_si256((__m256i *)(void *)(outb + 8 * i), _mm256_cvtepi16_epi32(_mm256_extracti128_si256(x[i], 1)));
    }
}


/* Purify two blocks side by side (a's pixels at out, b's at out + 8): the
 * 16-bit FDCT above, quantize and dequantize in 16-bit lanes with pc's
 * constants (fdj_simd.h: the encoder's float quantizer's results, exactly),
 * and the ISLOW IDCT in 16-bit lanes (fdj_idct16_x86.h), all in registers.
 * Equal to fdj_fdct_islow -> fdj_quantize_dequantize -> fdj_idct_islow for
 * the blocks in the result (bit 0: a, bit 1: b: those within the 16-bit
 * IDCT's exactness bound, every block of real images); the caller runs those
 * kernels for the others (their pixels may have been written). */
FDJ_AVX2 int fdj_purify2_avx2(const uint8_t *a, const uint8_t *b, ptrdiff_t stride,
                              const fdj_purify_consts *pc, uint8_t *out, ptrdiff_t out_stride)
{
#define PQ(field, i) _mm256_loadu_si256((const __m256i *)(const void *)pc->v[field][i])
    const __m256i center = _mm256_set1_epi16(128), zero = _mm256_setzero_si256();
    __m256i x[8], r[4], rows, ac;
    unsigned rz, dc_only;
    int i, ok;
    for (i = 0; i < 8; i++) {
        __m128i rw = _mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)(const void *)(a + i * stride)),
                                        _mm_loadl_epi64((const __m128i *)(const void *)(b + i * stride)));
        x[i] = _mm256_sub_epi16(_mm256_cvtepu8_epi16(rw), center);
    }
    fdj_transpose8x16(x);
    fdj_fdct16_pass(x, 0);
    fdj_transpose8x16(x);
    fdj_fdct16_pass(x, 1); /* x[k] = coefficient row k of a (low half) and b (high half), |x| < 2^13 */
    for (i = 0; i < 8; i++) {
        /* n = |x| + 4T < 2^15; quotient = n / 8T; signed, times T (|q * T| <= |x| / 8 + T) */
        __m256i n = _mm256_add_epi16(_mm256_abs_epi16(x[i]), PQ(FDJ_PQ_BIAS, i));
        __m256i quo = _mm256_mulhi_epu16(_mm256_mulhi_epu16(n, PQ(FDJ_PQ_MAGIC, i)), PQ(FDJ_PQ_POST, i));
        x[i] = _mm256_mullo_epi16(_mm256_sign_epi16(quo, x[i]), PQ(FDJ_PQ_T, i));
    }
#undef PQ
    ok = fdj_idct16_exact_mask(x);
    if (!ok)
        return 0;
    rows = _mm256_or_si256(_mm256_or_si256(_mm256_or_si256(x[1], x[2]), _mm256_or_si256(x[3], x[4])),
                           _mm256_or_si256(_mm256_or_si256(x[5], x[6]), x[7]));
    ac = _mm256_or_si256(rows, _mm256_blend_epi16(x[0], zero, 0x01));
    rz = (unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi16(rows, zero));
    dc_only = (unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi16(ac, zero));
    /* within the bound both shortcuts equal the full transform (fdj_idct16_x86.h) */
    if (dc_only == 0xFFFFFFFFu) {
        fdj_idct16_dc_fill(_mm256_slli_epi16(x[0], PASS1_BITS), out, out_stride, 1);
        return ok;
    }
    if (rz == 0xFFFFFFFFu) {
        __m256i sc = _mm256_slli_epi16(x[0], PASS1_BITS);
        for (i = 0; i < 8; i++)
            x[i] = sc;
    } else {
        fdj_idct16_pass(x, CONST_BITS - PASS1_BITS);
    }
    fdj_transpose8x16(x);
    fdj_idct16_pixels(x, r);
    fdj_store8x8_pair(r, out, out_stride);
    return ok;
}

/* The same float operations eight lanes at a time: |x|, + bias, * inv,
 * truncate, sign of x (q is 0 whenever x is). */
FDJ_AVX2 static inline __m256i quantize8(const int32_t *dct, const fdj_divisors *d, int i)
{
    __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(dct + i));
    __m256 a = _mm256_cvtepi32_ps(_mm256_abs_epi32(x));
    __m256 f = _mm256_mul_ps(_mm256_add_ps(a, _mm256_loadu_ps(d->bias + i)), _mm256_loadu_ps(d->inv + i));
    return _mm256_sign_epi32(_mm256_cvttps_epi32(f), x);
}

/* Shuffles that gather zigzag runs of 16 from pairs of natural rows: output
 * vector o (zigzag 16o..16o+15, its 128-bit halves 8 each) is the OR of the
 * listed pairs' shuffles, R = (row 2p | row 2p+1), S = the same lane-swapped
 * (generated from T.81 Figure A.6). */
static const int8_t zz_shuffle2[24][32] = {
    {0, 1, 2, 3, -1, -1, -1, -1, -1, -1, 4, 5, 6, 7, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 6, 7, -1, -1, -1, -1}, /* out 0 from R01 */
    {-1, -1, -1, -1, 0, 1, -1, -1, 2, 3, -1, -1, -1, -1, 4, 5, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 8, 9, 10, 11}, /* out 0 from S01 */
    {-1, -1, -1, -1, -1, -1, 0, 1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 1, -1, -1, 2, 3, -1, -1, -1, -1, -1, -1, -1, -1}, /* out 0 from R23 */
    {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 2, 3, -1, -1, -1, -1, -1, -1, 4, 5, -1, -1, -1, -1, -1, -1}, /* out 0 from S23 */
    {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1}, /* out 0 from S45 */
    {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 10, 11, -1, -1, -1, -1, 12, 13, -1, -1, -1, -1}, /* out 1 from R01 */
    {8, 9, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1}, /* out 1 from S01 */
    {-1, -1, 6, 7, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 6, 7, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 8, 9}, /* out 1 from R23 */
    {-1, -1, -1, -1, 4, 5, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 8, 9, -1, -1, -1, -1, -1, -1, -1, -1, 10, 11, -1, -1}, /* out 1 from S23 */
    {-1, -1, -1, -1, -1, -1, 2, 3, -1, -1, -1, -1, -1, -1, 4, 5, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1}, /* out 1 from R45 */
    {-1, -1, -1, -1, -1, -1, -1, -1, 0, 1, -1, -1, 2, 3, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1}, /* out 1 from S45 */
    {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1}, /* out 1 from R67 */
    {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1}, /* out 2 from R01 */
    {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 10, 11, -1, -1, -1, -1, -1, -1, 12, 13, -1, -1, -1, -1, -1, -1}, /* out 2 from R23 */
    {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 12, 13, -1, -1, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1}, /* out 2 from S23 */
    {6, 7, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 8, 9, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 8, 9, -1, -1}, /* out 2 from R45 */
    {-1, -1, 4, 5, -1, -1, -1, -1, -1, -1, -1, -1, 6, 7, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 10, 11, -1, -1, -1, -1}, /* out 2 from S45 */
    {-1, -1, -1, -1, 2, 3, -1, -1, -1, -1, 4, 5, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1}, /* out 2 from R67 */
    {-1, -1, -1, -1, -1, -1, 0, 1, 2, 3, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 6, 7}, /* out 2 from S67 */
    {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1}, /* out 3 from S23 */
    {-1, -1, -1, -1, -1, -1, -1, -1, 12, 13, -1, -1, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 14, 15, -1, -1, -1, -1, -1, -1}, /* out 3 from R45 */
    {-1, -1, -1, -1, -1, -1, 10, 11, -1, -1, -1, -1, -1, -1, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1}, /* out 3 from S45 */
    {-1, -1, -1, -1, 8, 9, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 8, 9, 10, 11, -1, -1, -1, -1, -1, -1, 12, 13, 14, 15}, /* out 3 from R67 */
    {4, 5, 6, 7, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 10, 11, -1, -1, -1, -1, 12, 13, -1, -1, 14, 15, -1, -1, -1, -1}, /* out 3 from S67 */
};
#define Z(i) _mm256_loadu_si256((const __m256i *)(const void *)zz_shuffle2[i])

FDJ_AVX2 void fdj_quantize_avx2(const int32_t dct[64], const fdj_divisors *d, int16_t out[64])
{
    __m256i r[4], s[4];
    int p;
    for (p = 0; p < 4; p++) {
        /* rows 2p and 2p+1 as int16: (row 2p | row 2p+1), and swapped */
        __m256i q = _mm256_packs_epi32(quantize8(dct, d, 16 * p), quantize8(dct, d, 16 * p + 8));
        r[p] = _mm256_permute4x64_epi64(q, 0xD8);
        s[p] = _mm256_permute4x64_epi64(q, 0x8D);
    }
    _mm256_storeu_si256((__m256i *)(void *)(out + 0),
                        _mm256_or_si256(_mm256_or_si256(_mm256_or_si256(_mm256_or_si256(_mm256_shuffle_epi8(r[0], Z(0)), _mm256_shuffle_epi8(s[0], Z(1))), _mm256_shuffle_epi8(r[1], Z(2))), _mm256_shuffle_epi8(s[1], Z(3))), _mm256_shuffle_epi8(s[2], Z(4))));
    _mm256_storeu_si256((__m256i *)(void *)(out + 16),
                        _mm256_or_si256(_mm256_or_si256(_mm256_or_si256(_mm256_or_si256(_mm256_or_si256(_mm256_or_si256(_mm256_shuffle_epi8(r[0], Z(5)), _mm256_shuffle_epi8(s[0], Z(6))), _mm256_shuffle_epi8(r[1], Z(7))), _mm256_shuffle_epi8(s[1], Z(8))), _mm256_shuffle_epi8(r[2], Z(9))), _mm256_shuffle_epi8(s[2], Z(10))), _mm256_shuffle_epi8(r[3], Z(11))));
    _mm256_storeu_si256((__m256i *)(void *)(out + 32),
                        _mm256_or_si256(_mm256_or_si256(_mm256_or_si256(_mm256_or_si256(_mm256_or_si256(_mm256_or_si256(_mm256_shuffle_epi8(r[0], Z(12)), _mm256_shuffle_epi8(r[1], Z(13))), _mm256_shuffle_epi8(s[1], Z(14))), _mm256_shuffle_epi8(r[2], Z(15))), _mm256_shuffle_epi8(s[2], Z(16))), _mm256_shuffle_epi8(r[3], Z(17))), _mm256_shuffle_epi8(s[3], Z(18))));
    _mm256_storeu_si256((__m256i *)(void *)(out + 48),
                        _mm256_or_si256(_mm256_or_si256(_mm256_or_si256(_mm256_or_si256(_mm256_shuffle_epi8(s[1], Z(19)), _mm256_shuffle_epi8(r[2], Z(20))), _mm256_shuffle_epi8(s[2], Z(21))), _mm256_shuffle_epi8(r[3], Z(22))), _mm256_shuffle_epi8(s[3], Z(23))));
}
#undef Z

FDJ_AVX2 void fdj_quantize_dequantize_avx2(const int32_t dct[64], const fdj_divisors *d,
                                           int32_t out[64])
{
    int i;
    for (i = 0; i < 64; i += 8) {
        __m256i q = quantize8(dct, d, i);
        __m256i t = _mm256_loadu_si256((const __m256i *)(const void *)(d->q + i));
        _mm256_storeu_si256((__m256i *)(void *)(out + i), _mm256_mullo_epi32(q, t));
    }
}

#endif /* FDJ_X86_SIMD */
