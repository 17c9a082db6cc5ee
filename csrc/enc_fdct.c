/*
 * enc_fdct.c -- forward DCT (ISLOW) and quantizer.  T.81 A.3.3 (FDCT), A.3.4
 * (quantization), with libjpeg-turbo's integer arithmetic so coefficients match
 * it exactly: the Loeffler-Ligtenberg-Moschytz factorisation in 13-bit fixed
 * point with 2 extra bits between the passes (output = 8 x orthonormal DCT),
 * and division by 8*q rounded half away from zero (see fdj_divisors).
 */
#include "enc_internal.h"

#define CONST_BITS 13
#define PASS1_BITS 2

/* FIX(x) = round(x * 2^13) */
#define FIX_0_298631336 2446
#define FIX_0_390180644 3196
#define FIX_0_541196100 4433
#define FIX_0_765366865 6270
#define FIX_0_899976223 7373
#define FIX_1_175875602 9633
#define FIX_1_501321110 12299
#define FIX_1_847759065 15137
#define FIX_1_961570560 16069
#define FIX_2_053119869 16819
#define FIX_2_562915447 20995
#define FIX_3_072711026 25172

/* arithmetic right shift with rounding */
#define DESCALE(x, n) (((x) + ((int32_t)1 << ((n)-1))) >> (n))

void fdj_fdct_islow(const uint8_t *in, ptrdiff_t stride, int32_t out[64])
{
    int32_t tmp0, tmp1, tmp2, tmp3, tmp4, tmp5, tmp6, tmp7;
    int32_t tmp10, tmp11, tmp12, tmp13, z1, z2, z3, z4, z5;
    int32_t *d;
    int i;

    /* Pass 1: rows.  Level shift (-128) folded into the sums. */
    for (i = 0; i < 8; i++) {
        const uint8_t *s = in + i * stride;
        int32_t s0 = (int32_t)s[0] - 128, s1 = (int32_t)s[1] - 128, s2 = (int32_t)s[2] - 128,
                s3 = (int32_t)s[3] - 128, s4 = (int32_t)s[4] - 128, s5 = (int32_t)s[5] - 128,
                s6 = (int32_t)s[6] - 128, s7 = (int32_t)s[7] - 128;
        d = out + i * 8;
        tmp0 = s0 + s7;
        tmp7 = s0 - s7;
        tmp1 = s1 + s6;
        tmp6 = s1 - s6;
        tmp2 = s2 + s5;
        tmp5 = s2 - s5;
        tmp3 = s3 + s4;
        tmp4 = s3 - s4;

        tmp10 = tmp0 + tmp3;
        tmp13 = tmp0 - tmp3;
        tmp11 = tmp1 + tmp2;
        tmp12 = tmp1 - tmp2;
        d[0] = (tmp10 + tmp11) * (1 << PASS1_BITS);
        d[4] = (tmp10 - tmp11) * (1 << PASS1_BITS);
        z1 = (tmp12 + tmp13) * FIX_0_541196100;
        d[2] = DESCALE(z1 + tmp13 * FIX_0_765366865, CONST_BITS - PASS1_BITS);
        d[6] = DESCALE(z1 - tmp12 * FIX_1_847759065, CONST_BITS - PASS1_BITS);

        z1 = tmp4 + tmp7;
        z2 = tmp5 + tmp6;
        z3 = tmp4 + tmp6;
        z4 = tmp5 + tmp7;
        z5 = (z3 + z4) * FIX_1_175875602;
        tmp4 *= FIX_0_298631336;
        tmp5 *= FIX_2_053119869;
        tmp6 *= FIX_3_072711026;
        tmp7 *= FIX_1_501321110;
        z1 *= -FIX_0_899976223;
        z2 *= -FIX_2_562915447;
        z3 = z3 * -FIX_1_961570560 + z5;
        z4 = z4 * -FIX_0_390180644 + z5;
        d[7] = DESCALE(tmp4 + z1 + z3, CONST_BITS - PASS1_BITS);
        d[5] = DESCALE(tmp5 + z2 + z4, CONST_BITS - PASS1_BITS);
        d[3] = DESCALE(tmp6 + z2 + z3, CONST_BITS - PASS1_BITS);
        d[1] = DESCALE(tmp7 + z1 + z4, CONST_BITS - PASS1_BITS);
    }

    /* Pass 2: columns; removes PASS1_BITS, leaves the factor 8. */
    for (i = 0; i < 8; i++) {
        d = out + i;
        tmp0 = d[0] + d[56];
        tmp7 = d[0] - d[56];
        tmp1 = d[8] + d[48];
        tmp6 = d[8] - d[48];
        tmp2 = d[16] + d[40];
        tmp5 = d[16] - d[40];
        tmp3 = d[24] + d[32];
        tmp4 = d[24] - d[32];

        tmp10 = tmp0 + tmp3;
        tmp13 = tmp0 - tmp3;
        tmp11 = tmp1 + tmp2;
        tmp12 = tmp1 - tmp2;
        d[0] = DESCALE(tmp10 + tmp11, PASS1_BITS);
        d[32] = DESCALE(tmp10 - tmp11, PASS1_BITS);
        z1 = (tmp12 + tmp13) * FIX_0_541196100;
        d[16] = DESCALE(z1 + tmp13 * FIX_0_765366865, CONST_BITS + PASS1_BITS);
        d[48] = DESCALE(z1 - tmp12 * FIX_1_847759065, CONST_BITS + PASS1_BITS);

        z1 = tmp4 + tmp7;
        z2 = tmp5 + tmp6;
        z3 = tmp4 + tmp6;
        z4 = tmp5 + tmp7;
        z5 = (z3 + z4) * FIX_1_175875602;
        tmp4 *= FIX_0_298631336;
        tmp5 *= FIX_2_053119869;
        tmp6 *= FIX_3_072711026;
        tmp7 *= FIX_1_501321110;
        z1 *= -FIX_0_899976223;
        z2 *= -FIX_2_562915447;
        z3 = z3 * -FIX_1_961570560 + z5;
        z4 = z4 * -FIX_0_390180644 + z5;
        d[56] = DESCALE(tmp4 + z1 + z3, CONST_BITS + PASS1_BITS);
        d[40] = DESCALE(tmp5 + z2 + z4, CONST_BITS + PASS1_BITS);
        d[24] = DESCALE(tmp6 + z2 + z3, CONST_BITS + PASS1_BITS);
        d[8] = DESCALE(tmp7 + z1 + z4, CONST_BITS + PASS1_BITS);
    }
}

void fdj_enc_divisors_init(fdj_divisors *d, const uint16_t qtable[64], int simd_level)
{
    int i;
    for (i = 0; i < 64; i++) {
        int32_t q = qtable[i] ? qtable[i] : 1;
        d->q[i] = q;
        d->bias[i] = (float)(4 * q) + 0.5f;
        d->inv[i] = 1.0f / (float)(8 * q);
    }
    d->simd = simd_level >= FDJ_SIMD_AVX2;
}

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define FDCT2_AVX2 __attribute__((target("avx2")))

/* Two blocks at once in 16-bit lanes (block a in the low 128 bits of every
 * vector, block b in the high 128 bits).  Each output of jfdctint.c is a
 * linear form in the butterfly terms; those forms are evaluated with
 * pmaddwd on pairs of terms (16 x 16 -> 32-bit products, exact), so every
 * output is the same integer the scalar code computes before its DESCALE:
 *   z1 + t13*c = t12*4433 + t13*10703, etc., and the odd part
 *   d7 = -11363 t4 + 9633 t5 - 6436 t6 + 2260 t7   (and three more),
 * which is the scalar's tmp/z sequence multiplied out.  Range: samples-128
 * fit 8 bits; pass-1 outputs are within +-4096 and pass-2 butterflies within
 * +-16384, so all 16-bit terms are exact; the two DC-like sums of pass 2
 * (up to +-32768) are formed in 32 bits. */
FDCT2_AVX2 static inline void transpose16x8(__m256i r[8])
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

/* DESCALE(a*ca + b*cb, shift) per 16-bit lane, as 16-bit results */
FDCT2_AVX2 static inline __m256i dot2(__m256i a, __m256i b, int ca, int cb, int shift)
{
    const __m256i c = _mm256_set1_epi32((int32_t)(((uint32_t)(uint16_t)cb << 16) | (uint16_t)ca));
    const __m256i round = _mm256_set1_epi32(1 << (shift - 1));
    __m256i lo = _mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), c);
    __m256i hi = _mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), c);
    lo = _mm256_srai_epi32(_mm256_add_epi32(lo, round), shift);
    hi = _mm256_srai_epi32(_mm256_add_epi32(hi, round), shift);
    return _mm256_packs_epi32(lo, hi);
}

/* DESCALE(a*c0 + b*c1 + e*c2 + f*c3, shift) */
FDCT2_AVX2 static inline __m256i dot4(__m256i a, __m256i b, __m256i e, __m256i f, int c0, int c1,
                                      int c2, int c3, int shift)
{
    const __m256i k01 = _mm256_set1_epi32((int32_t)(((uint32_t)(uint16_t)c1 << 16) | (uint16_t)c0));
    const __m256i k23 = _mm256_set1_epi32((int32_t)(((uint32_t)(uint16_t)c3 << 16) | (uint16_t)c2));
    const __m256i round = _mm256_set1_epi32(1 << (shift - 1));
    __m256i lo = _mm256_add_epi32(_mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), k01),
                                  _mm256_madd_epi16(_mm256_unpacklo_epi16(e, f), k23));
    __m256i hi = _mm256_add_epi32(_mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), k01),
                                  _mm256_madd_epi16(_mm256_unpackhi_epi16(e, f), k23));
    lo = _mm256_srai_epi32(_mm256_add_epi32(lo, round), shift);
    hi = _mm256_srai_epi32(_mm256_add_epi32(hi, round), shift);
    return _mm256_packs_epi32(lo, hi);
}

FDCT2_AVX2 static inline void fdct16_pass(__m256i x[8], int pass2)
{
    const int shift = pass2 ? CONST_BITS + PASS1_BITS : CONST_BITS - PASS1_BITS;
    __m256i t0 = _mm256_add_epi16(x[0], x[7]), t7 = _mm256_sub_epi16(x[0], x[7]);
    __m256i t1 = _mm256_add_epi16(x[1], x[6]), t6 = _mm256_sub_epi16(x[1], x[6]);
    __m256i t2 = _mm256_add_epi16(x[2], x[5]), t5 = _mm256_sub_epi16(x[2], x[5]);
    __m256i t3 = _mm256_add_epi16(x[3], x[4]), t4 = _mm256_sub_epi16(x[3], x[4]);
    __m256i t10 = _mm256_add_epi16(t0, t3), t13 = _mm256_sub_epi16(t0, t3);
    __m256i t11 = _mm256_add_epi16(t1, t2), t12 = _mm256_sub_epi16(t1, t2);
    if (pass2) {
        x[0] = dot2(t10, t11, 1, 1, PASS1_BITS);
        x[4] = dot2(t10, t11, 1, -1, PASS1_BITS);
    } else {
        x[0] = _mm256_slli_epi16(_mm256_add_epi16(t10, t11), PASS1_BITS);
        x[4] = _mm256_slli_epi16(_mm256_sub_epi16(t10, t11), PASS1_BITS);
    }
    x[2] = dot2(t12, t13, FIX_0_541196100, FIX_0_541196100 + FIX_0_765366865, shift);
    x[6] = dot2(t12, t13, FIX_0_541196100 - FIX_1_847759065, FIX_0_541196100, shift);
    x[7] = dot4(t4, t5, t6, t7, FIX_0_298631336 - FIX_0_899976223 - FIX_1_961570560 + FIX_1_175875602,
                FIX_1_175875602, FIX_1_175875602 - FIX_1_961570560,
                FIX_1_175875602 - FIX_0_899976223, shift);
    x[5] = dot4(t4, t5, t6, t7, FIX_1_175875602,
                FIX_2_053119869 - FIX_2_562915447 - FIX_0_390180644 + FIX_1_175875602,
                FIX_1_175875602 - FIX_2_562915447, FIX_1_175875602 - FIX_0_390180644, shift);
    x[3] = dot4(t4, t5, t6, t7, FIX_1_175875602 - FIX_1_961570560,
                FIX_1_175875602 - FIX_2_562915447,
                FIX_3_072711026 - FIX_2_562915447 - FIX_1_961570560 + FIX_1_175875602,
                FIX_1_175875602, shift);
    x[1] = dot4(t4, t5, t6, t7, FIX_1_175875602 - FIX_0_899976223,
                FIX_1_175875602 - FIX_0_390180644, FIX_1_175875602,
                FIX_1_501321110 - FIX_0_899976223 - FIX_0_390180644 + FIX_1_175875602, shift);
}

FDCT2_AVX2 void fdj_fdct_islow2_avx2(const uint8_t *a, const uint8_t *b, ptrdiff_t stride,
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
    transpose16x8(x); /* x[k] = column k: pass 1 runs along rows */
    fdct16_pass(x, 0);
    transpose16x8(x); /* x[k] = row k: pass 2 runs along columns */
    fdct16_pass(x, 1);
    for (i = 0; i < 8; i++) {
        _mm256_storeu_si256((__m256i *)(void *)(outa + 8 * i), _mm256_cvtepi16_epi32(_mm256_castsi256_si128(x[i])));
        _mm256_storeu_si256((__m256i *)(void *)(outb + 8 * i), _mm256_cvtepi16_epi32(_mm256_extracti128_si256(x[i], 1)));
    }
}
#endif

/* Scalar reference (sign-magnitude without branches, so it also vectorizes
 * for the baseline ISA); the AVX2 sibling below performs the same float
 * operations and is used when the CPU has AVX2. */
#define QUANTIZE_ONE(x, i)                                                                       \
    do {                                                                                         \
        int32_t s_ = (x) >> 31;                                                                  \
        int32_t a_ = ((x) ^ s_) - s_;                                                            \
        int32_t q_ = (int32_t)(((float)a_ + d->bias[i]) * d->inv[i]);                            \
        qv = (q_ ^ s_) - s_;                                                                     \
    } while (0)

#define QUANTIZE_BODY                                                                            \
    int i;                                                                                       \
    for (i = 0; i < 64; i++) {                                                                   \
        int32_t qv;                                                                              \
        QUANTIZE_ONE(dct[i], i);                                                                 \
        out[fdj_natural_to_zigzag[i]] = (int16_t)qv;                                             \
    }

#define DEQUANTIZE_BODY                                                                          \
    int i;                                                                                       \
    for (i = 0; i < 64; i++) {                                                                   \
        int32_t qv;                                                                              \
        QUANTIZE_ONE(dct[i], i);                                                                 \
        out[i] = qv * d->q[i];                                                                   \
    }

static void quantize_base(const int32_t *dct, const fdj_divisors *d, int16_t *out)
{
    QUANTIZE_BODY
}

static void dequantize_base(const int32_t *dct, const fdj_divisors *d, int32_t *out)
{
    DEQUANTIZE_BODY
}

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define ENC_X86_SIMD 1
#include <immintrin.h>

/* The same float operations eight lanes at a time: |x|, + bias, * inv,
 * truncate, sign of x (q is 0 whenever x is). */
__attribute__((target("avx2"))) static inline __m256i quantize8(const int32_t *dct,
                                                               const fdj_divisors *d, int i)
{
    __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(dct + i));
    __m256 a = _mm256_cvtepi32_ps(_mm256_abs_epi32(x));
    __m256 f = _mm256_mul_ps(_mm256_add_ps(a, _mm256_loadu_ps(d->bias + i)), _mm256_loadu_ps(d->inv + i));
    return _mm256_sign_epi32(_mm256_cvttps_epi32(f), x);
}

/* Shuffles that gather zigzag runs of 8 from the natural rows: output group g
 * (zigzag 8g..8g+7) is the OR of the listed rows' shuffles (generated from
 * T.81 Figure A.6). */
static const int8_t zz_shuffle[36][16] = {
    {0, 1, 2, 3, -1, -1, -1, -1, -1, -1, 4, 5, 6, 7, -1, -1},  /* group 0 from row 0 */
    {-1, -1, -1, -1, 0, 1, -1, -1, 2, 3, -1, -1, -1, -1, 4, 5},  /* group 0 from row 1 */
    {-1, -1, -1, -1, -1, -1, 0, 1, -1, -1, -1, -1, -1, -1, -1, -1},  /* group 0 from row 2 */
    {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 8, 9, 10, 11},  /* group 1 from row 0 */
    {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 6, 7, -1, -1, -1, -1},  /* group 1 from row 1 */
    {2, 3, -1, -1, -1, -1, -1, -1, 4, 5, -1, -1, -1, -1, -1, -1},  /* group 1 from row 2 */
    {-1, -1, 0, 1, -1, -1, 2, 3, -1, -1, -1, -1, -1, -1, -1, -1},  /* group 1 from row 3 */
    {-1, -1, -1, -1, 0, 1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1},  /* group 1 from row 4 */
    {8, 9, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1},  /* group 2 from row 1 */
    {-1, -1, 6, 7, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1},  /* group 2 from row 2 */
    {-1, -1, -1, -1, 4, 5, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1},  /* group 2 from row 3 */
    {-1, -1, -1, -1, -1, -1, 2, 3, -1, -1, -1, -1, -1, -1, 4, 5},  /* group 2 from row 4 */
    {-1, -1, -1, -1, -1, -1, -1, -1, 0, 1, -1, -1, 2, 3, -1, -1},  /* group 2 from row 5 */
    {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 1, -1, -1, -1, -1},  /* group 2 from row 6 */
    {-1, -1, -1, -1, -1, -1, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1},  /* group 3 from row 0 */
    {-1, -1, -1, -1, 10, 11, -1, -1, -1, -1, 12, 13, -1, -1, -1, -1},  /* group 3 from row 1 */
    {-1, -1, 8, 9, -1, -1, -1, -1, -1, -1, -1, -1, 10, 11, -1, -1},  /* group 3 from row 2 */
    {6, 7, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 8, 9},  /* group 3 from row 3 */
    {6, 7, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 8, 9},  /* group 4 from row 4 */
    {-1, -1, 4, 5, -1, -1, -1, -1, -1, -1, -1, -1, 6, 7, -1, -1},  /* group 4 from row 5 */
    {-1, -1, -1, -1, 2, 3, -1, -1, -1, -1, 4, 5, -1, -1, -1, -1},  /* group 4 from row 6 */
    {-1, -1, -1, -1, -1, -1, 0, 1, 2, 3, -1, -1, -1, -1, -1, -1},  /* group 4 from row 7 */
    {-1, -1, -1, -1, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1},  /* group 5 from row 1 */
    {-1, -1, 12, 13, -1, -1, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1},  /* group 5 from row 2 */
    {10, 11, -1, -1, -1, -1, -1, -1, 12, 13, -1, -1, -1, -1, -1, -1},  /* group 5 from row 3 */
    {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 10, 11, -1, -1, -1, -1},  /* group 5 from row 4 */
    {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 8, 9, -1, -1},  /* group 5 from row 5 */
    {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 6, 7},  /* group 5 from row 6 */
    {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 14, 15, -1, -1, -1, -1},  /* group 6 from row 3 */
    {-1, -1, -1, -1, -1, -1, -1, -1, 12, 13, -1, -1, 14, 15, -1, -1},  /* group 6 from row 4 */
    {-1, -1, -1, -1, -1, -1, 10, 11, -1, -1, -1, -1, -1, -1, 12, 13},  /* group 6 from row 5 */
    {-1, -1, -1, -1, 8, 9, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1},  /* group 6 from row 6 */
    {4, 5, 6, 7, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1},  /* group 6 from row 7 */
    {-1, -1, -1, -1, -1, -1, -1, -1, 14, 15, -1, -1, -1, -1, -1, -1},  /* group 7 from row 5 */
    {10, 11, -1, -1, -1, -1, 12, 13, -1, -1, 14, 15, -1, -1, -1, -1},  /* group 7 from row 6 */
    {-1, -1, 8, 9, 10, 11, -1, -1, -1, -1, -1, -1, 12, 13, 14, 15},  /* group 7 from row 7 */
};
#define M(i) _mm_loadu_si128((const __m128i *)(const void *)zz_shuffle[i])

__attribute__((target("avx2"))) static void quantize_avx2(const int32_t *dct,
                                                          const fdj_divisors *d, int16_t *out)
{
    __m128i row[8];
    int r;
    for (r = 0; r < 8; r++) {
        __m256i q = quantize8(dct, d, 8 * r);
        row[r] = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
    }
    _mm_storeu_si128((__m128i *)(void *)(out + 0), _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(row[0], M(0)), _mm_shuffle_epi8(row[1], M(1))), _mm_shuffle_epi8(row[2], M(2))));
    _mm_storeu_si128((__m128i *)(void *)(out + 8), _mm_or_si128(_mm_or_si128(_mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(row[0], M(3)), _mm_shuffle_epi8(row[1], M(4))), _mm_shuffle_epi8(row[2], M(5))), _mm_shuffle_epi8(row[3], M(6))), _mm_shuffle_epi8(row[4], M(7))));
    _mm_storeu_si128((__m128i *)(void *)(out + 16), _mm_or_si128(_mm_or_si128(_mm_or_si128(_mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(row[1], M(8)), _mm_shuffle_epi8(row[2], M(9))), _mm_shuffle_epi8(row[3], M(10))), _mm_shuffle_epi8(row[4], M(11))), _mm_shuffle_epi8(row[5], M(12))), _mm_shuffle_epi8(row[6], M(13))));
    _mm_storeu_si128((__m128i *)(void *)(out + 24), _mm_or_si128(_mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(row[0], M(14)), _mm_shuffle_epi8(row[1], M(15))), _mm_shuffle_epi8(row[2], M(16))), _mm_shuffle_epi8(row[3], M(17))));
    _mm_storeu_si128((__m128i *)(void *)(out + 32), _mm_or_si128(_mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(row[4], M(18)), _mm_shuffle_epi8(row[5], M(19))), _mm_shuffle_epi8(row[6], M(20))), _mm_shuffle_epi8(row[7], M(21))));
    _mm_storeu_si128((__m128i *)(void *)(out + 40), _mm_or_si128(_mm_or_si128(_mm_or_si128(_mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(row[1], M(22)), _mm_shuffle_epi8(row[2], M(23))), _mm_shuffle_epi8(row[3], M(24))), _mm_shuffle_epi8(row[4], M(25))), _mm_shuffle_epi8(row[5], M(26))), _mm_shuffle_epi8(row[6], M(27))));
    _mm_storeu_si128((__m128i *)(void *)(out + 48), _mm_or_si128(_mm_or_si128(_mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(row[3], M(28)), _mm_shuffle_epi8(row[4], M(29))), _mm_shuffle_epi8(row[5], M(30))), _mm_shuffle_epi8(row[6], M(31))), _mm_shuffle_epi8(row[7], M(32))));
    _mm_storeu_si128((__m128i *)(void *)(out + 56), _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(row[5], M(33)), _mm_shuffle_epi8(row[6], M(34))), _mm_shuffle_epi8(row[7], M(35))));
}
#undef M

__attribute__((target("avx2"))) static void dequantize_avx2(const int32_t *dct,
                                                            const fdj_divisors *d, int32_t *out)
{
    int i;
    for (i = 0; i < 64; i += 8) {
        __m256i q = quantize8(dct, d, i);
        __m256i t = _mm256_loadu_si256((const __m256i *)(const void *)(d->q + i));
        _mm256_storeu_si256((__m256i *)(void *)(out + i), _mm256_mullo_epi32(q, t));
    }
}
#endif

void fdj_quantize_block(const int32_t dct[64], const fdj_divisors *d, int16_t out[64])
{
#ifdef ENC_X86_SIMD
    if (d->simd) {
        quantize_avx2(dct, d, out);
        return;
    }
#endif
    quantize_base(dct, d, out);
}

void fdj_quantize_dequantize(const int32_t dct[64], const fdj_divisors *d, int32_t out[64])
{
#ifdef ENC_X86_SIMD
    if (d->simd) {
        dequantize_avx2(dct, d, out);
        return;
    }
#endif
    dequantize_base(dct, d, out);
}

void fdj_enc_band_transform(const fdj_enc_band *b, fdj_enc_frame *f, int mcu_row,
                            const fdj_divisors *div, fdj_fdct_fn fdct)
{
    int c, by, bx;
    int32_t ws[64];
    for (c = 0; c < f->ncomp; c++) {
        fdj_enc_comp *cp = &f->comp[c];
        const fdj_divisors *dv = &div[cp->tq];
        int row0 = mcu_row * cp->v;
        int rows = cp->height_in_blocks - row0;
        if (rows > cp->v)
            rows = cp->v;
        for (by = 0; by < rows; by++) {
            const uint8_t *src = b->plane[c] + (ptrdiff_t)by * 8 * b->plane_stride[c];
            int16_t *dst = cp->coef + ((size_t)(row0 + by - cp->row0) * (size_t)cp->bw) * 64;
            bx = 0;
#ifdef FDJ_HAVE_FDCT2
            if (dv->simd) {
                int32_t ws2[64];
                for (; bx + 2 <= cp->width_in_blocks; bx += 2) {
                    fdj_fdct_islow2_avx2(src + bx * 8, src + bx * 8 + 8, b->plane_stride[c], ws, ws2);
                    fdj_quantize_block(ws, dv, dst + (size_t)bx * 64);
                    fdj_quantize_block(ws2, dv, dst + (size_t)(bx + 1) * 64);
                }
            }
#endif
            for (; bx < cp->width_in_blocks; bx++) {
                fdct(src + bx * 8, b->plane_stride[c], ws);
                fdj_quantize_block(ws, dv, dst + (size_t)bx * 64);
            }
        }
    }
}
