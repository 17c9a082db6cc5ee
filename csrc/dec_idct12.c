/*
 * dec_idct12.c -- 12-bit lossy output: dequantize (+ one-pass purification),
 * the 12-bit ISLOW IDCT, and rendering through dec_render16.c.
 *
 * The IDCT is libjpeg-turbo 3's jidctint.c as compiled for 12-bit samples:
 * CONST_BITS 13, PASS1_BITS 1, 64-bit (JLONG) intermediates, the pass-1 results
 * stored in an int workspace (truncated to 32 bits), and each output taken
 * through the IDCT range-limit table: the low 14 bits (RANGE_MASK = 4*4096-1)
 * read as a signed number, plus CENTERJSAMPLE 2048, clamped to 0..4095
 * (jdmaster.c prepare_range_limit_table).  libjpeg-turbo has no SIMD for
 * 12-bit data, so this plain arithmetic is what it computes on every machine.
 * The dequantization multipliers are ints: MULTIPLIER is short only with
 * WITH_SIMD, which jconfigint.h defines for 8-bit builds alone, so at 12 bits
 * a 16-bit table entry keeps its value up to 65535 (at 8 bits, Pillow's, an
 * entry above 32767 acts as negative).  Measured: 60 files of random
 * coefficients (+-1023) with random tables up to 65535 decode as imagecodecs'
 * libjpeg-turbo 3.1 does with int multipliers, and differ with shorts.
 *
 * One-pass purification at 12 bits: the tables keep their 8-bit meaning and
 * are scaled by 16 (12-bit DCT coefficients are 16 times the 8-bit ones for
 * the same image), i.e. D -> 16T * round(D / 16T).
 */
#include "dec_hiprec.h"

#include "fdj_islow12.h"


FDJ_INLINE uint16_t range12(int64_t v)
{
    int32_t s = (int32_t)(v & 16383); /* RANGE_MASK */
    if (s >= 8192)
        s -= 16384;
    s += 2048;
    return (uint16_t)(s < 0 ? 0 : s > 4095 ? 4095 : s);
}

void fdj_idct12_islow(const int32_t in[64], uint16_t *out, ptrdiff_t stride)
{
    int32_t ws[64];
    int i;
    for (i = 0; i < 8; i++) {
        const int32_t *p = in + i;
        int64_t z1, z2, z3, z4, z5, tmp0, tmp1, tmp2, tmp3, tmp10, tmp11, tmp12, tmp13;
        if ((p[8] | p[16] | p[24] | p[32] | p[40] | p[48] | p[56]) == 0) {
            /* jidctint.c's shortcut; the full pass gives the same value */
            int32_t dc = (int32_t)(uint32_t)((uint64_t)(int64_t)p[0] << PASS1_BITS);
            int k;
            for (k = 0; k < 8; k++)
                ws[8 * k + i] = dc;
            continue;
        }
        z2 = p[16];
        z3 = p[48];
        z1 = (z2 + z3) * FIX_0_541196100;
        tmp2 = z1 - z3 * FIX_1_847759065;
        tmp3 = z1 + z2 * FIX_0_765366865;
        z2 = p[0];
        z3 = p[32];
        tmp0 = (z2 + z3) * ((int64_t)1 << CONST_BITS);
        tmp1 = (z2 - z3) * ((int64_t)1 << CONST_BITS);
        tmp10 = tmp0 + tmp3;
        tmp13 = tmp0 - tmp3;
        tmp11 = tmp1 + tmp2;
        tmp12 = tmp1 - tmp2;
        tmp0 = p[56];
        tmp1 = p[40];
        tmp2 = p[24];
        tmp3 = p[8];
        z1 = tmp0 + tmp3;
        z2 = tmp1 + tmp2;
        z3 = tmp0 + tmp2;
        z4 = tmp1 + tmp3;
        z5 = (z3 + z4) * FIX_1_175875602;
        tmp0 *= FIX_0_298631336;
        tmp1 *= FIX_2_053119869;
        tmp2 *= FIX_3_072711026;
        tmp3 *= FIX_1_501321110;
        z1 *= -FIX_0_899976223;
        z2 *= -FIX_2_562915447;
        z3 = z3 * -FIX_1_961570560 + z5;
        z4 = z4 * -FIX_0_390180644 + z5;
        tmp0 += z1 + z3;
        tmp1 += z2 + z4;
        tmp2 += z2 + z3;
        tmp3 += z1 + z4;
        /* (int) casts of jidctint.c: keep the low 32 bits */
        ws[i] = (int32_t)(uint32_t)(uint64_t)DESCALE(tmp10 + tmp3, CONST_BITS - PASS1_BITS);
        ws[56 + i] = (int32_t)(uint32_t)(uint64_t)DESCALE(tmp10 - tmp3, CONST_BITS - PASS1_BITS);
        ws[8 + i] = (int32_t)(uint32_t)(uint64_t)DESCALE(tmp11 + tmp2, CONST_BITS - PASS1_BITS);
        ws[48 + i] = (int32_t)(uint32_t)(uint64_t)DESCALE(tmp11 - tmp2, CONST_BITS - PASS1_BITS);
        ws[16 + i] = (int32_t)(uint32_t)(uint64_t)DESCALE(tmp12 + tmp1, CONST_BITS - PASS1_BITS);
        ws[40 + i] = (int32_t)(uint32_t)(uint64_t)DESCALE(tmp12 - tmp1, CONST_BITS - PASS1_BITS);
        ws[24 + i] = (int32_t)(uint32_t)(uint64_t)DESCALE(tmp13 + tmp0, CONST_BITS - PASS1_BITS);
        ws[32 + i] = (int32_t)(uint32_t)(uint64_t)DESCALE(tmp13 - tmp0, CONST_BITS - PASS1_BITS);
    }
    for (i = 0; i < 8; i++) {
        const int32_t *w = ws + 8 * i;
        uint16_t *o = (uint16_t *)((uint8_t *)out + (ptrdiff_t)i * stride);
        int64_t z1, z2, z3, z4, z5, tmp0, tmp1, tmp2, tmp3, tmp10, tmp11, tmp12, tmp13;
        if ((w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7]) == 0) {
            uint16_t v = range12(DESCALE((int64_t)w[0], PASS1_BITS + 3));
            int k;
            for (k = 0; k < 8; k++)
                o[k] = v;
            continue;
        }
        z2 = w[2];
        z3 = w[6];
        z1 = (z2 + z3) * FIX_0_541196100;
        tmp2 = z1 - z3 * FIX_1_847759065;
        tmp3 = z1 + z2 * FIX_0_765366865;
        tmp0 = ((int64_t)w[0] + w[4]) * ((int64_t)1 << CONST_BITS);
        tmp1 = ((int64_t)w[0] - w[4]) * ((int64_t)1 << CONST_BITS);
        tmp10 = tmp0 + tmp3;
        tmp13 = tmp0 - tmp3;
        tmp11 = tmp1 + tmp2;
        tmp12 = tmp1 - tmp2;
        tmp0 = w[7];
        tmp1 = w[5];
        tmp2 = w[3];
        tmp3 = w[1];
        z1 = tmp0 + tmp3;
        z2 = tmp1 + tmp2;
        z3 = tmp0 + tmp2;
        z4 = tmp1 + tmp3;
        z5 = (z3 + z4) * FIX_1_175875602;
        tmp0 *= FIX_0_298631336;
        tmp1 *= FIX_2_053119869;
        tmp2 *= FIX_3_072711026;
        tmp3 *= FIX_1_501321110;
        z1 *= -FIX_0_899976223;
        z2 *= -FIX_2_562915447;
        z3 = z3 * -FIX_1_961570560 + z5;
        z4 = z4 * -FIX_0_390180644 + z5;
        tmp0 += z1 + z3;
        tmp1 += z2 + z4;
        tmp2 += z2 + z3;
        tmp3 += z1 + z4;
        o[0] = range12(DESCALE(tmp10 + tmp3, CONST_BITS + PASS1_BITS + 3));
        o[7] = range12(DESCALE(tmp10 - tmp3, CONST_BITS + PASS1_BITS + 3));
        o[1] = range12(DESCALE(tmp11 + tmp2, CONST_BITS + PASS1_BITS + 3));
        o[6] = range12(DESCALE(tmp11 - tmp2, CONST_BITS + PASS1_BITS + 3));
        o[2] = range12(DESCALE(tmp12 + tmp1, CONST_BITS + PASS1_BITS + 3));
        o[5] = range12(DESCALE(tmp12 - tmp1, CONST_BITS + PASS1_BITS + 3));
        o[3] = range12(DESCALE(tmp13 + tmp0, CONST_BITS + PASS1_BITS + 3));
        o[4] = range12(DESCALE(tmp13 - tmp0, CONST_BITS + PASS1_BITS + 3));
    }
}

/* t * round(v / t), half away from zero: one-pass FD's requantizer */
FDJ_INLINE int32_t requantize(int32_t v, int32_t t)
{
    int32_t q = v >= 0 ? (v + (t >> 1)) / t : -((-v + (t >> 1)) / t);
    return q * t;
}

/* The purification table of component c (as the 8-bit driver's setup_out). */
static const uint16_t *purify_table(const fdj_decoder *d, int c)
{
    int n = d->opt.purify_count;
    if (n == 1)
        return d->opt.purify[0];
    if (n == 2)
        return d->opt.purify[c == 0 ? 0 : 1];
    if (n > 2)
        return d->opt.purify[c < n ? c : n - 1];
    return NULL;
}

void fdj_decode12_needed(const fdj_decoder *d, const fdj_render_spec *spec, int c, int x0,
                         int y0, int x1, int y1, int *bx0, int *bx1, int *by0, int *by1)
{
    const fdj_dcomp *k = &d->comp[c];
    int hx = spec->hx[c], vx = spec->vx[c];
    /* the triangle filter reads one sample beyond (dec_render16.c upsample_cols) */
    int lo = x0 / hx - (hx > 1), hi = (x1 - 1) / hx + (hx > 1);
    int top = y0 / vx - (vx > 1), bot = (y1 - 1) / vx + (vx > 1);
    if (lo < 0)
        lo = 0;
    if (top < 0)
        top = 0;
    if (hi > spec->comp_width[c] - 1)
        hi = spec->comp_width[c] - 1;
    if (bot > spec->comp_height[c] - 1)
        bot = spec->comp_height[c] - 1;
    *bx0 = lo / 8;
    *bx1 = hi / 8 + 1;
    *by0 = top / 8;
    *by1 = bot / 8 + 1;
    if (*bx1 > k->width_in_blocks)
        *bx1 = k->width_in_blocks;
    if (*by1 > k->height_in_blocks)
        *by1 = k->height_in_blocks;
}

int fdj_output12_from_full(fdj_decoder *d, const fdj_render_spec *spec, uint8_t *out,
                           ptrdiff_t row_stride)
{
    return fdj_output12_window(d, spec, 0, 0, spec->width, spec->height, out, row_stride);
}

int fdj_output12_window(fdj_decoder *d, const fdj_render_spec *spec, int x0, int y0, int x1,
                        int y1, uint8_t *out, ptrdiff_t row_stride)
{
    uint16_t *planes[FDJ_MAX_COMPONENTS] = {0};
    ptrdiff_t strides[FDJ_MAX_COMPONENTS];
    const char *why;
    int c, st = FDJ_OK;
    if (d->opt.scale_denom != 1)
        return fdj_fail_dec(d, FDJ_ERR_UNSUPPORTED,
                            "scaled decoding (scale 1/%d) of 12-bit JPEG is not supported (no "
                            "independent 12-bit reference for libjpeg-turbo's scaled IDCTs)",
                            d->opt.scale_denom);
    if (fdj_render16_check(spec, 0, &why) != FDJ_OK)
        return fdj_fail_dec(d, FDJ_ERR_UNSUPPORTED, "%s", why);
    for (c = 0; c < d->ncomp; c++) {
        fdj_dcomp *k = &d->comp[c];
        const uint16_t *t = purify_table(d, c);
        int32_t q[64], t16[64];
        size_t n;
        int bx, by, i, bx0, bx1, by0, by1;
        strides[c] = (ptrdiff_t)k->width_in_blocks * 8;
        if (!fdj_mul3_size((size_t)strides[c], (size_t)k->height_in_blocks * 8, sizeof(uint16_t),
                           &n)) {
            st = fdj_fail_dec(d, FDJ_ERR_TOO_LARGE, "12-bit sample plane size overflows");
            goto done;
        }
        planes[c] = (uint16_t *)malloc(n ? n : 1);
        if (!planes[c]) {
            st = fdj_fail_dec(d, FDJ_ERR_NOMEM, "out of memory for 12-bit sample planes");
            goto done;
        }
        for (i = 0; i < 64; i++) {
            q[i] = (int32_t)k->q[i]; /* int multipliers at 12 bits (see the top) */
            t16[i] = t ? (int32_t)t[i] * 16 : 0;
        }
        /* only the blocks the window reads (the plane is not touched elsewhere) */
        fdj_decode12_needed(d, spec, c, x0, y0, x1, y1, &bx0, &bx1, &by0, &by1);
        for (by = by0; by < by1; by++) {
            const int16_t *src = k->coef + (size_t)by * (size_t)k->bw * 64;
            uint16_t *dst = planes[c] + (size_t)by * 8 * (size_t)strides[c];
            for (bx = bx0; bx < bx1; bx++) {
                const int16_t *blk = src + (size_t)bx * 64;
                int32_t tmp[64];
                if (t) {
                    for (i = 0; i < 64; i++)
                        tmp[i] = blk[i] ? requantize(blk[i] * q[i], t16[i]) : 0;
                } else {
                    for (i = 0; i < 64; i++)
                        tmp[i] = blk[i] * q[i];
                }
                fdj_idct12_islow(tmp, dst + (size_t)bx * 8,
                                 strides[c] * (ptrdiff_t)sizeof(uint16_t));
            }
        }
    }
    st = fdj_render16_window(spec, 12, (const uint16_t *const *)planes, strides, x0, y0, x1, y1,
                             out, row_stride);
    if (st != FDJ_OK)
        st = fdj_fail_dec(d, st, "out of memory while rendering 12-bit samples");
done:
    for (c = 0; c < FDJ_MAX_COMPONENTS; c++)
        free(planes[c]);
    return st;
}
