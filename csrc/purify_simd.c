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

/* ---- the IDCT's passes when half the inputs are zero ------------------- */

/* fdj_idct16_pass(x, descale) for x[4..7] == 0 in every lane: the same int32
 * sums, fewer operations.  With x4 = 0, in0 + in4 = in0 - in4 (tmp0 = tmp1);
 * with x5 = x7 = 0, z3 = in3 * a + in1 * b and z4 = in3 * c + in1 * d, so
 * each odd output (a madd of an (in7, in1) or (in5, in3) pair plus z3 or z4)
 * is one madd of the (in3, in1) pair with the two constants summed:
 *   o0 = in3 (1.175 - 1.961) + in1 (1.175 - 0.899)                ( -6436,  2260)
 *   o3 = in3 1.175 + in1 (1.175 - 0.390 + 1.501 - 0.899)           (  9633, 11363)
 *   o1 = in3 (1.175 - 2.562) + in1 (1.175 - 0.390)                 (-11362,  6437)
 *   o2 = in3 (1.175 - 1.961 + 3.072 - 2.562) + in1 1.175           ( -2259,  9633)
 * (int32 sums of products of int16 values and constants below 2^15 in
 * magnitude: no overflow, so any grouping gives the same integer).  The
 * 16-bit sums of the full pass (in7 + in3, in5 + in1) are in3 and in1 here. */
FDJ_AVX2 static inline void idct16_pass_lo4(__m256i x[8], int descale)
{
    const __m256i rnd = _mm256_set1_epi32(1 << (descale - 1)), zero = _mm256_setzero_si256();
    __m256i l, h, t0l, t0h, t2l, t2h, t3l, t3h;
    __m256i t10l, t10h, t11l, t11h, t12l, t12h, t13l, t13h;
    __m256i o0l, o0h, o1l, o1h, o2l, o2h, o3l, o3h;
    l = _mm256_unpacklo_epi16(x[2], zero);
    h = _mm256_unpackhi_epi16(x[2], zero);
    t3l = _mm256_madd_epi16(l, FDJ_PAIR16(FIX_0_541196100 + FIX_0_765366865, FIX_0_541196100));
    t3h = _mm256_madd_epi16(h, FDJ_PAIR16(FIX_0_541196100 + FIX_0_765366865, FIX_0_541196100));
    t2l = _mm256_madd_epi16(l, FDJ_PAIR16(FIX_0_541196100, FIX_0_541196100 - FIX_1_847759065));
    t2h = _mm256_madd_epi16(h, FDJ_PAIR16(FIX_0_541196100, FIX_0_541196100 - FIX_1_847759065));
    t0l = _mm256_add_epi32(_mm256_srai_epi32(_mm256_unpacklo_epi16(zero, x[0]), 16 - CONST_BITS), rnd);
    t0h = _mm256_add_epi32(_mm256_srai_epi32(_mm256_unpackhi_epi16(zero, x[0]), 16 - CONST_BITS), rnd);
    t10l = _mm256_add_epi32(t0l, t3l);
    t10h = _mm256_add_epi32(t0h, t3h);
    t13l = _mm256_sub_epi32(t0l, t3l);
    t13h = _mm256_sub_epi32(t0h, t3h);
    t11l = _mm256_add_epi32(t0l, t2l);
    t11h = _mm256_add_epi32(t0h, t2h);
    t12l = _mm256_sub_epi32(t0l, t2l);
    t12h = _mm256_sub_epi32(t0h, t2h);
    l = _mm256_unpacklo_epi16(x[3], x[1]);
    h = _mm256_unpackhi_epi16(x[3], x[1]);
#define ODD(a, b) FDJ_PAIR16(a, b)
    o0l = _mm256_madd_epi16(l, ODD(FIX_1_175875602 - FIX_1_961570560, FIX_1_175875602 - FIX_0_899976223));
    o0h = _mm256_madd_epi16(h, ODD(FIX_1_175875602 - FIX_1_961570560, FIX_1_175875602 - FIX_0_899976223));
    o3l = _mm256_madd_epi16(l, ODD(FIX_1_175875602, FIX_1_175875602 - FIX_0_390180644 + FIX_1_501321110 - FIX_0_899976223));
    o3h = _mm256_madd_epi16(h, ODD(FIX_1_175875602, FIX_1_175875602 - FIX_0_390180644 + FIX_1_501321110 - FIX_0_899976223));
    o1l = _mm256_madd_epi16(l, ODD(FIX_1_175875602 - FIX_2_562915447, FIX_1_175875602 - FIX_0_390180644));
    o1h = _mm256_madd_epi16(h, ODD(FIX_1_175875602 - FIX_2_562915447, FIX_1_175875602 - FIX_0_390180644));
    o2l = _mm256_madd_epi16(l, ODD(FIX_1_175875602 - FIX_1_961570560 + FIX_3_072711026 - FIX_2_562915447, FIX_1_175875602));
    o2h = _mm256_madd_epi16(h, ODD(FIX_1_175875602 - FIX_1_961570560 + FIX_3_072711026 - FIX_2_562915447, FIX_1_175875602));
#undef ODD
#define OUT(a, op, b)                                                                            \
    _mm256_packs_epi32(_mm256_srai_epi32(op(a##l, b##l), descale), _mm256_srai_epi32(op(a##h, b##h), descale))
    x[0] = OUT(t10, _mm256_add_epi32, o3);
    x[7] = OUT(t10, _mm256_sub_epi32, o3);
    x[1] = OUT(t11, _mm256_add_epi32, o2);
    x[6] = OUT(t11, _mm256_sub_epi32, o2);
    x[2] = OUT(t12, _mm256_add_epi32, o1);
    x[5] = OUT(t12, _mm256_sub_epi32, o1);
    x[3] = OUT(t13, _mm256_add_epi32, o0);
    x[4] = OUT(t13, _mm256_sub_epi32, o0);
#undef OUT
}

/* fdj_transpose8x16 for inputs whose lanes 4..7 (of each half) are zero:
 * r[0..3] as the full transpose gives them (r[4..7] would be zero and are
 * not written). */
FDJ_AVX2 static inline void transpose8x16_lo4(__m256i r[8])
{
    __m256i t0 = _mm256_unpacklo_epi16(r[0], r[1]), t2 = _mm256_unpacklo_epi16(r[2], r[3]);
    __m256i t4 = _mm256_unpacklo_epi16(r[4], r[5]), t6 = _mm256_unpacklo_epi16(r[6], r[7]);
    __m256i u0 = _mm256_unpacklo_epi32(t0, t2), u1 = _mm256_unpackhi_epi32(t0, t2);
    __m256i u4 = _mm256_unpacklo_epi32(t4, t6), u5 = _mm256_unpackhi_epi32(t4, t6);
    r[0] = _mm256_unpacklo_epi64(u0, u4);
    r[1] = _mm256_unpackhi_epi64(u0, u4);
    r[2] = _mm256_unpacklo_epi64(u1, u5);
    r[3] = _mm256_unpackhi_epi64(u1, u5);
}

/* fdj_idct16_pixels for x[4..7] == 0 (the workspace's columns 4..7). */
FDJ_AVX2 static inline void idct16_pixels_lo4(__m256i x[8], __m256i r[4])
{
    const __m256i pairs = _mm256_setr_epi8(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15,
                                           0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
    const __m256i center = _mm256_set1_epi8((char)0x80);
    __m256i w01, w23, w45, w67, a0, a1, b0, b1;
    idct16_pass_lo4(x, CONST_BITS + PASS1_BITS + 3);
    w01 = _mm256_shuffle_epi8(_mm256_xor_si256(_mm256_packs_epi16(x[0], x[1]), center), pairs);
    w23 = _mm256_shuffle_epi8(_mm256_xor_si256(_mm256_packs_epi16(x[2], x[3]), center), pairs);
    w45 = _mm256_shuffle_epi8(_mm256_xor_si256(_mm256_packs_epi16(x[4], x[5]), center), pairs);
    w67 = _mm256_shuffle_epi8(_mm256_xor_si256(_mm256_packs_epi16(x[6], x[7]), center), pairs);
    a0 = _mm256_unpacklo_epi16(w01, w23);
    a1 = _mm256_unpackhi_epi16(w01, w23);
    b0 = _mm256_unpacklo_epi16(w45, w67);
    b1 = _mm256_unpackhi_epi16(w45, w67);
    r[0] = _mm256_unpacklo_epi32(a0, b0);
    r[1] = _mm256_unpackhi_epi32(a0, b0);
    r[2] = _mm256_unpacklo_epi32(a1, b1);
    r[3] = _mm256_unpackhi_epi32(a1, b1);
}

/* ---- one component of the tile: fdj_purify2_avx2 in registers ---------- */

/* x: level-shifted rows (block a low half, b high half).  r: the pixels as
 * fdj_idct16_pixels gives them (r[i]: rows 2i, 2i+1 of a | of b, bytes).
 * 0 when a block is outside the 16-bit IDCT's exactness bound.
 *
 * Zero patterns: a coefficient quantizes to 0 exactly when |x| < 4T (the
 * quotient floor((|x| + 4T) / 8T) is exact, fdj_purify_consts_init), i.e.
 * when 4T > |x| (z[i] below, per lane).  From those masks, before any
 * multiply: both blocks DC only -> only the DC is quantized and filled
 * (fdj_idct16_dc_fill's value); rows 1..7 zero -> pass 1 is the DC scaled;
 * rows 4..7 zero -> pass 1 without them; columns 4..7 zero -> the
 * workspace's columns 4..7 are zero (pass 1 maps a zero column to zero:
 * rnd >> descale = 0), so the transpose and pass 2 run without them.
 * Each shortcut computes the same integers as the full computation. */
FDJ_AVX2 static inline __attribute__((always_inline)) int purify_comp(__m256i x[8], const fdj_purify_consts *pc, __m256i r[4])
{
#define PQ(field, i) _mm256_loadu_si256((const __m256i *)(const void *)pc->v[field][i])
    const __m256i zero = _mm256_setzero_si256();
    /* the DC lanes (word 0 of each half) */
    const __m256i dcl = _mm256_setr_epi16(-1, 0, 0, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0);
    __m256i a[8], z[8], z47, z17, zc;
    int i;
    fdj_transpose8x16(x);
    fdj_fdct16_pass(x, 0);
    fdj_transpose8x16(x);
    fdj_fdct16_pass(x, 1); /* x[k] = coefficient row k, |x| < 2^13 */
    for (i = 0; i < 8; i++) {
        a[i] = _mm256_abs_epi16(x[i]);
        z[i] = _mm256_cmpgt_epi16(PQ(FDJ_PQ_BIAS, i), a[i]); /* quantizes to 0 */
    }
    z47 = _mm256_and_si256(_mm256_and_si256(z[4], z[5]), _mm256_and_si256(z[6], z[7]));
    z17 = _mm256_and_si256(_mm256_and_si256(_mm256_and_si256(z[1], z[2]), z[3]), z47);
    if ((unsigned)_mm256_movemask_epi8(_mm256_and_si256(z17, _mm256_or_si256(z[0], dcl))) == 0xFFFFFFFFu) {
        /* both blocks DC only: the quantizer on row 0 (the DC lanes are what is
         * used), the exactness bound |dc| <= 4080 (fdj_idct16_exact_mask's sum
         * for a DC-only block), then fdj_idct16_dc_fill's value:
         * ((w >> 4) + 1) >> 1 with w = dc << PASS1_BITS, saturated to a byte and
         * + 128, everywhere in its block's half */
        __m256i n = _mm256_add_epi16(a[0], PQ(FDJ_PQ_BIAS, 0));
        __m256i quo = _mm256_mulhi_epu16(_mm256_mulhi_epu16(n, PQ(FDJ_PQ_MAGIC, 0)), PQ(FDJ_PQ_POST, 0));
        __m256i dc = _mm256_mullo_epi16(_mm256_sign_epi16(quo, x[0]), PQ(FDJ_PQ_T, 0));
        __m256i w, v, p, all;
        if (!_mm256_testz_si256(_mm256_cmpgt_epi16(_mm256_abs_epi16(dc), _mm256_set1_epi16(4080)), dcl))
            return 0;
        w = _mm256_slli_epi16(dc, PASS1_BITS);
        v = _mm256_srai_epi16(_mm256_add_epi16(_mm256_srai_epi16(w, 4), _mm256_set1_epi16(1)), 1);
        p = _mm256_xor_si256(_mm256_packs_epi16(v, v), _mm256_set1_epi8((char)0x80));
        all = _mm256_shuffle_epi8(p, zero);
        r[0] = r[1] = r[2] = r[3] = all;
        return 1;
    }
    for (i = 0; i < 8; i++) {
        /* n = |x| + 4T < 2^15; quotient = n / 8T; signed, times T */
        __m256i n = _mm256_add_epi16(a[i], PQ(FDJ_PQ_BIAS, i));
        __m256i quo = _mm256_mulhi_epu16(_mm256_mulhi_epu16(n, PQ(FDJ_PQ_MAGIC, i)), PQ(FDJ_PQ_POST, i));
        x[i] = _mm256_mullo_epi16(_mm256_sign_epi16(quo, x[i]), PQ(FDJ_PQ_T, i));
    }
#undef PQ
    if (fdj_idct16_exact_mask(x) != 3)
        return 0;
    /* columns 4..7 of every row quantize to 0: words 4..7 of each half */
    zc = _mm256_and_si256(_mm256_and_si256(z17, z[0]),
                          _mm256_setr_epi16(0, 0, 0, 0, -1, -1, -1, -1, 0, 0, 0, 0, -1, -1, -1, -1));
    if ((unsigned)_mm256_movemask_epi8(z17) == 0xFFFFFFFFu) {
        __m256i sc = _mm256_slli_epi16(x[0], PASS1_BITS);
        for (i = 0; i < 8; i++)
            x[i] = sc;
    } else if ((unsigned)_mm256_movemask_epi8(z47) == 0xFFFFFFFFu) {
        idct16_pass_lo4(x, CONST_BITS - PASS1_BITS);
    } else {
        fdj_idct16_pass(x, CONST_BITS - PASS1_BITS);
    }
    if ((unsigned)_mm256_movemask_epi8(zc) == 0xFF00FF00u) {
        transpose8x16_lo4(x);
        idct16_pixels_lo4(x, r);
    } else {
        fdj_transpose8x16(x);
        fdj_idct16_pixels(x, r);
    }
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
