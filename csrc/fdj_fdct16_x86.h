/*
 * fdj_fdct16_x86.h -- the ISLOW forward DCT in 16-bit lanes, two blocks per
 * ymm register (block a in the low 128-bit half, block b in the high half),
 * with jfdctint.c's exact integer results.  Shared by the encoder's and
 * purify's fused kernels (enc_fdct_simd.c) and purify's tile kernel
 * (purify_simd.c).  Include only inside #ifdef FDJ_X86_SIMD.
 */
#ifndef FDJ_FDCT16_X86_H
#define FDJ_FDCT16_X86_H

#include "fdj_islow.h"
#include "fdj_simd_x86.h"

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
/* (the 8x8 int16 transpose of both halves is fdj_transpose8x16, fdj_idct16_x86.h) */

/* DESCALE(a*ca + b*cb, shift) per 16-bit lane, as 16-bit results */
FDJ_AVX2 static inline __m256i fdj_fdct16_dot2(__m256i a, __m256i b, int ca, int cb, int shift)
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
FDJ_AVX2 static inline __m256i fdj_fdct16_dot4(__m256i a, __m256i b, __m256i e, __m256i f, int c0, int c1,
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

FDJ_AVX2 static inline void fdj_fdct16_pass(__m256i x[8], int pass2)
{
    const int shift = pass2 ? CONST_BITS + PASS1_BITS : CONST_BITS - PASS1_BITS;
    __m256i t0 = _mm256_add_epi16(x[0], x[7]), t7 = _mm256_sub_epi16(x[0], x[7]);
    __m256i t1 = _mm256_add_epi16(x[1], x[6]), t6 = _mm256_sub_epi16(x[1], x[6]);
    __m256i t2 = _mm256_add_epi16(x[2], x[5]), t5 = _mm256_sub_epi16(x[2], x[5]);
    __m256i t3 = _mm256_add_epi16(x[3], x[4]), t4 = _mm256_sub_epi16(x[3], x[4]);
    __m256i t10 = _mm256_add_epi16(t0, t3), t13 = _mm256_sub_epi16(t0, t3);
    __m256i t11 = _mm256_add_epi16(t1, t2), t12 = _mm256_sub_epi16(t1, t2);
    if (pass2) {
        x[0] = fdj_fdct16_dot2(t10, t11, 1, 1, PASS1_BITS);
        x[4] = fdj_fdct16_dot2(t10, t11, 1, -1, PASS1_BITS);
    } else {
        x[0] = _mm256_slli_epi16(_mm256_add_epi16(t10, t11), PASS1_BITS);
        x[4] = _mm256_slli_epi16(_mm256_sub_epi16(t10, t11), PASS1_BITS);
    }
    x[2] = fdj_fdct16_dot2(t12, t13, FIX_0_541196100, FIX_0_541196100 + FIX_0_765366865, shift);
    x[6] = fdj_fdct16_dot2(t12, t13, FIX_0_541196100 - FIX_1_847759065, FIX_0_541196100, shift);
    x[7] = fdj_fdct16_dot4(t4, t5, t6, t7, FIX_0_298631336 - FIX_0_899976223 - FIX_1_961570560 + FIX_1_175875602,
                FIX_1_175875602, FIX_1_175875602 - FIX_1_961570560,
                FIX_1_175875602 - FIX_0_899976223, shift);
    x[5] = fdj_fdct16_dot4(t4, t5, t6, t7, FIX_1_175875602,
                FIX_2_053119869 - FIX_2_562915447 - FIX_0_390180644 + FIX_1_175875602,
                FIX_1_175875602 - FIX_2_562915447, FIX_1_175875602 - FIX_0_390180644, shift);
    x[3] = fdj_fdct16_dot4(t4, t5, t6, t7, FIX_1_175875602 - FIX_1_961570560,
                FIX_1_175875602 - FIX_2_562915447,
                FIX_3_072711026 - FIX_2_562915447 - FIX_1_961570560 + FIX_1_175875602,
                FIX_1_175875602, shift);
    x[1] = fdj_fdct16_dot4(t4, t5, t6, t7, FIX_1_175875602 - FIX_0_899976223,
                FIX_1_175875602 - FIX_0_390180644, FIX_1_175875602,
                FIX_1_501321110 - FIX_0_899976223 - FIX_0_390180644 + FIX_1_175875602, shift);
}

#endif /* FDJ_FDCT16_X86_H */
