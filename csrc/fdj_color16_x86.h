/*
 * fdj_color16_x86.h -- YCbCr -> RGB in 16-bit lanes (libjpeg's jdcolor.c int32
 * results by exact identities) and the pshufb masks that interleave planes into
 * packed RGB.  Shared by the decoder's row kernel (dec_color_simd.c) and
 * purify's tile kernel (purify_simd.c).  Include only inside #ifdef FDJ_X86_SIMD.
 */
#ifndef FDJ_COLOR16_X86_H
#define FDJ_COLOR16_X86_H

#include "fdj_simd_x86.h"

/* pshufb masks interleaving 16 R, 16 G, 16 B bytes into 48 RGB bytes:
 * output chunk k, byte j is channel (16k+j) % 3 of pixel (16k+j) / 3. */
static const uint8_t fdj_rgb_interleave_mask[3][3][16] = {
    /* chunk 0: bytes 0..15 */
    {{0, 0x80, 0x80, 1, 0x80, 0x80, 2, 0x80, 0x80, 3, 0x80, 0x80, 4, 0x80, 0x80, 5},
     {0x80, 0, 0x80, 0x80, 1, 0x80, 0x80, 2, 0x80, 0x80, 3, 0x80, 0x80, 4, 0x80, 0x80},
     {0x80, 0x80, 0, 0x80, 0x80, 1, 0x80, 0x80, 2, 0x80, 0x80, 3, 0x80, 0x80, 4, 0x80}},
    /* chunk 1: bytes 16..31 */
    {{0x80, 0x80, 6, 0x80, 0x80, 7, 0x80, 0x80, 8, 0x80, 0x80, 9, 0x80, 0x80, 10, 0x80},
     {5, 0x80, 0x80, 6, 0x80, 0x80, 7, 0x80, 0x80, 8, 0x80, 0x80, 9, 0x80, 0x80, 10},
     {0x80, 5, 0x80, 0x80, 6, 0x80, 0x80, 7, 0x80, 0x80, 8, 0x80, 0x80, 9, 0x80, 0x80}},
    /* chunk 2: bytes 32..47 */
    {{0x80, 11, 0x80, 0x80, 12, 0x80, 0x80, 13, 0x80, 0x80, 14, 0x80, 0x80, 15, 0x80, 0x80},
     {0x80, 0x80, 11, 0x80, 0x80, 12, 0x80, 0x80, 13, 0x80, 0x80, 14, 0x80, 0x80, 15, 0x80},
     {10, 0x80, 0x80, 11, 0x80, 0x80, 12, 0x80, 0x80, 13, 0x80, 0x80, 14, 0x80, 0x80, 15}},
};

/* YCbCr -> RGB for 16 pixels in 16-bit lanes (y, cb, cr: 0..255 as int16):
 * the same values as the scalar int32 expressions, by exact identities.
 *   R = Y + ((91881 r + 2^15) >> 16),  91881 = 65536 + 26345:
 *       (26345 r + 2^15) >> 16 = ((mulhi(2r, 26345)) + 1) >> 1, because
 *       mulhi(2r, k) = floor(k r / 2^15) and floor((floor(a / 2^15) + 1) / 2)
 *       = floor((a + 2^15) / 2^16) for every integer a;
 *   B = Y + 2b + ((-14942 b + 2^15) >> 16)   (116130 = 2 * 65536 - 14942), same way;
 *   G = Y - r + ((-22554 b + 18734 r + 2^15) >> 16)   (-46802 = 18734 - 65536), the sum
 *       formed exactly in int32 by _mm256_madd_epi16 on (b, r) pairs.
 * b, r = cb - 128, cr - 128 in -128..127, so 2b, 2r and every product fit. */
FDJ_AVX2 static inline void fdj_ycc16(__m256i y, __m256i cb, __m256i cr, __m256i *r, __m256i *g,
                                      __m256i *b)
{
    const __m256i c128 = _mm256_set1_epi16(128), one = _mm256_set1_epi16(1);
    const __m256i half = _mm256_set1_epi32(1 << 15);
    const __m256i kg = _mm256_set1_epi32((int)(((uint32_t)18734 << 16) | (uint16_t)(int16_t)-22554));
    __m256i bb = _mm256_sub_epi16(cb, c128), rr = _mm256_sub_epi16(cr, c128);
    __m256i b2 = _mm256_add_epi16(bb, bb), r2 = _mm256_add_epi16(rr, rr);
    __m256i tr = _mm256_srai_epi16(_mm256_add_epi16(_mm256_mulhi_epi16(r2, _mm256_set1_epi16(26345)), one), 1);
    __m256i tb = _mm256_srai_epi16(_mm256_add_epi16(_mm256_mulhi_epi16(b2, _mm256_set1_epi16(-14942)), one), 1);
    __m256i glo = _mm256_srai_epi32(_mm256_add_epi32(_mm256_madd_epi16(_mm256_unpacklo_epi16(bb, rr), kg), half), 16);
    __m256i ghi = _mm256_srai_epi32(_mm256_add_epi32(_mm256_madd_epi16(_mm256_unpackhi_epi16(bb, rr), kg), half), 16);
    *r = _mm256_add_epi16(_mm256_add_epi16(y, rr), tr);
    *b = _mm256_add_epi16(_mm256_add_epi16(y, b2), tb);
    /* unpack/pack both work within 128-bit halves: pack restores the lane order */
    *g = _mm256_add_epi16(_mm256_sub_epi16(y, rr), _mm256_packs_epi32(glo, ghi));
}

#endif /* FDJ_COLOR16_X86_H */
