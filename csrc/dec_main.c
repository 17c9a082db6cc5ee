/*
 * dec_main.c -- the decoder's entry points and driver (libjpeg's jdapimin.c,
 * jdapistd.c): options, open (header parse up to the first scan, T.81 B.2), the
 * purify (one-pass FD) setting, the output shape, and the decode calls, which
 * dispatch: 8-bit DCT frames to the row engine (dec_rows.c) for the whole image
 * (fdj_decoder_decode), a region (fdj_decoder_decode_region) or strips on demand
 * (fdj_decoder_read_rows); 12-bit DCT frames to the whole-image path (every scan
 * via dec_scan.c, then dec_idct12.c, dec_render16.c); lossless frames to
 * dec_lossless.c; coefficient reads (fdj_decoder_read_coefficients) to dec_scan.c.
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

static void release_buffers(fdj_decoder *d)
{
    int c;
    fdj_engine_free(d, d->engine);
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
    memcpy(d->opt.rq_tables, opt->rq_tables, sizeof d->opt.rq_tables);
    return FDJ_OK;
}

int fdj_decoder_output_shape(const fdj_decoder *dc, int *height, int *width, int *channels)
{
    fdj_decoder *d = (fdj_decoder *)dc;
    fdj_out_geom g;
    int st;
    if (!d->have_sof)
        return fdj_fail_dec(d, FDJ_ERR_ARGUMENT, "no frame header parsed");
    st = fdj_output_geometry(d, &g);
    if (st != FDJ_OK)
        return st;
    *height = g.height;
    *width = g.width;
    *channels = fdj_render_channels(&g.spec);
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

/* 12-bit DCT frames, the output window x0..x1-1, y0..y1-1 (the whole output for
 * fdj_decoder_decode): the coefficients (every scan; for a region of a single-scan
 * sequential Huffman file only up to the region's last MCU row, the rows before it in
 * skip mode), then the 12-bit output of the window's blocks only (dec_idct12.c,
 * dec_render16.c).  Truncation and arithmetic-cut rules as the 8-bit path. */
static int decode_hiprec(fdj_decoder *d, int x0, int y0, int x1, int y1, uint8_t *out,
                         ptrdiff_t row_stride, int ch)
{
    int st, streamed = 0, w = x1 - x0, h = y1 - y0;
    fdj_out_geom g;
    if ((st = fdj_output_geometry(d, &g)) != FDJ_OK)
        return st;
    if (!d->info.progressive && !d->info.arithmetic && d->scan_ncomp == d->ncomp) {
        /* a single-scan sequential Huffman file (libjpeg's one-pass mode): entropy-decode
         * up to the window's last group (MCU row), skipping the groups before it
         * (dec_scan.c); the whole image then checks the scan's end and what follows as
         * the 8-bit engine does (dec_rows.c engine_finish) */
        int c, g0 = INT32_MAX, g1 = 0;
        int whole = x0 == 0 && y0 == 0 && x1 == g.width && y1 == g.height;
        for (c = 0; c < d->ncomp; c++) {
            int bx0, bx1, by0, by1, v = d->ncomp == 1 ? 1 : d->comp[c].v;
            fdj_decode12_needed(d, &g.spec, c, x0, y0, x1, y1, &bx0, &bx1, &by0, &by1);
            if (by0 / v < g0)
                g0 = by0 / v;
            if ((by1 - 1) / v + 1 > g1)
                g1 = (by1 - 1) / v + 1;
        }
        if (whole) {
            g0 = 0;
            g1 = d->ncomp == 1 ? d->comp[0].height_in_blocks : d->mcus_y;
        }
        st = fdj_decode_scan_groups(d, g0, g1);
        if (st == FDJ_OK && whole) {
            st = fdj_end_scan(d);
            if (st == FDJ_OK) {
                st = fdj_read_headers(d);
                /* every row is decoded: running out of data after the scan is only a
                 * suspension for libjpeg (and Pillow); a second scan is an error */
                if (st == FDJ_ERR_TRUNCATED && !d->br.hit_end)
                    st = 0;
                if (st > 0)
                    st = fdj_fail_dec(d, FDJ_ERR_CORRUPT, "unexpected second scan in a "
                                                          "single-scan sequential file (EOI "
                                                          "expected)");
            }
        }
        streamed = 1;
    } else {
        st = fdj_decode_all_scans(d);
    }
    if (!streamed && d->opt.allow_truncated &&
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
    st = fdj_output12_window(d, &g.spec, x0, y0, x1, y1, out, row_stride);
    if (st == FDJ_OK && d->info.arithmetic && d->opt.allow_truncated && d->opt.scale_denom == 1) {
        /* Pillow's view of arithmetic data that ends early: only the rows output before
         * libjpeg failed (fdj_arith_rows_kept), the rest of its buffer stays zero */
        int r, keep = fdj_arith_rows_kept(d, g.height);
        for (r = keep < 0 ? y1 : keep > y0 ? keep : y0; r < y1; r++)
            memset(out + (ptrdiff_t)(r - y0) * row_stride, 0, (size_t)w * (size_t)ch);
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
        return decode_hiprec(d, 0, 0, w, h, out, row_stride, ch);
    return fdj_run_engine(d, 0, 0, w, h, 1, out, row_stride);
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
    ch *= fdj_sample_bytes(d->info.precision); /* bytes per pixel: uint16 samples above 8 bits */
    if (!out || row_stride < (ptrdiff_t)width * ch)
        return fdj_fail_dec(d, FDJ_ERR_ARGUMENT, "output buffer row stride too small");
    d->decoded = 1;
    if (d->info.lossless)
        return fdj_decode_lossless_window(d, x, y, x + width, y + height, out, row_stride);
    if (d->info.precision != 8)
        return decode_hiprec(d, x, y, x + width, y + height, out, row_stride, ch);
    return fdj_run_engine(d, x, y, width, height,
                          x == 0 && y == 0 && width == w && height == h, out, row_stride);
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
    st = fdj_decode_all_scans(d);
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
        d->engine = fdj_engine_new();
        if (!d->engine)
            return fdj_fail_dec(d, FDJ_ERR_NOMEM, "out of memory for the decoder state");
        st = fdj_engine_start(d, d->engine, 0, 0, w, h, 1);
        if (st != FDJ_OK) {
            fdj_engine_free(d, d->engine);
            d->engine = NULL;
            d->rows_read_failed = st;
            return st;
        }
    }
    if (max_rows == 0)
        return FDJ_OK;
    if (!out || row_stride < fdj_engine_row_bytes(d->engine))
        return fdj_fail_dec(d, FDJ_ERR_ARGUMENT, "output buffer row stride too small");
    st = fdj_engine_rows(d, d->engine, out, row_stride, max_rows, &done);
    *rows_read = done;
    if (st != FDJ_OK || fdj_engine_finished(d->engine)) {
        fdj_engine_free(d, d->engine);
        d->engine = NULL;
        if (st != FDJ_OK)
            d->rows_read_failed = st;
        else
            d->rows_read_done = 1;
    }
    return st;
}
