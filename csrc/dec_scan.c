/*
 * dec_scan.c -- the scan loop (T.81 E.2, libjpeg's jdcoefct.c consume_data): start
 * and end a scan (progression bookkeeping, truncation), decode one MCU (restart
 * intervals, then dec_huff.c / dec_arith.c), and decode every remaining scan into the
 * whole-image coefficient buffers (multi-scan files, coefficient reads, 12-bit frames).
 */
#include "dec_internal.h"

int fdj_begin_scan(fdj_decoder *d)
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

int fdj_end_scan(fdj_decoder *d)
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

/* Region decode of a scan with restart markers: jump over the whole restart
 * intervals that lie before MCU group g0 (mcols MCUs per group) to the marker
 * that starts the next one.  Returns the number of MCUs jumped (0: nothing to
 * jump, or the marker was not found and decoding goes on from here). */
int64_t fdj_jump_to_restart(fdj_decoder *d, int g0, int mcols)
{
    long k;
    size_t pos;
    int64_t m;
    if (d->restart_interval <= 0 || g0 <= 0)
        return 0;
    k = (long)(((int64_t)g0 * mcols) / d->restart_interval);
    pos = k > 0 ? fdj_find_restart(d, d->br.pos, k) : 0;
    if (!pos)
        return 0;
    m = (int64_t)k * d->restart_interval;
    fdj_bits_init(&d->br, d->data, d->size, pos);
    fdj_reset_entropy(d);
    d->next_restart = (int)(k & 7);
    d->insufficient = 0;
    return m;
}

/* Before each MCU: the restart marker an interval ends with, and the last MCU
 * row decoded from real data (for the truncation rules). */
static int mcu_prologue(fdj_decoder *d, int *togo)
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
    return FDJ_OK;
}

int fdj_decode_mcu(fdj_decoder *d, int16_t *const blocks[], int n, const int bc[], int *togo)
{
    int st = mcu_prologue(d, togo);
    if (st != FDJ_OK)
        return st;
    if (d->info.arithmetic)
        return fdj_decode_mcu_arith(d, blocks, n, bc);
    if (d->info.progressive)
        return fdj_decode_mcu_progressive(d, blocks, n, bc);
    return fdj_decode_mcu_sequential(d, blocks, n, bc);
}

int fdj_decode_mcu_rq(fdj_decoder *d, int16_t *const blocks[], int n, const int bc[], int *togo)
{
    int st = mcu_prologue(d, togo);
    if (st != FDJ_OK)
        return st;
    return d->huff_mcu_seq_rq(d, blocks, n, bc);
}

int fdj_decode_mcu_dc(fdj_decoder *d, int16_t *const blocks[], int n, const int bc[], int *togo)
{
    int st = mcu_prologue(d, togo);
    if (st != FDJ_OK)
        return st;
    return d->huff_mcu_seq_dc(d, blocks, n, bc);
}

int fdj_skip_mcu(fdj_decoder *d, int n, const int bc[], int *togo)
{
    int st = mcu_prologue(d, togo);
    if (st != FDJ_OK)
        return st;
    return fdj_skip_mcu_sequential(d, n, bc);
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
                st = fdj_decode_mcu(d, blocks, 1, bc, &togo);
                if (st != FDJ_OK)
                    return st;
            }
            if (d->br.hit_end && !d->opt.allow_truncated)
                return fdj_end_scan(d);
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
                st = fdj_decode_mcu(d, blocks, n, bc, &togo);
                if (st != FDJ_OK)
                    return st;
            }
            if (d->br.hit_end && !d->opt.allow_truncated)
                return fdj_end_scan(d);
        }
    }
    return fdj_end_scan(d);
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

int fdj_decode_scan_groups(fdj_decoder *d, int g0, int g1)
{
    int togo, st, mx, g, mcols, first_mcu = 0;
    int16_t *blocks[40];
    int bc[40];
    if (!d->coefs_allocated && (st = alloc_coef(d)) != FDJ_OK)
        return st;
    st = fdj_begin_scan(d);
    if (st != FDJ_OK)
        return st;
    togo = d->restart_interval;
    mcols = d->ncomp == 1 ? d->comp[0].width_in_blocks : d->mcus_x;
    g = 0;
    {
        /* whole restart intervals before the first group needed: jump to their marker */
        int64_t m = fdj_jump_to_restart(d, g0, mcols);
        if (m > 0) {
            g = (int)(m / mcols);
            first_mcu = (int)(m % mcols);
        }
    }
    for (; g < g1; g++) {
        int skip = g < g0;
        d->cur_imcu_row = d->ncomp == 1 ? g / d->comp[0].v : g; /* as decode_scan_full */
        if (d->ncomp == 1) {
            fdj_dcomp *k = &d->comp[0];
            bc[0] = 0;
            for (mx = first_mcu; mx < k->width_in_blocks; mx++) {
                if (skip) {
                    st = fdj_skip_mcu(d, 1, bc, &togo);
                } else {
                    blocks[0] = k->coef + ((size_t)g * k->bw + mx) * 64;
                    st = fdj_decode_mcu(d, blocks, 1, bc, &togo);
                }
                if (st != FDJ_OK)
                    return st;
            }
        } else {
            for (mx = first_mcu; mx < d->mcus_x; mx++) {
                int n = 0, i, x, y;
                for (i = 0; i < d->scan_ncomp; i++) {
                    fdj_dcomp *k = &d->comp[d->scan_comp[i]];
                    for (y = 0; y < k->v; y++)
                        for (x = 0; x < k->h; x++) {
                            size_t row = (size_t)g * k->v + y, col = (size_t)mx * k->h + x;
                            blocks[n] = k->coef + (row * k->bw + col) * 64;
                            bc[n++] = i;
                        }
                }
                st = skip ? fdj_skip_mcu(d, n, bc, &togo) : fdj_decode_mcu(d, blocks, n, bc, &togo);
                if (st != FDJ_OK)
                    return st;
            }
        }
        first_mcu = 0;
        if (d->br.hit_end && !d->opt.allow_truncated)
            return fdj_end_scan(d);
    }
    return FDJ_OK;
}

/* Decode every remaining scan into whole-image buffers (up to EOI). */
int fdj_decode_all_scans(fdj_decoder *d)
{
    int st;
    /* jdinput.c: a sequential file whose first scan holds every component is decoded in
     * one pass, and a second SOS is JERR_EOI_EXPECTED (the streaming engine's rule too,
     * dec_rows.c engine_finish).  Found by fuzz_region on a 12-bit file: a region, which
     * stops after the first scan, differed from the full decode that took the second. */
    int single = !d->info.progressive && d->info.num_scans == 1 && d->scan_ncomp == d->ncomp;
    if (!d->coefs_allocated && (st = alloc_coef(d)) != FDJ_OK)
        return st;
    for (;;) {
        st = fdj_begin_scan(d);
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
        if (single)
            return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "unexpected second scan in a single-scan "
                                                    "sequential file (EOI expected)");
    }
}
