/*
 * dec_color_simd.c -- AVX2 siblings of the decoder's colour conversion and
 * fancy upsampling (dec_render.c; libjpeg's jdcolor.c and jdsample.c; JFIF
 * 1.02 YCbCr, T.81 A.1.1 sampling); chosen in fdj_simd.c.
 *
 * YCbCr -> RGB computes the scalar code's int32 expressions in 16-bit lanes
 * (sixteen pixels per instruction; exact identities, see fdj_ycc16 in fdj_color16_x86.h) with the
 * saturating packs as the clamp; h2v2 fancy upsampling
 * works in 16-bit lanes, where its largest value (3 * 1020 + 1020 + 8) fits.
 * Both equal the scalar code for every input; row ends go through the same
 * scalar formulas.
 */
#include "fdj_internal.h"

#ifdef FDJ_X86_SIMD
#include "fdj_simd_x86.h"
#include "fdj_color16_x86.h"
#endif

#ifdef FDJ_X86_SIMD

#define SCALEBITS 16
#define ONE_HALF ((int32_t)1 << (SCALEBITS - 1))

FDJ_INLINE uint8_t clamp255(int32_t v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }

/* [lo | hi] (inserti128: older GCC lacks _mm256_setr_m128i) */
FDJ_AVX2 static inline __m256i pair128(__m128i lo, __m128i hi)
{
    return _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
}

FDJ_AVX2 void fdj_ycc_rgb_row_avx2(const uint8_t *y, const uint8_t *cb, const uint8_t *cr, int w,
                                   uint8_t *out)
{
    int i = 0, k;
    __m128i m[3][3];
    for (k = 0; k < 3; k++) {
        m[k][0] = _mm_loadu_si128((const __m128i *)(const void *)fdj_rgb_interleave_mask[k][0]);
        m[k][1] = _mm_loadu_si128((const __m128i *)(const void *)fdj_rgb_interleave_mask[k][1]);
        m[k][2] = _mm_loadu_si128((const __m128i *)(const void *)fdj_rgb_interleave_mask[k][2]);
    }
    {
        /* 32 pixels: the masks of output chunks k (low lane) and k + 1 (high lane) */
        __m256i m01[3], m23[3], m45[3];
        for (k = 0; k < 3; k++) {
            m01[k] = pair128(m[0][k], m[1][k]);
            m23[k] = pair128(m[2][k], m[0][k]);
            m45[k] = pair128(m[1][k], m[2][k]);
        }
        for (; i + 32 <= w; i += 32) {
            __m256i r0, g0, b0, r1, g1, b1, R, G, B, lo[3], hi[3], v[3];
            fdj_ycc16(_mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(y + i))),
                  _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(cb + i))),
                  _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(cr + i))),
                  &r0, &g0, &b0);
            fdj_ycc16(_mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(y + i + 16))),
                  _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(cb + i + 16))),
                  _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(cr + i + 16))),
                  &r1, &g1, &b1);
            /* saturating packs clamp to 0..255; pixels 0-15 | 16-31 */
            R = _mm256_permute4x64_epi64(_mm256_packus_epi16(r0, r1), 0xD8);
            G = _mm256_permute4x64_epi64(_mm256_packus_epi16(g0, g1), 0xD8);
            B = _mm256_permute4x64_epi64(_mm256_packus_epi16(b0, b1), 0xD8);
            /* chunks 0, 1 read pixels 0-15; chunks 2 | 3 read 0-15 | 16-31; chunks 4, 5 read 16-31 */
            lo[0] = _mm256_permute2x128_si256(R, R, 0x00);
            lo[1] = _mm256_permute2x128_si256(G, G, 0x00);
            lo[2] = _mm256_permute2x128_si256(B, B, 0x00);
            hi[0] = _mm256_permute2x128_si256(R, R, 0x11);
            hi[1] = _mm256_permute2x128_si256(G, G, 0x11);
            hi[2] = _mm256_permute2x128_si256(B, B, 0x11);
            v[0] = R;
            v[1] = G;
            v[2] = B;
#define FDJ_RGB3(src, mk)                                                                          \
    _mm256_or_si256(_mm256_or_si256(_mm256_shuffle_epi8(src[0], mk[0]), _mm256_shuffle_epi8(src[1], mk[1])), \
                    _mm256_shuffle_epi8(src[2], mk[2]))
            _mm256_storeu_si256((__m256i *)(void *)(out + 3 * i), FDJ_RGB3(lo, m01));
            _mm256_storeu_si256((__m256i *)(void *)(out + 3 * i + 32), FDJ_RGB3(v, m23));
            _mm256_storeu_si256((__m256i *)(void *)(out + 3 * i + 64), FDJ_RGB3(hi, m45));
#undef FDJ_RGB3
        }
    }
    for (; i + 16 <= w; i += 16) {
        __m256i vy = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(y + i)));
        __m256i vb = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(cb + i)));
        __m256i vr = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(cr + i)));
        __m256i r, g, b, rg, bx;
        __m128i R, G, B;
        fdj_ycc16(vy, vb, vr, &r, &g, &b);
        /* saturating packs clamp to 0..255 */
        rg = _mm256_permute4x64_epi64(_mm256_packus_epi16(r, g), 0xD8);
        bx = _mm256_permute4x64_epi64(_mm256_packus_epi16(b, b), 0xD8);
        R = _mm256_castsi256_si128(rg);
        G = _mm256_extracti128_si256(rg, 1);
        B = _mm256_castsi256_si128(bx);
        for (k = 0; k < 3; k++) {
            __m128i o = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(R, m[k][0]),
                                                  _mm_shuffle_epi8(G, m[k][1])),
                                     _mm_shuffle_epi8(B, m[k][2]));
            _mm_storeu_si128((__m128i *)(void *)(out + 3 * i + 16 * k), o);
        }
    }
    for (; i < w; i++) {
        int32_t Y = y[i], b = cb[i] - 128, r = cr[i] - 128;
        out[3 * i] = clamp255(Y + ((91881 * r + ONE_HALF) >> SCALEBITS));
        out[3 * i + 1] = clamp255(Y + ((-22554 * b - 46802 * r + ONE_HALF) >> SCALEBITS));
        out[3 * i + 2] = clamp255(Y + ((116130 * b + ONE_HALF) >> SCALEBITS));
    }
}

/* jdsample.c h2v2_fancy_upsample for one output row (w > 2):
 * cs = 3*near + far per input column, then (3*cs + cs_left + 8) >> 4 and
 * (3*cs + cs_right + 7) >> 4, first column (4*cs + 8) >> 4, last (4*cs + 7) >> 4. */
FDJ_AVX2 void fdj_h2v2_fancy_row_avx2(const uint8_t *near, const uint8_t *far, int w, uint8_t *out)
{
    const __m256i c8 = _mm256_set1_epi16(8), c7 = _mm256_set1_epi16(7);
    int i, cur, last, next;
#define COLSUM(p)                                                                                 \
    _mm256_add_epi16(                                                                             \
        _mm256_mullo_epi16(_mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(near + (p)))), \
                           _mm256_set1_epi16(3)),                                                 \
        _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(far + (p)))))
    cur = near[0] * 3 + far[0];
    next = near[1] * 3 + far[1];
    out[0] = (uint8_t)((cur * 4 + 8) >> 4);
    out[1] = (uint8_t)((cur * 3 + next + 7) >> 4);
    /* interior columns 1 .. w-2, sixteen at a time (reads up to column i+16 <= w-1) */
    for (i = 1; i + 16 <= w - 1; i += 16) {
        __m256i cs = COLSUM(i), left = COLSUM(i - 1), right = COLSUM(i + 1);
        __m256i cs3 = _mm256_add_epi16(_mm256_add_epi16(cs, cs), cs);
        __m256i even = _mm256_srli_epi16(_mm256_add_epi16(_mm256_add_epi16(cs3, left), c8), 4);
        __m256i odd = _mm256_srli_epi16(_mm256_add_epi16(_mm256_add_epi16(cs3, right), c7), 4);
        _mm256_storeu_si256((__m256i *)(void *)(out + 2 * i),
                            _mm256_or_si256(even, _mm256_slli_epi16(odd, 8)));
    }
#undef COLSUM
    last = near[i - 1] * 3 + far[i - 1];
    cur = near[i] * 3 + far[i];
    for (; i < w - 1; i++) {
        next = near[i + 1] * 3 + far[i + 1];
        out[2 * i] = (uint8_t)((cur * 3 + last + 8) >> 4);
        out[2 * i + 1] = (uint8_t)((cur * 3 + next + 7) >> 4);
        last = cur;
        cur = next;
    }
    out[2 * (w - 1)] = (uint8_t)((cur * 3 + last + 8) >> 4);
    out[2 * (w - 1) + 1] = (uint8_t)((cur * 4 + 7) >> 4);
}

#endif /* FDJ_X86_SIMD */
