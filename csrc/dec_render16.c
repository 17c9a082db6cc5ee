/*
 * dec_render16.c -- upsampling and colour conversion of uint16 sample planes
 * (12-bit lossy, 9..16-bit lossless) into uint16 output pixels.
 *
 * libjpeg-turbo 3 builds jdsample.c and jdcolor.c once per sample size; the
 * 12- and 16-bit builds use the same formulas as the 8-bit C code with
 * MAXJSAMPLE = 2^P - 1 and CENTERJSAMPLE = 2^(P-1): triangular ("fancy")
 * upsampling for h2v1 and h2v2 (more than 2 samples per row) and h1v2,
 * replication otherwise (always in lossless mode, whose block size is 1), and
 * the 16-bit fixed-point YCbCr -> RGB tables, evaluated here in closed form.
 *
 * 4-component output follows the 8-bit convention of fdjpeg (Pillow's): with
 * invert_cmyk every sample v becomes MAXJSAMPLE - v.  Pillow's CMYK -> RGB/L
 * has no higher-precision counterpart, so it is refused.
 */
#include "dec_hiprec.h"

#define SCALEBITS 16
#define ONE_HALF ((int32_t)1 << (SCALEBITS - 1))

int fdj_render16_check(const fdj_render_spec *spec, int lossless, const char **why)
{
    int cs = spec->jpeg_color, of = spec->out_format;
    *why = NULL;
    if ((cs == FDJ_CS_CMYK || cs == FDJ_CS_YCCK) && of != FDJ_OUT_NATIVE) {
        *why = "4-component JPEG above 8 bits: only the native CMYK output (mode=None/'CMYK')";
        return FDJ_ERR_UNSUPPORTED;
    }
    if (lossless) {
        /* jdcolor.c: "We do not allow any lossy color conversion algorithms in lossless
         * mode": only null conversions (libjpeg-turbo also refuses gray -> RGB; replication
         * is exact, so it is allowed here) */
        if (cs == FDJ_CS_YCBCR || cs == FDJ_CS_YCCK) {
            *why = "lossless JPEG in YCbCr/YCCK above 8 bits: libjpeg-turbo converts no colour "
                   "in lossless mode";
            return FDJ_ERR_UNSUPPORTED;
        }
        if (cs == FDJ_CS_RGB && of == FDJ_OUT_GRAY) {
            *why = "lossless RGB JPEG above 8 bits to grey: libjpeg-turbo converts no colour in "
                   "lossless mode";
            return FDJ_ERR_UNSUPPORTED;
        }
    }
    return FDJ_OK;
}

FDJ_INLINE uint16_t clampv(int32_t v, int32_t maxv)
{
    return (uint16_t)(v < 0 ? 0 : v > maxv ? maxv : v);
}

FDJ_INLINE const uint16_t *prow(const uint16_t *const plane, ptrdiff_t stride, int i, int rows)
{
    if (i < 0)
        i = 0;
    if (i > rows - 1)
        i = rows - 1; /* libjpeg replicates the last real row below */
    return plane + (ptrdiff_t)i * stride;
}

static void up_h2v1_fancy(const uint16_t *in, int w, uint16_t *out)
{
    int i;
    out[0] = in[0];
    out[1] = (uint16_t)((in[0] * 3 + in[1] + 2) >> 2);
    for (i = 1; i < w - 1; i++) {
        int v = in[i] * 3;
        out[2 * i] = (uint16_t)((v + in[i - 1] + 1) >> 2);
        out[2 * i + 1] = (uint16_t)((v + in[i + 1] + 2) >> 2);
    }
    out[2 * (w - 1)] = (uint16_t)((in[w - 1] * 3 + in[w - 2] + 1) >> 2);
    out[2 * (w - 1) + 1] = in[w - 1];
}

static void up_h2v2_fancy(const uint16_t *near, const uint16_t *far, int w, uint16_t *out)
{
    int i;
    int32_t last, cur, next;
    cur = near[0] * 3 + far[0];
    next = near[1] * 3 + far[1];
    out[0] = (uint16_t)((cur * 4 + 8) >> 4);
    out[1] = (uint16_t)((cur * 3 + next + 7) >> 4);
    last = cur;
    cur = next;
    for (i = 1; i < w - 1; i++) {
        next = near[i + 1] * 3 + far[i + 1];
        out[2 * i] = (uint16_t)((cur * 3 + last + 8) >> 4);
        out[2 * i + 1] = (uint16_t)((cur * 3 + next + 7) >> 4);
        last = cur;
        cur = next;
    }
    out[2 * (w - 1)] = (uint16_t)((cur * 3 + last + 8) >> 4);
    out[2 * (w - 1) + 1] = (uint16_t)((cur * 4 + 7) >> 4);
}

static void up_h1v2_fancy(const uint16_t *near, const uint16_t *far, int w, int bias,
                          uint16_t *out)
{
    int i;
    for (i = 0; i < w; i++)
        out[i] = (uint16_t)((near[i] * 3 + far[i] + bias) >> 2);
}

static void up_replicate(const uint16_t *in, int hx, int out_w, uint16_t *out)
{
    int i, j, n = (out_w + hx - 1) / hx;
    for (i = 0; i < n; i++)
        for (j = 0; j < hx; j++)
            out[i * hx + j] = in[i];
}

static const uint16_t *upsample_row(const fdj_render_spec *spec, int c, const uint16_t *plane,
                                    ptrdiff_t stride, int y, uint16_t *tmp)
{
    int hx = spec->hx[c], vx = spec->vx[c], w = spec->comp_width[c], rows = spec->comp_height[c];
    int fancy = spec->fancy[c];
    if (vx == 1) {
        const uint16_t *in = prow(plane, stride, y, rows);
        if (hx == 1)
            return in;
        if (hx == 2 && fancy && w > 2)
            up_h2v1_fancy(in, w, tmp);
        else
            up_replicate(in, hx, spec->width, tmp);
        return tmp;
    }
    if (vx == 2 && fancy && (hx == 1 || (hx == 2 && w > 2))) {
        int k = y >> 1;
        const uint16_t *near = prow(plane, stride, k, rows);
        const uint16_t *far = prow(plane, stride, (y & 1) ? k + 1 : k - 1, rows);
        if (hx == 1)
            up_h1v2_fancy(near, far, w, (y & 1) ? 2 : 1, tmp);
        else
            up_h2v2_fancy(near, far, w, tmp);
        return tmp;
    }
    {
        const uint16_t *in = prow(plane, stride, y / vx, rows);
        if (hx == 1)
            return in;
        up_replicate(in, hx, spec->width, tmp);
        return tmp;
    }
}

/* Output columns x0..x0+n-1 of upsample_row's row y, into tmp[0..n-1] (or a pointer into
 * the plane): the same filters, each output sample from its own input samples (the
 * triangle filter reads one neighbour, clamped at the component's edges exactly where the
 * whole-row loops above take their edge cases), so a window needs no samples outside
 * [x0/hx - 1, (x0+n-1)/hx + 1]. */
static const uint16_t *upsample_cols(const fdj_render_spec *spec, int c, const uint16_t *plane,
                                     ptrdiff_t stride, int y, int x0, int n, uint16_t *tmp)
{
    int hx = spec->hx[c], vx = spec->vx[c], w = spec->comp_width[c], rows = spec->comp_height[c];
    int fancy = spec->fancy[c], j;
    if (vx == 2 && fancy && (hx == 1 || (hx == 2 && w > 2))) {
        int k = y >> 1;
        const uint16_t *near = prow(plane, stride, k, rows);
        const uint16_t *far = prow(plane, stride, (y & 1) ? k + 1 : k - 1, rows);
        if (hx == 1) {
            int bias = (y & 1) ? 2 : 1;
            for (j = 0; j < n; j++)
                tmp[j] = (uint16_t)((near[x0 + j] * 3 + far[x0 + j] + bias) >> 2);
            return tmp;
        }
        for (j = 0; j < n; j++) {
            int x = x0 + j, i = x >> 1;
            int32_t cur = near[i] * 3 + far[i];
            if (x & 1) {
                int i2 = i < w - 1 ? i + 1 : i; /* last column: cur * 4 + 7 */
                tmp[j] = (uint16_t)((cur * 3 + near[i2] * 3 + far[i2] + 7) >> 4);
            } else {
                int i2 = i > 0 ? i - 1 : i; /* first column: cur * 4 + 8 */
                tmp[j] = (uint16_t)((cur * 3 + near[i2] * 3 + far[i2] + 8) >> 4);
            }
        }
        return tmp;
    }
    {
        const uint16_t *in = prow(plane, stride, vx == 1 ? y : y / vx, rows);
        if (hx == 1)
            return in + x0;
        if (vx == 1 && hx == 2 && fancy && w > 2) {
            for (j = 0; j < n; j++) {
                int x = x0 + j, i = x >> 1;
                if (x & 1)
                    tmp[j] = i < w - 1 ? (uint16_t)((in[i] * 3 + in[i + 1] + 2) >> 2) : in[i];
                else
                    tmp[j] = i > 0 ? (uint16_t)((in[i] * 3 + in[i - 1] + 1) >> 2) : in[i];
            }
            return tmp;
        }
        for (j = 0; j < n; j++)
            tmp[j] = in[(x0 + j) / hx];
        return tmp;
    }
}

int fdj_render16_planes(const fdj_render_spec *spec, int precision,
                        const uint16_t *const plane[], const ptrdiff_t plane_stride[],
                        uint8_t *out, ptrdiff_t out_stride)
{
    return fdj_render16_window(spec, precision, plane, plane_stride, 0, 0, spec->width,
                               spec->height, out, out_stride);
}

int fdj_render16_window(const fdj_render_spec *spec, int precision,
                        const uint16_t *const plane[], const ptrdiff_t plane_stride[], int x0,
                        int y0, int x1, int y1, uint8_t *out, ptrdiff_t out_stride)
{
    int y, c, i, w = x1 - x0, nc = spec->num_components;
    int whole = x0 == 0 && x1 == spec->width;
    int channels = fdj_render_channels(spec);
    int32_t maxv = (int32_t)((1L << precision) - 1), center = (int32_t)(1L << (precision - 1));
    size_t slot = (size_t)w + 64;
    const char *why;
    uint16_t *scratch;
    if (precision < 2 || precision > 16 || fdj_render16_check(spec, 0, &why) != FDJ_OK)
        return FDJ_ERR_UNSUPPORTED;
    scratch = (uint16_t *)fdj_malloc2(slot * (size_t)nc, sizeof(uint16_t));
    if (!scratch)
        return FDJ_ERR_NOMEM;
    for (y = y0; y < y1; y++) {
        const uint16_t *row[FDJ_MAX_COMPONENTS];
        uint16_t *o = (uint16_t *)(out + (ptrdiff_t)(y - y0) * out_stride);
        for (c = 0; c < nc; c++)
            row[c] = whole ? upsample_row(spec, c, plane[c], plane_stride[c], y,
                                          scratch + slot * (size_t)c)
                           : upsample_cols(spec, c, plane[c], plane_stride[c], y, x0, w,
                                           scratch + slot * (size_t)c);
        switch (spec->jpeg_color) {
        case FDJ_CS_GRAY:
            if (channels == 1)
                memcpy(o, row[0], (size_t)w * sizeof(uint16_t));
            else
                for (i = 0; i < w; i++)
                    o[3 * i] = o[3 * i + 1] = o[3 * i + 2] = row[0][i];
            break;
        case FDJ_CS_YCBCR:
            if (channels == 1) {
                memcpy(o, row[0], (size_t)w * sizeof(uint16_t));
                break;
            }
            for (i = 0; i < w; i++) {
                int32_t Y = row[0][i], b = row[1][i] - center, r = row[2][i] - center;
                o[3 * i] = clampv(Y + ((91881 * r + ONE_HALF) >> SCALEBITS), maxv);
                o[3 * i + 1] = clampv(Y + ((-22554 * b - 46802 * r + ONE_HALF) >> SCALEBITS), maxv);
                o[3 * i + 2] = clampv(Y + ((116130 * b + ONE_HALF) >> SCALEBITS), maxv);
            }
            break;
        case FDJ_CS_RGB:
            if (channels == 1)
                for (i = 0; i < w; i++)
                    o[i] = (uint16_t)(((int64_t)19595 * row[0][i] + (int64_t)38470 * row[1][i] +
                                       (int64_t)7471 * row[2][i] + ONE_HALF) >> SCALEBITS);
            else
                for (i = 0; i < w; i++) {
                    o[3 * i] = row[0][i];
                    o[3 * i + 1] = row[1][i];
                    o[3 * i + 2] = row[2][i];
                }
            break;
        case FDJ_CS_CMYK:
        case FDJ_CS_YCCK: {
            int inv = spec->invert_cmyk;
            for (i = 0; i < w; i++) {
                int32_t k4[4];
                int j;
                if (spec->jpeg_color == FDJ_CS_YCCK) {
                    /* jdcolor.c ycck_cmyk_convert */
                    int32_t Y = row[0][i], b = row[1][i] - center, r = row[2][i] - center;
                    k4[0] = maxv - clampv(Y + ((91881 * r + ONE_HALF) >> SCALEBITS), maxv);
                    k4[1] = maxv - clampv(Y + ((-22554 * b - 46802 * r + ONE_HALF) >> SCALEBITS), maxv);
                    k4[2] = maxv - clampv(Y + ((116130 * b + ONE_HALF) >> SCALEBITS), maxv);
                } else {
                    k4[0] = row[0][i];
                    k4[1] = row[1][i];
                    k4[2] = row[2][i];
                }
                k4[3] = row[3][i];
                for (j = 0; j < 4; j++)
                    o[4 * i + j] = (uint16_t)((inv ? maxv - k4[j] : k4[j]) & 0xFFFF);
            }
            break;
        }
        default:
            memset(o, 0, (size_t)w * (size_t)channels * sizeof(uint16_t));
        }
    }
    free(scratch);
    return FDJ_OK;
}

int fdj_decoder_sample_bytes(const fdj_decoder *d)
{
    return fdj_sample_bytes(d->info.precision);
}
