/*
 * enc_color.c -- input colour conversion, edge replication and downsampling
 * (libjpeg's jccolor.c / jcprepct.c / jcsample.c stages; T.81 A.1.1 for the
 * sampling geometry, JFIF 1.02 for the RGB -> YCbCr transform).
 *
 * One MCU row at a time: the max_v*8 input rows of the band (rows past the
 * image bottom repeat the last row) are converted into full-resolution
 * component rows padded on the right by repeating the last column, then each
 * component is box-downsampled with libjpeg-turbo's rounding:
 *   h2v1: (a + b + bias) >> 1, bias 0,1,0,1... along the row;
 *   h2v2: (a + b + c + d + bias) >> 2, bias 1,2,1,2...;
 *   other integral ratios: (sum + n/2) / n.
 * Horizontally libjpeg replicates at full resolution out to the padded width
 * before downsampling; vertically it pads the input only to a whole row group
 * (max_v rows) and then repeats the last downsampled row down to the block
 * boundary.  The two differ for even heights at 4:2:0, so both are followed.
 */
#include "enc_internal.h"

#include "enc_color_consts.h"

int fdj_enc_band_init(fdj_enc_band *b, const fdj_enc_frame *f, char *msg)
{
    fdj_kernels k;
    fdj_kernels_init(&k, f->simd); /* the frame's level: no CPU query here */
    return fdj_enc_band_init_k(b, f, &k, msg);
}

int fdj_enc_band_init_k(fdj_enc_band *b, const fdj_enc_frame *f, const fdj_kernels *k, char *msg)
{
    size_t full_size, total = 0, off = 0, sz[2 * FDJ_MAX_COMPONENTS];
    int c;
    memset(b, 0, sizeof *b);
    b->full_width = f->mcus_x * f->max_h * 8;
    b->full_rows = f->max_v * 8;
    if (!fdj_mul_size((size_t)b->full_width, (size_t)b->full_rows, &full_size))
        return fdj_fail(msg, FDJ_ERR_TOO_LARGE, "image too wide");
    for (c = 0; c < f->ncomp; c++) {
        const fdj_enc_comp *cp = &f->comp[c];
        int fullsize = cp->h == f->max_h && cp->v == f->max_v;
        sz[2 * c] = full_size;
        sz[2 * c + 1] = 0;
        if (!fullsize && !fdj_mul3_size((size_t)cp->bw * 8, (size_t)cp->v, 8, &sz[2 * c + 1]))
            return fdj_fail(msg, FDJ_ERR_TOO_LARGE, "image too wide");
        if (sz[2 * c] > SIZE_MAX / 4 - total || sz[2 * c + 1] > SIZE_MAX / 4 - total - sz[2 * c])
            return fdj_fail(msg, FDJ_ERR_TOO_LARGE, "image too wide");
        total += sz[2 * c] + sz[2 * c + 1];
    }
    b->rgb_ycc_row = k->rgb_ycc_row;
    b->h2v1_down_row = k->h2v1_down_row;
    b->h2v2_down_row = k->h2v2_down_row;
    b->storage = (uint8_t *)malloc(total ? total : 1);
    if (!b->storage)
        return fdj_fail(msg, FDJ_ERR_NOMEM, "out of memory for %zu bytes of row buffers", total);
    for (c = 0; c < f->ncomp; c++) {
        const fdj_enc_comp *cp = &f->comp[c];
        b->full[c] = b->storage + off;
        off += sz[2 * c];
        if (sz[2 * c + 1]) {
            b->plane[c] = b->storage + off;
            b->plane_stride[c] = (ptrdiff_t)cp->bw * 8;
            off += sz[2 * c + 1];
        } else {
            b->plane[c] = b->full[c];
            b->plane_stride[c] = b->full_width;
        }
    }
    return FDJ_OK;
}

void fdj_enc_band_free(fdj_enc_band *b)
{
    free(b->storage);
    memset(b, 0, sizeof *b);
}

/* Colour-convert one input row into the components' full-resolution rows. */
static void convert_row(const fdj_enc_frame *f, const uint8_t *src, ptrdiff_t col_stride,
                        ptrdiff_t chan_stride, uint8_t *const dst[], int width,
                        fdj_rgb_ycc_row_fn rgb_ycc_row)
{
    int x = 0, c;
    if (f->jpeg_color == FDJ_CS_YCBCR) {
        uint8_t *y = dst[0], *cb = dst[1], *cr = dst[2];
        const uint8_t *s;
        if (rgb_ycc_row && col_stride == 3 && chan_stride == 1)
            x = rgb_ycc_row(src, width, y, cb, cr);
        s = src + x * col_stride;
        for (; x < width; x++, s += col_stride) {
            int32_t r = s[0], g = s[chan_stride], bl = s[2 * chan_stride];
            y[x] = (uint8_t)((FIX_0_29900 * r + FIX_0_58700 * g + FIX_0_11400 * bl + ONE_HALF) >> 16);
            cb[x] = (uint8_t)((-FIX_0_16874 * r - FIX_0_33126 * g + ONE_HALF * bl + CBCR_OFFSET +
                               ONE_HALF - 1) >> 16);
            cr[x] = (uint8_t)((ONE_HALF * r - FIX_0_41869 * g - FIX_0_08131 * bl + CBCR_OFFSET +
                               ONE_HALF - 1) >> 16);
        }
        return;
    }
    for (c = 0; c < f->ncomp; c++) {
        const uint8_t *s = src + c * chan_stride;
        uint8_t *d = dst[c];
        if (f->cmyk_invert) {
            for (x = 0; x < width; x++, s += col_stride)
                d[x] = (uint8_t)(255 - *s);
        } else if (col_stride == 1) {
            memcpy(d, s, (size_t)width);
        } else {
            for (x = 0; x < width; x++, s += col_stride)
                d[x] = *s;
        }
    }
}

/* h2v1 box downsampling of one row from column x0 on (scalar reference; AVX2
 * sibling in enc_color_simd.c): bias 0, 1, 0, 1, ... along the row. */
void fdj_h2v1_down_row(const uint8_t *a, int x0, int out_cols, uint8_t *o)
{
    int x;
    for (x = x0; x < out_cols; x++)
        o[x] = (uint8_t)((a[2 * x] + a[2 * x + 1] + (x & 1)) >> 1);
}

/* h2v2 box downsampling of rows a, b from column x0 on (scalar reference):
 * bias 1, 2, 1, 2, ... along the row. */
void fdj_h2v2_down_row(const uint8_t *a, const uint8_t *b, int x0, int out_cols, uint8_t *o)
{
    int x;
    for (x = x0; x < out_cols; x++)
        o[x] = (uint8_t)((a[2 * x] + a[2 * x + 1] + b[2 * x] + b[2 * x + 1] + 1 + (x & 1)) >> 2);
}

static void downsample(const fdj_enc_band *bd, const uint8_t *full, ptrdiff_t full_stride, int hx,
                       int vx, uint8_t *out, ptrdiff_t out_stride, int out_cols, int out_rows)
{
    int r, x, i, j;
    if (hx == 2 && vx == 1) {
        for (r = 0; r < out_rows; r++) {
            const uint8_t *a = full + r * full_stride;
            uint8_t *o = out + r * out_stride;
            fdj_h2v1_down_row(a, bd->h2v1_down_row ? bd->h2v1_down_row(a, out_cols, o) : 0,
                              out_cols, o);
        }
    } else if (hx == 2 && vx == 2) {
        for (r = 0; r < out_rows; r++) {
            const uint8_t *a = full + 2 * r * full_stride, *b = a + full_stride;
            uint8_t *o = out + r * out_stride;
            fdj_h2v2_down_row(a, b, bd->h2v2_down_row ? bd->h2v2_down_row(a, b, out_cols, o) : 0,
                              out_cols, o);
        }
    } else {
        int n = hx * vx;
        for (r = 0; r < out_rows; r++) {
            uint8_t *o = out + r * out_stride;
            for (x = 0; x < out_cols; x++) {
                int32_t sum = 0;
                for (j = 0; j < vx; j++) {
                    const uint8_t *a = full + (r * vx + j) * full_stride + x * hx;
                    for (i = 0; i < hx; i++)
                        sum += a[i];
                }
                o[x] = (uint8_t)((sum + n / 2) / n);
            }
        }
    }
}

void fdj_enc_band_convert(fdj_enc_band *b, const fdj_enc_frame *f, int mcu_row,
                          const uint8_t *pixels, ptrdiff_t row_stride,
                          ptrdiff_t col_stride, ptrdiff_t chan_stride)
{
    int r, c;
    int y0 = mcu_row * b->full_rows;
    uint8_t *dst[FDJ_MAX_COMPONENTS];
    for (r = 0; r < b->full_rows; r++) {
        int y = y0 + r;
        if (y >= f->height) {
            /* below the image: repeat the last converted row */
            for (c = 0; c < f->ncomp; c++) {
                uint8_t *row = b->full[c] + (ptrdiff_t)r * b->full_width;
                if (r > 0)
                    memcpy(row, row - b->full_width, (size_t)b->full_width);
                else /* band starts below the image: cannot happen (mcus_y is exact) */
                    memset(row, 0, (size_t)b->full_width);
            }
            continue;
        }
        for (c = 0; c < f->ncomp; c++)
            dst[c] = b->full[c] + (ptrdiff_t)r * b->full_width;
        convert_row(f, pixels + (ptrdiff_t)y * row_stride, col_stride, chan_stride, dst, f->width,
                    b->rgb_ycc_row);
        for (c = 0; c < f->ncomp; c++)
            if (b->full_width > f->width)
                memset(dst[c] + f->width, dst[c][f->width - 1], (size_t)(b->full_width - f->width));
    }
    for (c = 0; c < f->ncomp; c++) {
        const fdj_enc_comp *cp = &f->comp[c];
        if (b->plane[c] == b->full[c])
            continue;
        downsample(b, b->full[c], b->full_width, f->max_h / cp->h, f->max_v / cp->v, b->plane[c],
                   b->plane_stride[c], cp->bw * 8, cp->v * 8);
        {
            /* libjpeg pads the input only to whole row groups (max_v rows);
             * downsampled rows below the last row group repeat its last row. */
            int valid = (f->height + f->max_v - 1) / f->max_v * cp->v - mcu_row * cp->v * 8;
            for (r = valid; r < cp->v * 8; r++)
                memcpy(b->plane[c] + r * b->plane_stride[c],
                       b->plane[c] + (valid - 1) * b->plane_stride[c], (size_t)cp->bw * 8);
        }
    }
}
