/*
 * dec_lossless.c -- lossless (SOF3) decoding, 2 to 16-bit samples (T.81 Annex H):
 * Huffman-coded differences (H.1.2.2), the seven predictors (Table H.1),
 * point transform, restarts, then the usual upsampling (by replication:
 * libjpeg-turbo has no fancy upsampling at block size 1) and colour
 * conversion.  Arithmetic as libjpeg-turbo 3 (jdlhuff.c/jddiffct.c/
 * jdlossls.c): differences and reconstructed values are kept modulo 2^16,
 * the output sample is (value << Pt) truncated to the sample type: 8 bits for
 * P <= 8 (uint8 output), 16 bits above (uint16 output; libjpeg-turbo's 12-bit
 * samples are signed shorts, whose bits are the same).  Above 8 bits (and
 * below), only null colour conversions, as libjpeg-turbo (dec_render16.c).
 */
#include "dec_hiprec.h"

typedef struct lossless_comp {
    int pw, ph;           /* padded plane size in samples (whole MCUs) */
    uint8_t *plane;       /* output samples pw * ph (uint16_t when P > 8) */
    uint16_t *prev;       /* previous reconstructed row (pw) */
    uint16_t *cur;
    int32_t *diff;        /* one MCU row of differences: v rows of pw */
    int first_row;        /* next row uses the 1-D predictor (scan start / restart) */
    int scanned;          /* some scan included the component */
} lossless_comp;

/* Reconstruct one row (H.1.2.1): pred from Ra (left), Rb (above), Rc (above left). */
static void undifference(const int32_t *diff, const uint16_t *prev, uint16_t *cur, int width,
                         int psv, int first_row, int initial)
{
    int x, ra, rb, rc, pred;
    if (width <= 0)
        return;
    if (first_row) {
        ra = (diff[0] + initial) & 0xFFFF;
        cur[0] = (uint16_t)ra;
        for (x = 1; x < width; x++) {
            ra = (diff[x] + ra) & 0xFFFF;
            cur[x] = (uint16_t)ra;
        }
        return;
    }
    rb = prev[0];
    ra = (diff[0] + rb) & 0xFFFF;
    cur[0] = (uint16_t)ra;
    /* one loop per predictor (Table H.1): the switch stays out of the sample loop */
#define UNDIFF_LOOP(PRED)                                                                       \
    for (x = 1; x < width; x++) {                                                               \
        rc = rb;                                                                                \
        rb = prev[x];                                                                           \
        pred = (PRED);                                                                          \
        ra = (diff[x] + pred) & 0xFFFF;                                                         \
        cur[x] = (uint16_t)ra;                                                                  \
    }
    switch (psv) {
    case 1: UNDIFF_LOOP(ra) break;
    case 2: UNDIFF_LOOP(rb) break;
    case 3: UNDIFF_LOOP(rc) break;
    case 4: UNDIFF_LOOP(ra + rb - rc) break;
    case 5: UNDIFF_LOOP(ra + ((rb - rc) >> 1)) break;
    case 6: UNDIFF_LOOP(rb + ((ra - rc) >> 1)) break;
    default: UNDIFF_LOOP((ra + rb) >> 1) break;
    }
#undef UNDIFF_LOOP
}

/* Decode the current scan's MCU rows 0..stop_my (all of them for stop_my < 0 or past the
 * end); a scan stopped early leaves the rest of its data unread. */
static int decode_scan(fdj_decoder *d, lossless_comp *lc, int stop_my)
{
    int psv = d->Ss, pt = d->Al, i, mx, my, mcus_x, mcus_y, rows_to_go = 0, restart_rows = 0;
    int initial, st;
    if (psv < 1 || psv > 7 || d->Se != 0 || d->Ah != 0 || pt >= d->info.precision)
        return fdj_fail_dec(d, FDJ_ERR_CORRUPT,
                            "invalid lossless parameters Ss=%d Se=%d Ah=%d Al=%d in scan %d", d->Ss,
                            d->Se, d->Ah, d->Al, d->info.num_scans);
    initial = 1 << (d->info.precision - pt - 1); /* only once Pt < P is known (fuzz finding) */
    if (d->scan_ncomp == 1) {
        fdj_dcomp *k = &d->comp[d->scan_comp[0]];
        mcus_x = k->dw;
        mcus_y = k->dh;
    } else {
        mcus_x = (int)(((int64_t)d->info.width + d->max_h - 1) / d->max_h);
        mcus_y = (int)(((int64_t)d->info.height + d->max_v - 1) / d->max_v);
    }
    if (d->restart_interval) {
        /* libjpeg-turbo restarts lossless scans only at MCU-row boundaries */
        if (d->restart_interval % mcus_x != 0)
            return fdj_fail_dec(d, FDJ_ERR_CORRUPT,
                                "restart interval %d is not a multiple of the %d MCUs in a row",
                                d->restart_interval, mcus_x);
        restart_rows = d->restart_interval / mcus_x;
        rows_to_go = restart_rows;
    }
    if ((st = fdj_prepare_scan_tables(d)) != FDJ_OK)
        return st;
    fdj_bits_init(&d->br, d->data, d->size, d->pos);
    fdj_reset_entropy(d);
    d->next_restart = 0;
    d->insufficient = 0;
    for (i = 0; i < d->scan_ncomp; i++) {
        lc[d->scan_comp[i]].first_row = 1;
        lc[d->scan_comp[i]].scanned = 1;
    }
    if (stop_my >= 0 && stop_my < mcus_y - 1)
        mcus_y = stop_my + 1;
    for (my = 0; my < mcus_y; my++) {
        if (restart_rows) {
            if (rows_to_go == 0) {
                if ((st = fdj_process_restart(d)) != FDJ_OK)
                    return st;
                for (i = 0; i < d->scan_ncomp; i++)
                    lc[d->scan_comp[i]].first_row = 1;
                rows_to_go = restart_rows;
            }
            rows_to_go--;
        }
        if (d->insufficient) {
            /* libjpeg-turbo (jdlhuff.c): once the data has run out, each later MCU row
             * gets zero differences and restarted predictors, i.e. mid-grey */
            for (i = 0; i < d->scan_ncomp; i++) {
                int ci = d->scan_comp[i];
                int v = d->scan_ncomp == 1 ? 1 : d->comp[ci].v;
                memset(lc[ci].diff, 0, (size_t)v * (size_t)lc[ci].pw * sizeof(int32_t));
                lc[ci].first_row = 1;
            }
        } else if (d->scan_ncomp == 1) {
            /* one sample per MCU: the whole row in one call */
            fdj_huff_decode_diff_row(d, &d->dc[d->scan_td[0]], lc[d->scan_comp[0]].diff, mcus_x);
            if (d->br.nbits < 0)
                d->insufficient = 1;
        } else {
            for (mx = 0; mx < mcus_x; mx++) {
                for (i = 0; i < d->scan_ncomp; i++) {
                    int ci = d->scan_comp[i], x, y;
                    fdj_dcomp *k = &d->comp[ci];
                    int h = d->scan_ncomp == 1 ? 1 : k->h, v = d->scan_ncomp == 1 ? 1 : k->v;
                    const fdj_huff *t = &d->dc[d->scan_td[i]];
                    for (y = 0; y < v; y++)
                        for (x = 0; x < h; x++)
                            lc[ci].diff[(size_t)y * lc[ci].pw + (size_t)mx * h + x] =
                                fdj_huff_decode_diff(d, t);
                }
            }
            if (d->br.nbits < 0)
                d->insufficient = 1;
        }
        if (d->br.hit_end && !d->opt.allow_truncated)
            break;
        for (i = 0; i < d->scan_ncomp; i++) {
            int ci = d->scan_comp[i], y, x;
            fdj_dcomp *k = &d->comp[ci];
            lossless_comp *c = &lc[ci];
            int v = d->scan_ncomp == 1 ? 1 : k->v;
            for (y = 0; y < v; y++) {
                int row = my * v + y;
                uint16_t *swap;
                uint8_t *dst;
                if (row >= c->ph)
                    break;
                undifference(c->diff + (size_t)y * c->pw, c->prev, c->cur, k->dw, psv,
                             c->first_row, initial);
                c->first_row = 0;
                if (d->info.precision > 8) {
                    uint16_t *dst16 = (uint16_t *)c->plane + (size_t)row * c->pw;
                    for (x = 0; x < k->dw; x++)
                        dst16[x] = (uint16_t)((unsigned)c->cur[x] << pt);
                } else {
                    dst = c->plane + (size_t)row * c->pw;
                    for (x = 0; x < k->dw; x++)
                        dst[x] = (uint8_t)((unsigned)c->cur[x] << pt);
                }
                swap = c->prev;
                c->prev = c->cur;
                c->cur = swap;
            }
        }
    }
    if (d->br.hit_end) {
        d->truncated = 1;
        if (!d->opt.allow_truncated)
            return fdj_fail_dec(d, FDJ_ERR_TRUNCATED, "JPEG data is truncated: it ends inside scan %d",
                                d->info.num_scans);
    }
    d->pos = d->br.pos;
    return FDJ_OK;
}

/* Render the window [x0, x1) x [y0, y1) of complete planes into out.  Lossless frames
 * upsample by replication (block size 1) and convert colour sample by sample, so the
 * window's pixels are those of a render of the sub-image that starts at the MCU corner
 * (x0 and y0 rounded down to multiples of max_h and max_v, where every component's sample
 * grid starts) with the planes offset to it: render that, then crop. */
static int render_window(fdj_decoder *d, const fdj_render_spec *full, lossless_comp *lc,
                         int x0, int y0, int x1, int y1, uint8_t *out, ptrdiff_t row_stride)
{
    fdj_render_spec spec = *full;
    const uint8_t *planes[FDJ_MAX_COMPONENTS];
    ptrdiff_t strides[FDJ_MAX_COMPONENTS];
    int sb = fdj_sample_bytes(d->info.precision), c, st, r, x;
    int ax = x0 - x0 % d->max_h, ay = y0 - y0 % d->max_v;
    int ch = fdj_render_channels(full);
    uint8_t *buf = NULL, *dst = out;
    ptrdiff_t dst_stride = row_stride;
    spec.width = x1 - ax;
    spec.height = y1 - ay;
    for (c = 0; c < d->ncomp; c++) {
        int hx = full->hx[c], vx = full->vx[c];
        int cx = ax / hx, cy = ay / vx;
        int cw = (spec.width + hx - 1) / hx, chh = (spec.height + vx - 1) / vx;
        if (cw > full->comp_width[c] - cx)
            cw = full->comp_width[c] - cx;
        if (chh > full->comp_height[c] - cy)
            chh = full->comp_height[c] - cy;
        spec.comp_width[c] = cw;
        spec.comp_height[c] = chh;
        strides[c] = lc[c].pw;
        planes[c] = lc[c].plane + ((size_t)cy * (size_t)lc[c].pw + (size_t)cx) * (size_t)sb;
    }
    if (ax != x0 || ay != y0) {
        /* the window's rows from the MCU corner, cropped below */
        dst_stride = (ptrdiff_t)spec.width * ch * sb;
        buf = (uint8_t *)fdj_malloc2((size_t)spec.height, (size_t)dst_stride);
        if (!buf)
            return FDJ_ERR_NOMEM;
        dst = buf;
    }
    if (d->info.precision > 8)
        st = fdj_render16_planes(&spec, d->info.precision, (const uint16_t *const *)planes,
                                 strides, dst, dst_stride);
    else if (d->info.precision < 8 && spec.invert_cmyk) {
        /* 4 components below 8 bits: inverted with 2^P - 1 - v, as above 8 bits */
        int maxv = (1 << d->info.precision) - 1;
        spec.invert_cmyk = 0;
        st = fdj_render_planes(&spec, planes, strides, dst, dst_stride);
        for (r = 0; st == FDJ_OK && r < spec.height; r++) {
            uint8_t *o = dst + (ptrdiff_t)r * dst_stride;
            for (x = 0; x < 4 * spec.width; x++)
                o[x] = (uint8_t)(maxv - o[x]);
        }
    } else
        st = fdj_render_planes(&spec, planes, strides, dst, dst_stride);
    if (st == FDJ_OK && buf)
        for (r = y0; r < y1; r++)
            memcpy(out + (ptrdiff_t)(r - y0) * row_stride,
                   buf + (ptrdiff_t)(r - ay) * dst_stride + (ptrdiff_t)(x0 - ax) * ch * sb,
                   (size_t)(x1 - x0) * (size_t)ch * (size_t)sb);
    free(buf);
    return st;
}

int fdj_decode_lossless(fdj_decoder *d, uint8_t *out, ptrdiff_t row_stride)
{
    return fdj_decode_lossless_window(d, 0, 0, d->info.width, d->info.height, out, row_stride);
}

/* A window of the output (x0..x1-1, y0..y1-1): the planes are reconstructed only down to
 * the window's last row when the first scan holds every component (a single-scan file:
 * the predictors need every row above, nothing below), else whole; then only the window
 * is upsampled and colour converted. */
int fdj_decode_lossless_window(fdj_decoder *d, int x0, int y0, int x1, int y1, uint8_t *out,
                               ptrdiff_t row_stride)
{
    lossless_comp lc[FDJ_MAX_COMPONENTS];
    fdj_render_spec spec;
    int c, st, stop_my, first_all, hs[FDJ_MAX_COMPONENTS], vs[FDJ_MAX_COMPONENTS];
    int sb = fdj_sample_bytes(d->info.precision);
    int mcus_x = (int)(((int64_t)d->info.width + d->max_h - 1) / d->max_h);
    int mcus_y = (int)(((int64_t)d->info.height + d->max_v - 1) / d->max_v);
    if (d->opt.scale_denom != 1)
        return fdj_fail_dec(d, FDJ_ERR_UNSUPPORTED, "scaled decoding of lossless JPEG is not supported");
    if (d->opt.purify_count > 0)
        return fdj_fail_dec(d, FDJ_ERR_UNSUPPORTED,
                            "one-pass purification needs DCT coefficients; lossless JPEG has none");
    memset(lc, 0, sizeof lc);
    for (c = 0; c < d->ncomp; c++) {
        fdj_dcomp *k = &d->comp[c];
        size_t n, dn;
        lc[c].pw = d->ncomp == 1 ? k->dw : mcus_x * k->h;
        lc[c].ph = d->ncomp == 1 ? k->dh : mcus_y * k->v;
        if (!fdj_mul3_size((size_t)lc[c].pw, (size_t)lc[c].ph, (size_t)sb, &n) ||
            !fdj_mul3_size((size_t)lc[c].pw, (size_t)k->v, sizeof(int32_t), &dn)) {
            st = fdj_fail_dec(d, FDJ_ERR_TOO_LARGE, "lossless sample plane size overflows");
            goto done;
        }
        lc[c].plane = (uint8_t *)calloc(n ? n : 1, 1);
        lc[c].prev = (uint16_t *)fdj_malloc2((size_t)lc[c].pw, sizeof(uint16_t));
        lc[c].cur = (uint16_t *)fdj_malloc2((size_t)lc[c].pw, sizeof(uint16_t));
        lc[c].diff = (int32_t *)malloc(dn ? dn : 1);
        if (!lc[c].plane || !lc[c].prev || !lc[c].cur || !lc[c].diff) {
            st = fdj_fail_dec(d, FDJ_ERR_NOMEM, "out of memory for lossless sample planes");
            goto done;
        }
        hs[c] = k->h;
        vs[c] = k->v;
    }
    {
        /* the last MCU row the window reads (replication: component row (y1-1)/vx) */
        int whole = x0 == 0 && y0 == 0 && x1 == d->info.width && y1 == d->info.height;
        stop_my = -1;
        if (!whole && d->scan_ncomp == d->ncomp) {
            stop_my = 0;
            for (c = 0; c < d->ncomp; c++) {
                int vx = d->max_v / d->comp[c].v;
                int row = (y1 - 1) / vx, my = d->ncomp == 1 ? row : row / d->comp[c].v;
                if (my > stop_my)
                    stop_my = my;
            }
        }
    }
    first_all = d->scan_ncomp == d->ncomp;
    for (;;) {
        st = decode_scan(d, lc, stop_my);
        if (st == FDJ_OK && stop_my >= 0)
            break; /* a single-scan file: nothing after the window's rows is read */
        if (st == FDJ_OK)
            st = fdj_read_headers(d);
        /* a single-scan file is complete after its scan: running out of data in what
         * follows is only a suspension for libjpeg (as decode_streaming) */
        if (st == FDJ_ERR_TRUNCATED && !d->opt.allow_truncated && d->info.num_scans == 1 &&
            d->scan_ncomp == d->ncomp && !d->br.hit_end)
            st = 0;
        if (st > 0 && d->info.num_scans == 2 && first_all) {
            /* jdinput.c: a first scan holding every component makes libjpeg-turbo decode
             * in one pass, and a second SOS is JERR_EOI_EXPECTED (imagecodecs: "Didn't
             * expect more than one scan"; Pillow: "broken data stream"), as the DCT path
             * (dec_rows.c engine_finish).  Found by fuzz_region: regions, which stop after
             * the first scan, differed from a full decode that took the second. */
            st = fdj_fail_dec(d, FDJ_ERR_CORRUPT,
                              "unexpected second scan in a single-scan lossless file (EOI "
                              "expected)");
        }
        if (st == 0 && d->opt.allow_truncated && d->truncated) {
            /* measured: when the data ends before every component had its scan, Pillow
             * shows nothing at all */
            int i, all = 1;
            for (i = 0; i < d->ncomp; i++)
                all &= lc[i].scanned;
            if (!all)
                st = FDJ_ERR_TRUNCATED;
        }
        if (st < 0 && first_all && d->opt.allow_truncated &&
            (st == FDJ_ERR_TRUNCATED || (st == FDJ_ERR_CORRUPT && d->truncated))) {
            /* a single-scan file cut in the markers after its scan: libjpeg-turbo has
             * output every row in its one pass before it reads them, and Pillow keeps
             * those rows (measured; fuzz_region finding: the zero image below was given
             * here too, while a region, which reads nothing after its rows, gave them) */
            d->truncated = 1;
            d->status = 0;
            d->msg[0] = 0;
            st = 0;
        }
        if (st < 0 && d->opt.allow_truncated &&
            (st == FDJ_ERR_TRUNCATED || (st == FDJ_ERR_CORRUPT && d->truncated))) {
            /* cut inside a marker segment between scans (or one completed only by the
             * appended EOI), or inside any scan of a multi-scan lossless file: libjpeg
             * stops before any output and Pillow's image stays zero */
            int r, w = x1 - x0, ch;
            ch = d->opt.out_format == FDJ_OUT_RGB ? 3 : d->opt.out_format == FDJ_OUT_GRAY ? 1
                 : d->ncomp == 1 ? 1 : d->ncomp == 4 ? 4 : 3;
            for (r = 0; r < y1 - y0; r++)
                memset(out + (ptrdiff_t)r * row_stride, 0, (size_t)w * (size_t)ch * (size_t)sb);
            d->truncated = 1;
            d->status = 0;
            d->msg[0] = 0;
            st = FDJ_OK;
            goto done;
        }
        if (st < 0)
            goto done;
        if (st == 0)
            break;
    }
    st = fdj_render_spec_init_level(&spec, d->info.width, d->info.height, d->ncomp, hs, vs,
                                    d->info.jpeg_color, d->opt.out_format,
                                    fdj_simd_level_cpu(d->opt.cpu));
    if (st != FDJ_OK) {
        st = fdj_fail_dec(d, st, "fractional sampling ratios are not supported");
        goto done;
    }
    if (d->info.jpeg_color == FDJ_CS_UNKNOWN) {
        st = fdj_fail_dec(d, FDJ_ERR_UNSUPPORTED, "unknown colour space");
        goto done;
    }
    spec.invert_cmyk = d->opt.invert_adobe_cmyk &&
                       (d->info.jpeg_color == FDJ_CS_CMYK || d->info.jpeg_color == FDJ_CS_YCCK);
    for (c = 0; c < d->ncomp; c++)
        spec.fancy[c] = 0; /* block size 1: libjpeg-turbo upsamples by replication */
    if (d->info.precision != 8) {
        /* 8-bit lossless keeps its long-standing (Pillow-compared) conversions */
        const char *why;
        if (fdj_render16_check(&spec, 1, &why) != FDJ_OK) {
            st = fdj_fail_dec(d, FDJ_ERR_UNSUPPORTED, "%s", why);
            goto done;
        }
    }
    st = render_window(d, &spec, lc, x0, y0, x1, y1, out, row_stride);
    if (st != FDJ_OK)
        st = fdj_fail_dec(d, st, st == FDJ_ERR_NOMEM ? "out of memory while rendering"
                                                     : "unsupported output for this frame");
done:
    for (c = 0; c < FDJ_MAX_COMPONENTS; c++) {
        free(lc[c].plane);
        free(lc[c].prev);
        free(lc[c].cur);
        free(lc[c].diff);
    }
    return st < 0 ? st : FDJ_OK;
}
