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
            for (bx = 0; bx < cp->width_in_blocks; bx++) {
                fdct(src + bx * 8, b->plane_stride[c], ws);
                fdj_quantize_block(ws, dv, dst + (size_t)bx * 64);
            }
        }
    }
}
