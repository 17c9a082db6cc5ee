/*
 * dec_huff_mcu.h -- the sequential Huffman MCU decoder (T.81 F.2.2), written
 * once and compiled twice: dec_huff.c builds the scalar reference
 * fdj_decode_mcu_sequential_scalar, dec_huff_simd.c the same C for CPUs with
 * AVX2 + BMI1/BMI2/LZCNT (fdj_decode_mcu_sequential_bmi2: the compiler's
 * flag-free shifts and bit-field instructions on the bit buffer).
 *
 * The first include (no DEC_HUFF_MCU_NAME) gives the shared helpers only;
 * an include with DEC_HUFF_MCU_NAME / DEC_HUFF_MCU_ATTR defined gives the
 * decoder under that name and attribute (both are #undef'd after it, so one
 * file may include it again for another variant).  With DEC_HUFF_MCU_SKIP
 * also defined it is the skip decoder: the same bit-stream walk, the same DC
 * predictions and errors, but no coefficient is stored (blocks may be NULL)
 * -- for the MCUs before a region, which only advance the entropy state.
 * With DEC_HUFF_MCU_RQ (and DEC_HUFF_MCU_RAW, the plain decoder of the same
 * level) it is the one-pass FD decoder: each coefficient c is stored as its
 * requantized value R (d->rq_lut, dec_internal.h), a table lookup for small
 * |c|; if some R leaves int16 the MCU is decoded again raw from its start
 * (bit state and DC predictions restored: DEC_HUFF_MCU_RAW_SKIP, the skip
 * decoder of the same level, recovers the predictions at the MCU's start, so
 * the common path saves none) and its blocks are marked in d->rq_raw, so the
 * row stage requantizes them itself.
 * With DEC_HUFF_MCU_DCONLY it stores the DC coefficients only (the AC symbols
 * are decoded for their bits, nothing else): for decodes whose every IDCT is
 * 1x1 (scale=8), which read nothing but the DC.
 */
#ifndef FDJ_DEC_HUFF_MCU_HELPERS
#define FDJ_DEC_HUFF_MCU_HELPERS

#include "dec_internal.h"

/* dec_huff.c: load bytes until more than 56 bits are buffered or a marker or
 * the end of the data stops the loading. */
void fdj_bits_fill(fdj_bits *b);

/* F.2.2.1 EXTEND without a branch: a coefficient's sign bit is as good as
 * random, and a branch on it mispredicts half the time (this alone is a
 * quarter of the decode time of a typical photo). */
FDJ_INLINE int extend(unsigned r, int s)
{
    unsigned positive_mask = 0u - ((r >> (s - 1)) ^ 1u); /* all ones if the top bit is 0 */
    return (int)r - (int)(positive_mask & ((1u << s) - 1));
}

/* 8 bytes as a big-endian word */
FDJ_INLINE uint64_t load_be64(const uint8_t *p)
{
#if (defined(__GNUC__) || defined(__clang__)) && defined(__BYTE_ORDER__) &&                      \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t w;
    memcpy(&w, p, 8);
    return __builtin_bswap64(w);
#else
    return ((uint64_t)p[0] << 56) | ((uint64_t)p[1] << 48) | ((uint64_t)p[2] << 40) |
           ((uint64_t)p[3] << 32) | ((uint64_t)p[4] << 24) | ((uint64_t)p[5] << 16) |
           ((uint64_t)p[6] << 8) | (uint64_t)p[7];
#endif
}

#endif /* FDJ_DEC_HUFF_MCU_HELPERS */

#if defined(DEC_HUFF_MCU_NAME) && !defined(FDJ_DEC_HUFF_MCU_SLOW)
#define FDJ_DEC_HUFF_MCU_SLOW

/* Codes longer than the lookahead: the canonical maxcode walk (F.2.2.3),
 * on the caller's bit state; -1 for a bad code is mapped to 0 as libjpeg. */
static int huff_decode_slow(uint64_t *acc, int *nbits, const fdj_huff *t)
{
    int l = HUFF_LOOKAHEAD + 1;
    uint32_t code = (uint32_t)(*acc >> (64 - l));
    while ((int32_t)code > t->maxcode[l]) {
        l++;
        if (l > 16)
            break;
        code = (uint32_t)(*acc >> (64 - l));
    }
    if (l > 16) {
        /* libjpeg consumes 17 bits and returns 0 */
        *acc <<= 17;
        *nbits -= 17;
        return 0;
    }
    *acc <<= l;
    *nbits -= l;
    {
        int idx = t->valoffset[l] + (int32_t)code;
        if (idx < 0 || idx > 255)
            return 0;
        return t->vals[idx];
    }
}
#endif /* FDJ_DEC_HUFF_MCU_SLOW */

#ifdef DEC_HUFF_MCU_NAME
#if defined(DEC_HUFF_MCU_SKIP) || defined(DEC_HUFF_MCU_DCONLY)
#define SEQ_STORE(blk, k, v) ((void)(v)) /* computed for nothing: optimised away */
#elif defined(DEC_HUFF_MCU_RQ)
/* k: zigzag position (1..63 and the corrupt-run columns up to 79: the AC loop's
 * positions, so no test of k against 0 per coefficient); c: the int16 coefficient
 * value the plain decoder stores */
#define SEQ_STORE(blk, k, v)                                                                      \
    do {                                                                                          \
        int c_ = (int16_t)(v);                                                                    \
        if (FDJ_LIKELY((unsigned)(c_ + FDJ_RQ_LUT_HALF) < 2 * FDJ_RQ_LUT_HALF)) {                 \
            (blk)[lut->nat[k]] = lut->lut[c_ + FDJ_RQ_LUT_HALF][k];                               \
        } else {                                                                                  \
            int32_t r_ = fdj_rq_value(lut, (k), c_);                                              \
            if (FDJ_UNLIKELY((uint32_t)r_ + 32768u > 65535u))                                     \
                goto rq_redo;                                                                     \
            (blk)[lut->nat[k]] = (int16_t)r_;                                                     \
        }                                                                                         \
    } while (0)
#else
#define SEQ_STORE(blk, k, v) ((blk)[fdj_zigzag_to_natural[k]] = (int16_t)(v))
#endif
#ifdef DEC_HUFF_MCU_DCONLY
#define SEQ_STORE_DC(blk, v) ((blk)[0] = (int16_t)(v))
#elif defined(DEC_HUFF_MCU_RQ)
#define SEQ_STORE_DC(blk, v)                                                                      \
    do {                                                                                          \
        int c_ = (int16_t)(v);                                                                    \
        if (FDJ_LIKELY((unsigned)(c_ + FDJ_RQ_DC_HALF) < 2 * FDJ_RQ_DC_HALF)) {                   \
            (blk)[0] = lut->dc[c_ + FDJ_RQ_DC_HALF];                                              \
        } else {                                                                                  \
            int32_t r_ = fdj_rq_value(lut, 0, c_);                                                \
            if (FDJ_UNLIKELY((uint32_t)r_ + 32768u > 65535u))                                     \
                goto rq_redo;                                                                     \
            (blk)[0] = (int16_t)r_;                                                               \
        }                                                                                         \
    } while (0)
#else
#define SEQ_STORE_DC(blk, v) SEQ_STORE(blk, 0, v)
#endif
#ifdef DEC_HUFF_MCU_RQ
/* the bit state at the MCU's start, kept before the first slow refill changes it */
#define SEQ_SAVE_STATE()                                                                          \
    do {                                                                                          \
        if (!b_saved) {                                                                           \
            b0 = *b;                                                                              \
            b_saved = 1;                                                                          \
        }                                                                                         \
    } while (0)
#else
#define SEQ_SAVE_STATE() ((void)0)
#endif

/* The bit buffer lives in locals here (the compiler cannot keep b->acc in a
 * register across stores to int16 blocks and int fields), and so do the
 * read position and the last position from which 8 bytes may be read at once
 * (lim: 0 once a marker or the end was seen).  A refill reads the next 8
 * bytes as one big-endian word; when none of them is 0xFF it ORs the whole
 * word in below the buffered bits and counts the bytes that fit completely
 * (nbits becomes 56..63).  The few bits of the next byte that also land in
 * acc are that byte's own bits: whichever refill takes the byte later ORs the
 * same bits in again, and no marker can come before it, so the zeros libjpeg
 * feeds past a marker stay zeros.  One refill to more than 55 bits covers a
 * code (<= 16 bits) and its extra bits (<= 15). */
#define SEQ_LIM() (!b->marker_hit && b->size >= 8 ? b->size - 7 : 0)
#define SEQ_REFILL()                                                                              \
    do {                                                                                          \
        if (nbits < 32) {                                                                         \
            if (FDJ_LIKELY(pos < lim)) {                                                          \
                uint64_t w_ = load_be64(b->data + pos);                                           \
                uint64_t i_ = ~w_;                                                                \
                if (FDJ_LIKELY(((i_ - 0x0101010101010101ULL) & ~i_ & 0x8080808080808080ULL) == 0)) { \
                    acc |= w_ >> nbits;                                                           \
                    pos += (size_t)((63 - nbits) >> 3);                                           \
                    nbits |= 56;                                                                  \
                    break;                                                                        \
                }                                                                                 \
            }                                                                                     \
            SEQ_SAVE_STATE();                                                                     \
            b->acc = acc;                                                                         \
            b->nbits = nbits;                                                                     \
            b->pos = pos;                                                                         \
            fdj_bits_fill(b);                                                                     \
            acc = b->acc;                                                                         \
            nbits = b->nbits;                                                                     \
            pos = b->pos;                                                                         \
            lim = SEQ_LIM();                                                                      \
        }                                                                                         \
    } while (0)
#define SEQ_DECODE(sym, t)                                                                        \
    do {                                                                                          \
        int e_ = (t)->look[acc >> (64 - HUFF_LOOKAHEAD)];                                         \
        if (FDJ_LIKELY(e_)) {                                                                     \
            acc <<= (e_ >> 8);                                                                    \
            nbits -= (e_ >> 8);                                                                   \
            (sym) = e_ & 0xFF;                                                                    \
        } else {                                                                                  \
            (sym) = huff_decode_slow(&acc, &nbits, (t));                                          \
        }                                                                                         \
    } while (0)

DEC_HUFF_MCU_ATTR int DEC_HUFF_MCU_NAME(fdj_decoder *d, int16_t *const blocks[], int nblocks,
                                        const int block_comp[])
{
    fdj_bits *b = &d->br;
    uint64_t acc;
    int n, nbits;
    size_t pos, lim;
#ifdef DEC_HUFF_MCU_RQ
    fdj_bits b0;
    int b_saved = 0;
#endif
#ifdef DEC_HUFF_MCU_SKIP
    (void)blocks;
#endif
    if (d->insufficient)
        return FDJ_OK; /* rest of the restart interval stays zero, as libjpeg */
    acc = b->acc;
    nbits = b->nbits;
    pos = b->pos;
    lim = SEQ_LIM();
    for (n = 0; n < nblocks; n++) {
#ifndef DEC_HUFF_MCU_SKIP
        int16_t *blk = blocks[n];
#endif
        int si = block_comp[n]; /* index into the scan's component list */
        fdj_dcomp *comp = &d->comp[d->scan_comp[si]];
        const fdj_huff *dct = &d->dc[d->scan_td[si]];
        const fdj_huff *act = &d->ac[d->scan_ta[si]];
#ifdef DEC_HUFF_MCU_RQ
        const fdj_rq_lut *lut = d->rq_lut[d->scan_comp[si]];
        ptrdiff_t k;
        int s, dc_pred = comp->dc_pred;
#else
        int s, k, dc_pred = comp->dc_pred;
#endif
        SEQ_REFILL();
        SEQ_DECODE(s, dct);
        if (s) {
            unsigned r = (unsigned)(acc >> (64 - s));
            acc <<= s;
            nbits -= s;
            s = extend(r, s);
        }
        if ((dc_pred >= 0 && s > INT32_MAX - dc_pred) || (dc_pred < 0 && s < INT32_MIN - dc_pred)) {
            b->acc = acc;
            b->nbits = nbits;
            b->pos = pos;
            return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "DC coefficient overflow (corrupt data)");
        }
        dc_pred += s;
        comp->dc_pred = dc_pred;
        SEQ_STORE_DC(blk, dc_pred);
        for (k = 1; k < 64; k++) {
            int rs, r, f;
            SEQ_REFILL();
#ifdef DEC_HUFF_MCU_RQ
            /* fast_rq: only values in the lookup table's range, biased to its index */
            f = act->fast_rq[acc >> (64 - HUFF_LOOKAHEAD)];
            if (FDJ_LIKELY(f)) {
                k += (f >> 8) & 15;
                acc <<= (f & 0xFF);
                nbits -= (f & 0xFF);
                blk[lut->nat[k]] = (&lut->lut[0][0])[(size_t)k + ((uint32_t)f >> 16)];
                continue;
            }
#else
            f = act->fast_ac[acc >> (64 - HUFF_LOOKAHEAD)];
            if (FDJ_LIKELY(f)) {
                /* code and extra bits in one lookup: same bits, same value as below */
                k += (f >> 8) & 15;
                acc <<= (f & 0xFF);
                nbits -= (f & 0xFF);
                SEQ_STORE(blk, k, f >> 16);
                continue;
            }
#endif
            SEQ_DECODE(rs, act);
            r = rs >> 4;
            s = rs & 15;
            if (s) {
                unsigned v = (unsigned)(acc >> (64 - s));
                acc <<= s;
                nbits -= s;
                k += r;
                SEQ_STORE(blk, k, extend(v, s));
            } else {
                if (r != 15)
                    break;
                k += 15;
            }
        }
    }
    b->acc = acc;
    b->nbits = nbits;
    b->pos = pos;
    if (nbits < 0)
        d->insufficient = 1;
    return FDJ_OK;
#ifdef DEC_HUFF_MCU_RQ
rq_redo:
    /* a requantized value outside int16 (hostile data or tables): the MCU again, raw.
     * The bit state at the MCU's start is b0, or *b itself while no slow refill has
     * written it.  The DC predictions now include the DC differences of blocks 0..n:
     * the skip decoder walks those blocks again from that bit state with every
     * prediction at 0, which leaves their sums (a few int16-sized differences: no
     * overflow), and the predictions at the start are now - sum. */
    {
        int st, i, ins = d->insufficient, now[FDJ_MAX_COMPONENTS];
        if (b_saved)
            *b = b0;
        else
            b0 = *b;
        for (i = 0; i < d->scan_ncomp; i++) {
            now[i] = d->comp[d->scan_comp[i]].dc_pred;
            d->comp[d->scan_comp[i]].dc_pred = 0;
        }
        st = DEC_HUFF_MCU_RAW_SKIP(d, NULL, n + 1, block_comp);
        for (i = 0; i < d->scan_ncomp; i++)
            d->comp[d->scan_comp[i]].dc_pred = now[i] - d->comp[d->scan_comp[i]].dc_pred;
        *b = b0;
        d->insufficient = ins;
        if (st != FDJ_OK)
            return st;
        for (n = 0; n < nblocks; n++)
            memset(blocks[n], 0, 64 * sizeof(int16_t));
        st = DEC_HUFF_MCU_RAW(d, blocks, nblocks, block_comp);
        for (n = 0; n < nblocks; n++) {
            int ci = d->scan_comp[block_comp[n]];
            d->rq_raw[ci][(size_t)(blocks[n] - d->rq_base[ci]) / 64] = 1;
        }
        d->rq_any_raw = 1;
        return st;
    }
#endif
}
#undef SEQ_SAVE_STATE
#undef SEQ_STORE_DC
#undef SEQ_REFILL
#undef SEQ_DECODE
#undef SEQ_LIM
#undef SEQ_STORE
#undef DEC_HUFF_MCU_NAME
#undef DEC_HUFF_MCU_ATTR
#undef DEC_HUFF_MCU_SKIP
#undef DEC_HUFF_MCU_RQ
#undef DEC_HUFF_MCU_RAW
#undef DEC_HUFF_MCU_RAW_SKIP
#undef DEC_HUFF_MCU_DCONLY

#endif /* DEC_HUFF_MCU_NAME */
