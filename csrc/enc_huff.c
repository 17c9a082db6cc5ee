/*
 * enc_huff.c -- sequential Huffman coding of the quantized blocks (T.81
 * F.1.2.1-F.1.2.2: DC difference, run/size coded AC) and the scan engine all
 * scans share: restart intervals (F.1.2.3-4), the counting pass for optimal
 * tables, the scan's DHT/DRI/SOS headers, the MCU walk (A.2).  Progressive
 * block coding is enc_phuff.c's; the tables are enc_huff_table.c's.
 */
#include "enc_entropy.h"

/* pad with 1-bits to a byte boundary (T.81 F.1.2.3) and write everything out */
static void flush_bits(bitwriter *w)
{
    if (w->nbits & 7)
        put_bits(w, 0x7F >> ((w->nbits & 7) - 1), 8 - (w->nbits & 7));
    flush_bytes(w);
    w->acc = 0;
    w->nbits = 0;
}

/* Zigzag positions 1..63 of the nonzero coefficients of a zigzag block
 * (scalar reference; SSE2 sibling in enc_huff_simd.c). */
uint64_t fdj_nonzero_ac_scalar(const int16_t *zz)
{
    uint64_t m = 0;
    int k;
    for (k = 1; k < 64; k++)
        m |= (uint64_t)(zz[k] != 0) << k;
    return m;
}

/* Bit k set where |zz[k]| > thr (k = 0..63); -32768 counts as 32767. */
uint64_t fdj_abs_above_scalar(const int16_t *zz, int thr)
{
    uint64_t m = 0;
    int k;
    for (k = 0; k < 64; k++) {
        int32_t v = zz[k];
        m |= (uint64_t)((v < 0 ? -v : v) > thr) << k;
    }
    return m;
}

/* The sequential block coder (enc_huff_block.h), scalar reference; the
 * BMI2 sibling is enc_huff_simd.c's.  Both take the block mask from the
 * coder's kernel (fdj_nonzero_ac_*). */
#define ENC_HUFF_BLOCK_NAME fdj_huff_block_seq_scalar
#define ENC_HUFF_BLOCK_ATTR
#define ENC_HUFF_NONZERO_AC(zz) cd->nonzero_ac(zz)
#include "enc_huff_block.h"

/* The same walk, counting symbols for optimal tables. */
static void count_block_seq(coder *cd, const int16_t *zz, int ci)
{
    const fdj_enc_comp *cp = &cd->f->comp[ci];
    uint32_t *dcf = cd->dc_freq[cp->dc_tbl], *acf = cd->ac_freq[cp->ac_tbl];
    int32_t diff = zz[0] - cd->last_dc[ci];
    int n = nbits_of((uint32_t)(diff < 0 ? -diff : diff)), last = 0;
    uint64_t nz = cd->nonzero_ac(zz);
    cd->last_dc[ci] = zz[0];
    if (FDJ_UNLIKELY(n > FDJ_ENC_DC_MAX(cd->f))) {
        range_error(cd, ci);
        return;
    }
    dcf[n]++;
    while (nz) {
        int k = lowest_bit(nz), r = k - last - 1;
        int32_t v = zz[k];
        nz &= nz - 1;
        last = k;
        while (r > 15) {
            acf[0xF0]++;
            r -= 16;
        }
        n = nbits_of((uint32_t)(v < 0 ? -v : v));
        if (FDJ_UNLIKELY(n > FDJ_ENC_AC_MAX(cd->f))) {
            range_error(cd, ci);
            return;
        }
        acf[(r << 4) + n]++;
    }
    if (last != 63)
        acf[0]++;
}

static void encode_block(coder *cd, const int16_t *zz, int ci, int progressive)
{
    if (progressive)
        fdj_phuff_encode_block(cd, zz, ci);
    else if (cd->gather)
        count_block_seq(cd, zz, ci);
    else
        cd->huff_block_seq(cd, zz, ci);
}

static void emit_restart(coder *cd, int num, int progressive)
{
    int i;
    if (progressive)
        fdj_phuff_emit_eobrun(cd);
    if (!cd->gather) {
        flush_bits(&cd->w);
        cd->w.out->data[cd->w.out->size++] = 0xFF;
        cd->w.out->data[cd->w.out->size++] = (uint8_t)(0xD0 + num);
    }
    for (i = 0; i < FDJ_MAX_COMPONENTS; i++)
        cd->last_dc[i] = 0;
    cd->eobrun = 0;
    cd->be = 0;
}

static int scan_restart_interval(const fdj_encode_params *p, int mcus_per_row)
{
    if (p->restart_rows > 0) {
        uint64_t n = (uint64_t)p->restart_rows * (uint64_t)mcus_per_row;
        return n > 65535 ? 65535 : (int)n;
    }
    return p->restart_interval;
}

/* Run one scan over the coefficient arrays, gathering or writing. */
/* Scan state: restart counting and predictions live in the coder so a scan
 * can be coded in pieces (the streaming baseline encoder feeds MCU rows). */
void fdj_enc_scan_start(coder *cd, int restart_interval)
{
    const scan_desc *s = cd->scan;
    memset(cd->last_dc, 0, sizeof cd->last_dc);
    cd->eobrun = 0;
    cd->be = 0;
    cd->w.acc = 0;
    cd->w.nbits = 0;
    cd->restart_interval = restart_interval;
    cd->restarts_to_go = restart_interval;
    cd->next_rst = 0;
    cd->ac_tbl = s->ncomps == 1 ? cd->f->comp[s->comps[0]].ac_tbl : 0;
}

/* Rows of the scan: MCU rows r0..r1-1 of an interleaved scan, block rows of a
 * single-component scan.  Blocks are addressed relative to each component's
 * stored rows (row0). */
int fdj_enc_scan_rows(coder *cd, int r0, int r1, int progressive)
{
    const fdj_enc_frame *f = cd->f;
    const scan_desc *s = cd->scan;
    int mx, my, i, mcus_x;
    mcus_x = s->ncomps == 1 ? f->comp[s->comps[0]].width_in_blocks : f->mcus_x;
    for (my = r0; my < r1; my++) {
        for (mx = 0; mx < mcus_x; mx++) {
            if (!cd->gather && !fdj_buf_reserve(cd->w.out, MCU_RESERVE))
                return fdj_fail(cd->msg, FDJ_ERR_NOMEM, "out of memory for the output");
            if (cd->restart_interval) {
                if (cd->restarts_to_go == 0) {
                    emit_restart(cd, cd->next_rst, progressive);
                    cd->next_rst = (cd->next_rst + 1) & 7;
                    cd->restarts_to_go = cd->restart_interval;
                }
                cd->restarts_to_go--;
            }
            if (s->ncomps == 1) {
                int ci = s->comps[0];
                const fdj_enc_comp *cp = &f->comp[ci];
                encode_block(cd, cp->coef + ((size_t)(my - cp->row0) * (size_t)cp->bw + (size_t)mx) * 64,
                             ci, progressive);
            } else {
                for (i = 0; i < s->ncomps; i++) {
                    int ci = s->comps[i], yy, xx;
                    const fdj_enc_comp *cp = &f->comp[ci];
                    for (yy = 0; yy < cp->v; yy++) {
                        const int16_t *row =
                            cp->coef + ((size_t)(my * cp->v + yy - cp->row0) * (size_t)cp->bw +
                                        (size_t)mx * (size_t)cp->h) * 64;
                        for (xx = 0; xx < cp->h; xx++)
                            encode_block(cd, row + (size_t)xx * 64, ci, progressive);
                    }
                }
            }
            if (FDJ_UNLIKELY(cd->status != FDJ_OK))
                return cd->status;
        }
    }
    return cd->status;
}

int fdj_enc_scan_finish(coder *cd, int progressive)
{
    if (progressive)
        fdj_phuff_emit_eobrun(cd);
    if (!cd->gather) {
        if (!fdj_buf_reserve(cd->w.out, MCU_RESERVE))
            return fdj_fail(cd->msg, FDJ_ERR_NOMEM, "out of memory for the output");
        flush_bits(&cd->w);
    }
    return cd->status;
}

/* Run one whole scan over the coefficient arrays, gathering or writing. */
static int run_scan(coder *cd, int restart_interval, int progressive)
{
    const scan_desc *s = cd->scan;
    int rows = s->ncomps == 1 ? cd->f->comp[s->comps[0]].height_in_blocks : cd->f->mcus_y;
    int st;
    fdj_enc_scan_start(cd, restart_interval);
    st = fdj_enc_scan_rows(cd, 0, rows, progressive);
    if (st != FDJ_OK)
        return st;
    return fdj_enc_scan_finish(cd, progressive);
}

/* Emit the scan's tables (optimal ones gathered from a counting pass),
 * DRI when it changes, and SOS; returns the scan's restart interval in *ri_out. */
int fdj_enc_scan_header(coder *cd, const fdj_encode_params *p, fdj_buf *out, int optimize,
                       int progressive, int *last_restart, int *ri_out)
{
    const fdj_enc_frame *f = cd->f;
    const scan_desc *s = cd->scan;
    fdj_huff_spec dc_spec[4], ac_spec[4];
    int dc_done[4] = {0, 0, 0, 0}, ac_done[4] = {0, 0, 0, 0};
    int i, st, ri, mcus_per_row;
    int want_dc = s->ss == 0 && s->ah == 0;
    int want_ac = s->se != 0;

    mcus_per_row = s->ncomps == 1 ? f->comp[s->comps[0]].width_in_blocks : f->mcus_x;
    ri = scan_restart_interval(p, mcus_per_row);

    if (optimize && (want_dc || want_ac)) { /* a DC refinement scan uses no table */
        memset(cd->dc_freq, 0, sizeof cd->dc_freq);
        memset(cd->ac_freq, 0, sizeof cd->ac_freq);
        cd->gather = 1;
        st = run_scan(cd, ri, progressive);
        if (st != FDJ_OK)
            return st;
        cd->gather = 0;
    }
    for (i = 0; i < s->ncomps; i++) {
        const fdj_enc_comp *cp = &f->comp[s->comps[i]];
        if (want_dc && !dc_done[cp->dc_tbl]) {
            dc_done[cp->dc_tbl] = 1;
            if (optimize)
                st = fdj_huff_optimal(cd->dc_freq[cp->dc_tbl], &dc_spec[cp->dc_tbl], cd->msg);
            else
                fdj_huff_std_spec(0, cp->dc_tbl != 0, &dc_spec[cp->dc_tbl]), st = FDJ_OK;
            if (st == FDJ_OK)
                st = fdj_huff_derive(&dc_spec[cp->dc_tbl], &cd->dc_code[cp->dc_tbl], cd->msg);
            if (st != FDJ_OK)
                return st;
            fdj_mark_dht(out, 0, cp->dc_tbl, &dc_spec[cp->dc_tbl]);
        }
        if (want_ac && !ac_done[cp->ac_tbl]) {
            ac_done[cp->ac_tbl] = 1;
            if (optimize)
                st = fdj_huff_optimal(cd->ac_freq[cp->ac_tbl], &ac_spec[cp->ac_tbl], cd->msg);
            else
                fdj_huff_std_spec(1, cp->ac_tbl != 0, &ac_spec[cp->ac_tbl]), st = FDJ_OK;
            if (st == FDJ_OK)
                st = fdj_huff_derive(&ac_spec[cp->ac_tbl], &cd->ac_code[cp->ac_tbl], cd->msg);
            if (st != FDJ_OK)
                return st;
            fdj_mark_dht(out, 1, cp->ac_tbl, &ac_spec[cp->ac_tbl]);
        }
    }
    if (ri != *last_restart) {
        fdj_mark_dri(out, ri);
        *last_restart = ri;
    }
    fdj_mark_sos(out, f, s->comps, s->ncomps, s->ss, s->se, s->ah, s->al, progressive);
    cd->w.out = out;
    *ri_out = ri;
    return FDJ_OK;
}

/* Emit the scan's headers, then the entropy data. */
int fdj_enc_write_scan(coder *cd, const fdj_encode_params *p, fdj_buf *out, int optimize,
                      int progressive, int *last_restart)
{
    int ri, st = fdj_enc_scan_header(cd, p, out, optimize, progressive, last_restart, &ri);
    if (st != FDJ_OK)
        return st;
    return run_scan(cd, ri, progressive);
}

void fdj_enc_sequential_scan(const fdj_enc_frame *f, scan_desc *sc)
{
    int i;
    sc->ncomps = f->ncomp;
    for (i = 0; i < f->ncomp; i++)
        sc->comps[i] = i;
    sc->ss = 0;
    sc->se = 63;
    sc->ah = sc->al = 0;
}
