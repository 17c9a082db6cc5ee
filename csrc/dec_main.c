/*
 * dec_main.c -- the decoder's entry points and driver (libjpeg's jdapimin.c,
 * jdmaster.c, jdcoefct.c): header parse (T.81 B.2), the scan loop (E.2),
 * coefficient buffers, then per row group dequantize (+ one-pass FD
 * requantize) + IDCT (dec_dequant.c) into a ring of sample rows, and
 * upsampling + colour conversion (dec_render.c) into the caller's buffer.
 *
 * Single-scan sequential files are decoded one MCU row at a time (memory
 * proportional to the width); multi-scan files (progressive, non-interleaved)
 * keep whole-image coefficient buffers, as libjpeg does, and are rendered
 * from them row group by row group.  One row engine does all output: the whole
 * image (fdj_decoder_decode), a region of it (fdj_decoder_decode_region: only the
 * MCUs it touches are transformed, nothing after its last MCU row is read,
 * restart intervals before it are skipped, as libjpeg-turbo's jpeg_crop_scanline /
 * jpeg_skip_scanlines do) or strips on demand (fdj_decoder_read_rows).
 */
#include "dec_internal.h"
#include "dec_hiprec.h"

void fdj_decode_options_init(fdj_decode_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->max_pixels = FDJ_DEFAULT_MAX_PIXELS;
    opt->max_scans = FDJ_DEFAULT_MAX_SCANS;
    opt->max_segment_bytes = (uint64_t)64 << 20;
    opt->scale_denom = 1;
    opt->invert_adobe_cmyk = 1;
}

fdj_decoder *fdj_decoder_new(void)
{
    fdj_decoder *d = (fdj_decoder *)calloc(1, sizeof *d);
    return d;
}

static void engine_free(fdj_decoder *d, fdj_engine *e);

static void release_buffers(fdj_decoder *d)
{
    int c;
    engine_free(d, d->engine);
    d->engine = NULL;
    free(d->owned_data);
    d->owned_data = NULL;
    for (c = 0; c < FDJ_MAX_COMPONENTS; c++) {
        free(d->comp[c].coef);
        free(d->comp[c].ring);
        free(d->comp[c].ring_rows);
        d->comp[c].coef = NULL;
        d->comp[c].ring = NULL;
        d->comp[c].ring_rows = NULL;
    }
}

void fdj_decoder_free(fdj_decoder *d)
{
    if (!d)
        return;
    release_buffers(d);
    free(d->markers);
    free(d);
}

const fdj_info *fdj_decoder_info(const fdj_decoder *d) { return &d->info; }
const char *fdj_decoder_message(const fdj_decoder *d) { return d->msg; }
int fdj_decoder_was_truncated(const fdj_decoder *d) { return d->truncated; }

const fdj_marker *fdj_decoder_markers(const fdj_decoder *d, size_t *count)
{
    *count = d->nmarkers;
    return d->markers;
}

/* libjpeg's default_decompress_parms colour-space guess */
static int guess_color(const fdj_decoder *d)
{
    const fdj_info *inf = &d->info;
    if (d->ncomp == 1)
        return FDJ_CS_GRAY;
    if (d->ncomp == 3) {
        if (inf->has_jfif)
            return FDJ_CS_YCBCR;
        if (inf->has_adobe)
            return inf->adobe_transform == 0 ? FDJ_CS_RGB : FDJ_CS_YCBCR;
        if (d->comp[0].id == 82 && d->comp[1].id == 71 && d->comp[2].id == 66)
            return FDJ_CS_RGB;
        /* libjpeg-turbo 3 assumes RGB without a transform for lossless frames */
        return inf->lossless ? FDJ_CS_RGB : FDJ_CS_YCBCR;
    }
    if (d->ncomp == 4) {
        if (inf->has_adobe)
            return inf->adobe_transform == 0 ? FDJ_CS_CMYK : FDJ_CS_YCCK;
        return FDJ_CS_CMYK;
    }
    return FDJ_CS_UNKNOWN;
}

int fdj_decoder_open(fdj_decoder *d, const uint8_t *data, size_t size,
                     const fdj_decode_options *opt)
{
    fdj_marker *markers = d->markers;
    size_t cap = d->cap_markers;
    int st, c;
    release_buffers(d);
    memset(d, 0, sizeof *d);
    d->markers = markers;
    d->cap_markers = cap;
    d->nmarkers = 0;
    if (opt)
        d->opt = *opt;
    else
        fdj_decode_options_init(&d->opt);
    if (d->opt.max_pixels == 0)
        d->opt.max_pixels = FDJ_DEFAULT_MAX_PIXELS;
    if (d->opt.max_scans <= 0)
        d->opt.max_scans = FDJ_DEFAULT_MAX_SCANS;
    if (d->opt.max_segment_bytes == 0)
        d->opt.max_segment_bytes = (uint64_t)64 << 20;
    if (d->opt.scale_denom == 0)
        d->opt.scale_denom = 1;
    if (d->opt.scale_denom != 1 && d->opt.scale_denom != 2 && d->opt.scale_denom != 4 &&
        d->opt.scale_denom != 8)
        return fdj_fail_dec(d, FDJ_ERR_ARGUMENT, "scale_denom must be 1, 2, 4 or 8, not %d",
                            d->opt.scale_denom);
    if ((st = fdj_dequant_check_purify(d, &d->opt)) != FDJ_OK)
        return st;
    fdj_arith_reset_conditioning(d);
    d->data = data;
    d->size = data ? size : 0;
    d->real_size = d->size;
    if (d->size < 2 || d->data[0] != 0xFF || d->data[1] != 0xD8)
        return fdj_fail_dec(d, FDJ_ERR_NOT_JPEG, "not a JPEG file: no SOI marker at offset 0");
    if (d->size < 3 || d->data[2] != 0xFF)
        /* libjpeg would skip the junk with a warning; Pillow refuses the file (its
         * signature is FF D8 FF), and so do we */
        return fdj_fail_dec(d, FDJ_ERR_NOT_JPEG,
                            "not a JPEG file: the SOI marker is not followed by another marker");
    if (d->opt.allow_truncated) {
        /* Pillow with LOAD_TRUNCATED_IMAGES feeds libjpeg one EOI marker after the end of
         * the data; decoding the data with that EOI appended gives its pixels exactly. */
        d->owned_data = (uint8_t *)malloc(d->size + 2);
        if (!d->owned_data)
            return fdj_fail_dec(d, FDJ_ERR_NOMEM, "out of memory copying truncated data");
        memcpy(d->owned_data, data, d->size);
        d->owned_data[d->size] = 0xFF;
        d->owned_data[d->size + 1] = 0xD9;
        d->data = d->owned_data;
        d->size += 2;
    }
    d->pos = 2;
    st = fdj_add_marker(d, 0xD8, 0, 0);
    if (st != FDJ_OK)
        return st;
    st = fdj_read_headers(d);
    if (st < 0)
        return st;
    if (d->pos > d->real_size)
        /* the headers only ended inside the EOI appended for allow_truncated: Pillow's
         * header parse fails on such a file */
        return fdj_fail_dec(d, FDJ_ERR_TRUNCATED, "JPEG data ends inside the headers");
    if (st == 0 || !d->have_sof)
        return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "no image: %s before the first scan",
                            d->have_sof ? "EOI" : "EOI or SOS without a frame header");
    d->info.jpeg_color = guess_color(d);
    d->info.restart_interval = d->restart_interval;
    for (c = 0; c < 4; c++) {
        d->info.qtable_bits[c] = d->qt_defined[c];
        memcpy(d->info.qtable[c], d->qt[c], sizeof d->qt[c]);
    }
    for (c = 0; c < d->ncomp; c++) {
        fdj_component_info *ci = &d->info.comp[c];
        fdj_dcomp *k = &d->comp[c];
        ci->id = k->id;
        ci->h = k->h;
        ci->v = k->v;
        ci->tq = k->tq;
        ci->width_in_blocks = k->width_in_blocks;
        ci->height_in_blocks = k->height_in_blocks;
        ci->downsampled_width = k->dw;
        ci->downsampled_height = k->dh;
        if (k->qlatched || k->tq < 4)
            memcpy(ci->qtable, k->qlatched ? k->q : d->qt[k->tq], sizeof ci->qtable);
    }
    return FDJ_OK;
}

int fdj_decoder_set_purify(fdj_decoder *d, const fdj_decode_options *opt)
{
    int st = fdj_dequant_check_purify(d, opt);
    if (st != FDJ_OK)
        return st;
    d->opt.purify_count = opt->purify_count;
    memcpy(d->opt.purify, opt->purify, sizeof d->opt.purify);
    return FDJ_OK;
}

/* ---- output geometry (jdmaster.c jpeg_core_output_dimensions) ---- */
typedef struct out_geom {
    int width, height, min_bs;
    int bs[FDJ_MAX_COMPONENTS];
    fdj_render_spec spec;
} out_geom;

static int compute_geometry(fdj_decoder *d, out_geom *g)
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
        int st = fdj_render_spec_init(&g->spec, g->width, g->height, d->ncomp, hs, vs,
                                      d->info.jpeg_color, d->opt.out_format);
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

int fdj_decoder_output_shape(const fdj_decoder *dc, int *height, int *width, int *channels)
{
    fdj_decoder *d = (fdj_decoder *)dc;
    out_geom g;
    int st;
    if (!d->have_sof)
        return fdj_fail_dec(d, FDJ_ERR_ARGUMENT, "no frame header parsed");
    st = compute_geometry(d, &g);
    if (st != FDJ_OK)
        return st;
    *height = g.height;
    *width = g.width;
    *channels = fdj_render_channels(&g.spec);
    return FDJ_OK;
}

/* ---- scans ---- */

static int begin_scan(fdj_decoder *d)
{
    int st;
    if (d->info.lossless)
        return fdj_fail_dec(d, FDJ_ERR_UNSUPPORTED, "lossless JPEG has no DCT coefficients");
    if (d->scan_ncomp > 1) {
        int i, blocks = 0;
        for (i = 0; i < d->scan_ncomp; i++)
            blocks += d->comp[d->scan_comp[i]].h * d->comp[d->scan_comp[i]].v;
        if (blocks > 10)
            return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "MCU of %d blocks exceeds the limit of 10", blocks);
    }
    st = fdj_prepare_scan_tables(d);
    if (st != FDJ_OK)
        return st;
    if (d->info.progressive) {
        /* progression bookkeeping (jdphuff.c); bogus orders are only warnings in libjpeg */
        int i, k;
        for (i = 0; i < d->scan_ncomp; i++) {
            fdj_dcomp *comp = &d->comp[d->scan_comp[i]];
            /* jdphuff.c keeps the state before this scan for block smoothing */
            for (k = d->Ss < 1 ? d->Ss : 1; k <= (d->Se > 9 ? d->Se : 9) && k < 10; k++)
                comp->prev_coef_bits[k] = d->info.num_scans > 1 ? comp->coef_bits[k] : 0;
            for (k = d->Ss; k <= d->Se; k++)
                comp->coef_bits[k] = d->Al;
        }
    }
    fdj_bits_init(&d->br, d->data, d->size, d->pos);
    fdj_reset_entropy(d);
    d->next_restart = 0;
    d->insufficient = 0;
    return FDJ_OK;
}

static int end_scan(fdj_decoder *d)
{
    if (d->br.hit_end) {
        d->truncated = 1;
        if (!d->opt.allow_truncated)
            return fdj_fail_dec(d, FDJ_ERR_TRUNCATED,
                                "JPEG data is truncated: it ends inside scan %d", d->info.num_scans);
    }
    d->pos = d->br.pos;
    return FDJ_OK;
}

static int decode_mcu(fdj_decoder *d, int16_t *const blocks[], int n, const int bc[], int *togo)
{
    int st;
    if (d->restart_interval) {
        if (*togo == 0) {
            st = fdj_process_restart(d);
            if (st != FDJ_OK)
                return st;
            *togo = d->restart_interval;
        }
        (*togo)--;
    }
    if (!d->insufficient)
        d->last_good_imcu = d->cur_imcu_row;
    if (d->info.arithmetic)
        return fdj_decode_mcu_arith(d, blocks, n, bc);
    if (d->info.progressive)
        return fdj_decode_mcu_progressive(d, blocks, n, bc);
    return fdj_decode_mcu_sequential(d, blocks, n, bc);
}

/* Decode one scan into the whole-image coefficient buffers. */
static int decode_scan_full(fdj_decoder *d)
{
    int togo = d->restart_interval, st;
    int16_t *blocks[40];
    int bc[40];
    if (d->scan_ncomp == 1) {
        fdj_dcomp *k = &d->comp[d->scan_comp[0]];
        int bx, by;
        bc[0] = 0;
        for (by = 0; by < k->height_in_blocks; by++) {
            d->cur_imcu_row = by / k->v;
            for (bx = 0; bx < k->width_in_blocks; bx++) {
                blocks[0] = k->coef + ((size_t)by * k->bw + bx) * 64;
                st = decode_mcu(d, blocks, 1, bc, &togo);
                if (st != FDJ_OK)
                    return st;
            }
            if (d->br.hit_end && !d->opt.allow_truncated)
                return end_scan(d);
        }
    } else {
        int mx, my;
        for (my = 0; my < d->mcus_y; my++) {
            d->cur_imcu_row = my;
            for (mx = 0; mx < d->mcus_x; mx++) {
                int n = 0, i, x, y;
                for (i = 0; i < d->scan_ncomp; i++) {
                    fdj_dcomp *k = &d->comp[d->scan_comp[i]];
                    for (y = 0; y < k->v; y++)
                        for (x = 0; x < k->h; x++) {
                            size_t row = (size_t)my * k->v + y, col = (size_t)mx * k->h + x;
                            blocks[n] = k->coef + (row * k->bw + col) * 64;
                            bc[n++] = i;
                        }
                }
                st = decode_mcu(d, blocks, n, bc, &togo);
                if (st != FDJ_OK)
                    return st;
            }
            if (d->br.hit_end && !d->opt.allow_truncated)
                return end_scan(d);
        }
    }
    return end_scan(d);
}

static int alloc_coef(fdj_decoder *d)
{
    int c;
    for (c = 0; c < d->ncomp; c++) {
        fdj_dcomp *k = &d->comp[c];
        size_t n;
        if (!fdj_mul3_size((size_t)k->bw, (size_t)k->bh, 64 * sizeof(int16_t), &n))
            return fdj_fail_dec(d, FDJ_ERR_TOO_LARGE, "coefficient buffer size overflows");
        k->coef = (int16_t *)calloc(n ? n : 1, 1);
        if (!k->coef)
            return fdj_fail_dec(d, FDJ_ERR_NOMEM, "out of memory for %zu bytes of coefficients", n);
    }
    d->coefs_allocated = 1;
    return FDJ_OK;
}

/* Decode every remaining scan into whole-image buffers (up to EOI). */
static int decode_all_scans(fdj_decoder *d)
{
    int st;
    if (!d->coefs_allocated && (st = alloc_coef(d)) != FDJ_OK)
        return st;
    for (;;) {
        st = begin_scan(d);
        if (st != FDJ_OK)
            return st;
        st = decode_scan_full(d);
        if (st != FDJ_OK)
            return st;
        st = fdj_read_headers(d);
        /* a single-scan sequential file is complete after its scan (as in the streaming engine) */
        if (st == FDJ_ERR_TRUNCATED && !d->info.progressive && d->info.num_scans == 1 &&
            d->scan_ncomp == d->ncomp && !d->br.hit_end)
            st = 0;
        if (st < 0)
            return st;
        if (st == 0)
            return FDJ_OK;
        if (!d->info.progressive && d->scan_ncomp == d->ncomp && d->ncomp > 1) {
            /* a later full interleaved scan in a sequential file: libjpeg decodes it into
             * the same buffers; nothing special to do */
        }
    }
}

/* ---- output: dequantize (+ requantize) + IDCT into rings, render ---- */

typedef struct out_state {
    out_geom g;
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
    st = compute_geometry(d, &o->g);
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

static void engine_free(fdj_decoder *d, fdj_engine *e)
{
    int c;
    if (!e)
        return;
    for (c = 0; c < FDJ_MAX_COMPONENTS; c++) {
        free(e->rowbuf[c]);
        free(e->wptr[c]);
    }
    free(e->wline);
    free_out(d, &e->o);
    free(e);
}

/* Byte position just after the k-th restart marker of the scan whose entropy-coded data
 * starts at pos, or 0 unless everything before it is plain entropy-coded data (stuffed
 * zeros, fill bytes) with RST0..RST7 in their cyclic order: then decoding from there
 * gives exactly what decoding every interval before it would (T.81 F.1.2.3: a restart
 * resets the DC predictions and the bit stream). */
static size_t find_restart(const fdj_decoder *d, size_t pos, long k)
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

static int engine_start(fdj_decoder *d, fdj_engine *e, int x0, int y0, int x1, int y1, int full)
{
    out_geom *g;
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
        st = decode_all_scans(d);
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
    st = begin_scan(d);
    if (st != FDJ_OK)
        return st;
    e->togo = d->restart_interval;
    e->mcus_per_group = mcols;
    if (!full && d->restart_interval > 0 && e->ga > 0) {
        /* skip whole restart intervals before the first group needed */
        long k = (long)(((int64_t)e->ga * mcols) / d->restart_interval);
        size_t pos = k > 0 ? find_restart(d, d->br.pos, k) : 0;
        if (pos) {
            int64_t m = (int64_t)k * d->restart_interval;
            fdj_bits_init(&d->br, d->data, d->size, pos);
            fdj_reset_entropy(d);
            d->next_restart = (int)(k & 7);
            d->insufficient = 0;
            e->next_group = (int)(m / mcols);
            e->first_mcu = (int)(m % mcols);
        }
    }
    return FDJ_OK;
}

/* Dequantize (+ requantize) and IDCT the window's blocks of group r of component c. */
static void idct_group(fdj_decoder *d, fdj_engine *e, int c, int r, const int16_t *coef,
                       size_t block_row_stride)
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
                idct_group(d, e, c, r, k->coef + (size_t)r * e->o.grp_v[c] * brs, brs);
            }
        return FDJ_OK;
    }
    {
        int16_t *blocks[40];
        int bc[40], mx;
        /* rows before the window are decoded only for their entropy state: their
         * coefficients are never read, so their buffer need not be cleared */
        if (r >= e->ga)
            for (c = 0; c < d->ncomp; c++)
                memset(e->rowbuf[c], 0, e->rowsize[c]);
        d->cur_imcu_row = r;
        if (d->ncomp == 1) {
            bc[0] = 0;
            for (mx = e->first_mcu; mx < d->comp[0].width_in_blocks; mx++) {
                blocks[0] = e->rowbuf[0] + (size_t)mx * 64;
                if ((st = decode_mcu(d, blocks, 1, bc, &e->togo)) != FDJ_OK)
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
                if ((st = decode_mcu(d, blocks, n, bc, &e->togo)) != FDJ_OK)
                    return st;
            }
        }
        e->first_mcu = 0;
        if (d->br.hit_end && !d->opt.allow_truncated)
            return end_scan(d);
        if (r >= e->ga)
            for (c = 0; c < d->ncomp; c++)
                idct_group(d, e, c, r, e->rowbuf[c], (size_t)d->comp[c].bw * 64);
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
    st = end_scan(d);
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
static int engine_rows(fdj_decoder *d, fdj_engine *e, uint8_t *out, ptrdiff_t stride, int nrows,
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

static int check_usable(fdj_decoder *d)
{
    if (!d->have_sos)
        return d->status ? d->status : fdj_fail_dec(d, FDJ_ERR_ARGUMENT, "decoder is not open");
    if (d->decoded)
        return fdj_fail_dec(d, FDJ_ERR_ARGUMENT, "decoder already used: open it again");
    return FDJ_OK;
}

static int run_engine(fdj_decoder *d, int x, int y, int w, int h, int full, uint8_t *out,
                      ptrdiff_t stride)
{
    fdj_engine *e = (fdj_engine *)calloc(1, sizeof *e);
    int st, done;
    if (!e)
        return fdj_fail_dec(d, FDJ_ERR_NOMEM, "out of memory for the decoder state");
    st = engine_start(d, e, x, y, x + w, y + h, full);
    if (st == FDJ_OK)
        st = engine_rows(d, e, out, stride, h, &done);
    engine_free(d, e);
    return st;
}

/* 12-bit DCT frames: every scan into the coefficient buffers, then the 12-bit output
 * (dec_idct12.c, dec_render16.c).  Truncation and arithmetic-cut rules as the 8-bit path. */
static int decode_whole_hiprec(fdj_decoder *d, uint8_t *out, ptrdiff_t row_stride, int w, int h,
                               int ch)
{
    int st;
    st = decode_all_scans(d);
    if (d->opt.allow_truncated &&
        (st == FDJ_ERR_TRUNCATED ||
         (st == FDJ_ERR_CORRUPT && (d->pos > d->real_size || d->truncated)))) {
        /* cut inside a marker segment between scans: libjpeg suspends (or fails on the
         * appended EOI read as segment data) before any output, and Pillow returns its
         * zero-filled image */
        int r;
        for (r = 0; r < h; r++)
            memset(out + (ptrdiff_t)r * row_stride, 0, (size_t)w * (size_t)ch);
        d->truncated = 1;
        d->msg[0] = 0;
        d->status = 0;
        return FDJ_OK;
    }
    if (st != FDJ_OK)
        return st;
    if (d->info.progressive && (st = fdj_smooth_coefficients(d)) != FDJ_OK)
        return st;
    {
        out_geom g;
        if ((st = compute_geometry(d, &g)) != FDJ_OK)
            return st;
        st = fdj_output12_from_full(d, &g.spec, out, row_stride);
    }
    if (st == FDJ_OK && d->info.arithmetic && d->opt.allow_truncated && d->opt.scale_denom == 1) {
        /* Pillow's view of arithmetic data that ends early: only the rows output before
         * libjpeg failed (fdj_arith_rows_kept), the rest of its buffer stays zero */
        int r, keep = fdj_arith_rows_kept(d, h);
        for (r = keep < 0 ? h : keep; r < h; r++)
            memset(out + (ptrdiff_t)r * row_stride, 0, (size_t)w * (size_t)ch);
    }
    return st;
}

int fdj_decoder_decode(fdj_decoder *d, uint8_t *out, ptrdiff_t row_stride)
{
    int st, h, w, ch;
    if ((st = check_usable(d)) != FDJ_OK)
        return st;
    st = fdj_decoder_output_shape(d, &h, &w, &ch);
    if (st != FDJ_OK)
        return st;
    ch *= fdj_sample_bytes(d->info.precision); /* bytes per pixel: uint16 samples above 8 bits */
    if (!out || row_stride < (ptrdiff_t)w * ch)
        return fdj_fail_dec(d, FDJ_ERR_ARGUMENT, "output buffer row stride too small");
    d->decoded = 1;
    if (d->info.lossless)
        return fdj_decode_lossless(d, out, row_stride);
    if (d->info.precision != 8)
        return decode_whole_hiprec(d, out, row_stride, w, h, ch);
    return run_engine(d, 0, 0, w, h, 1, out, row_stride);
}

int fdj_decoder_decode_region(fdj_decoder *d, int x, int y, int width, int height, uint8_t *out,
                              ptrdiff_t row_stride)
{
    int st, h, w, ch;
    if ((st = check_usable(d)) != FDJ_OK)
        return st;
    st = fdj_decoder_output_shape(d, &h, &w, &ch);
    if (st != FDJ_OK)
        return st;
    if (x < 0 || y < 0 || width < 1 || height < 1 || x > w - width || y > h - height)
        return fdj_fail_dec(d, FDJ_ERR_ARGUMENT,
                            "region (x=%d, y=%d, width=%d, height=%d) is empty or outside the "
                            "%dx%d output", x, y, width, height, w, h);
    if (!out || row_stride < (ptrdiff_t)width * ch)
        return fdj_fail_dec(d, FDJ_ERR_ARGUMENT, "output buffer row stride too small");
    if (d->info.lossless || d->info.precision != 8)
        return fdj_fail_dec(d, FDJ_ERR_UNSUPPORTED,
                            "region decoding needs an 8-bit DCT-based frame (decode it whole "
                            "and crop)");
    d->decoded = 1;
    return run_engine(d, x, y, width, height, x == 0 && y == 0 && width == w && height == h, out,
                      row_stride);
}

int fdj_decoder_read_coefficients(fdj_decoder *d, int16_t *const coef[])
{
    int st, c;
    if (!d->have_sos)
        return d->status ? d->status : fdj_fail_dec(d, FDJ_ERR_ARGUMENT, "decoder is not open");
    if (d->decoded)
        return fdj_fail_dec(d, FDJ_ERR_ARGUMENT, "decoder already used: open it again");
    if (d->info.lossless)
        return fdj_fail_dec(d, FDJ_ERR_UNSUPPORTED, "lossless JPEG has no DCT coefficients");
    d->decoded = 1;
    st = decode_all_scans(d);
    if (st != FDJ_OK)
        return st;
    for (c = 0; c < d->ncomp; c++) {
        fdj_dcomp *k = &d->comp[c];
        int by;
        for (by = 0; by < k->height_in_blocks; by++)
            memcpy(coef[c] + (size_t)by * k->width_in_blocks * 64, k->coef + (size_t)by * k->bw * 64,
                   (size_t)k->width_in_blocks * 64 * sizeof(int16_t));
    }
    return FDJ_OK;
}

int fdj_decoder_read_rows(fdj_decoder *d, uint8_t *out, ptrdiff_t row_stride, int max_rows,
                          int *rows_read)
{
    int st, h, w, ch, done = 0;
    if (rows_read)
        *rows_read = 0;
    if (!rows_read || max_rows < 0)
        return fdj_fail_dec(d, FDJ_ERR_ARGUMENT, "read_rows needs rows_read and max_rows >= 0");
    if (d->rows_read_failed)
        return d->rows_read_failed;
    if (!d->engine) {
        if (d->rows_read_done)
            return FDJ_OK; /* every row was delivered */
        if ((st = check_usable(d)) != FDJ_OK)
            return st;
        if ((st = fdj_decoder_output_shape(d, &h, &w, &ch)) != FDJ_OK)
            return st;
        if (d->info.lossless || d->info.precision != 8)
            return fdj_fail_dec(d, FDJ_ERR_UNSUPPORTED,
                                "read_rows needs an 8-bit DCT-based frame (use fdj_decoder_decode)");
        d->decoded = 1;
        d->engine = (fdj_engine *)calloc(1, sizeof *d->engine);
        if (!d->engine)
            return fdj_fail_dec(d, FDJ_ERR_NOMEM, "out of memory for the decoder state");
        st = engine_start(d, d->engine, 0, 0, w, h, 1);
        if (st != FDJ_OK) {
            engine_free(d, d->engine);
            d->engine = NULL;
            d->rows_read_failed = st;
            return st;
        }
    }
    if (max_rows == 0)
        return FDJ_OK;
    if (!out || row_stride < (ptrdiff_t)(d->engine->rx1 * d->engine->channels))
        return fdj_fail_dec(d, FDJ_ERR_ARGUMENT, "output buffer row stride too small");
    st = engine_rows(d, d->engine, out, row_stride, max_rows, &done);
    *rows_read = done;
    if (st != FDJ_OK || d->engine->finished) {
        engine_free(d, d->engine);
        d->engine = NULL;
        if (st != FDJ_OK)
            d->rows_read_failed = st;
        else
            d->rows_read_done = 1;
    }
    return st;
}
