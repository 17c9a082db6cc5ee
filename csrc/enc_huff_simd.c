/*
 * enc_huff_simd.c -- SSE2 siblings of the entropy coders' block masks
 * (enc_huff.c fdj_nonzero_ac_scalar / fdj_abs_above_scalar): which
 * coefficients of a zigzag block are nonzero (T.81 F.1.2.2 run lengths) or
 * exceed a point-transform threshold (G.1.2.2-3), sixteen at a time; and the
 * sequential block coder (enc_huff_block.h) compiled for AVX2 + BMI2 CPUs.
 */
#include "enc_entropy.h"

#ifdef FDJ_X86_SIMD
#include "fdj_simd_x86.h"

#define FDJ_BMI2 __attribute__((target("avx2,bmi,bmi2,lzcnt")))

FDJ_SSE2 static inline uint64_t nonzero_ac(const int16_t *zz)
{
    const __m128i zero = _mm_setzero_si128();
    uint64_t m = 0;
    int k;
    for (k = 0; k < 64; k += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(zz + k));
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(zz + k + 8));
        __m128i z = _mm_packs_epi16(_mm_cmpeq_epi16(a, zero), _mm_cmpeq_epi16(b, zero));
        m |= (uint64_t)(uint16_t)~_mm_movemask_epi8(z) << k;
    }
    return m & ~(uint64_t)1;
}

FDJ_SSE2 uint64_t fdj_nonzero_ac_sse2(const int16_t *zz)
{
    return nonzero_ac(zz);
}

FDJ_SSE2 uint64_t fdj_abs_above_sse2(const int16_t *zz, int thr)
{
    const __m128i zero = _mm_setzero_si128(), t = _mm_set1_epi16((short)thr);
    uint64_t m = 0;
    int k;
    for (k = 0; k < 64; k += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(zz + k));
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(zz + k + 8));
        a = _mm_max_epi16(a, _mm_subs_epi16(zero, a));
        b = _mm_max_epi16(b, _mm_subs_epi16(zero, b));
        m |= (uint64_t)(uint16_t)_mm_movemask_epi8(
                 _mm_packs_epi16(_mm_cmpgt_epi16(a, t), _mm_cmpgt_epi16(b, t)))
             << k;
    }
    return m;
}

/* The sequential block coder for CPUs with AVX2, BMI1/2 and LZCNT: the same C
 * as the scalar reference, with the SSE2 block mask inline. */
#define ENC_HUFF_BLOCK_NAME fdj_huff_block_seq_bmi2
#define ENC_HUFF_BLOCK_ATTR FDJ_BMI2
#define ENC_HUFF_NONZERO_AC(zz) nonzero_ac(zz)
#include "enc_huff_block.h"

#endif /* FDJ_X86_SIMD */
