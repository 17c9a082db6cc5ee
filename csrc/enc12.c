/*
 * enc12.c -- 12-bit lossy encoding, as libjpeg-turbo 3's 12-bit compressor:
 *
 *   colour conversion   jccolor.c at 12 bits: the 8-bit fixed-point formulas
 *                       with CENTERJSAMPLE 2048 (CBCR_OFFSET = 2048 << 16);
 *   edge replication    jcprepct.c/jcsample.c: right edge repeated at full
 *                       resolution out to the padded width, bottom padded to a
 *                       whole row group, then the last downsampled row repeated
 *                       (as enc_color.c does at 8 bits);
 *   downsampling        jcsample.c, the same rounding as at 8 bits;
 *   forward DCT         jfdctint.c with PASS1_BITS 1 and 64-bit DCTELEM (no SIMD
 *                       at 12 bits), samples level-shifted by 2048;
 *   quantization        jcdctmgr.c's division path (BITS_IN_JSAMPLE != 8):
 *                       (|x| + 4q) / 8q, truncated to a 16-bit JCOEF;
 *   entropy coding      the shared back end (enc_huff.c) with optimal Huffman
 *                       tables, which libjpeg forces at 12 bits (the Annex K
 *                       tables have no codes for 12-bit magnitudes).
 *
 * Samples are uint16 0..4095; anything above is refused (libjpeg would index
 * its tables out of range).
 */
#include "enc12.h"
#include "enc_color_consts.h" /* the 8-bit fixed-point factors, reused at 12 bits */

#define CBCR_OFFSET12 ((int32_t)2048 << 16)

#include "fdj_islow12.h"

/* jfdctint.c, 12-bit build: in-place on 64 level-shifted samples (row-major) */
static void fdct12_islow(int64_t *data)
{
    int64_t tmp0, tmp1, tmp2, tmp3, tmp4, tmp5, tmp6, tmp7, tmp10, tmp11, tmp12, tmp13;
    int64_t z1, z2, z3, z4, z5;
    int64_t *d;
    int i;
    for (i = 0, d = data; i < 8; i++, d += 8) {
        tmp0 = d[0] + d[7];
        tmp7 = d[0] - d[7];
        tmp1 = d[1] + d[6];
        tmp6 = d[1] - d[6];
        tmp2 = d[2] + d[5];
        tmp5 = d[2] - d[5];
        tmp3 = d[3] + d[4];
        tmp4 = d[3] - d[4];
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
    for (i = 0, d = data; i < 8; i++, d++) {
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

/* jcdctmgr.c quantize(), BITS_IN_JSAMPLE != 8: natural order in, zigzag out */
static void quantize12(const int64_t *dct, const uint16_t q[64], int16_t *out)
{
    int i;
    for (i = 0; i < 64; i++) {
        int64_t qval = (int64_t)q[i] << 3, t = dct[i];
        int neg = t < 0;
        if (neg)
            t = -t;
        t += qval >> 1;
        t = t >= qval ? t / qval : 0;
        out[fdj_natural_to_zigzag[i]] = (int16_t)(uint16_t)(uint64_t)(neg ? -t : t);
    }
}

FDJ_INLINE uint16_t sample_at(const uint8_t *pixels, ptrdiff_t row_stride, ptrdiff_t col_stride,
                              ptrdiff_t chan_stride, int y, int x, int c)
{
    uint16_t v;
    memcpy(&v, pixels + (ptrdiff_t)y * row_stride + (ptrdiff_t)x * col_stride +
                   (ptrdiff_t)c * chan_stride, sizeof v);
    return v;
}

int fdj_enc12_coefficients(const fdj_encode_params *p, const uint8_t *pixels, ptrdiff_t row_stride,
                           ptrdiff_t col_stride, ptrdiff_t chan_stride, fdj_enc_frame *f, char *msg)
{
    int st, c, my, r, x, nin;
    int full_w, full_rows;
    size_t full_n;
    uint16_t *full[FDJ_MAX_COMPONENTS] = {0}, *plane[FDJ_MAX_COMPONENTS] = {0};
    ptrdiff_t pstride[FDJ_MAX_COMPONENTS];
    st = fdj_enc_setup_frame(p, f, msg);
    if (st != FDJ_OK)
        return st;
    nin = p->in_color == FDJ_IN_GRAY ? 1 : p->in_color == FDJ_IN_CMYK ? 4 : 3;
    /* every sample must be a 12-bit value */
    for (r = 0; r < f->height; r++)
        for (x = 0; x < f->width; x++)
            for (c = 0; c < nin; c++)
                if (sample_at(pixels, row_stride, col_stride, chan_stride, r, x, c) > 4095)
                    return fdj_fail(msg, FDJ_ERR_ARGUMENT,
                                    "12-bit samples must be 0..4095 (row %d, column %d)", r, x);
    st = fdj_enc_alloc_coefs(f, 0, msg);
    if (st != FDJ_OK)
        return st;
    full_w = f->mcus_x * f->max_h * 8;
    full_rows = f->max_v * 8;
    if (!fdj_mul3_size((size_t)full_w, (size_t)full_rows, sizeof(uint16_t), &full_n)) {
        fdj_enc_free_coefs(f);
        return fdj_fail(msg, FDJ_ERR_TOO_LARGE, "image too wide");
    }
    for (c = 0; c < f->ncomp; c++) {
        fdj_enc_comp *cp = &f->comp[c];
        full[c] = (uint16_t *)malloc(full_n);
        pstride[c] = (ptrdiff_t)cp->bw * 8;
        plane[c] = (uint16_t *)fdj_malloc2((size_t)pstride[c] * (size_t)cp->v * 8, sizeof(uint16_t));
        if (!full[c] || !plane[c]) {
            st = fdj_fail(msg, FDJ_ERR_NOMEM, "out of memory for 12-bit row buffers");
            goto done;
        }
    }
    for (my = 0; my < f->mcus_y; my++) {
        int y0 = my * full_rows;
        /* colour conversion into full-resolution rows, right edge replicated */
        for (r = 0; r < full_rows; r++) {
            int y = y0 + r;
            if (y >= f->height) {
                for (c = 0; c < f->ncomp; c++)
                    memcpy(full[c] + (size_t)r * full_w, full[c] + (size_t)(r - 1) * full_w,
                           (size_t)full_w * sizeof(uint16_t));
                continue;
            }
            for (x = 0; x < f->width; x++) {
                if (f->jpeg_color == FDJ_CS_YCBCR) {
                    int32_t R = sample_at(pixels, row_stride, col_stride, chan_stride, y, x, 0);
                    int32_t G = sample_at(pixels, row_stride, col_stride, chan_stride, y, x, 1);
                    int32_t B = sample_at(pixels, row_stride, col_stride, chan_stride, y, x, 2);
                    full[0][(size_t)r * full_w + x] =
                        (uint16_t)((FIX_0_29900 * R + FIX_0_58700 * G + FIX_0_11400 * B + ONE_HALF) >> 16);
                    full[1][(size_t)r * full_w + x] =
                        (uint16_t)((-FIX_0_16874 * R - FIX_0_33126 * G + ONE_HALF * B + CBCR_OFFSET12 +
                                    ONE_HALF - 1) >> 16);
                    full[2][(size_t)r * full_w + x] =
                        (uint16_t)((ONE_HALF * R - FIX_0_41869 * G - FIX_0_08131 * B + CBCR_OFFSET12 +
                                    ONE_HALF - 1) >> 16);
                } else {
                    for (c = 0; c < f->ncomp; c++) {
                        uint16_t v = sample_at(pixels, row_stride, col_stride, chan_stride, y, x, c);
                        full[c][(size_t)r * full_w + x] = f->cmyk_invert ? (uint16_t)(4095 - v) : v;
                    }
                }
            }
            for (c = 0; c < f->ncomp; c++) {
                uint16_t *row = full[c] + (size_t)r * full_w;
                for (x = f->width; x < full_w; x++)
                    row[x] = row[f->width - 1];
            }
        }
        /* downsampling (jcsample.c) into the component planes of this MCU row */
        for (c = 0; c < f->ncomp; c++) {
            fdj_enc_comp *cp = &f->comp[c];
            int hx = f->max_h / cp->h, vx = f->max_v / cp->v, rows = cp->v * 8;
            int cols = cp->bw * 8, valid, by, bx;
            uint16_t *o;
            for (r = 0; r < rows; r++) {
                o = plane[c] + (size_t)r * pstride[c];
                for (x = 0; x < cols; x++) {
                    const uint16_t *a = full[c] + (size_t)r * vx * full_w + (size_t)x * hx;
                    if (hx == 1 && vx == 1) {
                        o[x] = a[0];
                    } else if (hx == 2 && vx == 1) {
                        o[x] = (uint16_t)((a[0] + a[1] + (x & 1)) >> 1);
                    } else if (hx == 2 && vx == 2) {
                        o[x] = (uint16_t)((a[0] + a[1] + a[full_w] + a[full_w + 1] + 1 + (x & 1)) >> 2);
                    } else {
                        int32_t sum = 0, n = hx * vx, i, j;
                        for (j = 0; j < vx; j++)
                            for (i = 0; i < hx; i++)
                                sum += a[(size_t)j * full_w + i];
                        o[x] = (uint16_t)((sum + n / 2) / n);
                    }
                }
            }
            if (hx != 1 || vx != 1) {
                /* input padded only to a whole row group: repeat the last downsampled row */
                valid = (f->height + f->max_v - 1) / f->max_v * cp->v - my * cp->v * 8;
                for (r = valid; r < rows; r++)
                    if (r > 0)
                        memcpy(plane[c] + (size_t)r * pstride[c],
                               plane[c] + (size_t)(valid - 1) * pstride[c],
                               (size_t)cols * sizeof(uint16_t));
            }
            /* FDCT + quantize the real blocks of this MCU row */
            for (by = 0; by < cp->v; by++) {
                int brow = my * cp->v + by;
                if (brow >= cp->height_in_blocks)
                    break;
                for (bx = 0; bx < cp->width_in_blocks; bx++) {
                    int64_t blk[64];
                    int i, j;
                    for (j = 0; j < 8; j++) {
                        const uint16_t *s = plane[c] + (size_t)(by * 8 + j) * pstride[c] + (size_t)bx * 8;
                        for (i = 0; i < 8; i++)
                            blk[8 * j + i] = (int64_t)s[i] - 2048;
                    }
                    fdct12_islow(blk);
                    quantize12(blk, f->qtable[cp->tq],
                               cp->coef + ((size_t)brow * (size_t)cp->bw + (size_t)bx) * 64);
                }
            }
        }
    }
    fdj_enc_fill_dummy_blocks(f);
done:
    for (c = 0; c < FDJ_MAX_COMPONENTS; c++) {
        free(full[c]);
        free(plane[c]);
    }
    if (st != FDJ_OK)
        fdj_enc_free_coefs(f);
    return st;
}

int fdj_encode12(const fdj_encode_params *p, const uint8_t *pixels, ptrdiff_t row_stride,
                 ptrdiff_t col_stride, ptrdiff_t chan_stride, uint8_t **out, size_t *out_size,
                 char *msg)
{
    fdj_encode_params p12;
    fdj_enc_frame f;
    fdj_buf b;
    int st;
    if (!out || !out_size)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "no output pointers");
    *out = NULL;
    *out_size = 0;
    if (!pixels)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "no pixels");
    p12 = *p;
    p12.optimize = 1; /* jcparam.c: optimize_coding = TRUE for data_precision 12 */
    st = fdj_enc12_coefficients(&p12, pixels, row_stride, col_stride, chan_stride, &f, msg);
    if (st != FDJ_OK)
        return st;
    fdj_buf_init(&b);
    st = fdj_enc_write_file(&f, &p12, &b, msg);
    fdj_enc_free_coefs(&f);
    if (st != FDJ_OK) {
        fdj_buf_release(&b);
        return st;
    }
    *out = b.data;
    *out_size = b.size;
    return FDJ_OK;
}
