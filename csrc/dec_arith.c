/*
 * dec_arith.c -- arithmetic entropy decoding (T.81 Annex D, F.1.4.4 and F.2.4;
 * G.1.3 for progressive scans): SOF9 and SOF10 frames.
 *
 * The QM-coder state is a 32-bit C register whose cut point between the
 * interval base and the not-yet-used input bits floats with the shift counter
 * CT (the arrangement libjpeg uses), so decisions compare against (A - Qe) << CT.
 * Statistics bins are one byte each: bit 7 the MPS, bits 0-6 the index into
 * Table D.2.  Hitting a marker inside the data is legal here: zero bytes are
 * supplied from then on.  A corrupt code (magnitude or spectral overflow)
 * stops decoding until the next restart, leaving zero coefficients, as
 * libjpeg-turbo does.
 */
#include "dec_internal.h"

/* Table D.2: Qe, Next_Index_LPS, Next_Index_MPS, Switch_MPS; entry 113 is a
 * fixed 0.5-probability state (never updated) for sign/refinement bits. */
typedef struct qe_entry {
    uint16_t qe;
    uint8_t nlps, nmps, sw;
} qe_entry;

static const qe_entry qe_table[114] = {
    {0x5a1d, 1, 1, 1},    {0x2586, 14, 2, 0},   {0x1114, 16, 3, 0},   {0x080b, 18, 4, 0},
    {0x03d8, 20, 5, 0},   {0x01da, 23, 6, 0},   {0x00e5, 25, 7, 0},   {0x006f, 28, 8, 0},
    {0x0036, 30, 9, 0},   {0x001a, 33, 10, 0},  {0x000d, 35, 11, 0},  {0x0006, 9, 12, 0},
    {0x0003, 10, 13, 0},  {0x0001, 12, 13, 0},  {0x5a7f, 15, 15, 1},  {0x3f25, 36, 16, 0},
    {0x2cf2, 38, 17, 0},  {0x207c, 39, 18, 0},  {0x17b9, 40, 19, 0},  {0x1182, 42, 20, 0},
    {0x0cef, 43, 21, 0},  {0x09a1, 45, 22, 0},  {0x072f, 46, 23, 0},  {0x055c, 48, 24, 0},
    {0x0406, 49, 25, 0},  {0x0303, 51, 26, 0},  {0x0240, 52, 27, 0},  {0x01b1, 54, 28, 0},
    {0x0144, 56, 29, 0},  {0x00f5, 57, 30, 0},  {0x00b7, 59, 31, 0},  {0x008a, 60, 32, 0},
    {0x0068, 62, 33, 0},  {0x004e, 63, 34, 0},  {0x003b, 32, 35, 0},  {0x002c, 33, 9, 0},
    {0x5ae1, 37, 37, 1},  {0x484c, 64, 38, 0},  {0x3a0d, 65, 39, 0},  {0x2ef1, 67, 40, 0},
    {0x261f, 68, 41, 0},  {0x1f33, 69, 42, 0},  {0x19a8, 70, 43, 0},  {0x1518, 72, 44, 0},
    {0x1177, 73, 45, 0},  {0x0e74, 74, 46, 0},  {0x0bfb, 75, 47, 0},  {0x09f8, 77, 48, 0},
    {0x0861, 78, 49, 0},  {0x0706, 79, 50, 0},  {0x05cd, 48, 51, 0},  {0x04de, 50, 52, 0},
    {0x040f, 50, 53, 0},  {0x0363, 51, 54, 0},  {0x02d4, 52, 55, 0},  {0x025c, 53, 56, 0},
    {0x01f8, 54, 57, 0},  {0x01a4, 55, 58, 0},  {0x0160, 56, 59, 0},  {0x0125, 57, 60, 0},
    {0x00f6, 58, 61, 0},  {0x00cb, 59, 62, 0},  {0x00ab, 61, 63, 0},  {0x008f, 61, 32, 0},
    {0x5b12, 65, 65, 1},  {0x4d04, 80, 66, 0},  {0x412c, 81, 67, 0},  {0x37d8, 82, 68, 0},
    {0x2fe8, 83, 69, 0},  {0x293c, 84, 70, 0},  {0x2379, 86, 71, 0},  {0x1edf, 87, 72, 0},
    {0x1aa9, 87, 73, 0},  {0x174e, 72, 74, 0},  {0x1424, 72, 75, 0},  {0x119c, 74, 76, 0},
    {0x0f6b, 74, 77, 0},  {0x0d51, 75, 78, 0},  {0x0bb6, 77, 79, 0},  {0x0a40, 77, 48, 0},
    {0x5832, 80, 81, 1},  {0x4d1c, 88, 82, 0},  {0x438e, 89, 83, 0},  {0x3bdd, 90, 84, 0},
    {0x34ee, 91, 85, 0},  {0x2eae, 92, 86, 0},  {0x299a, 93, 87, 0},  {0x2516, 86, 71, 0},
    {0x5570, 88, 89, 1},  {0x4ca9, 95, 90, 0},  {0x44d9, 96, 91, 0},  {0x3e22, 97, 92, 0},
    {0x3824, 99, 93, 0},  {0x32b4, 99, 94, 0},  {0x2e17, 93, 86, 0},  {0x56a8, 95, 96, 1},
    {0x4f46, 101, 97, 0}, {0x47e5, 102, 98, 0}, {0x41cf, 103, 99, 0}, {0x3c3d, 104, 100, 0},
    {0x375e, 99, 93, 0},  {0x5231, 105, 102, 0}, {0x4c0f, 106, 103, 0}, {0x4639, 107, 104, 0},
    {0x415e, 103, 99, 0}, {0x5627, 105, 106, 1}, {0x50e7, 108, 107, 0}, {0x4b85, 109, 103, 0},
    {0x5597, 110, 109, 0}, {0x504f, 111, 107, 0}, {0x5a10, 110, 111, 1}, {0x5522, 112, 109, 0},
    {0x59eb, 112, 111, 1}, {0x5a1d, 113, 113, 0}};

#define FIXED_BIN 113

void fdj_arith_reset_conditioning(fdj_decoder *d)
{
    int i;
    d->arith_fail_imcu = -1;
    for (i = 0; i < 16; i++) {
        d->arith_dc_L[i] = 0;
        d->arith_dc_U[i] = 1;
        d->arith_ac_K[i] = 5;
    }
}

/* Next byte of entropy data (F.1.2.3: FF 00 is a stuffed FF); zero once a
 * marker or the end of the data is reached, leaving pos on the marker.  The end
 * is the caller's data: with allow_truncated the EOI appended after it is never
 * read here, because libjpeg's arithmetic decoder cannot wait for more data and
 * fails instead (ran_out; Pillow then keeps only the rows already output). */
static unsigned next_byte(fdj_arith *e, fdj_bits *b)
{
    unsigned c;
    size_t q, end = e->real_end < b->size ? e->real_end : b->size;
    if (b->marker_hit)
        return 0;
    if (b->pos >= end) {
        b->marker_hit = 1;
        b->hit_end = 1;
        e->ran_out = 1;
        return 0;
    }
    c = b->data[b->pos];
    if (c != 0xFF) {
        b->pos++;
        return c;
    }
    q = b->pos + 1;
    while (q < end && b->data[q] == 0xFF)
        q++;
    if (q >= end) {
        b->marker_hit = 1;
        b->hit_end = 1;
        e->ran_out = 1;
        return 0;
    }
    if (b->data[q] == 0) {
        b->pos = q + 1;
        return 0xFF;
    }
    b->marker_hit = 1; /* a marker: the next header read finds it at pos */
    return 0;
}

/* One binary decision with adaptive statistics bin *st (D.2.4-D.2.6). */
static int decode_bit(fdj_arith *e, fdj_bits *b, uint8_t *st)
{
    unsigned sv, nl, nm;
    uint64_t qe, t;
    while (e->a < 0x8000u) {
        if (--e->ct < 0) {
            e->c = (e->c << 8) | next_byte(e, b);
            e->ct += 8;
            if (e->ct < 0 && ++e->ct == 0)
                e->a = 0x8000u; /* two initial bytes read: A becomes 0x10000 below */
        }
        e->a <<= 1;
    }
    sv = *st;
    qe = qe_table[sv & 0x7F].qe;
    nl = qe_table[sv & 0x7F].nlps | (unsigned)(qe_table[sv & 0x7F].sw << 7);
    nm = qe_table[sv & 0x7F].nmps;
    t = e->a - qe;
    e->a = t;
    t <<= e->ct;
    if (e->c >= t) {
        /* the LPS sub-interval, with conditional exchange */
        e->c -= t;
        if (e->a < qe) {
            e->a = qe;
            *st = (uint8_t)((sv & 0x80) ^ nm);
        } else {
            e->a = qe;
            *st = (uint8_t)((sv & 0x80) ^ nl);
            sv ^= 0x80;
        }
    } else if (e->a < 0x8000u) {
        /* MPS with renormalization, with conditional exchange */
        if (e->a < qe) {
            *st = (uint8_t)((sv & 0x80) ^ nl);
            sv ^= 0x80;
        } else {
            *st = (uint8_t)((sv & 0x80) ^ nm);
        }
    }
    return (int)(sv >> 7);
}

/* Statistics and registers are reset at the start of each scan and after
 * each restart marker (F.2.4.4 / G.1.3.2). */
static void reset_state(fdj_decoder *d)
{
    fdj_arith *e = &d->arith;
    int i;
    for (i = 0; i < d->scan_ncomp; i++) {
        if (!d->info.progressive || (d->Ss == 0 && d->Ah == 0)) {
            memset(e->dc_stats[d->scan_td[i]], 0, sizeof e->dc_stats[0]);
            e->last_dc[i] = 0;
            e->dc_context[i] = 0;
        }
        if (!d->info.progressive || d->Ss != 0)
            memset(e->ac_stats[d->scan_ta[i]], 0, sizeof e->ac_stats[0]);
    }
    e->c = 0;
    e->a = 0;
    e->ct = -16; /* read two bytes before the first decision */
    e->fixed = FIXED_BIN;
    e->need_reset = 0;
    e->real_end = d->real_size;
}

/* Magnitude category and bit pattern of a nonzero AC value (F.2.4.3.1,
 * Figures F.23/F.24); st points at the value's first magnitude bin, x_bins at
 * the X1 chain for this band.  Returns -1 on overflow. */
static int decode_ac_magnitude(fdj_arith *e, fdj_bits *b, uint8_t *st, uint8_t *x_bins, int *out)
{
    int m, v;
    m = decode_bit(e, b, st);
    if (m && decode_bit(e, b, st)) {
        m <<= 1;
        st = x_bins;
        while (decode_bit(e, b, st)) {
            if ((m <<= 1) == 0x8000)
                return -1;
            st++;
        }
    }
    v = m;
    st += 14;
    while (m >>= 1)
        if (decode_bit(e, b, st))
            v |= m;
    *out = v;
    return 0;
}

/* DC difference (F.2.4.1, Figures F.19-F.24); updates the context; returns -1 on overflow. */
static int decode_dc_diff(fdj_decoder *d, int si, int tbl, int *diff)
{
    fdj_arith *e = &d->arith;
    fdj_bits *b = &d->br;
    uint8_t *stats = e->dc_stats[tbl], *st = stats + e->dc_context[si];
    int sign, m, v;
    if (!decode_bit(e, b, st)) {
        e->dc_context[si] = 0;
        *diff = 0;
        return 0;
    }
    sign = decode_bit(e, b, st + 1);
    st += 2 + sign;
    m = decode_bit(e, b, st);
    if (m) {
        st = stats + 20; /* X1 */
        while (decode_bit(e, b, st)) {
            if ((m <<= 1) == 0x8000)
                return -1;
            st++;
        }
    }
    /* F.1.4.4.1.2: conditioning on the size of this difference */
    if (m < (int)((1u << d->arith_dc_L[tbl]) >> 1))
        e->dc_context[si] = 0;
    else if (m > (int)((1u << d->arith_dc_U[tbl]) >> 1))
        e->dc_context[si] = 12 + sign * 4;
    else
        e->dc_context[si] = 4 + sign * 4;
    v = m;
    st += 14;
    while (m >>= 1)
        if (decode_bit(e, b, st))
            v |= m;
    v += 1;
    *diff = sign ? -v : v;
    return 0;
}

/* One nonzero AC value at zigzag index k (sign, magnitude category, bits). */
static int decode_ac_value(fdj_decoder *d, int tbl, int k, uint8_t *st, int *val)
{
    fdj_arith *e = &d->arith;
    fdj_bits *b = &d->br;
    uint8_t *stats = e->ac_stats[tbl];
    int sign, v;
    sign = decode_bit(e, b, &e->fixed);
    st += 2;
    if (decode_ac_magnitude(e, b, st, stats + (k <= d->arith_ac_K[tbl] ? 189 : 217), &v) != 0)
        return -1;
    v += 1;
    *val = sign ? -v : v;
    return 0;
}

/* Sequential scan, or a progressive first scan (DC or AC band). */
static int decode_first(fdj_decoder *d, int16_t *const blocks[], int nblocks, const int bc[])
{
    fdj_arith *e = &d->arith;
    fdj_bits *b = &d->br;
    int n, progressive = d->info.progressive;
    int ss = progressive ? d->Ss : 0, se = progressive ? d->Se : 63, al = progressive ? d->Al : 0;
    for (n = 0; n < nblocks; n++) {
        int16_t *blk = blocks[n];
        int si = bc[n], k;
        if (ss == 0) {
            int diff;
            if (decode_dc_diff(d, si, d->scan_td[si], &diff) != 0)
                return -1;
            e->last_dc[si] = (int32_t)((uint32_t)e->last_dc[si] + (uint32_t)diff);
            blk[0] = (int16_t)(uint16_t)((uint32_t)e->last_dc[si] << al);
            if (progressive)
                continue;
        }
        {
            int tbl = d->scan_ta[si];
            uint8_t *stats = e->ac_stats[tbl];
            for (k = ss ? ss : 1; k <= se; k++) {
                uint8_t *st = stats + 3 * (k - 1);
                int v;
                if (decode_bit(e, b, st))
                    break; /* EOB */
                while (!decode_bit(e, b, st + 1)) {
                    st += 3;
                    if (++k > se)
                        return -1; /* spectral overflow */
                }
                if (decode_ac_value(d, tbl, k, st, &v) != 0)
                    return -1;
                blk[fdj_zigzag_to_natural[k]] = (int16_t)(uint16_t)((uint32_t)v << al);
            }
        }
    }
    return 0;
}

static int decode_refine(fdj_decoder *d, int16_t *const blocks[], int nblocks)
{
    fdj_arith *e = &d->arith;
    fdj_bits *b = &d->br;
    int p1 = 1 << d->Al, m1 = (int)(~0u << d->Al), n;
    if (d->Ss == 0) {
        for (n = 0; n < nblocks; n++)
            if (decode_bit(e, b, &e->fixed))
                blocks[n][0] = (int16_t)(blocks[n][0] | p1);
        return 0;
    }
    {
        int16_t *blk = blocks[0];
        int tbl = d->scan_ta[0], k, kex;
        uint8_t *stats = e->ac_stats[tbl];
        /* EOBx: the end of block of the previous stage */
        for (kex = d->Se; kex > 0; kex--)
            if (blk[fdj_zigzag_to_natural[kex]])
                break;
        for (k = d->Ss; k <= d->Se; k++) {
            uint8_t *st = stats + 3 * (k - 1);
            if (k > kex && decode_bit(e, b, st))
                break; /* EOB */
            for (;;) {
                int16_t *c = blk + fdj_zigzag_to_natural[k];
                if (*c) {
                    if (decode_bit(e, b, st + 2))
                        *c = (int16_t)(*c < 0 ? *c + m1 : *c + p1);
                    break;
                }
                if (decode_bit(e, b, st + 1)) {
                    *c = (int16_t)(decode_bit(e, b, &e->fixed) ? m1 : p1);
                    break;
                }
                st += 3;
                if (++k > d->Se)
                    return -1;
            }
        }
    }
    return 0;
}

int fdj_decode_mcu_arith(fdj_decoder *d, int16_t *const blocks[], int nblocks, const int bc[])
{
    fdj_arith *e = &d->arith;
    int st;
    if (e->need_reset)
        reset_state(d);
    if (e->ct == -1)
        return FDJ_OK; /* after a corrupt code: zeros up to the next restart */
    if (d->info.progressive && d->Ah != 0)
        st = decode_refine(d, blocks, nblocks);
    else
        st = decode_first(d, blocks, nblocks, bc);
    if (st != 0)
        e->ct = -1; /* libjpeg-turbo: JWRN_ARITH_BAD_CODE, then nothing until a restart */
    if (e->ran_out && d->arith_fail_imcu < 0)
        d->arith_fail_imcu = d->cur_imcu_row;
    return FDJ_OK;
}

/* Output rows Pillow keeps when libjpeg's arithmetic decoder runs out of data
 * (JERR_CANT_SUSPEND, hidden by LOAD_TRUNCATED_IMAGES): none for multi-scan
 * files (all input is read before any output); for a single scan, the rows of
 * the iMCU rows decoded before, less the row group that vertical fancy
 * upsampling holds back for context.  -1 if the data did not run out. */
int fdj_arith_rows_kept(const fdj_decoder *d, int height)
{
    int c, context = 0, rows;
    if (d->arith_fail_imcu < 0)
        return -1;
    if (d->info.progressive || d->info.num_scans > 1 || d->scan_ncomp != d->ncomp)
        return 0;
    for (c = 0; c < d->ncomp && d->ncomp > 1; c++) {
        const fdj_dcomp *k = &d->comp[c];
        int hx = d->max_h / k->h, vx = d->max_v / k->v;
        if (vx == 2 && (hx == 1 || (hx == 2 && k->dw > 2)))
            context = 1;
    }
    rows = d->arith_fail_imcu * 8 * d->max_v - (context ? d->max_v : 0);
    if (rows < 0)
        rows = 0;
    return rows < height ? rows : height;
}
