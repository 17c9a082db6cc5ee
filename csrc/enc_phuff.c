/*
 * enc_phuff.c -- progressive Huffman coding of the quantized blocks (T.81
 * G.1.2): DC first and refinement scans, AC first scans with EOB runs, AC
 * refinement scans with buffered correction bits, and libjpeg's
 * jpeg_simple_progression scan script.
 */
#include "enc_entropy.h"

void fdj_phuff_emit_eobrun(coder *cd)
{
    if (cd->eobrun > 0) {
        int n = nbits_of(cd->eobrun) - 1, i;
        emit_symbol(cd, 1, cd->ac_tbl, n << 4);
        if (n)
            emit_bits(cd, cd->eobrun, n);
        cd->eobrun = 0;
        for (i = 0; i < cd->be; i++)
            emit_bits(cd, cd->bit_buffer[i], 1);
        cd->be = 0;
    }
}

static void encode_dc_first(coder *cd, const int16_t *zz, int ci, int al)
{
    int32_t t = (int32_t)zz[0] >> al; /* arithmetic shift, as libjpeg */
    int32_t diff = t - cd->last_dc[ci];
    uint32_t a = (uint32_t)(diff < 0 ? -diff : diff);
    int n = nbits_of(a);
    cd->last_dc[ci] = t;
    if (FDJ_UNLIKELY(n > FDJ_ENC_DC_MAX(cd->f)))
        range_error(cd, ci);
    emit_symbol(cd, 0, cd->f->comp[ci].dc_tbl, n);
    emit_bits(cd, (uint32_t)(diff < 0 ? diff - 1 : diff), n);
}

FDJ_INLINE int highest_bit(uint64_t m)
{
#if defined(__GNUC__) || defined(__clang__)
    return 63 - __builtin_clzll(m);
#else
    int k = 63;
    while (!(m >> k))
        k--;
    return k;
#endif
}

/* AC first scan (G.1.2.2): the point-transformed coefficients of the band,
 * visited through a mask of the nonzero ones. */
static void encode_ac_first(coder *cd, const int16_t *zz, int ss, int se, int al)
{
    /* nonzero after the point transform: |v| >= 2^al */
    uint64_t nz = cd->abs_above(zz, (1 << al) - 1) & band_mask(ss, se);
    int k, last = ss - 1;
    while (nz) {
        int32_t v, t, t2;
        int n, r;
        k = lowest_bit(nz);
        nz &= nz - 1;
        r = k - last - 1;
        last = k;
        v = zz[k];
        if (v < 0) {
            t = (-v) >> al;
            t2 = ~t;
        } else {
            t = v >> al;
            t2 = t;
        }
        fdj_phuff_emit_eobrun(cd);
        while (r > 15) {
            emit_symbol(cd, 1, cd->ac_tbl, 0xF0);
            r -= 16;
        }
        n = nbits_of((uint32_t)t);
        if (FDJ_UNLIKELY(n > FDJ_ENC_AC_MAX(cd->f)))
            range_error(cd, 0);
        emit_symbol(cd, 1, cd->ac_tbl, (r << 4) + n);
        emit_bits(cd, (uint32_t)t2, n);
    }
    if (last < se) {
        cd->eobrun++;
        if (cd->eobrun == 0x7FFF)
            fdj_phuff_emit_eobrun(cd);
    }
}

#define MAX_CORR_BITS 1000

/* AC refinement scan (G.1.2.3): newly nonzero coefficients get a symbol and a
 * sign bit; previously nonzero ones a correction bit, buffered until the next
 * symbol.  Zero runs count zeros only, as in libjpeg. */
static void encode_ac_refine(coder *cd, const int16_t *zz, int ss, int se, int al)
{
    uint64_t band = band_mask(ss, se);
    uint64_t nz = cd->abs_above(zz, (1 << al) - 1) & band;      /* |v| >> al != 0 */
    uint64_t ones = nz & ~cd->abs_above(zz, (2 << al) - 1);    /* |v| >> al == 1 */
    int k, r = 0, eob = 0, br = 0, prev = ss - 1;
    uint8_t *brbuf = cd->bit_buffer + cd->be;
    if (ones)
        eob = highest_bit(ones);
    while (nz) {
        int t, i;
        int32_t v;
        k = lowest_bit(nz);
        nz &= nz - 1;
        r += k - prev - 1;
        prev = k;
        v = zz[k];
        t = (int)((v < 0 ? -v : v) >> al);
        while (r > 15 && k <= eob) {
            fdj_phuff_emit_eobrun(cd);
            emit_symbol(cd, 1, cd->ac_tbl, 0xF0);
            r -= 16;
            for (i = 0; i < br; i++)
                emit_bits(cd, brbuf[i], 1);
            brbuf = cd->bit_buffer;
            br = 0;
        }
        if (t > 1) {
            brbuf[br++] = (uint8_t)(t & 1);
            continue;
        }
        fdj_phuff_emit_eobrun(cd);
        emit_symbol(cd, 1, cd->ac_tbl, (r << 4) + 1);
        emit_bits(cd, zz[k] < 0 ? 0 : 1, 1);
        for (i = 0; i < br; i++)
            emit_bits(cd, brbuf[i], 1);
        brbuf = cd->bit_buffer;
        br = 0;
        r = 0;
    }
    r += se - prev;
    if (r > 0 || br > 0) {
        cd->eobrun++;
        cd->be += br;
        if (cd->eobrun == 0x7FFF || cd->be > MAX_CORR_BITS - 64 + 1)
            fdj_phuff_emit_eobrun(cd);
    }
}

void fdj_phuff_encode_block(coder *cd, const int16_t *zz, int ci)
{
    const scan_desc *s = cd->scan;
    if (s->ss == 0) {
        if (s->ah == 0)
            encode_dc_first(cd, zz, ci, s->al);
        else
            emit_bits(cd, (uint32_t)((int32_t)zz[0] >> s->al), 1); /* DC refinement (G.1.2.1) */
    } else if (s->ah == 0) {
        encode_ac_first(cd, zz, s->ss, s->se, s->al);
    } else {
        encode_ac_refine(cd, zz, s->ss, s->se, s->al);
    }
}

/* libjpeg's jpeg_simple_progression script. */
int fdj_phuff_script(const fdj_enc_frame *f, scan_desc *sc)
{
    int n = 0, c, nc = f->ncomp;
#define SCAN1(ci, a, b, h, l)                                                                    \
    do {                                                                                         \
        sc[n].ncomps = 1;                                                                        \
        sc[n].comps[0] = (ci);                                                                   \
        sc[n].ss = (a);                                                                          \
        sc[n].se = (b);                                                                          \
        sc[n].ah = (h);                                                                          \
        sc[n].al = (l);                                                                          \
        n++;                                                                                     \
    } while (0)
#define DCSCAN(h, l)                                                                             \
    do {                                                                                         \
        sc[n].ncomps = nc;                                                                       \
        for (c = 0; c < nc; c++)                                                                 \
            sc[n].comps[c] = c;                                                                  \
        sc[n].ss = sc[n].se = 0;                                                                 \
        sc[n].ah = (h);                                                                          \
        sc[n].al = (l);                                                                          \
        n++;                                                                                     \
    } while (0)
    if (nc == 3 && f->jpeg_color == FDJ_CS_YCBCR) {
        DCSCAN(0, 1);
        SCAN1(0, 1, 5, 0, 2);
        SCAN1(2, 1, 63, 0, 1);
        SCAN1(1, 1, 63, 0, 1);
        SCAN1(0, 6, 63, 0, 2);
        SCAN1(0, 1, 63, 2, 1);
        DCSCAN(1, 0);
        SCAN1(2, 1, 63, 1, 0);
        SCAN1(1, 1, 63, 1, 0);
        SCAN1(0, 1, 63, 1, 0);
    } else {
        DCSCAN(0, 1);
        for (c = 0; c < nc; c++)
            SCAN1(c, 1, 5, 0, 2);
        for (c = 0; c < nc; c++)
            SCAN1(c, 6, 63, 0, 2);
        for (c = 0; c < nc; c++)
            SCAN1(c, 1, 63, 2, 1);
        DCSCAN(1, 0);
        for (c = 0; c < nc; c++)
            SCAN1(c, 1, 63, 1, 0);
    }
#undef SCAN1
#undef DCSCAN
    return n;
}
