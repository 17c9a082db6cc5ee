/*
 * enc_fdct_simd.c -- AVX2 sibling of the ISLOW forward DCT (enc_fdct.c).
 *
 * Same int32 expressions as the scalar code, eight rows (then eight columns)
 * per instruction.  The input is 8-bit samples, so every intermediate stays
 * far inside int32 and the result equals the scalar FDCT for every block.
 */
#include "enc_internal.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define FDJ_X86_SIMD 1
#include <immintrin.h>
#define FDJ_AVX2 __attribute__((target("avx2")))
#endif

#define CONST_BITS 13
#define PASS1_BITS 2

fdj_fdct_fn fdj_fdct_islow_for(int level)
{
#ifdef FDJ_X86_SIMD
    if (level >= FDJ_SIMD_AVX2)
        return fdj_fdct_islow_avx2;
#endif
    (void)level;
    return fdj_fdct_islow;
}

#ifdef FDJ_X86_SIMD

FDJ_AVX2 static inline void transpose8(__m256i r[8])
{
    __m256i t0 = _mm256_unpacklo_epi32(r[0], r[1]), t1 = _mm256_unpackhi_epi32(r[0], r[1]);
    __m256i t2 = _mm256_unpacklo_epi32(r[2], r[3]), t3 = _mm256_unpackhi_epi32(r[2], r[3]);
    __m256i t4 = _mm256_unpacklo_epi32(r[4], r[5]), t5 = _mm256_unpackhi_epi32(r[4], r[5]);
    __m256i t6 = _mm256_unpacklo_epi32(r[6], r[7]), t7 = _mm256_unpackhi_epi32(r[6], r[7]);
    __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
    __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
    __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
    __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
    r[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
    r[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
    r[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
    r[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
    r[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
    r[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
    r[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
    r[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

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
    transpose8(x);
    fdct_pass(x, 0);
    /* x[k] = coefficient column k per row; pass 2 along columns */
    transpose8(x);
    fdct_pass(x, 1);
    for (i = 0; i < 8; i++)
        _mm256_storeu_si256((__m256i *)(void *)(out + 8 * i), x[i]);
}

#endif /* FDJ_X86_SIMD */
