/*
 * enc_frame.c -- the frame being written: parameter checks and geometry (T.81
 * A.1.1 sampling, A.2.4 MCUs and blocks, libjpeg's jcmaster.c initial_setup), the
 * coefficient arrays (the whole image, or one MCU row for streaming), and the dummy
 * blocks of partial MCUs (jccoefct.c).
 */
#include "enc_internal.h"

static int ceil_div(int a, int b) { return (a + b - 1) / b; }

int fdj_enc_setup_frame(const fdj_encode_params *p, fdj_enc_frame *f, char *msg)
{
    int c, blocks_in_mcu = 0;
    uint64_t max_pixels;
    memset(f, 0, sizeof *f);
    if (!p)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "no parameters");
    f->simd = fdj_simd_level_cpu(p->cpu);
    if (p->width < 1 || p->height < 1 || p->width > 65535 || p->height > 65535)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "image size %dx%d outside 1..65535", p->width,
                        p->height);
    max_pixels = p->max_pixels ? p->max_pixels : FDJ_DEFAULT_MAX_PIXELS;
    if ((uint64_t)p->width * (uint64_t)p->height > max_pixels)
        return fdj_fail(msg, FDJ_ERR_TOO_LARGE, "image of %dx%d pixels exceeds the limit of %llu",
                        p->width, p->height, (unsigned long long)max_pixels);
    f->width = p->width;
    f->height = p->height;
    switch (p->in_color) {
    case FDJ_IN_GRAY:
        f->ncomp = 1;
        f->jpeg_color = FDJ_CS_GRAY;
        f->comp[0].id = 1;
        break;
    case FDJ_IN_RGB:
        f->ncomp = 3;
        if (p->keep_rgb) {
            f->jpeg_color = FDJ_CS_RGB;
            f->comp[0].id = 'R';
            f->comp[1].id = 'G';
            f->comp[2].id = 'B';
        } else {
            f->jpeg_color = FDJ_CS_YCBCR;
            for (c = 0; c < 3; c++) {
                f->comp[c].id = c + 1;
                f->comp[c].dc_tbl = f->comp[c].ac_tbl = c ? 1 : 0;
            }
        }
        break;
    case FDJ_IN_CMYK:
        f->ncomp = 4;
        f->jpeg_color = FDJ_CS_CMYK;
        f->cmyk_invert = 1;
        f->comp[0].id = 'C';
        f->comp[1].id = 'M';
        f->comp[2].id = 'Y';
        f->comp[3].id = 'K';
        break;
    default:
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "in_color must be 1 (gray), 3 (RGB) or 4 (CMYK), not %d",
                        p->in_color);
    }
    if (p->precision != 0 && p->precision != 8 && p->precision != 12)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "precision must be 8 or 12, not %d", p->precision);
    f->precision = p->precision == 12 ? 12 : 8;
    if (p->num_qtables < 1 || p->num_qtables > 4)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "num_qtables must be 1..4, not %d", p->num_qtables);
    memcpy(f->qtable, p->qtable, sizeof f->qtable);
    for (c = 0; c < f->ncomp; c++) {
        fdj_enc_comp *cp = &f->comp[c];
        int i;
        cp->h = p->h_samp[c];
        cp->v = p->v_samp[c];
        cp->tq = p->comp_qtable[c];
        if (cp->h < 1 || cp->h > 4 || cp->v < 1 || cp->v > 4)
            return fdj_fail(msg, FDJ_ERR_ARGUMENT, "sampling factors of component %d must be 1..4, not %dx%d",
                            c, cp->h, cp->v);
        if (cp->tq < 0 || cp->tq >= p->num_qtables)
            return fdj_fail(msg, FDJ_ERR_ARGUMENT, "component %d uses table slot %d of %d", c, cp->tq,
                            p->num_qtables);
        for (i = 0; i < 64; i++)
            if (p->qtable[cp->tq][i] == 0)
                return fdj_fail(msg, FDJ_ERR_ARGUMENT, "quantization table %d has a zero entry at %d",
                                cp->tq, i);
        if (cp->h > f->max_h)
            f->max_h = cp->h;
        if (cp->v > f->max_v)
            f->max_v = cp->v;
        blocks_in_mcu += cp->h * cp->v;
    }
    if (f->ncomp > 1 && blocks_in_mcu > 10)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "sampling factors give %d blocks per MCU (at most 10)",
                        blocks_in_mcu);
    f->mcus_x = ceil_div(f->width, 8 * f->max_h);
    f->mcus_y = ceil_div(f->height, 8 * f->max_v);
    for (c = 0; c < f->ncomp; c++) {
        fdj_enc_comp *cp = &f->comp[c];
        int dw, dh;
        if (f->max_h % cp->h || f->max_v % cp->v)
            return fdj_fail(msg, FDJ_ERR_UNSUPPORTED,
                            "sampling %dx%d of component %d is not an integral fraction of %dx%d", cp->h,
                            cp->v, c, f->max_h, f->max_v);
        dw = ceil_div(f->width * cp->h, f->max_h);
        dh = ceil_div(f->height * cp->v, f->max_v);
        cp->width_in_blocks = ceil_div(dw, 8);
        cp->height_in_blocks = ceil_div(dh, 8);
        cp->bw = f->mcus_x * cp->h;
        cp->bh = f->mcus_y * cp->v;
        if (cp->width_in_blocks > cp->bw || cp->height_in_blocks > cp->bh)
            return fdj_fail(msg, FDJ_ERR_ARGUMENT, "inconsistent sampling geometry");
    }
    if (p->restart_interval < 0 || p->restart_interval > 65535)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "restart_interval must be 0..65535, not %d",
                        p->restart_interval);
    if (p->restart_rows < 0 || p->restart_rows > 65535)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "restart_rows must be 0..65535, not %d", p->restart_rows);
    if (p->write_jfif && (p->density_unit < 0 || p->density_unit > 2 || p->x_density < 0 ||
                          p->x_density > 65535 || p->y_density < 0 || p->y_density > 65535))
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "bad JFIF density %d (%d, %d)", p->density_unit,
                        p->x_density, p->y_density);
    if (p->extra_size && !p->extra_segments)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "extra_size without extra_segments");
    return fdj_mark_check_segments(p->extra_segments, p->extra_size, msg);
}

int fdj_enc_alloc_coefs(fdj_enc_frame *f, int mcu_rows_only, char *msg)
{
    int c;
    for (c = 0; c < f->ncomp; c++) {
        fdj_enc_comp *cp = &f->comp[c];
        size_t n;
        cp->row0 = 0;
        cp->rows = mcu_rows_only ? cp->v : cp->bh;
        if (!fdj_mul3_size((size_t)cp->bw, (size_t)cp->rows, 64 * sizeof(int16_t), &n)) {
            fdj_enc_free_coefs(f);
            return fdj_fail(msg, FDJ_ERR_TOO_LARGE, "coefficient buffer size overflows");
        }
        cp->coef = (int16_t *)malloc(n ? n : 1); /* every stored block is written */
        if (!cp->coef) {
            fdj_enc_free_coefs(f);
            return fdj_fail(msg, FDJ_ERR_NOMEM, "out of memory for %zu bytes of coefficients", n);
        }
    }
    return FDJ_OK;
}

void fdj_enc_free_coefs(fdj_enc_frame *f)
{
    int c;
    for (c = 0; c < FDJ_MAX_COMPONENTS; c++) {
        free(f->comp[c].coef);
        f->comp[c].coef = NULL;
    }
}

void fdj_enc_band_rows(fdj_enc_frame *f, int my)
{
    int c;
    for (c = 0; c < f->ncomp; c++)
        f->comp[c].row0 = my * f->comp[c].v;
}

/* jccoefct.c: dummy blocks right of the image copy the DC of the block to
 * their left; dummy rows below take the DC of the last block of the row above
 * within the same MCU.  AC = 0 in both.  (A stored band always starts with a
 * real block row, so the row above a dummy row is stored too.) */
void fdj_enc_fill_dummy_blocks(fdj_enc_frame *f)
{
    int c, by, bx;
    for (c = 0; c < f->ncomp; c++) {
        fdj_enc_comp *cp = &f->comp[c];
        for (by = cp->row0; by < cp->row0 + cp->rows; by++) {
            int16_t *row = cp->coef + (size_t)(by - cp->row0) * (size_t)cp->bw * 64;
            int start = by < cp->height_in_blocks ? cp->width_in_blocks : 0;
            for (bx = start; bx < cp->bw; bx++) {
                int16_t dc;
                if (by < cp->height_in_blocks) {
                    dc = row[(size_t)(bx - 1) * 64];
                } else {
                    const int16_t *above = row - (ptrdiff_t)cp->bw * 64;
                    int src = (bx / cp->h) * cp->h + cp->h - 1;
                    dc = above[(size_t)src * 64];
                }
                memset(row + (size_t)bx * 64, 0, 64 * sizeof(int16_t));
                row[(size_t)bx * 64] = dc;
            }
        }
    }
}
