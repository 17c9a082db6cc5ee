/*
 * dec_huff.c -- Huffman entropy decoding: sequential (T.81 F.2.2) and
 * progressive (G.2) scans, restart markers (F.2.2.5 / libjpeg's resync rules).
 *
 * Decoding uses a 64-bit left-aligned bit buffer and a 9-bit lookahead table,
 * falling back to the canonical maxcode walk for longer codes.  When a marker
 * or the end of data stops the loading, zero bits are supplied and the
 * "insufficient data" state of libjpeg is reproduced: the current MCU is
 * finished with zeros and the rest of the restart interval is left at zero.
 */
#include "dec_internal.h"
#include "dec_huff_mcu.h"

/* Derive the decoding lookup of a stored table (T.81 C.2, F.2.2.3 / libjpeg's
 * jpeg_make_d_derived_tbl): code lengths -> canonical codes, maxcode/valoffset,
 * the 9-bit lookahead and the AC fast path.  FDJ_ERR_CORRUPT if the code space
 * overflows (or, with is_dc, a DC symbol exceeds 15). */
static int huff_build(fdj_huff *t, int is_dc)
{
    uint8_t huffsize[257];
    uint32_t huffcode[257];
    int p = 0, l, i, si, numsymbols;
    uint32_t code;

    for (l = 1; l <= 16; l++) {
        int n = t->bits[l];
        if (p + n > 256)
            return FDJ_ERR_CORRUPT;
        while (n--)
            huffsize[p++] = (uint8_t)l;
    }
    huffsize[p] = 0;
    numsymbols = p;

    code = 0;
    si = huffsize[0];
    p = 0;
    while (huffsize[p]) {
        while ((int)huffsize[p] == si) {
            huffcode[p++] = code;
            code++;
        }
        if (code >= (1u << si))
            return FDJ_ERR_CORRUPT; /* code space overflow */
        code <<= 1;
        si++;
    }

    p = 0;
    for (l = 1; l <= 16; l++) {
        if (t->bits[l]) {
            t->valoffset[l] = p - (int32_t)huffcode[p];
            p += t->bits[l];
            t->maxcode[l] = (int32_t)huffcode[p - 1];
        } else {
            t->maxcode[l] = -1;
        }
    }
    t->valoffset[17] = 0;
    t->maxcode[17] = 0x7FFFFFFF;

    memset(t->look, 0, sizeof t->look);
    p = 0;
    for (l = 1; l <= HUFF_LOOKAHEAD; l++) {
        for (i = 1; i <= t->bits[l]; i++, p++) {
            int lookbits = (int)(huffcode[p] << (HUFF_LOOKAHEAD - l));
            int ctr;
            for (ctr = 1 << (HUFF_LOOKAHEAD - l); ctr > 0; ctr--)
                t->look[lookbits++] = (uint16_t)((l << 8) | t->vals[p]);
        }
    }
    /* AC fast path (used only where the table decodes AC coefficients) */
    for (i = 0; i < (1 << HUFF_LOOKAHEAD); i++) {
        int e = t->look[i], fast = 0;
        if (e) {
            int len = e >> 8, run = (e >> 4) & 15, s = e & 15;
            if (s && len + s <= HUFF_LOOKAHEAD) {
                int v = (i >> (HUFF_LOOKAHEAD - len - s)) & ((1 << s) - 1);
                if (v < (1 << (s - 1)))
                    v -= (1 << s) - 1; /* EXTEND */
                fast = (int)((uint32_t)v << 16) | (run << 8) | (len + s);
            }
        }
        t->fast_ac[i] = fast;
    }
    if (is_dc) {
        for (i = 0; i < numsymbols; i++)
            if (t->vals[i] > 15)
                return FDJ_ERR_CORRUPT;
    }
    return FDJ_OK;
}

void fdj_huff_build_fast_rq(fdj_huff *t)
{
    int i;
    for (i = 0; i < (1 << HUFF_LOOKAHEAD); i++) {
        int32_t f = t->fast_ac[i], v = f >> 16;
        t->fast_rq[i] = f && v >= -FDJ_RQ_LUT_HALF && v < FDJ_RQ_LUT_HALF
                            ? (int32_t)((uint32_t)(v + FDJ_RQ_LUT_HALF) * 80u << 16) | (f & 0xFFFF)
                            : 0;
    }
}

void fdj_bits_init(fdj_bits *b, const uint8_t *data, size_t size, size_t pos)
{
    b->data = data;
    b->size = size;
    b->pos = pos;
    b->acc = 0;
    b->nbits = 0;
    b->marker_hit = 0;
    b->hit_end = 0;
    b->zero_fed = 0;
}

size_t fdj_bits_position(const fdj_bits *b) { return b->pos; }

/* Load bytes until at least 57 bits are buffered or a marker/end stops us. */
void fdj_bits_fill(fdj_bits *b)
{
    const uint8_t *p = b->data;
    size_t pos = b->pos, n = b->size;
    if (b->marker_hit || b->nbits < 0)
        return;
    /* fast path: the next 8 bytes hold no 0xFF, so the bytes needed can be
     * taken at once (the byte loop below would take the same ones) */
    if (b->nbits <= 56 && pos <= n && n - pos >= 8) {
        uint64_t w = ((uint64_t)p[pos] << 56) | ((uint64_t)p[pos + 1] << 48) |
                     ((uint64_t)p[pos + 2] << 40) | ((uint64_t)p[pos + 3] << 32) |
                     ((uint64_t)p[pos + 4] << 24) | ((uint64_t)p[pos + 5] << 16) |
                     ((uint64_t)p[pos + 6] << 8) | (uint64_t)p[pos + 7];
        uint64_t inv = ~w;
        if (((inv - 0x0101010101010101ULL) & ~inv & 0x8080808080808080ULL) == 0) {
            int k = (64 - b->nbits) >> 3; /* bytes until more than 56 bits are held */
            b->acc |= (w >> (64 - 8 * k)) << (64 - b->nbits - 8 * k);
            b->nbits += 8 * k;
            b->pos = pos + (size_t)k;
            return;
        }
    }
    while (b->nbits <= 56) {
        unsigned c;
        if (pos >= n) {
            b->marker_hit = 1;
            b->hit_end = 1;
            break;
        }
        c = p[pos];
        if (c == 0xFF) {
            size_t q = pos + 1;
            while (q < n && p[q] == 0xFF)
                q++;
            if (q >= n) {
                b->marker_hit = 1;
                b->hit_end = 1;
                break;
            }
            if (p[q] != 0) {
                b->marker_hit = 1; /* a marker: leave pos on its first 0xFF */
                break;
            }
            pos = q + 1;
        } else {
            pos++;
        }
        b->acc |= (uint64_t)c << (56 - b->nbits);
        b->nbits += 8;
    }
    b->pos = pos;
}

FDJ_INLINE void ensure(fdj_bits *b, int n)
{
    if (b->nbits < n)
        fdj_bits_fill(b);
}

FDJ_INLINE unsigned get_bits(fdj_bits *b, int n)
{
    unsigned v;
    if (n == 0)
        return 0;
    ensure(b, n);
    v = (unsigned)(b->acc >> (64 - n));
    b->acc <<= n;
    b->nbits -= n; /* may go negative: zeros past a marker */
    return v;
}

/* Returns the symbol, or -1 for a bad code (libjpeg warns and uses 0). */
FDJ_INLINE int huff_decode(fdj_bits *b, const fdj_huff *t)
{
    int e, l;
    uint32_t code;
    ensure(b, 32);
    e = t->look[b->acc >> (64 - HUFF_LOOKAHEAD)];
    if (FDJ_LIKELY(e)) {
        l = e >> 8;
        b->acc <<= l;
        b->nbits -= l;
        return e & 0xFF;
    }
    l = HUFF_LOOKAHEAD + 1;
    code = (uint32_t)(b->acc >> (64 - l));
    while ((int32_t)code > t->maxcode[l]) {
        l++;
        if (l > 16)
            break;
        code = (uint32_t)(b->acc >> (64 - l));
    }
    if (l > 16) {
        /* libjpeg consumes 17 bits and returns 0 */
        b->acc <<= 17;
        b->nbits -= 17;
        return 0;
    }
    b->acc <<= l;
    b->nbits -= l;
    {
        int idx = t->valoffset[l] + (int32_t)code;
        if (idx < 0 || idx > 255)
            return 0;
        return t->vals[idx];
    }
}


/* libjpeg-turbo falls back to the Annex K tables for slots 0/1 a file never
 * defines (motion-JPEG frames omit DHT). */
static int table_for(fdj_decoder *d, fdj_huff *t, int is_dc, int slot)
{
    if (t->defined && !t->built) {
        /* a DHT table is derived when a scan first needs it (as libjpeg); DC symbol
         * ranges depend on the frame and are checked by the caller */
        t->broken = huff_build(t, 0) != FDJ_OK;
        t->built = 1;
    }
    if (t->defined && t->broken)
        return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "bad Huffman table %d (code lengths overflow)", slot);
    if (t->defined)
        return FDJ_OK;
    /* only libjpeg's sequential Huffman decoder installs the Annex K defaults */
    if (slot > 1 || d->info.progressive || d->info.lossless)
        return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "Huffman table %d is not defined", slot);
    {
        const uint8_t *bits, *vals;
        int k, n = 0;
        fdj_std_huff_table(!is_dc, slot, &bits, &vals);
        memset(t, 0, sizeof *t);
        memcpy(t->bits, bits, 17);
        for (k = 1; k <= 16; k++)
            n += bits[k];
        memcpy(t->vals, vals, (size_t)n);
    }
    t->defined = 1;
    t->built = 1;
    return huff_build(t, is_dc);
}

int fdj_prepare_scan_tables(fdj_decoder *d)
{
    int i, st;
    {
        fdj_kernels k;
        fdj_kernels_init(&k, fdj_simd_level_cpu(d->opt.cpu));
        d->huff_mcu_seq = k.huff_mcu_seq;
        d->huff_mcu_seq_rq = k.huff_mcu_seq_rq;
        d->huff_mcu_seq_dc = k.huff_mcu_seq_dc;
    }
    for (i = 0; i < d->scan_ncomp; i++) {
        int need_dc = !d->info.progressive || (d->Ss == 0 && d->Ah == 0);
        int need_ac = !d->info.progressive || d->Ss != 0;
        if (d->info.lossless)
            need_ac = 0, need_dc = 1;
        if (d->info.arithmetic) {
            /* conditioning tables 0..15 (jdarith.c); the statistics are reset per scan */
            if ((need_dc && d->scan_td[i] > 15) || (need_ac && d->scan_ta[i] > 15))
                return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "bad arithmetic table selector in scan %d",
                                    d->info.num_scans);
            continue;
        }
        /* libjpeg checks a selector only when the scan needs that table */
        if ((need_dc && d->scan_td[i] > 3) || (need_ac && d->scan_ta[i] > 3))
            return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "bad Huffman table selector in scan %d",
                                d->info.num_scans);
        if (need_dc) {
            const fdj_huff *t = &d->dc[d->scan_td[i]];
            int k, n = 0, maxsym = d->info.lossless ? 16 : 15;
            if ((st = table_for(d, &d->dc[d->scan_td[i]], 1, d->scan_td[i])) != FDJ_OK)
                return st;
            for (k = 1; k <= 16; k++)
                n += t->bits[k];
            for (k = 0; k < n; k++)
                if (t->vals[k] > maxsym)
                    return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "bad Huffman table: DC symbol %d",
                                        t->vals[k]);
        }
        if (need_ac && (st = table_for(d, &d->ac[d->scan_ta[i]], 0, d->scan_ta[i])) != FDJ_OK)
            return st;
    }
    return FDJ_OK;
}

void fdj_reset_entropy(fdj_decoder *d)
{
    int c;
    for (c = 0; c < d->ncomp; c++)
        d->comp[c].dc_pred = 0;
    d->eobrun = 0;
    d->arith.need_reset = 1;
}

/* The sequential MCU decoder (dec_huff_mcu.h) of the decoder's kernel level:
 * the scalar reference here, the BMI2 build in dec_huff_simd.c. */
#define DEC_HUFF_MCU_NAME fdj_decode_mcu_sequential_scalar
#define DEC_HUFF_MCU_ATTR
#include "dec_huff_mcu.h"
/* and its skip variant: entropy state only, nothing stored */
#define DEC_HUFF_MCU_NAME fdj_skip_mcu_sequential_scalar
#define DEC_HUFF_MCU_ATTR
#define DEC_HUFF_MCU_SKIP
#include "dec_huff_mcu.h"
/* its DC-only variant (scale=8: 1x1 IDCTs read nothing else) */
#define DEC_HUFF_MCU_NAME fdj_decode_mcu_sequential_dc_scalar
#define DEC_HUFF_MCU_ATTR
#define DEC_HUFF_MCU_DCONLY
#include "dec_huff_mcu.h"
/* and its one-pass FD variant: requantized values stored (d->rq_lut) */
#define DEC_HUFF_MCU_NAME fdj_decode_mcu_sequential_rq_scalar
#define DEC_HUFF_MCU_ATTR
#define DEC_HUFF_MCU_RQ
#define DEC_HUFF_MCU_RAW fdj_decode_mcu_sequential_scalar
#define DEC_HUFF_MCU_RAW_SKIP fdj_skip_mcu_sequential_scalar
#include "dec_huff_mcu.h"

int fdj_decode_mcu_sequential(fdj_decoder *d, int16_t *const blocks[], int nblocks,
                              const int block_comp[])
{
    fdj_huff_mcu_fn fn = d->huff_mcu_seq ? d->huff_mcu_seq : fdj_decode_mcu_sequential_scalar;
    return fn(d, blocks, nblocks, block_comp);
}

int fdj_skip_mcu_sequential(fdj_decoder *d, int nblocks, const int block_comp[])
{
#ifdef FDJ_X86_SIMD
    if (d->huff_mcu_seq == fdj_decode_mcu_sequential_bmi2)
        return fdj_skip_mcu_sequential_bmi2(d, NULL, nblocks, block_comp);
#endif
    return fdj_skip_mcu_sequential_scalar(d, NULL, nblocks, block_comp);
}

int fdj_huff_decode_diff(fdj_decoder *d, const fdj_huff *t)
{
    fdj_bits *b = &d->br;
    int s = huff_decode(b, t);
    if (s == 0)
        return 0;
    if (s >= 16)
        return 32768;
    return extend(get_bits(b, s), s);
}

void fdj_huff_decode_diff_row(fdj_decoder *d, const fdj_huff *t, int32_t *out, int n)
{
    fdj_bits *b = &d->br;
    int i;
    for (i = 0; i < n; i++) {
        int s = huff_decode(b, t);
        out[i] = s == 0 ? 0 : s >= 16 ? 32768 : extend(get_bits(b, s), s);
    }
}

static void refine_coef(fdj_bits *b, int16_t *c, int p1, int m1)
{
    if (get_bits(b, 1)) {
        if ((*c & p1) == 0)
            *c = (int16_t)(*c >= 0 ? *c + p1 : *c + m1);
    }
}

int fdj_decode_mcu_progressive(fdj_decoder *d, int16_t *const blocks[], int nblocks,
                               const int block_comp[])
{
    fdj_bits *b = &d->br;
    int n, Al = d->Al;
    if (d->insufficient)
        return FDJ_OK;
    if (d->Ss == 0) {
        for (n = 0; n < nblocks; n++) {
            int16_t *blk = blocks[n];
            int si = block_comp[n];
            if (d->Ah == 0) {
                fdj_dcomp *comp = &d->comp[d->scan_comp[si]];
                int s = huff_decode(b, &d->dc[d->scan_td[si]]);
                if (s) {
                    int r = (int)get_bits(b, s);
                    s = extend((unsigned)r, s);
                }
                if ((comp->dc_pred >= 0 && s > INT32_MAX - comp->dc_pred) ||
                    (comp->dc_pred < 0 && s < INT32_MIN - comp->dc_pred))
                    return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "DC coefficient overflow (corrupt data)");
                comp->dc_pred += s;
                blk[0] = (int16_t)((uint32_t)comp->dc_pred << Al);
            } else {
                if (get_bits(b, 1))
                    blk[0] = (int16_t)(blk[0] | (1 << Al));
            }
        }
    } else if (d->Ah == 0) {
        int16_t *blk = blocks[0];
        const fdj_huff *act = &d->ac[d->scan_ta[0]];
        int k, Se = d->Se;
        if (d->eobrun > 0) {
            d->eobrun--;
        } else {
            for (k = d->Ss; k <= Se; k++) {
                int rs = huff_decode(b, act), r = rs >> 4, s = rs & 15;
                if (s) {
                    unsigned v;
                    k += r;
                    v = get_bits(b, s);
                    blk[fdj_zigzag_to_natural[k]] = (int16_t)((uint32_t)extend(v, s) << Al);
                } else {
                    if (r == 15) {
                        k += 15;
                    } else {
                        d->eobrun = 1 << r;
                        if (r)
                            d->eobrun += (int)get_bits(b, r);
                        d->eobrun--;
                        break;
                    }
                }
            }
        }
    } else {
        int16_t *blk = blocks[0];
        const fdj_huff *act = &d->ac[d->scan_ta[0]];
        int p1 = 1 << Al, m1 = (int)(~0u << Al), k = d->Ss, Se = d->Se;
        if (d->eobrun == 0) {
            for (; k <= Se; k++) {
                int rs = huff_decode(b, act), r = rs >> 4, s = rs & 15;
                if (s) {
                    s = get_bits(b, 1) ? p1 : m1;
                } else if (r != 15) {
                    d->eobrun = 1 << r;
                    if (r)
                        d->eobrun += (int)get_bits(b, r);
                    break;
                }
                do {
                    int16_t *c = blk + fdj_zigzag_to_natural[k];
                    if (*c != 0) {
                        refine_coef(b, c, p1, m1);
                    } else {
                        if (--r < 0)
                            break;
                    }
                    k++;
                } while (k <= Se);
                if (s)
                    blk[fdj_zigzag_to_natural[k]] = (int16_t)s;
            }
        }
        if (d->eobrun > 0) {
            for (; k <= Se; k++) {
                int16_t *c = blk + fdj_zigzag_to_natural[k];
                if (*c != 0)
                    refine_coef(b, c, p1, m1);
            }
            d->eobrun--;
        }
    }
    if (b->nbits < 0)
        d->insufficient = 1;
    return FDJ_OK;
}

/* jpeg_resync_to_restart's decision, given the marker found where RSTn was due. */
static int resync_action(int marker, int desired)
{
    if (marker < 0xC0)
        return 2;
    if (marker < 0xD0 || marker > 0xD7)
        return 3;
    if (marker == 0xD0 + ((desired + 1) & 7) || marker == 0xD0 + ((desired + 2) & 7))
        return 3;
    if (marker == 0xD0 + ((desired - 1) & 7) || marker == 0xD0 + ((desired - 2) & 7))
        return 2;
    return 1;
}

int fdj_process_restart(fdj_decoder *d)
{
    int marker, st, desired = d->next_restart, unread = 0;
    size_t marker_pos;
    /* discard buffered bits; find the next marker from where the reader stopped */
    d->pos = d->br.pos;
    for (;;) {
        marker_pos = d->pos;
        st = fdj_next_marker(d, &marker);
        if (st != FDJ_OK)
            return st;
        if (marker == 0xD0 + desired)
            break;
        {
            int action = resync_action(marker, desired);
            if (action == 1)
                break;
            if (action == 3) {
                /* leave the marker unread: the entropy decoder sees an empty segment */
                d->pos = marker_pos;
                d->nmarkers--;
                unread = 1;
                break;
            }
            /* action 2: scan on */
        }
    }
    fdj_bits_init(&d->br, d->data, d->size, d->pos);
    if (unread)
        d->br.marker_hit = 1;
    d->next_restart = (d->next_restart + 1) & 7;
    fdj_reset_entropy(d);
    if (!unread)
        d->insufficient = 0;
    return FDJ_OK;
}
