/*
 * enc_color_simd.c -- AVX2 siblings of the encoder's RGB -> YCbCr conversion
 * (enc_color.c; JFIF 1.02, libjpeg's jccolor.c arithmetic) and of its h2v1 /
 * h2v2 box downsampling (jcsample.c's rounding).
 */
#include "enc_internal.h"
#include "enc_color_consts.h"

#ifdef FDJ_X86_SIMD
#include "fdj_simd_x86.h"


/* two int16 coefficients (lo for the even, hi for the odd element of each
 * pair) for _mm256_madd_epi16 */
#define PAIR16(lo, hi) _mm256_set1_epi32((int)(((uint32_t)(uint16_t)(hi) << 16) | (uint16_t)(lo)))

/* The 16-pixel step gathers one channel of 16 packed RGB pixels as int16
 * lanes [pixels 0-7 | 8-15] from v0 = row bytes 0-15 | 24-39 (pixels 0-4 and
 * 8-12) and v1 = bytes 8-23 | 32-47 (pixels 5-7 and 13-15). */

/* AVX2 sibling of the YCbCr conversion for packed RGB rows (3 bytes per pixel):
 * the same int32 values as the scalar loop, so the same bytes.  Sixteen pixels
 * per step with the products summed in pairs (_mm256_madd_epi16), the
 * coefficients above 32767 split so every factor fits in int16:
 *   Y  = 19595 R + (22086 G) + 7471 B + 16384 G + 32768        [38470 = 22086 + 16384]
 *   Cb = -11059 R - 21709 G + 2 * (16384 B) + offset
 *   Cr = 2 * (16384 R) - 27439 G - 5329 B + offset
 * (exact integer sums, far from overflow); then eight pixels per step as
 * before.  Returns the number of pixels done (a multiple of 8). */
FDJ_AVX2 int fdj_rgb_ycc_row_avx2(const uint8_t *src, int width, uint8_t *y, uint8_t *cb,
                                  uint8_t *cr)
{
    const __m128i r_lo = _mm_setr_epi8(0, 3, 6, 9, 12, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i r_hi = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, 2, 5, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i g_lo = _mm_setr_epi8(1, 4, 7, 10, 13, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i g_hi = _mm_setr_epi8(-1, -1, -1, -1, -1, 0, 3, 6, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i b_lo = _mm_setr_epi8(2, 5, 8, 11, 14, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i b_hi = _mm_setr_epi8(-1, -1, -1, -1, -1, 1, 4, 7, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m256i cy_r = _mm256_set1_epi32(FIX_0_29900), cy_g = _mm256_set1_epi32(FIX_0_58700);
    const __m256i cy_b = _mm256_set1_epi32(FIX_0_11400), half = _mm256_set1_epi32(ONE_HALF);
    const __m256i cb_r = _mm256_set1_epi32(-FIX_0_16874), cb_g = _mm256_set1_epi32(-FIX_0_33126);
    const __m256i cr_g = _mm256_set1_epi32(-FIX_0_41869), cr_b = _mm256_set1_epi32(-FIX_0_08131);
    const __m256i off = _mm256_set1_epi32(CBCR_OFFSET + ONE_HALF - 1);
    int x = 0;
    {
        const __m256i mr0 = _mm256_broadcastsi128_si256(_mm_setr_epi8(0, -1, 3, -1, 6, -1, 9, -1, 12, -1, -1, -1, -1, -1, -1, -1));
        const __m256i mr1 = _mm256_broadcastsi128_si256(_mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 7, -1, 10, -1, 13, -1));
        const __m256i mg0 = _mm256_broadcastsi128_si256(_mm_setr_epi8(1, -1, 4, -1, 7, -1, 10, -1, 13, -1, -1, -1, -1, -1, -1, -1));
        const __m256i mg1 = _mm256_broadcastsi128_si256(_mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 8, -1, 11, -1, 14, -1));
        const __m256i mb0 = _mm256_broadcastsi128_si256(_mm_setr_epi8(2, -1, 5, -1, 8, -1, 11, -1, 14, -1, -1, -1, -1, -1, -1, -1));
        const __m256i mb1 = _mm256_broadcastsi128_si256(_mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 9, -1, 12, -1, 15, -1));
        const __m256i ky_rg = PAIR16(FIX_0_29900, FIX_0_58700 - 16384), ky_bg = PAIR16(FIX_0_11400, 16384);
        const __m256i kcb_rg = PAIR16(-FIX_0_16874, -FIX_0_33126), kcb_bg = PAIR16(16384, 0);
        const __m256i kcr_rg = PAIR16(16384, 0), kcr_bg = PAIR16(-FIX_0_08131, -FIX_0_41869);
        for (; x + 16 <= width; x += 16) {
            const uint8_t *s = src + 3 * x;
            __m256i v0 = _mm256_inserti128_si256(
                _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)s)),
                _mm_loadu_si128((const __m128i *)(const void *)(s + 24)), 1);
            __m256i v1 = _mm256_inserti128_si256(
                _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(s + 8))),
                _mm_loadu_si128((const __m128i *)(const void *)(s + 32)), 1);
            __m256i r = _mm256_or_si256(_mm256_shuffle_epi8(v0, mr0), _mm256_shuffle_epi8(v1, mr1));
            __m256i g = _mm256_or_si256(_mm256_shuffle_epi8(v0, mg0), _mm256_shuffle_epi8(v1, mg1));
            __m256i b = _mm256_or_si256(_mm256_shuffle_epi8(v0, mb0), _mm256_shuffle_epi8(v1, mb1));
            /* pairs of pixels [0-3 | 8-11] (lo) and [4-7 | 12-15] (hi) */
            __m256i rg_lo = _mm256_unpacklo_epi16(r, g), rg_hi = _mm256_unpackhi_epi16(r, g);
            __m256i bg_lo = _mm256_unpacklo_epi16(b, g), bg_hi = _mm256_unpackhi_epi16(b, g);
            __m256i y_lo = _mm256_add_epi32(_mm256_add_epi32(_mm256_madd_epi16(rg_lo, ky_rg),
                                                             _mm256_madd_epi16(bg_lo, ky_bg)), half);
            __m256i y_hi = _mm256_add_epi32(_mm256_add_epi32(_mm256_madd_epi16(rg_hi, ky_rg),
                                                             _mm256_madd_epi16(bg_hi, ky_bg)), half);
            __m256i cb_lo = _mm256_add_epi32(
                _mm256_add_epi32(_mm256_madd_epi16(rg_lo, kcb_rg),
                                 _mm256_slli_epi32(_mm256_madd_epi16(bg_lo, kcb_bg), 1)), off);
            __m256i cb_hi = _mm256_add_epi32(
                _mm256_add_epi32(_mm256_madd_epi16(rg_hi, kcb_rg),
                                 _mm256_slli_epi32(_mm256_madd_epi16(bg_hi, kcb_bg), 1)), off);
            __m256i cr_lo = _mm256_add_epi32(
                _mm256_add_epi32(_mm256_slli_epi32(_mm256_madd_epi16(rg_lo, kcr_rg), 1),
                                 _mm256_madd_epi16(bg_lo, kcr_bg)), off);
            __m256i cr_hi = _mm256_add_epi32(
                _mm256_add_epi32(_mm256_slli_epi32(_mm256_madd_epi16(rg_hi, kcr_rg), 1),
                                 _mm256_madd_epi16(bg_hi, kcr_bg)), off);
            /* >> 16, back to pixel order [0-7 | 8-15] in int16, then bytes */
            __m256i y16 = _mm256_packs_epi32(_mm256_srai_epi32(y_lo, 16), _mm256_srai_epi32(y_hi, 16));
            __m256i cb16 = _mm256_packs_epi32(_mm256_srai_epi32(cb_lo, 16), _mm256_srai_epi32(cb_hi, 16));
            __m256i cr16 = _mm256_packs_epi32(_mm256_srai_epi32(cr_lo, 16), _mm256_srai_epi32(cr_hi, 16));
            __m256i ycb = _mm256_permute4x64_epi64(_mm256_packus_epi16(y16, cb16), 0xD8);
            __m256i crr = _mm256_permute4x64_epi64(_mm256_packus_epi16(cr16, cr16), 0xD8);
            _mm_storeu_si128((__m128i *)(void *)(y + x), _mm256_castsi256_si128(ycb));
            _mm_storeu_si128((__m128i *)(void *)(cb + x), _mm256_extracti128_si256(ycb, 1));
            _mm_storeu_si128((__m128i *)(void *)(cr + x), _mm256_castsi256_si128(crr));
        }
    }
    for (; x + 8 <= width; x += 8) {
        const uint8_t *s = src + 3 * x;
        __m128i lo = _mm_loadu_si128((const __m128i *)(const void *)s);
        __m128i hi = _mm_loadl_epi64((const __m128i *)(const void *)(s + 16));
        __m256i r = _mm256_cvtepu8_epi32(_mm_or_si128(_mm_shuffle_epi8(lo, r_lo), _mm_shuffle_epi8(hi, r_hi)));
        __m256i g = _mm256_cvtepu8_epi32(_mm_or_si128(_mm_shuffle_epi8(lo, g_lo), _mm_shuffle_epi8(hi, g_hi)));
        __m256i b = _mm256_cvtepu8_epi32(_mm_or_si128(_mm_shuffle_epi8(lo, b_lo), _mm_shuffle_epi8(hi, b_hi)));
        __m256i vy = _mm256_add_epi32(_mm256_add_epi32(_mm256_mullo_epi32(r, cy_r), _mm256_mullo_epi32(g, cy_g)),
                                      _mm256_add_epi32(_mm256_mullo_epi32(b, cy_b), half));
        __m256i vcb = _mm256_add_epi32(_mm256_add_epi32(_mm256_mullo_epi32(r, cb_r), _mm256_mullo_epi32(g, cb_g)),
                                       _mm256_add_epi32(_mm256_slli_epi32(b, 15), off));
        __m256i vcr = _mm256_add_epi32(_mm256_add_epi32(_mm256_slli_epi32(r, 15), _mm256_mullo_epi32(g, cr_g)),
                                       _mm256_add_epi32(_mm256_mullo_epi32(b, cr_b), off));
        __m256i p;
        vy = _mm256_srai_epi32(vy, 16);
        vcb = _mm256_srai_epi32(vcb, 16);
        vcr = _mm256_srai_epi32(vcr, 16);
        /* pack 8 int32 lanes (0..255) to 8 bytes */
        p = _mm256_permute4x64_epi64(_mm256_packus_epi32(vy, vcb), 0xD8); /* y0-7 | cb0-7 (16-bit) */
        {
            __m128i yb = _mm256_castsi256_si128(p), cbb = _mm256_extracti128_si256(p, 1);
            __m256i q = _mm256_permute4x64_epi64(_mm256_packus_epi32(vcr, vcr), 0xD8);
            __m128i crb = _mm256_castsi256_si128(q);
            __m128i yc = _mm_packus_epi16(yb, cbb); /* y0-7 cb0-7 */
            _mm_storel_epi64((__m128i *)(void *)(y + x), yc);
            _mm_storel_epi64((__m128i *)(void *)(cb + x), _mm_srli_si128(yc, 8));
            _mm_storel_epi64((__m128i *)(void *)(cr + x), _mm_packus_epi16(crb, crb));
        }
    }
    return x;
}

/* Sums of horizontally adjacent byte pairs of 32 bytes, as 16 int16 lanes. */
FDJ_AVX2 static inline __m256i pair_sums(const uint8_t *p)
{
    return _mm256_maddubs_epi16(_mm256_loadu_si256((const __m256i *)(const void *)p),
                                _mm256_set1_epi8(1));
}

/* Two vectors of 16 int16 values 0..255 -> 32 bytes in order. */
FDJ_AVX2 static inline void store_packed(uint8_t *out, __m256i lo, __m256i hi)
{
    _mm256_storeu_si256((__m256i *)(void *)out,
                        _mm256_permute4x64_epi64(_mm256_packus_epi16(lo, hi), 0xD8));
}

/* One vector of 16 int16 values 0..255 -> 16 bytes in order. */
FDJ_AVX2 static inline void store_packed16(uint8_t *out, __m256i v)
{
    _mm_storeu_si128((__m128i *)(void *)out,
                     _mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_packus_epi16(v, v), 0xD8)));
}

/* AVX2 sibling of the h2v1 row (enc_color.c fdj_h2v1_down_row): out[x] =
 * (a[2x] + a[2x+1] + (x & 1)) >> 1, 32 outputs per step, then 16 (rows of
 * 224-pixel crops: 112 = 3 x 32 + 16). */
FDJ_AVX2 int fdj_h2v1_down_row_avx2(const uint8_t *a, int out_cols, uint8_t *out)
{
    const __m256i bias = _mm256_set1_epi32(0x00010000); /* 0, 1, 0, 1, ... */
    int x;
    for (x = 0; x + 32 <= out_cols; x += 32) {
        __m256i lo = _mm256_srli_epi16(_mm256_add_epi16(pair_sums(a + 2 * x), bias), 1);
        __m256i hi = _mm256_srli_epi16(_mm256_add_epi16(pair_sums(a + 2 * x + 32), bias), 1);
        store_packed(out + x, lo, hi);
    }
    if (x + 16 <= out_cols) {
        store_packed16(out + x, _mm256_srli_epi16(_mm256_add_epi16(pair_sums(a + 2 * x), bias), 1));
        x += 16;
    }
    return x;
}

/* AVX2 sibling of the h2v2 row (enc_color.c fdj_h2v2_down_row): out[x] =
 * (a[2x] + a[2x+1] + b[2x] + b[2x+1] + 1 + (x & 1)) >> 2, 32 outputs per step, then 16. */
FDJ_AVX2 int fdj_h2v2_down_row_avx2(const uint8_t *a, const uint8_t *b, int out_cols, uint8_t *out)
{
    const __m256i bias = _mm256_set1_epi32(0x00020001); /* 1, 2, 1, 2, ... */
    int x;
    for (x = 0; x + 32 <= out_cols; x += 32) {
        __m256i lo = _mm256_add_epi16(_mm256_add_epi16(pair_sums(a + 2 * x), pair_sums(b + 2 * x)), bias);
        __m256i hi = _mm256_add_epi16(_mm256_add_epi16(pair_sums(a + 2 * x + 32), pair_sums(b + 2 * x + 32)),
                                      bias);
        store_packed(out + x, _mm256_srli_epi16(lo, 2), _mm256_srli_epi16(hi, 2));
    }
    if (x + 16 <= out_cols) {
        __m256i lo = _mm256_add_epi16(_mm256_add_epi16(pair_sums(a + 2 * x), pair_sums(b + 2 * x)), bias);
        store_packed16(out + x, _mm256_srli_epi16(lo, 2));
        x += 16;
    }
    return x;
}

#endif /* FDJ_X86_SIMD */
