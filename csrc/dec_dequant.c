/*
 * dec_dequant.c -- the decoder's dequantization stage (libjpeg's jddctmgr.c):
 * coefficient block row -> dequantize (T.81 A.3.4) -> Feature Distillation
 * requantization, when asked for -> inverse DCT (A.3.3) -> sample rows.
 *
 * It owns the purify-table check, the choice of table per component, the
 * scalar reference of the fused dequantize + requantize + IDCT kernel and the
 * choice, per block, between the fast kernels (fdj_simd.h), that reference
 * and the libjpeg-turbo-arithmetic emulation (dec_idct_emul.c).
 */
#include "dec_internal.h"

/* Feature Distillation, the decoder half (Liu et al., "Feature Distillation:
 * DNN-Oriented JPEG Compression Against Adversarial Examples", CVPR 2019,
 * the one-pass defense): each dequantized DCT coefficient D = c * q is
 * requantized by the defense's table T to T * round(D / T), rounding half away
 * from zero, before the IDCT.  Zero coefficients stay zero.  |D| <= 2^30, so
 * nothing overflows.  The fused SIMD sibling (fdj_idct_islow_rq_avx2)
 * computes the same values. */
static void fd_requantize_block(const int16_t coef[64], const int32_t q[64], const int32_t t[64],
                                int32_t out[64])
{
    int i;
    for (i = 0; i < 64; i++) {
        int32_t d = coef[i] * q[i], n;
        if (!d) {
            out[i] = 0;
            continue;
        }
        n = ((d > 0 ? d : -d) + (t[i] >> 1)) / t[i]; /* round(|D| / T), halves up */
        out[i] = (d > 0 ? n : -n) * t[i];
    }
}

/* The scalar reference of the fused kernel: dequantize, requantize, ISLOW IDCT. */
int fdj_idct_islow_rq(const int16_t coef[64], const int32_t q[64], const fdj_requant_table *rt,
                      uint8_t *out, ptrdiff_t stride)
{
    int32_t tmp[64];
    fd_requantize_block(coef, q, rt->t, tmp);
    fdj_idct_islow(tmp, out, stride);
    return 1;
}

/* Entry i (natural order) of a 16-bit field, in both halves of its row. */
static void set16(fdj_requant_table *rt, int field, int i, uint16_t v)
{
    rt->v16[field][i >> 3][i & 7] = v;
    rt->v16[field][i >> 3][8 + (i & 7)] = v;
}

/* Division constants of a requantization table (fdj_simd.h). */
void fdj_requant_table_init(fdj_requant_table *rt, const uint16_t t[64])
{
    int i;
    rt->small_t = 0;
    for (i = 0; i < 64; i++) {
        uint32_t d = t[i] ? t[i] : 1, l = 0;
        while (((uint32_t)1 << l) < d)
            l++; /* ceil(log2 d) */
        rt->t[i] = (int32_t)d;
        rt->half[i] = (int32_t)(d >> 1);
        rt->shift[i] = 15 + l;
        rt->magic[i] = (uint32_t)((((uint64_t)1 << (15 + l)) + d - 1) / d);
        set16(rt, FDJ_RQ_T, i, (uint16_t)d);
        set16(rt, FDJ_RQ_HALF, i, (uint16_t)(d >> 1));
        set16(rt, FDJ_RQ_MAGIC, i, d >= 3 ? (uint16_t)rt->magic[i] : d == 2 ? 0x8000 : 0);
        set16(rt, FDJ_RQ_POST, i, d >= 3 ? (uint16_t)(1u << (32 - rt->shift[i])) : 0);
        set16(rt, FDJ_RQ_KEEPX, i, d == 2 ? 0xFFFF : 0);
        set16(rt, FDJ_RQ_KEEPN, i, d == 1 ? 0xFFFF : 0);
        set16(rt, FDJ_RQ_CMAX, i, 0);
        if (d <= 2)
            rt->small_t = 1;
    }
}

/* The coefficient bound of the 16-bit requantization for the multipliers q
 * (int16 values, as the decoder's qmul): |c| <= CMAX keeps
 * |c| * |q| <= 32767 - T/2. */
void fdj_requant_table_set_q(fdj_requant_table *rt, const int32_t q[64])
{
    int i;
    for (i = 0; i < 64; i++) {
        int32_t m = q[i] < 0 ? -q[i] : q[i], room = 32767 - rt->half[i];
        set16(rt, FDJ_RQ_CMAX, i, (uint16_t)(m ? room / m : 32767));
    }
}

int fdj_dequant_check_purify(fdj_decoder *d, const fdj_decode_options *opt)
{
    int c, k;
    if (opt->purify_count < 0 || opt->purify_count > FDJ_MAX_COMPONENTS)
        return fdj_fail_dec(d, FDJ_ERR_ARGUMENT, "purify_count must be 0..4");
    for (c = 0; c < opt->purify_count; c++)
        for (k = 0; k < 64; k++)
            if (opt->purify[c][k] == 0)
                return fdj_fail_dec(d, FDJ_ERR_ARGUMENT, "purify table entries must be 1..65535");
    return FDJ_OK;
}

/* fdjpeg.h: the purify table of component c */
const uint16_t *fdj_purify_table_for(const fdj_decode_options *opt, int c)
{
    if (opt->purify_count == 1)
        return opt->purify[0];
    if (opt->purify_count == 2)
        return opt->purify[c == 0 ? 0 : 1];
    if (opt->purify_count > 2)
        return opt->purify[c < opt->purify_count ? c : opt->purify_count - 1];
    return NULL;
}

void fdj_dequant_init(fdj_dequant *dq, const fdj_decoder *d, const int bs[], int simd)
{
    int c, i;
    fdj_kernels kern;
    fdj_kernels_init(&kern, simd);
    memset(dq, 0, sizeof *dq);
    dq->idct8 = kern.idct_islow;
    dq->idct8q = kern.idct_islow_q;
    dq->idct8rq = kern.idct_islow_rq;
    dq->idct8t = kern.idct_turbo_row;
    dq->idct8rqr = kern.idct_islow_rq_row;
    dq->idct4q = kern.idct_4x4_q;
    dq->idct2q = kern.idct_2x2_q;
    dq->idct8pre = kern.idct_pre_row;
    for (c = 0; c < d->ncomp; c++) {
        fdj_dequant_comp *k = &dq->comp[c];
        const uint16_t *t = fdj_purify_table_for(&d->opt, c);
        k->bs = bs[c];
        memcpy(k->q, d->comp[c].q, sizeof k->q);
        for (i = 0; i < 64; i++)
            k->qmul[i] = (int32_t)(int16_t)k->q[i]; /* libjpeg keeps multipliers as short */
        k->purify = t != NULL;
        if (t) {
            fdj_requant_table_init(&k->rq, t);
            fdj_requant_table_set_q(&k->rq, k->qmul);
        }
    }
}

/* Without purification, 8x8: every block gets libjpeg-turbo's AVX2 arithmetic
 * (what Pillow shows on x86-64).  With the 16-bit row kernel that is computed
 * directly; otherwise blocks that can reach 16-bit limits take the emulation
 * and all others the exact ISLOW kernels, which agree with it there (the fused
 * kernel refuses exactly the blocks that need the emulation). */
static void plain_row8(const fdj_dequant *dq, const fdj_dequant_comp *k, const int16_t *coef,
                       int nblocks, uint8_t *out, ptrdiff_t stride)
{
    int bx, i;
    if (dq->idct8t) {
        dq->idct8t(coef, k->q, nblocks, out, stride);
        return;
    }
    for (bx = 0; bx < nblocks; bx++) {
        const int16_t *blk = coef + (size_t)bx * 64;
        uint8_t *ob = out + (ptrdiff_t)bx * 8;
        if (dq->idct8q) {
            if (!dq->idct8q(blk, k->qmul, ob, stride))
                fdj_idct_islow_avx2_emul(blk, k->q, ob, stride);
        } else if (fdj_idct_block_is_hostile(blk, k->q)) {
            fdj_idct_islow_avx2_emul(blk, k->q, ob, stride);
        } else {
            int32_t tmp[64];
            for (i = 0; i < 64; i++)
                tmp[i] = blk[i] * k->qmul[i];
            dq->idct8(tmp, ob, stride);
        }
    }
}

/* The rows (and columns) of a coefficient block that jidctred.c's reduced
 * IDCTs read (dec_idct.c); the others need no dequantization. */
static const uint8_t red4_used[8] = {1, 1, 1, 1, 0, 1, 1, 1};
static const uint8_t red2_used[8] = {1, 1, 0, 1, 0, 1, 0, 1};

void fdj_dequant_row(const fdj_dequant *dq, int c, const int16_t *coef, int nblocks,
                     uint8_t *out, ptrdiff_t stride)
{
    const fdj_dequant_comp *k = &dq->comp[c];
    int bs = k->bs, bx;
    fdj_idct_fn idct = bs == 8 ? dq->idct8 : bs == 4 ? fdj_idct_4x4 : bs == 2 ? fdj_idct_2x2 : fdj_idct_1x1;
    if (bs == 8 && !k->purify) {
        plain_row8(dq, k, coef, nblocks, out, stride);
        return;
    }
    if (bs == 8) {
        if (dq->idct8rqr) {
            dq->idct8rqr(coef, k->qmul, &k->rq, nblocks, out, stride);
            return;
        }
        /* the fused sibling refuses blocks whose values leave its exact range */
        for (bx = 0; bx < nblocks; bx++) {
            const int16_t *blk = coef + (size_t)bx * 64;
            uint8_t *ob = out + (ptrdiff_t)bx * 8;
            if (!dq->idct8rq || !dq->idct8rq(blk, k->qmul, &k->rq, ob, stride))
                fdj_idct_islow_rq(blk, k->qmul, &k->rq, ob, stride);
        }
        return;
    }
    /* scaled output (1/2, 1/4, 1/8): the reduced IDCTs */
    if (k->purify) {
        for (bx = 0; bx < nblocks; bx++) {
            int32_t tmp[64];
            fd_requantize_block(coef + (size_t)bx * 64, k->qmul, k->rq.t, tmp);
            idct(tmp, out + (ptrdiff_t)bx * bs, stride);
        }
        return;
    }
    for (bx = 0; bx < nblocks; bx++) {
        const int16_t *blk = coef + (size_t)bx * 64;
        uint8_t *ob = out + (ptrdiff_t)bx * bs;
        int32_t tmp[64];
        if (bs == 1) {
            *ob = fdj_idct_1x1_pixel(blk[0] * k->qmul[0]); /* fdj_idct_1x1, inlined */
            continue;
        } else if (bs == 4 && dq->idct4q && dq->idct4q(blk, k->qmul, ob, stride)) {
            continue;
        } else if (bs == 2 && dq->idct2q && dq->idct2q(blk, k->qmul, ob, stride)) {
            continue;
        } else {
            /* only the coefficients the reduced IDCT reads: all but row and
             * column 4 (4x4), rows and columns 0, 1, 3, 5, 7 (2x2) */
            const uint8_t *use = bs == 4 ? red4_used : red2_used;
            int r, c;
            for (r = 0; r < 8; r++) {
                if (!use[r])
                    continue;
                for (c = 0; c < 8; c++)
                    if (use[c])
                        tmp[8 * r + c] = blk[8 * r + c] * k->qmul[8 * r + c];
            }
        }
        idct(tmp, ob, stride);
    }
}

/* ---- one-pass FD inside the Huffman decoder (dec_huff_mcu.h, DEC_HUFF_MCU_RQ) ---- */

/* The requantization table of one (q, T) pair in zigzag order (dec_internal.h):
 * returns 0 if some entry of the lookup table leaves int16 (then the row stage
 * requantizes, as without it). */
int fdj_rq_lut_init(fdj_rq_lut *L, const int32_t qmul[64], const int32_t t[64])
{
    /* per zigzag position k: n = c |q| + T/2 = quo T + rem, stepped over c = 1, 2, ...
     * (|q| = sq T + sr); R(c) = quo T with the sign of q, R(-c) = -R(c) */
    int32_t sq[80], sr[80], quo[80], rem[80], tz[80], neg[80];
    int k, c;
    for (k = 0; k < 80; k++) {
        int nat = fdj_zigzag_to_natural[k], l = 0;
        uint32_t d = (uint32_t)t[nat];
        int32_t qa = qmul[nat] < 0 ? -qmul[nat] : qmul[nat];
        L->q[k] = qmul[nat];
        L->t[k] = (int32_t)d;
        L->nat[k] = (uint8_t)nat;
        if (k < 64) {
            while (((uint32_t)1 << l) < d)
                l++; /* ceil(log2 d) */
            L->shift[k] = 31 + l;
            L->magic[k] = (((uint64_t)1 << (31 + l)) + d - 1) / d;
        } else {
            L->shift[k] = L->shift[63];
            L->magic[k] = L->magic[63];
        }
        tz[k] = (int32_t)d;
        sq[k] = qa / (int32_t)d;
        sr[k] = qa % (int32_t)d;
        quo[k] = 0;
        rem[k] = (int32_t)(d >> 1);
        neg[k] = qmul[nat] < 0 ? -1 : 0;
    }
    memset(L->lut[FDJ_RQ_LUT_HALF], 0, sizeof L->lut[0]);
    for (c = 1; c <= FDJ_RQ_LUT_HALF; c++) {
        int16_t *negr = L->lut[FDJ_RQ_LUT_HALF - c];
        /* branch-free, so the compiler vectorizes it: rem >= T at most once per step */
        for (k = 0; k < 80; k++) {
            int32_t r = rem[k] + sr[k], m = -(int32_t)(r >= tz[k]);
            rem[k] = r - (tz[k] & m);
            quo[k] += sq[k] - m;
            negr[k] = (int16_t)(((quo[k] * tz[k]) ^ ~neg[k]) - ~neg[k]);
        }
        if (c < FDJ_RQ_LUT_HALF) {
            int16_t *pos = L->lut[FDJ_RQ_LUT_HALF + c];
            for (k = 0; k < 80; k++)
                pos[k] = (int16_t)-negr[k];
        }
    }
    /* R grows with |c|: every entry fits int16 when the largest does */
    for (k = 0; k < 64; k++)
        if (quo[k] * tz[k] > 32767)
            return 0;
    /* the DC: the same at position 0 up to FDJ_RQ_DC_HALF */
    {
        int32_t q0 = 0, r0 = tz[0] >> 1;
        L->dc[FDJ_RQ_DC_HALF] = 0;
        for (c = 1; c <= FDJ_RQ_DC_HALF; c++) {
            int32_t r;
            r0 += sr[0];
            q0 += sq[0];
            if (r0 >= tz[0]) {
                r0 -= tz[0];
                q0++;
            }
            r = (q0 * tz[0] ^ neg[0]) - neg[0];
            if (q0 * tz[0] > 32767)
                return 0;
            if (c < FDJ_RQ_DC_HALF)
                L->dc[FDJ_RQ_DC_HALF + c] = (int16_t)r;
            L->dc[FDJ_RQ_DC_HALF - c] = (int16_t)-r;
        }
    }
    return 1;
}

/* A prebuilt table (fdjpeg.h): the pair it was built from, whether its entries fit
 * int16, and the table itself. */
struct fdj_rq_tables {
    uint16_t q[64], t[64]; /* natural order */
    int usable;            /* fdj_rq_lut_init's result */
    fdj_rq_lut lut;
};

int fdj_rq_tables_new(const uint16_t q[64], const uint16_t t[64], fdj_rq_tables **out)
{
    fdj_rq_tables *r;
    int32_t qmul[64], t32[64];
    int i;
    if (!out)
        return FDJ_ERR_ARGUMENT;
    *out = NULL;
    if (!q || !t)
        return FDJ_ERR_ARGUMENT;
    for (i = 0; i < 64; i++)
        if (t[i] == 0)
            return FDJ_ERR_ARGUMENT;
    r = (fdj_rq_tables *)malloc(sizeof *r);
    if (!r)
        return FDJ_ERR_NOMEM;
    memcpy(r->q, q, sizeof r->q);
    memcpy(r->t, t, sizeof r->t);
    for (i = 0; i < 64; i++) {
        qmul[i] = (int32_t)(int16_t)q[i]; /* as fdj_dequant_init */
        t32[i] = (int32_t)t[i];
    }
    r->usable = fdj_rq_lut_init(&r->lut, qmul, t32);
    *out = r;
    return FDJ_OK;
}

int fdj_rq_tables_usable(const fdj_rq_tables *r)
{
    return r ? r->usable : 0;
}

void fdj_rq_tables_free(fdj_rq_tables *r)
{
    free(r);
}

/* The caller's prebuilt table for component c's (q, T), or NULL. */
static const fdj_rq_tables *prebuilt_for(const fdj_dequant_comp *k, const uint16_t *t,
                                         const fdj_decode_options *opt)
{
    int j;
    for (j = 0; j < FDJ_MAX_COMPONENTS; j++) {
        const fdj_rq_tables *r = opt->rq_tables[j];
        if (r && !memcmp(r->q, k->q, sizeof r->q) && !memcmp(r->t, t, sizeof r->t))
            return r;
    }
    return NULL;
}

int fdj_dequant_prepare_huff(fdj_dequant *dq, const fdj_decoder *d, int ncomp)
{
    /* src[c]: the earlier component whose table c shares (same multipliers and T), or -1
     * for a table of its own: the caller's prebuilt one (pre[c]) or one built here */
    int c, j, n = 0, src[FDJ_MAX_COMPONENTS];
    const fdj_rq_tables *pre[FDJ_MAX_COMPONENTS];
    for (c = 0; c < ncomp; c++)
        if (!dq->comp[c].purify || dq->comp[c].bs != 8)
            return 0;
    for (c = 0; c < ncomp; c++) {
        const fdj_dequant_comp *k = &dq->comp[c];
        for (j = 0; j < c; j++)
            if (!memcmp(dq->comp[j].qmul, k->qmul, sizeof k->qmul) &&
                !memcmp(dq->comp[j].rq.t, k->rq.t, sizeof k->rq.t))
                break;
        src[c] = j < c ? j : -1;
        pre[c] = NULL;
        if (src[c] >= 0)
            continue;
        /* the caller's, built once for many decodes: its usable flag is what
         * fdj_rq_lut_init would return here */
        pre[c] = prebuilt_for(k, fdj_purify_table_for(&d->opt, c), &d->opt);
        if (pre[c] && !pre[c]->usable)
            return 0;
        if (!pre[c])
            n++;
    }
    if (n) {
        dq->luts = (fdj_rq_lut *)malloc((size_t)n * sizeof(fdj_rq_lut));
        if (!dq->luts)
            return FDJ_ERR_NOMEM;
    }
    n = 0;
    for (c = 0; c < ncomp; c++) {
        const fdj_dequant_comp *k = &dq->comp[c];
        if (src[c] >= 0) {
            dq->lut[c] = dq->lut[src[c]];
        } else if (pre[c]) {
            dq->lut[c] = &pre[c]->lut;
        } else if (fdj_rq_lut_init(&dq->luts[n], k->qmul, k->rq.t)) {
            dq->lut[c] = &dq->luts[n++];
        } else {
            free(dq->luts);
            dq->luts = NULL;
            memset(dq->lut, 0, sizeof dq->lut);
            return 0;
        }
    }
    return 1;
}

void fdj_dequant_free(fdj_dequant *dq)
{
    free(dq->luts);
    dq->luts = NULL;
    memset(dq->lut, 0, sizeof dq->lut);
}

/* The scalar reference of fdj_idct_pre_row_fn: the values as int32, libjpeg's IDCT. */
static void pre_row(const fdj_dequant *dq, const int16_t *x, int nblocks, uint8_t *out,
                    ptrdiff_t stride)
{
    int bx, i;
    if (dq->idct8pre) {
        dq->idct8pre(x, nblocks, out, stride);
        return;
    }
    for (bx = 0; bx < nblocks; bx++) {
        int32_t tmp[64];
        for (i = 0; i < 64; i++)
            tmp[i] = x[(size_t)bx * 64 + i];
        dq->idct8(tmp, out + (ptrdiff_t)bx * 8, stride);
    }
}

void fdj_dequant_row_pre(const fdj_dequant *dq, int c, const int16_t *coef, int nblocks,
                         const uint8_t *raw, uint8_t *out, ptrdiff_t stride)
{
    const fdj_dequant_comp *k = &dq->comp[c];
    int bx = 0;
    if (!raw) {
        pre_row(dq, coef, nblocks, out, stride);
        return;
    }
    while (bx < nblocks) {
        int run = 0;
        while (bx + run < nblocks && !raw[bx + run])
            run++;
        if (run) {
            pre_row(dq, coef + (size_t)bx * 64, run, out + (ptrdiff_t)bx * 8, stride);
            bx += run;
            continue;
        }
        /* decoded raw: dequantize + requantize + IDCT here, as fdj_dequant_row */
        {
            const int16_t *blk = coef + (size_t)bx * 64;
            uint8_t *ob = out + (ptrdiff_t)bx * 8;
            if (!dq->idct8rq || !dq->idct8rq(blk, k->qmul, &k->rq, ob, stride))
                fdj_idct_islow_rq(blk, k->qmul, &k->rq, ob, stride);
        }
        bx++;
    }
}
