/*
 * dec_smooth.c -- interblock smoothing of incomplete progressive images
 * (T.81 K.8, as libjpeg-turbo 2.1+ does it in jdcoefct.c).
 *
 * When a progressive file's coefficients are not all known to full precision
 * (scans missing, or successive approximation not finished), libjpeg-turbo
 * estimates the low-frequency AC coefficients that are still zero from the
 * DC values of the 5x5 neighbourhood of blocks, and, when no AC data at all
 * arrived, re-estimates the DC too.  Pillow gets that behaviour by default
 * (do_block_smoothing), so we reproduce it: same estimates, same integer
 * arithmetic (truncating division of 64-bit sums), same clamping to the bits
 * still unknown, same edge handling (neighbour rows and columns clamped to
 * the image, with libjpeg's own row-counting rule at the bottom).
 *
 * The coefficient buffers are smoothed in place, after all scans are read;
 * neighbour DC values are taken from a copy made first, so the order of
 * processing does not matter.
 */
#include "dec_internal.h"

/* natural-order positions of zigzag coefficients 1..9 */
static const int zz_nat[10] = {0, 1, 8, 16, 9, 2, 3, 10, 17, 24};

/* The K.8 estimate of one coefficient from num = Q00 * (weighted DC sum):
 * round(num / (Q * 256)) toward zero, limited to the bits not yet received. */
static int16_t estimate(int64_t num, int64_t q, int al)
{
    int64_t pred;
    if (num >= 0) {
        pred = ((q << 7) + num) / (q << 8);
        if (al > 0 && pred >= ((int64_t)1 << al))
            pred = ((int64_t)1 << al) - 1;
    } else {
        pred = ((q << 7) - num) / (q << 8);
        if (al > 0 && pred >= ((int64_t)1 << al))
            pred = ((int64_t)1 << al) - 1;
        pred = -pred;
    }
    return (int16_t)pred;
}

/* libjpeg-turbo's smoothing_ok(): applicable (all components have a table
 * with nonzero DC and first nine AC steps, and some DC data) and useful (some
 * of the first nine AC coefficients not known exactly). */
static int smoothing_wanted(const fdj_decoder *d)
{
    int c, k, useful = 0;
    if (!d->info.progressive)
        return 0;
    for (c = 0; c < d->ncomp; c++) {
        const fdj_dcomp *comp = &d->comp[c];
        if (!comp->qlatched || comp->q[0] == 0)
            return 0;
        for (k = 1; k <= 9; k++)
            if (comp->q[zz_nat[k]] == 0)
                return 0;
        if (comp->coef_bits[0] < 0)
            return 0;
        for (k = 1; k <= 9; k++)
            if (comp->coef_bits[k] != 0)
                useful = 1;
    }
    return useful;
}

static void smooth_block(int16_t *blk, const uint16_t *qt, const int *bits, int change_dc,
                         const int dc[25])
{
    int64_t q00 = qt[0];
    /* dc[5*r + c]: row r (0 = two above), column c (0 = two left); names as K.8's figure */
#define DCV(i) ((int64_t)dc[(i)-1])
    int64_t D01 = DCV(1), D02 = DCV(2), D03 = DCV(3), D04 = DCV(4), D05 = DCV(5);
    int64_t D06 = DCV(6), D07 = DCV(7), D08 = DCV(8), D09 = DCV(9), D10 = DCV(10);
    int64_t D11 = DCV(11), D12 = DCV(12), D13 = DCV(13), D14 = DCV(14), D15 = DCV(15);
    int64_t D16 = DCV(16), D17 = DCV(17), D18 = DCV(18), D19 = DCV(19), D20 = DCV(20);
    int64_t D21 = DCV(21), D22 = DCV(22), D23 = DCV(23), D24 = DCV(24), D25 = DCV(25);
#undef DCV
    int al;
    /* AC01 */
    if ((al = bits[1]) != 0 && blk[1] == 0) {
        int64_t s = change_dc
                        ? (-D01 - D02 + D04 + D05 - 3 * D06 + 13 * D07 - 13 * D09 + 3 * D10 -
                           3 * D11 + 38 * D12 - 38 * D14 + 3 * D15 - 3 * D16 + 13 * D17 -
                           13 * D19 + 3 * D20 - D21 - D22 + D24 + D25)
                        : (-7 * D11 + 50 * D12 - 50 * D14 + 7 * D15);
        blk[1] = estimate(q00 * s, qt[1], al);
    }
    /* AC10 */
    if ((al = bits[2]) != 0 && blk[8] == 0) {
        int64_t s = change_dc
                        ? (-D01 - 3 * D02 - 3 * D03 - 3 * D04 - D05 - D06 + 13 * D07 + 38 * D08 +
                           13 * D09 - D10 + D16 - 13 * D17 - 38 * D18 - 13 * D19 + D20 + D21 +
                           3 * D22 + 3 * D23 + 3 * D24 + D25)
                        : (-7 * D03 + 50 * D08 - 50 * D18 + 7 * D23);
        blk[8] = estimate(q00 * s, qt[8], al);
    }
    /* AC20 */
    if ((al = bits[3]) != 0 && blk[16] == 0) {
        int64_t s = change_dc
                        ? (D03 + 2 * D07 + 7 * D08 + 2 * D09 - 5 * D12 - 14 * D13 - 5 * D14 +
                           2 * D17 + 7 * D18 + 2 * D19 + D23)
                        : (-D03 + 13 * D08 - 24 * D13 + 13 * D18 - D23);
        blk[16] = estimate(q00 * s, qt[16], al);
    }
    /* AC11 */
    if ((al = bits[4]) != 0 && blk[9] == 0) {
        int64_t s = change_dc
                        ? (-D01 + D05 + 9 * D07 - 9 * D09 - 9 * D17 + 9 * D19 + D21 - D25)
                        : (D10 + D16 - 10 * D17 + 10 * D19 - D02 - D20 + D22 - D24 + D04 - D06 +
                           10 * D07 - 10 * D09);
        blk[9] = estimate(q00 * s, qt[9], al);
    }
    /* AC02 */
    if ((al = bits[5]) != 0 && blk[2] == 0) {
        int64_t s = change_dc
                        ? (2 * D07 - 5 * D08 + 2 * D09 + D11 + 7 * D12 - 14 * D13 + 7 * D14 +
                           D15 + 2 * D17 - 5 * D18 + 2 * D19)
                        : (-D11 + 13 * D12 - 24 * D13 + 13 * D14 - D15);
        blk[2] = estimate(q00 * s, qt[2], al);
    }
    if (!change_dc)
        return;
    /* with no AC data at all: four more estimates and a new DC */
    if ((al = bits[6]) != 0 && blk[3] == 0)
        blk[3] = estimate(q00 * (D07 - D09 + 2 * D12 - 2 * D14 + D17 - D19), qt[3], al);
    if ((al = bits[7]) != 0 && blk[10] == 0)
        blk[10] = estimate(q00 * (D07 - 3 * D08 + D09 - D17 + 3 * D18 - D19), qt[10], al);
    if ((al = bits[8]) != 0 && blk[17] == 0)
        blk[17] = estimate(q00 * (D07 - D09 - 3 * D12 + 3 * D14 + D17 - D19), qt[17], al);
    if ((al = bits[9]) != 0 && blk[24] == 0)
        blk[24] = estimate(q00 * (D07 + 2 * D08 + D09 - D17 - 2 * D18 - D19), qt[24], al);
    {
        int64_t s = -2 * D01 - 6 * D02 - 8 * D03 - 6 * D04 - 2 * D05 - 6 * D06 + 6 * D07 +
                    42 * D08 + 6 * D09 - 6 * D10 - 8 * D11 + 42 * D12 + 152 * D13 + 42 * D14 -
                    8 * D15 - 6 * D16 + 6 * D17 + 42 * D18 + 6 * D19 - 6 * D20 - 2 * D21 -
                    6 * D22 - 8 * D23 - 6 * D24 - 2 * D25;
        blk[0] = estimate(q00 * s, q00, 0);
    }
}

/* Block rows used for offsets -2..2 from row r, as jdcoefct.c picks them:
 * it counts rows as imcu * block_rows + block_row, where block_rows is the
 * number of real block rows in the current iMCU row (fewer than v in the last
 * one), and falls back to the nearer row where that count says the image
 * ends.  Two rows below can therefore land on a padding row of the last iMCU
 * row, and near the top of small images the count can stop one row early;
 * both are reproduced. */
static void neighbour_rows(int r, int v, int hb, int total_imcu, int rows[5])
{
    int imcu = r / v, br = r % v, last_imcu = total_imcu - 1;
    int block_rows = imcu < last_imcu ? v : (hb % v ? hb % v : v);
    int ibr = imcu * block_rows + br, ibrs = block_rows * total_imcu;
    rows[2] = r;
    rows[1] = ibr > 0 ? r - 1 : r;
    rows[0] = ibr > 1 ? r - 2 : rows[1];
    rows[3] = ibr < ibrs - 1 ? r + 1 : r;
    rows[4] = ibr < ibrs - 2 ? r + 2 : rows[3];
}

int fdj_smooth_coefficients(fdj_decoder *d)
{
    int c;
    if (!smoothing_wanted(d))
        return FDJ_OK;
    for (c = 0; c < d->ncomp; c++) {
        fdj_dcomp *comp = &d->comp[c];
        int wb = comp->width_in_blocks, hb = comp->height_in_blocks, v = comp->v;
        int bits[10], k, change_dc = 1, r, x;
        const int *latch;
        int16_t *dcs;
        size_t n;
        if (wb <= 0 || hb <= 0)
            continue;
        /* DC of every allocated block row; rows past the allocation are libjpeg's
         * never-written (zero) padding rows */
        if (!fdj_mul3_size((size_t)wb, (size_t)comp->bh, sizeof(int16_t), &n) ||
            !(dcs = (int16_t *)malloc(n ? n : 1)))
            return fdj_fail_dec(d, FDJ_ERR_NOMEM, "out of memory for block smoothing");
        for (r = 0; r < comp->bh; r++)
            for (x = 0; x < wb; x++)
                dcs[(size_t)r * wb + x] = comp->coef[((size_t)r * comp->bw + x) * 64];
        for (r = 0; r < hb; r++) {
            int rows[5];
            /* rows after the last fully decoded iMCU row use the state before the last scan */
            latch = (r / v > d->last_good_imcu) ? comp->prev_coef_bits : comp->coef_bits;
            for (k = 0; k < 10; k++)
                bits[k] = latch[k];
            if (latch == comp->prev_coef_bits && d->info.num_scans <= 1)
                for (k = 1; k < 10; k++)
                    bits[k] = -1; /* smoothing_ok: nothing before the first scan */
            change_dc = 1;
            for (k = 1; k <= 9; k++)
                if (bits[k] != -1)
                    change_dc = 0;
            neighbour_rows(r, v, hb, d->mcus_y, rows);
            for (x = 0; x < wb; x++) {
                int dc[25], i, j;
                for (i = 0; i < 5; i++)
                    for (j = 0; j < 5; j++) {
                        int cx = x + j - 2;
                        cx = cx < 0 ? 0 : cx > wb - 1 ? wb - 1 : cx;
                        dc[i * 5 + j] = rows[i] < comp->bh ? dcs[(size_t)rows[i] * wb + cx] : 0;
                    }
                smooth_block(comp->coef + ((size_t)r * comp->bw + x) * 64, comp->q, bits, change_dc,
                             dc);
            }
        }
        free(dcs);
    }
    return FDJ_OK;
}
