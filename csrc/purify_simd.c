/*
 * purify_simd.c -- purify's 4:4:4 RGB tile kernel (AVX2): a 16x8 RGB tile
 * (two 8x8 blocks side by side) goes RGB -> YCbCr -> FDCT -> quantize and
 * dequantize -> IDCT -> YCbCr -> RGB with every intermediate in registers
 * (or the stack), no component planes.  The scalar reference is the
 * separate kernels' chain in purify.c (tile_reference: the encoder's RGB ->
 * YCbCr, fdj_fdct_islow, the quantizer, fdj_idct_islow, the decoder's
 * YCbCr -> RGB); chosen in fdj_simd.c (fdj_kernels.purify_tile).
 *
 * Exactness, stage by stage:
 *  - RGB -> YCbCr: libjpeg's jccolor.c int32 sums (enc_color_simd.c's
 *    madd pairs), with the level shift of the FDCT folded into the offsets:
 *    (S - 128 * 2^16) >> 16 = (S >> 16) - 128 for an arithmetic shift.  The
 *    results are 0..255 before the shift (jccolor's offsets keep them there),
 *    so the bytes the row kernel would store are these values exactly.
 *  - FDCT, quantizer, IDCT: fdj_purify2_avx2's arithmetic (enc_fdct_simd.c,
 *    fdj_idct16_x86.h), including its exactness bound: a tile with a block
 *    outside it is refused (returns 0, nothing written) and the caller runs
 *    the reference on the whole tile.
 *  - YCbCr -> RGB: dec_color_simd.c's 16-bit identities (fdj_ycc16, the
 *    same code) on the IDCT's bytes widened to 16 bits.
 */
#include "enc_internal.h"

#ifdef FDJ_X86_SIMD
#include "enc_color_consts.h"
#include "fdj_fdct16_x86.h" /* the FDCT in 16-bit lanes, shared with enc_fdct_simd.c */
#include "fdj_idct16_x86.h"
#include "fdj_color16_x86.h" /* YCbCr -> RGB, shared with dec_color_simd.c */

/* ---- RGB -> level-shifted YCbCr, 16 pixels of one row ---------------- */

#define PAIR16(lo, hi) _mm256_set1_epi32((int)(((uint32_t)(uint16_t)(hi) << 16) | (uint16_t)(lo)))

/* 48 bytes of packed RGB at s -> Y - 128, Cb - 128, Cr - 128 as int16
 * [pixels 0-7 | 8-15]: row i of block a (low half) and of block b (high
 * half), the FDCT's input layout. */
FDJ_AVX2 static inline void rgb_ycc16(const uint8_t *s, __m256i *y, __m256i *cb, __m256i *cr)
{
    const __m256i mr0 = _mm256_broadcastsi128_si256(_mm_setr_epi8(0, -1, 3, -1, 6, -1, 9, -1, 12, -1, -1, -1, -1, -1, -1, -1));
    const __m256i mr1 = _mm256_broadcastsi128_si256(_mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 7, -1, 10, -1, 13, -1));
    const __m256i mg0 = _mm256_broadcastsi128_si256(_mm_setr_epi8(1, -1, 4, -1, 7, -1, 10, -1, 13, -1, -1, -1, -1, -1, -1, -1));
    const __m256i mg1 = _mm256_broadcastsi128_si256(_mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 8, -1, 11, -1, 14, -1));
    const __m256i mb0 = _mm256_broadcastsi128_si256(_mm_setr_epi8(2, -1, 5, -1, 8, -1, 11, -1, 14, -1, -1, -1, -1, -1, -1, -1));
    const __m256i mb1 = _mm256_broadcastsi128_si256(_mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 9, -1, 12, -1, 15, -1));
    /* Y = 19595 R + 38470 G + 7471 B + 2^15, 38470 = 22086 + 16384 (int16 factors) */
    const __m256i ky_rg = PAIR16(FIX_0_29900, FIX_0_58700 - 16384), ky_bg = PAIR16(FIX_0_11400, 16384);
    const __m256i kcb_rg = PAIR16(-FIX_0_16874, -FIX_0_33126), kcb_bg = PAIR16(16384, 0);
    const __m256i kcr_rg = PAIR16(16384, 0), kcr_bg = PAIR16(-FIX_0_08131, -FIX_0_41869);
    /* the offsets less 128 << 16: the FDCT's level shift */
    const __m256i yoff = _mm256_set1_epi32(ONE_HALF - CBCR_OFFSET);
    const __m256i coff = _mm256_set1_epi32(ONE_HALF - 1);
    __m256i v0 = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)s)),
        _mm_loadu_si128((const __m128i *)(const void *)(s + 24)), 1);
    __m256i v1 = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(s + 8))),
        _mm_loadu_si128((const __m128i *)(const void *)(s + 32)), 1);
    __m256i r = _mm256_or_si256(_mm256_shuffle_epi8(v0, mr0), _mm256_shuffle_epi8(v1, mr1));
    __m256i g = _mm256_or_si256(_mm256_shuffle_epi8(v0, mg0), _mm256_shuffle_epi8(v1, mg1));
    __m256i b = _mm256_or_si256(_mm256_shuffle_epi8(v0, mb0), _mm256_shuffle_epi8(v1, mb1));
    __m256i rg_lo = _mm256_unpacklo_epi16(r, g), rg_hi = _mm256_unpackhi_epi16(r, g);
    __m256i bg_lo = _mm256_unpacklo_epi16(b, g), bg_hi = _mm256_unpackhi_epi16(b, g);
    __m256i y_lo = _mm256_add_epi32(_mm256_add_epi32(_mm256_madd_epi16(rg_lo, ky_rg),
                                                     _mm256_madd_epi16(bg_lo, ky_bg)), yoff);
    __m256i y_hi = _mm256_add_epi32(_mm256_add_epi32(_mm256_madd_epi16(rg_hi, ky_rg),
                                                     _mm256_madd_epi16(bg_hi, ky_bg)), yoff);
    __m256i cb_lo = _mm256_add_epi32(
        _mm256_add_epi32(_mm256_madd_epi16(rg_lo, kcb_rg),
                         _mm256_slli_epi32(_mm256_madd_epi16(bg_lo, kcb_bg), 1)), coff);
    __m256i cb_hi = _mm256_add_epi32(
        _mm256_add_epi32(_mm256_madd_epi16(rg_hi, kcb_rg),
                         _mm256_slli_epi32(_mm256_madd_epi16(bg_hi, kcb_bg), 1)), coff);
    __m256i cr_lo = _mm256_add_epi32(
        _mm256_add_epi32(_mm256_slli_epi32(_mm256_madd_epi16(rg_lo, kcr_rg), 1),
                         _mm256_madd_epi16(bg_lo, kcr_bg)), coff);
    __m256i cr_hi = _mm256_add_epi32(
        _mm256_add_epi32(_mm256_slli_epi32(_mm256_madd_epi16(rg_hi, kcr_rg), 1),
                         _mm256_madd_epi16(bg_hi, kcr_bg)), coff);
    /* pack restores the pixel order [0-7 | 8-15] (unpack and pack work per 128-bit half) */
    *y = _mm256_packs_epi32(_mm256_srai_epi32(y_lo, 16), _mm256_srai_epi32(y_hi, 16));
    *cb = _mm256_packs_epi32(_mm256_srai_epi32(cb_lo, 16), _mm256_srai_epi32(cb_hi, 16));
    *cr = _mm256_packs_epi32(_mm256_srai_epi32(cr_lo, 16), _mm256_srai_epi32(cr_hi, 16));
}

/* ---- one component of the tile: fdj_purify2_avx2 in registers ---------- */

/* x: level-shifted rows (block a low half, b high half).  r: the pixels as
 * fdj_idct16_pixels gives them (r[i]: rows 2i, 2i+1 of a | of b, bytes).
 * 0 when a block is outside the 16-bit IDCT's exactness bound. */
FDJ_AVX2 static inline int purify_comp(__m256i x[8], const fdj_purify_consts *pc, __m256i r[4])
{
#define PQ(field, i) _mm256_loadu_si256((const __m256i *)(const void *)pc->v[field][i])
    const __m256i zero = _mm256_setzero_si256();
    __m256i rows, ac;
    unsigned rz, dc_only;
    int i;
    fdj_transpose8x16(x);
    fdj_fdct16_pass(x, 0);
    fdj_transpose8x16(x);
    fdj_fdct16_pass(x, 1); /* x[k] = coefficient row k, |x| < 2^13 */
    for (i = 0; i < 8; i++) {
        /* n = |x| + 4T < 2^15; quotient = n / 8T; signed, times T */
        __m256i n = _mm256_add_epi16(_mm256_abs_epi16(x[i]), PQ(FDJ_PQ_BIAS, i));
        __m256i quo = _mm256_mulhi_epu16(_mm256_mulhi_epu16(n, PQ(FDJ_PQ_MAGIC, i)), PQ(FDJ_PQ_POST, i));
        x[i] = _mm256_mullo_epi16(_mm256_sign_epi16(quo, x[i]), PQ(FDJ_PQ_T, i));
    }
#undef PQ
    if (fdj_idct16_exact_mask(x) != 3)
        return 0;
    rows = _mm256_or_si256(_mm256_or_si256(_mm256_or_si256(x[1], x[2]), _mm256_or_si256(x[3], x[4])),
                           _mm256_or_si256(_mm256_or_si256(x[5], x[6]), x[7]));
    ac = _mm256_or_si256(rows, _mm256_blend_epi16(x[0], zero, 0x01));
    rz = (unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi16(rows, zero));
    dc_only = (unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi16(ac, zero));
    if (dc_only == 0xFFFFFFFFu) {
        /* fdj_idct16_dc_fill's value: ((w >> 4) + 1) >> 1 with w = dc << PASS1_BITS,
         * saturated to a byte and + 128, everywhere in its block's half */
        __m256i w = _mm256_slli_epi16(x[0], PASS1_BITS);
        __m256i v = _mm256_srai_epi16(_mm256_add_epi16(_mm256_srai_epi16(w, 4), _mm256_set1_epi16(1)), 1);
        __m256i p = _mm256_xor_si256(_mm256_packs_epi16(v, v), _mm256_set1_epi8((char)0x80));
        __m256i all = _mm256_shuffle_epi8(p, zero);
        r[0] = r[1] = r[2] = r[3] = all;
        return 1;
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
    return 1;
}

FDJ_AVX2 int fdj_purify_tile_avx2(const uint8_t *rgb, ptrdiff_t stride,
                                  const fdj_purify_consts *const pc[3], uint8_t *out,
                                  ptrdiff_t out_stride)
{
    const __m256i zero = _mm256_setzero_si256();
    __m256i yx[8], cbx[8], crx[8], ry[4], rcb[4], rcr[4], m[3][3];
    int i, k;
    for (i = 0; i < 8; i++)
        rgb_ycc16(rgb + i * stride, &yx[i], &cbx[i], &crx[i]);
    if (!purify_comp(yx, pc[0], ry) || !purify_comp(cbx, pc[1], rcb) || !purify_comp(crx, pc[2], rcr))
        return 0;
    for (k = 0; k < 3; k++) {
        m[k][0] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)fdj_rgb_interleave_mask[k][0]));
        m[k][1] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)fdj_rgb_interleave_mask[k][1]));
        m[k][2] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)fdj_rgb_interleave_mask[k][2]));
    }
    for (i = 0; i < 4; i++) {
        __m256i r0, g0, b0, r1, g1, b1, R, G, B;
        uint8_t *o = out + 2 * i * out_stride;
        /* rows 2i (unpacklo) and 2i + 1 (unpackhi) as int16 [a | b] */
        fdj_ycc16(_mm256_unpacklo_epi8(ry[i], zero), _mm256_unpacklo_epi8(rcb[i], zero),
              _mm256_unpacklo_epi8(rcr[i], zero), &r0, &g0, &b0);
        fdj_ycc16(_mm256_unpackhi_epi8(ry[i], zero), _mm256_unpackhi_epi8(rcb[i], zero),
              _mm256_unpackhi_epi8(rcr[i], zero), &r1, &g1, &b1);
        /* saturating packs clamp to 0..255; row 2i in the low half, 2i + 1 in the high */
        R = _mm256_permute4x64_epi64(_mm256_packus_epi16(r0, r1), 0xD8);
        G = _mm256_permute4x64_epi64(_mm256_packus_epi16(g0, g1), 0xD8);
        B = _mm256_permute4x64_epi64(_mm256_packus_epi16(b0, b1), 0xD8);
        for (k = 0; k < 3; k++) {
            __m256i c = _mm256_or_si256(_mm256_or_si256(_mm256_shuffle_epi8(R, m[k][0]),
                                                        _mm256_shuffle_epi8(G, m[k][1])),
                                        _mm256_shuffle_epi8(B, m[k][2]));
            _mm_storeu_si128((__m128i *)(void *)(o + 16 * k), _mm256_castsi256_si128(c));
            _mm_storeu_si128((__m128i *)(void *)(o + out_stride + 16 * k), _mm256_extracti128_si256(c, 1));
        }
    }
    return 1;
}

#endif /* FDJ_X86_SIMD */
