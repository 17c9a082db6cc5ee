/*
 * dec_rows.c -- the decoder's output stage driver (libjpeg's jdmaster.c output
 * dimensions, jdcoefct.c / jdmainct.c row buffering, jdapistd.c jpeg_crop_scanline /
 * jpeg_skip_scanlines): the output geometry (scaling, per-component IDCT sizes), the
 * ring of sample rows, and the row engine that produces any window of output rows
 * and columns row group by row group: entropy-decode the group (dec_scan.c; single-scan
 * sequential files, on the fly) or take it from the whole-image buffers, dequantize
 * (+ one-pass FD requantize) + IDCT the window's blocks (dec_dequant.c) into the ring,
 * and upsample + colour-convert (dec_render.c) into the caller's buffer.  Restart
 * intervals before a region are skipped.  fdj_decoder_decode, fdj_decoder_decode_region
 * and fdj_decoder_read_rows (dec_main.c) all run this engine.
 */
#include "dec_internal.h"

/* ---- output geometry (jdmaster.c jpeg_core_output_dimensions) ---- */

int fdj_output_geometry(fdj_decoder *d, fdj_out_geom *g)
{
    int c, denom = d->opt.scale_denom, hs[4], vs[4];
    g->min_bs = 8 / denom;
    g->width = (int)(((int64_t)d->info.width + denom - 1) / denom);
    g->height = (int)(((int64_t)d->info.height + denom - 1) / denom);
    for (c = 0; c < d->ncomp; c++) {
        fdj_dcomp *k = &d->comp[c];
        int ss = g->min_bs;
        if (d->ncomp > 1) {
            while (ss < 8 && (d->max_h * g->min_bs) % (k->h * ss * 2) == 0 &&
                   (d->max_v * g->min_bs) % (k->v * ss * 2) == 0)
                ss *= 2;
        }
        g->bs[c] = ss;
        hs[c] = d->ncomp == 1 ? 1 : k->h * ss;
        vs[c] = d->ncomp == 1 ? 1 : k->v * ss;
    }
    {
        int st = fdj_render_spec_init_level(&g->spec, g->width, g->height, d->ncomp, hs, vs,
                                            d->info.jpeg_color, d->opt.out_format,
                                            fdj_simd_level_cpu(d->opt.cpu));
        if (st != FDJ_OK)
            return fdj_fail_dec(d, st, "fractional sampling ratios are not supported");
    }
    for (c = 0; c < d->ncomp; c++) {
        fdj_dcomp *k = &d->comp[c];
        /* libjpeg: downsampled_width = ceil(W * h * bs / (max_h * 8)) */
        if (d->ncomp > 1) {
            g->spec.comp_width[c] =
                (int)(((int64_t)d->info.width * k->h * g->bs[c] + (int64_t)d->max_h * 8 - 1) /
                      ((int64_t)d->max_h * 8));
            g->spec.comp_height[c] =
                (int)(((int64_t)d->info.height * k->v * g->bs[c] + (int64_t)d->max_v * 8 - 1) /
                      ((int64_t)d->max_v * 8));
        }
        g->spec.fancy[c] = g->bs[c] > 1;
    }
    /* Pillow reads every 4-component JPEG as inverted ("CMYK;I"), Adobe marker or not */
    g->spec.invert_cmyk = d->opt.invert_adobe_cmyk &&
                          (d->info.jpeg_color == FDJ_CS_CMYK || d->info.jpeg_color == FDJ_CS_YCCK);
    if (d->info.jpeg_color == FDJ_CS_UNKNOWN)
        return fdj_fail_dec(d, FDJ_ERR_UNSUPPORTED, "unknown colour space");
    return FDJ_OK;
}

/* ---- output: dequantize (+ requantize) + IDCT into rings, render ---- */

typedef struct out_state {
    fdj_out_geom g;
    fdj_render_scratch scratch;
    fdj_comp_rows rows[FDJ_MAX_COMPONENTS];
    int grp_v[FDJ_MAX_COMPONENTS];  /* block rows per row group */
    int out_rows_per_group;
    int groups;
    fdj_dequant dq;                 /* dequantize (+ FD requantize) + IDCT (dec_dequant.c) */
} out_state;

static void free_out(fdj_decoder *d, out_state *o)
{
    int c;
    fdj_render_scratch_free(&o->scratch);
    fdj_dequant_free(&o->dq);
    for (c = 0; c < d->ncomp; c++) {
        free(d->comp[c].ring);
        free(d->comp[c].ring_rows);
        d->comp[c].ring = NULL;
        d->comp[c].ring_rows = NULL;
    }
}

static int setup_out(fdj_decoder *d, out_state *o)
{
    int c, st;
    memset(o, 0, sizeof *o);
    st = fdj_output_geometry(d, &o->g);
    if (st != FDJ_OK)
        return st;
    fdj_dequant_init(&o->dq, d, o->g.bs, o->g.spec.simd);
    if (fdj_render_scratch_init(&o->scratch, &o->g.spec) != FDJ_OK)
        return fdj_fail_dec(d, FDJ_ERR_NOMEM, "out of memory for row buffers");
    if (d->ncomp == 1) {
        o->groups = d->comp[0].height_in_blocks;
        o->out_rows_per_group = o->g.bs[0];
    } else {
        o->groups = d->mcus_y;
        o->out_rows_per_group = d->max_v * o->g.min_bs;
    }
    for (c = 0; c < d->ncomp; c++) {
        fdj_dcomp *k = &d->comp[c];
        size_t stride = (size_t)k->bw * (size_t)o->g.bs[c], nrows, i;
        o->grp_v[c] = d->ncomp == 1 ? 1 : k->v;
        nrows = (size_t)3 * (size_t)o->grp_v[c] * (size_t)o->g.bs[c];
        k->ring = (uint8_t *)fdj_malloc2(stride ? stride : 1, nrows);
        k->ring_rows = (uint8_t **)fdj_malloc2(nrows, sizeof(uint8_t *));
        if (!k->ring || !k->ring_rows) {
            free_out(d, o);
            return fdj_fail_dec(d, FDJ_ERR_NOMEM, "out of memory for sample rows");
        }
        for (i = 0; i < nrows; i++)
            k->ring_rows[i] = k->ring + i * stride;
        k->ring_n = (int)nrows;
        o->rows[c].rows = k->ring_rows;
        o->rows[c].ring = (int)nrows;
    }
    return FDJ_OK;
}

/* ---- the row engine ----
 *
 * Produces any window of output rows and columns, row group by row group (a row group
 * is one MCU row; one block row for a single-component file): a group is "produced"
 * when its coefficients are entropy-decoded (single-scan sequential files, on the fly)
 * or taken from the whole-image buffers (multi-scan files), and, if it is one the
 * window needs, dequantized (+ FD requantized) and IDCT'd into the ring of sample rows
 * for the window's block columns only.  Rendering (upsampling + colour conversion) of
 * a group needs the groups above and below it when a component is upsampled
 * vertically, and the MCU columns left and right when one is upsampled horizontally:
 * the window is widened by that context and cropped after rendering, so every pixel
 * equals the full decode's.  fdj_decoder_decode, fdj_decoder_decode_region and
 * fdj_decoder_read_rows are all this engine. */
struct fdj_engine {
    out_state o;
    int streaming;                  /* single interleaved sequential scan, decoded on the fly */
    int full;                       /* whole image: check the scan's end and read to EOI */
    int16_t *rowbuf[FDJ_MAX_COMPONENTS]; /* one group of coefficients (streaming) */
    size_t rowsize[FDJ_MAX_COMPONENTS];
    int rq;                         /* one-pass FD in the Huffman decoder (streaming) */
    int dconly;                     /* every IDCT 1x1 (scale=8): the decoder stores DCs only */
    uint8_t *rqraw[FDJ_MAX_COMPONENTS]; /* its per-block "decoded raw" marks (d->rq_raw) */
    int togo;                       /* MCUs left in the restart interval */
    int mcus_per_group;             /* MCUs of one group in the scan */
    int first_mcu;                  /* MCU column where entropy decoding resumes */
    int next_group;                 /* next group to produce */
    int ga, gb;                     /* groups to IDCT: [ga, gb) */
    int ctx_v;                      /* 1: rendering group r needs group r + 1 */
    int rx0, ry0, rx1, ry1;         /* the region, output pixels */
    int next_row;                   /* next output row to deliver */
    int wx0;                        /* first output column of the rendered window */
    int channels;
    int bx0[FDJ_MAX_COMPONENTS], nbx[FDJ_MAX_COMPONENTS]; /* block columns to IDCT */
    fdj_render_spec wspec;          /* the window's render spec */
    fdj_comp_rows wrows[FDJ_MAX_COMPONENTS];
    uint8_t **wptr[FDJ_MAX_COMPONENTS];
    uint8_t *wline;                 /* one rendered window row; NULL: render into the output */
    int zero_from;                  /* output rows from here on are zero (Pillow's truncation) */
    int finished;                   /* every row delivered and the end checked */
};

void fdj_engine_free(fdj_decoder *d, fdj_engine *e)
{
    int c;
    if (!e)
        return;
    for (c = 0; c < FDJ_MAX_COMPONENTS; c++) {
        free(e->rowbuf[c]);
        free(e->wptr[c]);
        free(e->rqraw[c]);
        d->rq_lut[c] = NULL;
        d->rq_raw[c] = NULL;
        d->rq_base[c] = NULL;
    }
    d->rq_any_raw = 0;
    free(e->wline);
    free_out(d, &e->o);
    free(e);
}

fdj_engine *fdj_engine_new(void) { return (fdj_engine *)calloc(1, sizeof(fdj_engine)); }

/* The bytes of one delivered row: the window's width times the channels. */
ptrdiff_t fdj_engine_row_bytes(const fdj_engine *e) { return (ptrdiff_t)(e->rx1 * e->channels); }

int fdj_engine_finished(const fdj_engine *e) { return e->finished; }

/* Byte position just after the k-th restart marker of the scan whose entropy-coded data
 * starts at pos, or 0 unless everything before it is plain entropy-coded data (stuffed
 * zeros, fill bytes) with RST0..RST7 in their cyclic order: then decoding from there
 * gives exactly what decoding every interval before it would (T.81 F.1.2.3: a restart
 * resets the DC predictions and the bit stream). */
size_t fdj_find_restart(const fdj_decoder *d, size_t pos, long k)
{
    const uint8_t *p = d->data;
    size_t n = d->size;
    long seen = 0;
    while (pos + 1 < n) {
        const uint8_t *ff = (const uint8_t *)memchr(p + pos, 0xFF, n - pos - 1);
        int b;
        if (!ff)
            return 0;
        pos = (size_t)(ff - p);
        b = p[pos + 1];
        if (b == 0x00) {
            pos += 2;
        } else if (b == 0xFF) {
            pos++;
        } else if (b == 0xD0 + (int)(seen & 7)) {
            pos += 2;
            if (++seen == k)
                return pos;
        } else {
            return 0;
        }
    }
    return 0;
}

int fdj_engine_start(fdj_decoder *d, fdj_engine *e, int x0, int y0, int x1, int y1, int full)
{
    fdj_out_geom *g;
    int st, c, mcuw, mcols, mx0, mx1, g0, g1, zero_all = 0;
    e->rx0 = x0;
    e->ry0 = y0;
    e->rx1 = x1;
    e->ry1 = y1;
    e->next_row = y0;
    e->full = full;
    e->streaming = !d->info.progressive && d->scan_ncomp == d->ncomp && !d->info.arithmetic;
    if (!e->streaming) {
        /* multi-scan (or arithmetic) files: every coefficient first, as libjpeg (and before
         * the dequantizer reads the tables, latched at each component's first scan) */
        st = fdj_decode_all_scans(d);
        if (d->opt.allow_truncated &&
            (st == FDJ_ERR_TRUNCATED ||
             (st == FDJ_ERR_CORRUPT && (d->pos > d->real_size || d->truncated)))) {
            /* cut inside a marker segment between scans: libjpeg suspends (or fails on the
             * appended EOI read as segment data) before any output, and Pillow returns its
             * zero-filled image */
            d->truncated = 1;
            d->msg[0] = 0;
            d->status = 0;
            zero_all = 1;
        } else if (st != FDJ_OK) {
            return st;
        } else if (d->info.progressive && (st = fdj_smooth_coefficients(d)) != FDJ_OK) {
            return st;
        }
    }
    st = setup_out(d, &e->o);
    if (st != FDJ_OK)
        return st;
    g = &e->o.g;
    e->channels = fdj_render_channels(&g->spec);
    e->zero_from = g->height;
    if (d->ncomp == 1) {
        mcuw = g->bs[0];
        mcols = d->comp[0].width_in_blocks;
    } else {
        mcuw = d->max_h * g->min_bs;
        mcols = d->mcus_x;
    }
    for (c = 0; c < d->ncomp; c++)
        if (g->spec.vx[c] > 1)
            e->ctx_v = 1; /* rendering a group reads the first rows of the next */
    /* MCU columns and groups holding the component samples the region reads: fancy
     * upsampling by 2 reads one sample beyond each output sample's own (libjpeg's
     * triangle filter), so a component upsampled by hx/vx needs samples
     * [x0/hx - 1, (x1-1)/hx + 1], clamped to the image */
    mx0 = mcols;
    mx1 = 0;
    g0 = e->o.groups;
    g1 = 0;
    for (c = 0; c < d->ncomp; c++) {
        int hx = g->spec.hx[c], vx = g->spec.vx[c];
        int spc = (d->ncomp == 1 ? 1 : d->comp[c].h) * g->bs[c];   /* samples per MCU column */
        int spg = e->o.grp_v[c] * g->bs[c];                          /* sample rows per group */
        int lo = x0 / hx - (hx > 1), hi = (x1 - 1) / hx + (hx > 1);
        int top = y0 / vx - (vx > 1), bot = (y1 - 1) / vx + (vx > 1);
        if (lo < 0)
            lo = 0;
        if (top < 0)
            top = 0;
        if (lo / spc < mx0)
            mx0 = lo / spc;
        if (hi / spc + 1 > mx1)
            mx1 = hi / spc + 1;
        if (top / spg < g0)
            g0 = top / spg;
        if (bot / spg + 1 > g1)
            g1 = bot / spg + 1;
    }
    if (mx1 > mcols)
        mx1 = mcols;
    for (;;) {
        /* libjpeg upsamples a row of 2 samples or fewer by replication, not the triangle
         * filter: a window must not make a component that narrow where the image is not */
        int narrow = 0;
        for (c = 0; c < d->ncomp; c++) {
            int spc = (d->ncomp == 1 ? 1 : d->comp[c].h) * g->bs[c], cw = g->spec.comp_width[c];
            int w1 = mx1 * spc < cw ? mx1 * spc : cw;
            if (g->spec.hx[c] > 1 && w1 - mx0 * spc <= 2 && cw > 2)
                narrow = 1;
        }
        if (!narrow)
            break;
        if (mx0 > 0)
            mx0--;
        else
            mx1++;
    }
    e->ga = g0;
    e->gb = g1 < e->o.groups ? g1 : e->o.groups;
    e->wx0 = mx0 * mcuw;
    e->wspec = g->spec;
    e->wspec.width = (int)((int64_t)mx1 * mcuw < g->width ? (int64_t)mx1 * mcuw : g->width) - e->wx0;
    for (c = 0; c < d->ncomp; c++) {
        fdj_dcomp *k = &d->comp[c];
        int bpc = d->ncomp == 1 ? 1 : k->h;      /* blocks per MCU column */
        int spc = bpc * g->bs[c];                /* samples per MCU column */
        int b1 = mx1 * bpc, cw1 = mx1 * spc;
        e->bx0[c] = mx0 * bpc;
        if (b1 > k->width_in_blocks)
            b1 = k->width_in_blocks;
        e->nbx[c] = b1 > e->bx0[c] ? b1 - e->bx0[c] : 0;
        if (cw1 > g->spec.comp_width[c])
            cw1 = g->spec.comp_width[c];
        e->wspec.comp_width[c] = cw1 - mx0 * spc;
        if (mx0 == 0) {
            e->wrows[c] = e->o.rows[c];
        } else {
            int i;
            e->wptr[c] = (uint8_t **)fdj_malloc2((size_t)k->ring_n, sizeof(uint8_t *));
            if (!e->wptr[c])
                return fdj_fail_dec(d, FDJ_ERR_NOMEM, "out of memory for sample rows");
            for (i = 0; i < k->ring_n; i++)
                e->wptr[c][i] = k->ring_rows[i] + (size_t)mx0 * (size_t)spc;
            e->wrows[c].rows = e->wptr[c];
            e->wrows[c].ring = k->ring_n;
        }
    }
    if (e->wx0 != x0 || e->wx0 + e->wspec.width != x1) {
        e->wline = (uint8_t *)fdj_malloc2((size_t)e->wspec.width + 64, (size_t)e->channels);
        if (!e->wline)
            return fdj_fail_dec(d, FDJ_ERR_NOMEM, "out of memory for a row");
    }
    if (!e->streaming) {
        if (zero_all) {
            e->zero_from = 0;
            e->ga = e->gb = 0;
            return FDJ_OK;
        }
        if (d->info.arithmetic && d->opt.allow_truncated && d->opt.scale_denom == 1) {
            /* Pillow's view of arithmetic data that ends early: only the rows output before
             * libjpeg failed (fdj_arith_rows_kept), the rest of its buffer stays zero */
            int keep = fdj_arith_rows_kept(d, g->height);
            if (keep >= 0)
                e->zero_from = keep;
        }
        e->next_group = e->ga;
        return FDJ_OK;
    }
    for (c = 0; c < d->ncomp; c++) {
        fdj_dcomp *k = &d->comp[c];
        if (!fdj_mul3_size((size_t)k->bw * 64, (size_t)e->o.grp_v[c], sizeof(int16_t),
                           &e->rowsize[c]) ||
            !(e->rowbuf[c] = (int16_t *)malloc(e->rowsize[c] ? e->rowsize[c] : 1)))
            return fdj_fail_dec(d, FDJ_ERR_NOMEM, "out of memory for an MCU row");
    }
    /* one-pass FD: requantized in the Huffman decoder where the tables allow */
    st = fdj_dequant_prepare_huff(&e->o.dq, d, d->ncomp);
    if (st < 0)
        return fdj_fail_dec(d, FDJ_ERR_NOMEM, "out of memory for the requantization tables");
    if (st == 1) {
        for (c = 0; c < d->ncomp; c++) {
            size_t nb = (size_t)d->comp[c].bw * (size_t)e->o.grp_v[c];
            if (!(e->rqraw[c] = (uint8_t *)calloc(nb ? nb : 1, 1)))
                return fdj_fail_dec(d, FDJ_ERR_NOMEM, "out of memory for an MCU row");
            d->rq_lut[c] = e->o.dq.lut[c];
            d->rq_raw[c] = e->rqraw[c];
            d->rq_base[c] = e->rowbuf[c];
        }
        d->rq_any_raw = 0;
        e->rq = 1;
    }
    st = fdj_begin_scan(d);
    if (st != FDJ_OK)
        return st;
    e->dconly = !d->info.arithmetic && !d->info.progressive;
    for (c = 0; c < d->ncomp; c++)
        if (e->o.g.bs[c] != 1)
            e->dconly = 0;
    if (e->rq)
        for (c = 0; c < d->scan_ncomp; c++)
            fdj_huff_build_fast_rq(&d->ac[d->scan_ta[c]]);
    e->togo = d->restart_interval;
    e->mcus_per_group = mcols;
    if (!full) {
        /* skip whole restart intervals before the first group needed */
        int64_t m = fdj_jump_to_restart(d, e->ga, mcols);
        if (m > 0) {
            e->next_group = (int)(m / mcols);
            e->first_mcu = (int)(m % mcols);
        }
    }
    return FDJ_OK;
}

/* Dequantize (+ requantize) and IDCT the window's blocks of group r of component c
 * (rq: the Huffman decoder has requantized them, except the blocks marked raw). */
static void idct_group(fdj_decoder *d, fdj_engine *e, int c, int r, const int16_t *coef,
                       size_t block_row_stride, int rq)
{
    fdj_dcomp *k = &d->comp[c];
    out_state *o = &e->o;
    int bs = o->g.bs[c], j, bx0 = e->bx0[c];
    if (e->nbx[c] <= 0)
        return;
    for (j = 0; j < o->grp_v[c]; j++) {
        int brow = r * o->grp_v[c] + j;
        if (brow >= k->height_in_blocks)
            break;
        if (rq) {
            fdj_dequant_row_pre(&o->dq, c, coef + (size_t)j * block_row_stride + (size_t)bx0 * 64,
                                e->nbx[c],
                                d->rq_any_raw ? e->rqraw[c] + (size_t)j * k->bw + bx0 : NULL,
                                k->ring_rows[((size_t)brow * bs) % (size_t)k->ring_n] + (size_t)bx0 * bs,
                                (ptrdiff_t)k->bw * bs);
            continue;
        }
        fdj_dequant_row(&o->dq, c, coef + (size_t)j * block_row_stride + (size_t)bx0 * 64,
                        e->nbx[c],
                        k->ring_rows[((size_t)brow * bs) % (size_t)k->ring_n] + (size_t)bx0 * bs,
                        (ptrdiff_t)k->bw * bs);
    }
}

/* Entropy-decode (streaming) and, if the window needs it, IDCT group r. */
static int produce_group(fdj_decoder *d, fdj_engine *e, int r)
{
    int c, st;
    if (!e->streaming) {
        if (r >= e->ga)
            for (c = 0; c < d->ncomp; c++) {
                fdj_dcomp *k = &d->comp[c];
                size_t brs = (size_t)k->bw * 64;
                idct_group(d, e, c, r, k->coef + (size_t)r * e->o.grp_v[c] * brs, brs, 0);
            }
        return FDJ_OK;
    }
    {
        int16_t *blocks[40];
        int bc[40], mx, skip = r < e->ga;
        /* rows before the window are walked only for their entropy state (skip mode:
         * bit position and DC predictions, no coefficient stored or cleared) */
        if (!skip)
            for (c = 0; c < d->ncomp; c++) {
                if (e->dconly) {
                    /* the 1x1 IDCTs read the DCs only (left zero where data ran out) */
                    size_t i, nb = e->rowsize[c] / (64 * sizeof(int16_t));
                    for (i = 0; i < nb; i++)
                        e->rowbuf[c][i * 64] = 0;
                } else {
                    memset(e->rowbuf[c], 0, e->rowsize[c]);
                }
            }
        d->cur_imcu_row = r;
        if (d->ncomp == 1) {
            bc[0] = 0;
            for (mx = e->first_mcu; mx < d->comp[0].width_in_blocks; mx++) {
                blocks[0] = e->rowbuf[0] + (size_t)mx * 64;
                st = skip        ? fdj_skip_mcu(d, 1, bc, &e->togo)
                     : e->rq     ? fdj_decode_mcu_rq(d, blocks, 1, bc, &e->togo)
                     : e->dconly ? fdj_decode_mcu_dc(d, blocks, 1, bc, &e->togo)
                                 : fdj_decode_mcu(d, blocks, 1, bc, &e->togo);
                if (st != FDJ_OK)
                    return st;
            }
        } else {
            for (mx = e->first_mcu; mx < d->mcus_x; mx++) {
                int n = 0, i, x, y;
                for (i = 0; i < d->scan_ncomp; i++) {
                    int ci = d->scan_comp[i];
                    fdj_dcomp *k = &d->comp[ci];
                    for (y = 0; y < k->v; y++)
                        for (x = 0; x < k->h; x++) {
                            blocks[n] = e->rowbuf[ci] +
                                        ((size_t)y * k->bw + (size_t)mx * k->h + x) * 64;
                            bc[n++] = i;
                        }
                }
                st = skip        ? fdj_skip_mcu(d, n, bc, &e->togo)
                     : e->rq     ? fdj_decode_mcu_rq(d, blocks, n, bc, &e->togo)
                     : e->dconly ? fdj_decode_mcu_dc(d, blocks, n, bc, &e->togo)
                                 : fdj_decode_mcu(d, blocks, n, bc, &e->togo);
                if (st != FDJ_OK)
                    return st;
            }
        }
        e->first_mcu = 0;
        if (d->br.hit_end && !d->opt.allow_truncated)
            return fdj_end_scan(d);
        if (!skip) {
            for (c = 0; c < d->ncomp; c++)
                idct_group(d, e, c, r, e->rowbuf[c], (size_t)d->comp[c].bw * 64, e->rq);
            if (d->rq_any_raw) {
                for (c = 0; c < d->ncomp; c++)
                    memset(e->rqraw[c], 0, (size_t)d->comp[c].bw * (size_t)e->o.grp_v[c]);
                d->rq_any_raw = 0;
            }
        }
    }
    return FDJ_OK;
}

/* After the last group of a whole-image streaming decode: the scan's end and EOI. */
static int engine_finish(fdj_decoder *d, fdj_engine *e)
{
    int st;
    e->finished = 1;
    if (!e->full || !e->streaming)
        return FDJ_OK;
    st = fdj_end_scan(d);
    if (st != FDJ_OK)
        return st;
    st = fdj_read_headers(d);
    /* every row is out: libjpeg (and Pillow) stop here if the data after the scan runs
     * out (a marker segment longer than the data, no EOI), if the scan itself ended at
     * a marker; only real errors count */
    if (st == FDJ_ERR_TRUNCATED && !d->br.hit_end)
        st = 0;
    if (st > 0)
        st = fdj_fail_dec(d, FDJ_ERR_CORRUPT,
                          "unexpected second scan in a single-scan sequential file (EOI expected)");
    return st < 0 ? st : FDJ_OK;
}

/* Deliver up to nrows more rows of the region into out (row_stride apart); *done gets
 * the number delivered. */
int fdj_engine_rows(fdj_decoder *d, fdj_engine *e, uint8_t *out, ptrdiff_t stride, int nrows,
                    int *done)
{
    int rpg = e->o.out_rows_per_group, y = e->next_row, yend, st;
    size_t rowbytes = (size_t)(e->rx1 - e->rx0) * (size_t)e->channels;
    yend = (int64_t)y + nrows < e->ry1 ? y + nrows : e->ry1;
    *done = 0;
    while (y < yend) {
        int r = y / rpg, need = r + e->ctx_v, ye = (r + 1) * rpg, yy;
        if (need > e->gb - 1)
            need = e->gb - 1;
        while (e->next_group <= need) {
            st = produce_group(d, e, e->next_group);
            if (st != FDJ_OK)
                return st;
            e->next_group++;
        }
        if (ye > yend)
            ye = yend;
        for (yy = y; yy < ye; yy++) {
            uint8_t *o = out + (ptrdiff_t)(yy - e->next_row) * stride;
            if (yy >= e->zero_from)
                memset(o, 0, rowbytes);
            else if (!e->wline)
                fdj_render_rows(&e->wspec, e->wrows, &e->o.scratch, yy, yy + 1, o, stride);
            else {
                fdj_render_rows(&e->wspec, e->wrows, &e->o.scratch, yy, yy + 1, e->wline, 0);
                memcpy(o, e->wline + (size_t)(e->rx0 - e->wx0) * (size_t)e->channels, rowbytes);
            }
        }
        y = ye;
    }
    *done = yend - e->next_row;
    e->next_row = yend;
    if (e->next_row == e->ry1 && !e->finished) {
        /* a whole-image streaming decode reads every group and then the end of the scan */
        if (e->full)
            while (e->next_group < e->o.groups) {
                st = produce_group(d, e, e->next_group);
                if (st != FDJ_OK)
                    return st;
                e->next_group++;
            }
        return engine_finish(d, e);
    }
    return FDJ_OK;
}

int fdj_run_engine(fdj_decoder *d, int x, int y, int w, int h, int full, uint8_t *out,
                   ptrdiff_t stride)
{
    fdj_engine *e = (fdj_engine *)calloc(1, sizeof *e);
    int st, done;
    if (!e)
        return fdj_fail_dec(d, FDJ_ERR_NOMEM, "out of memory for the decoder state");
    st = fdj_engine_start(d, e, x, y, x + w, y + h, full);
    if (st == FDJ_OK)
        st = fdj_engine_rows(d, e, out, stride, h, &done);
    fdj_engine_free(d, e);
    return st;
}
