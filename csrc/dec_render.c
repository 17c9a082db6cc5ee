/*
 * dec_render.c -- upsampling (jdsample.c) and colour conversion (jdcolor.c)
 * of decoded component rows into output pixels (T.81 A.1.1 sampling factors,
 * JFIF 1.02 YCbCr, Adobe APP14 transforms); the last decoder stage.
 *
 * Upsampling is libjpeg-turbo's default "fancy" (triangular) filter where it
 * applies (h2v1 and h2v2 with more than 2 samples per row, h1v2 always) and
 * plain replication otherwise.  Colour conversion uses libjpeg's 16-bit fixed
 * point constants; the results equal its table-driven code exactly.
 */
#include "fdj_internal.h"

#define SCALEBITS 16
#define ONE_HALF ((int32_t)1 << (SCALEBITS - 1))

FDJ_INLINE uint8_t clamp255(int32_t v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }

int fdj_render_spec_init(fdj_render_spec *spec, int width, int height, int num_components,
                         const int h[], const int v[], int jpeg_color, int out_format)
{
    return fdj_render_spec_init_level(spec, width, height, num_components, h, v, jpeg_color,
                                      out_format, fdj_simd_level());
}

int fdj_render_spec_init_level(fdj_render_spec *spec, int width, int height, int num_components,
                               const int h[], const int v[], int jpeg_color, int out_format,
                               int level)
{
    int c, max_h = 1, max_v = 1;
    memset(spec, 0, sizeof *spec);
    if (num_components < 1 || num_components > FDJ_MAX_COMPONENTS)
        return FDJ_ERR_ARGUMENT;
    for (c = 0; c < num_components; c++) {
        if (h[c] > max_h)
            max_h = h[c];
        if (v[c] > max_v)
            max_v = v[c];
    }
    spec->width = width;
    spec->height = height;
    spec->num_components = num_components;
    spec->jpeg_color = jpeg_color;
    spec->out_format = out_format;
    spec->simd = level;
    fdj_kernels_init(&spec->kern, spec->simd);
    for (c = 0; c < num_components; c++) {
        if (max_h % h[c] || max_v % v[c])
            return FDJ_ERR_UNSUPPORTED; /* libjpeg: fractional sampling not implemented */
        spec->hx[c] = max_h / h[c];
        spec->vx[c] = max_v / v[c];
        spec->comp_width[c] = (int)(((int64_t)width * h[c] + max_h - 1) / max_h);
        spec->comp_height[c] = (int)(((int64_t)height * v[c] + max_v - 1) / max_v);
        spec->fancy[c] = 1;
    }
    return FDJ_OK;
}

int fdj_render_channels(const fdj_render_spec *spec)
{
    if (spec->out_format == FDJ_OUT_GRAY)
        return 1;
    if (spec->out_format == FDJ_OUT_RGB)
        return 3;
    switch (spec->jpeg_color) {
    case FDJ_CS_GRAY: return 1;
    case FDJ_CS_CMYK:
    case FDJ_CS_YCCK: return 4;
    default: return 3;
    }
}

int fdj_render_scratch_init(fdj_render_scratch *s, const fdj_render_spec *spec)
{
    /* each upsampled row may run up to hx*comp_width, a little past width */
    size_t row = (size_t)spec->width + 64;
    s->buf = (uint8_t *)fdj_malloc2(row, (size_t)spec->num_components + 1);
    return s->buf ? FDJ_OK : FDJ_ERR_NOMEM;
}

void fdj_render_scratch_free(fdj_render_scratch *s)
{
    free(s->buf);
    s->buf = NULL;
}

FDJ_INLINE const uint8_t *comp_row(const fdj_comp_rows *cr, int i, int real_rows)
{
    if (i < 0)
        i = 0;
    if (i > real_rows - 1)
        i = real_rows - 1; /* libjpeg replicates the last real row below */
    return cr->rows[i % cr->ring];
}

/* jdsample.c h2v1_fancy_upsample */
static void up_h2v1_fancy(const uint8_t *in, int w, uint8_t *out)
{
    int i;
    out[0] = in[0];
    out[1] = (uint8_t)((in[0] * 3 + in[1] + 2) >> 2);
    for (i = 1; i < w - 1; i++) {
        int v = in[i] * 3;
        out[2 * i] = (uint8_t)((v + in[i - 1] + 1) >> 2);
        out[2 * i + 1] = (uint8_t)((v + in[i + 1] + 2) >> 2);
    }
    out[2 * (w - 1)] = (uint8_t)((in[w - 1] * 3 + in[w - 2] + 1) >> 2);
    out[2 * (w - 1) + 1] = in[w - 1];
}

/* jdsample.c h2v2_fancy_upsample, one output row from its near and far input rows */
static void up_h2v2_fancy(const uint8_t *near, const uint8_t *far, int w, uint8_t *out)
{
    int i, last, cur, next;
    cur = near[0] * 3 + far[0];
    next = near[1] * 3 + far[1];
    out[0] = (uint8_t)((cur * 4 + 8) >> 4);
    out[1] = (uint8_t)((cur * 3 + next + 7) >> 4);
    last = cur;
    cur = next;
    for (i = 1; i < w - 1; i++) {
        next = near[i + 1] * 3 + far[i + 1];
        out[2 * i] = (uint8_t)((cur * 3 + last + 8) >> 4);
        out[2 * i + 1] = (uint8_t)((cur * 3 + next + 7) >> 4);
        last = cur;
        cur = next;
    }
    out[2 * (w - 1)] = (uint8_t)((cur * 3 + last + 8) >> 4);
    out[2 * (w - 1) + 1] = (uint8_t)((cur * 4 + 7) >> 4);
}

/* jdsample.c h1v2_fancy_upsample */
static void up_h1v2_fancy(const uint8_t *near, const uint8_t *far, int w, int bias, uint8_t *out)
{
    int i;
    for (i = 0; i < w; i++)
        out[i] = (uint8_t)((near[i] * 3 + far[i] + bias) >> 2);
}

/* jdsample.c int_upsample / h2v1_upsample: replication */
static void up_replicate(const uint8_t *in, int hx, int out_w, uint8_t *out)
{
    int i, j, n = (out_w + hx - 1) / hx;
    if (hx == 2) {
        for (i = 0; i < n; i++)
            out[2 * i] = out[2 * i + 1] = in[i];
        return;
    }
    for (i = 0; i < n; i++)
        for (j = 0; j < hx; j++)
            out[i * hx + j] = in[i];
}

/* The upsampled row y of component c (pointer into the component rows or the scratch). */
static const uint8_t *upsample_row(const fdj_render_spec *spec, int c, const fdj_comp_rows *cr,
                                   int y, uint8_t *tmp)
{
    int hx = spec->hx[c], vx = spec->vx[c], w = spec->comp_width[c], rows = spec->comp_height[c];
    int fancy = spec->fancy[c];
    if (vx == 1) {
        const uint8_t *in = comp_row(cr, y, rows);
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
        const uint8_t *near = comp_row(cr, k, rows);
        const uint8_t *far = comp_row(cr, (y & 1) ? k + 1 : k - 1, rows);
        if (hx == 1)
            up_h1v2_fancy(near, far, w, (y & 1) ? 2 : 1, tmp);
        else if (spec->kern.h2v2_fancy_row)
            spec->kern.h2v2_fancy_row(near, far, w, tmp);
        else
            up_h2v2_fancy(near, far, w, tmp);
        return tmp;
    }
    {
        const uint8_t *in = comp_row(cr, y / vx, rows);
        if (hx == 1)
            return in;
        up_replicate(in, hx, spec->width, tmp);
        return tmp;
    }
}

static void ycc_to_rgb(const uint8_t *y, const uint8_t *cb, const uint8_t *cr, int w, uint8_t *out)
{
    int i;
    for (i = 0; i < w; i++) {
        int32_t Y = y[i], b = cb[i] - 128, r = cr[i] - 128;
        out[3 * i] = clamp255(Y + ((91881 * r + ONE_HALF) >> SCALEBITS));
        out[3 * i + 1] = clamp255(Y + ((-22554 * b - 46802 * r + ONE_HALF) >> SCALEBITS));
        out[3 * i + 2] = clamp255(Y + ((116130 * b + ONE_HALF) >> SCALEBITS));
    }
}

static void rgb_to_gray(const uint8_t *r, const uint8_t *g, const uint8_t *b, int w, uint8_t *out)
{
    int i;
    for (i = 0; i < w; i++)
        out[i] = (uint8_t)((19595 * r[i] + 38470 * g[i] + 7471 * b[i] + ONE_HALF) >> SCALEBITS);
}

/* Pillow's CMYK -> RGB (Convert.c cmyk2rgb) on Pillow-convention CMYK. */
FDJ_INLINE int muldiv255(int a, int b)
{
    int t = a * b + 128;
    return ((t >> 8) + t) >> 8;
}

void fdj_render_rows(const fdj_render_spec *spec, const fdj_comp_rows comp[],
                     fdj_render_scratch *scratch, int y0, int y1, uint8_t *out,
                     ptrdiff_t out_stride)
{
    int y, c, i, w = spec->width, nc = spec->num_components;
    size_t slot = (size_t)w + 64;
    int channels = fdj_render_channels(spec);
    for (y = y0; y < y1; y++) {
        const uint8_t *row[FDJ_MAX_COMPONENTS];
        uint8_t *o = out + (ptrdiff_t)(y - y0) * out_stride;
        for (c = 0; c < nc; c++)
            row[c] = upsample_row(spec, c, &comp[c], y, scratch->buf + slot * (size_t)c);
        switch (spec->jpeg_color) {
        case FDJ_CS_GRAY:
            if (channels == 1)
                memcpy(o, row[0], (size_t)w);
            else
                for (i = 0; i < w; i++)
                    o[3 * i] = o[3 * i + 1] = o[3 * i + 2] = row[0][i];
            break;
        case FDJ_CS_YCBCR:
            if (channels == 1)
                memcpy(o, row[0], (size_t)w);
            else if (spec->kern.ycc_rgb_row)
                spec->kern.ycc_rgb_row(row[0], row[1], row[2], w, o);
            else
                ycc_to_rgb(row[0], row[1], row[2], w, o);
            break;
        case FDJ_CS_RGB:
            if (channels == 1)
                rgb_to_gray(row[0], row[1], row[2], w, o);
            else
                for (i = 0; i < w; i++) {
                    o[3 * i] = row[0][i];
                    o[3 * i + 1] = row[1][i];
                    o[3 * i + 2] = row[2][i];
                }
            break;
        case FDJ_CS_CMYK:
        case FDJ_CS_YCCK: {
            /* CMYK as libjpeg outputs it, then Pillow's inversion if asked */
            uint8_t *cmyk = scratch->buf + slot * (size_t)nc;
            uint8_t *dst = channels == 4 ? o : NULL;
            int inv = spec->invert_cmyk ? 255 : 0;
            for (i = 0; i < w; i++) {
                int k4[4];
                if (spec->jpeg_color == FDJ_CS_YCCK) {
                    int32_t Y = row[0][i], b = row[1][i] - 128, r = row[2][i] - 128;
                    k4[0] = 255 - clamp255(Y + ((91881 * r + ONE_HALF) >> SCALEBITS));
                    k4[1] = 255 - clamp255(Y + ((-22554 * b - 46802 * r + ONE_HALF) >> SCALEBITS));
                    k4[2] = 255 - clamp255(Y + ((116130 * b + ONE_HALF) >> SCALEBITS));
                } else {
                    k4[0] = row[0][i];
                    k4[1] = row[1][i];
                    k4[2] = row[2][i];
                }
                k4[3] = row[3][i];
                if (dst) {
                    dst[4 * i] = (uint8_t)(k4[0] ^ inv);
                    dst[4 * i + 1] = (uint8_t)(k4[1] ^ inv);
                    dst[4 * i + 2] = (uint8_t)(k4[2] ^ inv);
                    dst[4 * i + 3] = (uint8_t)(k4[3] ^ inv);
                } else {
                    int nk = 255 - (k4[3] ^ inv), j;
                    uint8_t rgb[3];
                    for (j = 0; j < 3; j++)
                        rgb[j] = clamp255(nk - muldiv255(k4[j] ^ inv, nk));
                    if (channels == 3) {
                        o[3 * i] = rgb[0];
                        o[3 * i + 1] = rgb[1];
                        o[3 * i + 2] = rgb[2];
                    } else {
                        /* Pillow's RGB -> L: (r*19595 + g*38470 + b*7471 + 0x8000) >> 16 */
                        o[i] = (uint8_t)((rgb[0] * 19595 + rgb[1] * 38470 + rgb[2] * 7471 +
                                          0x8000) >> 16);
                    }
                }
            }
            (void)cmyk;
            break;
        }
        default:
            memset(o, 0, (size_t)w * (size_t)channels);
        }
    }
}

int fdj_render_planes(const fdj_render_spec *spec, const uint8_t *const plane[],
                      const ptrdiff_t plane_stride[], uint8_t *out, ptrdiff_t out_stride)
{
    fdj_comp_rows comp[FDJ_MAX_COMPONENTS];
    uint8_t **ptrs[FDJ_MAX_COMPONENTS] = {0};
    fdj_render_scratch scratch;
    int c, i, st = FDJ_OK;
    if (fdj_render_scratch_init(&scratch, spec) != FDJ_OK)
        return FDJ_ERR_NOMEM;
    for (c = 0; c < spec->num_components; c++) {
        int rows = spec->comp_height[c];
        ptrs[c] = (uint8_t **)fdj_malloc2((size_t)rows, sizeof(uint8_t *));
        if (!ptrs[c]) {
            st = FDJ_ERR_NOMEM;
            goto done;
        }
        for (i = 0; i < rows; i++)
            ptrs[c][i] = (uint8_t *)plane[c] + (ptrdiff_t)i * plane_stride[c];
        comp[c].rows = ptrs[c];
        comp[c].ring = rows;
    }
    fdj_render_rows(spec, comp, &scratch, 0, spec->height, out, out_stride);
done:
    for (c = 0; c < spec->num_components; c++)
        free(ptrs[c]);
    fdj_render_scratch_free(&scratch);
    return st;
}
