/*
 * enc_huff.c -- Huffman entropy coding of the quantized blocks: sequential
 * (T.81 F.1.2) and progressive (G.1.2: DC first/refine, AC first/refine with
 * EOB runs and buffered correction bits), the Annex K.3 tables, optimal tables
 * built as libjpeg's jpeg_gen_optimal_table does (K.2 with the same tie
 * breaking, so optimized files equal libjpeg's byte for byte), restart
 * intervals, and the driver that writes a whole file (fdj_enc_write_file).
 */
#include "enc_internal.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

void fdj_huff_std_spec(int ac, int chroma, fdj_huff_spec *out)
{
    const uint8_t *bits, *vals;
    int k, n = 0;
    fdj_std_huff_table(ac, chroma, &bits, &vals);
    memset(out, 0, sizeof *out);
    for (k = 1; k <= 16; k++) {
        out->bits[k] = bits[k];
        n += bits[k];
    }
    memcpy(out->vals, vals, (size_t)n);
    out->nvals = n;
}

/* Canonical codes (T.81 C.2): lengths in order, codes counting up. */
int fdj_huff_derive(const fdj_huff_spec *s, fdj_huff_code *c, char *msg)
{
    int k, i, p = 0;
    uint32_t code = 0;
    memset(c, 0, sizeof *c);
    for (k = 1; k <= 16; k++) {
        for (i = 0; i < s->bits[k]; i++, p++) {
            int sym;
            if (p >= s->nvals)
                return fdj_fail(msg, FDJ_ERR_ARGUMENT, "Huffman table lists too few symbols");
            sym = s->vals[p];
            if (c->size[sym])
                return fdj_fail(msg, FDJ_ERR_ARGUMENT, "Huffman table repeats symbol %d", sym);
            c->code[sym] = (uint16_t)code;
            c->size[sym] = (uint8_t)k;
            code++;
        }
        /* all-ones codes are reserved: the next length must start below 2^k */
        if (code >= ((uint32_t)1 << k))
            return fdj_fail(msg, FDJ_ERR_ARGUMENT, "bad Huffman table (code space overflow)");
        code <<= 1;
    }
    return FDJ_OK;
}

/* K.2 with libjpeg's details: symbol 256 reserves the all-ones code; among
 * equal frequencies the larger symbol value is merged first; lengths above 16
 * are folded down as in Figure K.3. */
int fdj_huff_optimal(const uint32_t freq_in[257], fdj_huff_spec *out, char *msg)
{
    uint32_t freq[257];
    int codesize[257], others[257], bits[33];
    int i, j, k, c1, c2, p;
    uint32_t v;
    memcpy(freq, freq_in, sizeof freq);
    freq[256] = 1;
    for (i = 0; i < 257; i++) {
        codesize[i] = 0;
        others[i] = -1;
    }
    memset(bits, 0, sizeof bits);
    for (;;) {
        c1 = -1;
        v = UINT32_MAX;
        for (i = 0; i <= 256; i++)
            if (freq[i] && freq[i] <= v) {
                v = freq[i];
                c1 = i;
            }
        c2 = -1;
        v = UINT32_MAX;
        for (i = 0; i <= 256; i++)
            if (freq[i] && freq[i] <= v && i != c1) {
                v = freq[i];
                c2 = i;
            }
        if (c2 < 0)
            break;
        freq[c1] += freq[c2];
        freq[c2] = 0;
        codesize[c1]++;
        while (others[c1] >= 0) {
            c1 = others[c1];
            codesize[c1]++;
        }
        others[c1] = c2;
        codesize[c2]++;
        while (others[c2] >= 0) {
            c2 = others[c2];
            codesize[c2]++;
        }
    }
    for (i = 0; i <= 256; i++) {
        if (codesize[i]) {
            if (codesize[i] > 32)
                return fdj_fail(msg, FDJ_ERR_ARGUMENT, "Huffman code length overflow");
            bits[codesize[i]]++;
        }
    }
    for (i = 32; i > 16; i--) {
        while (bits[i] > 0) {
            j = i - 2;
            while (bits[j] == 0)
                j--;
            bits[i] -= 2;
            bits[i - 1]++;
            bits[j + 1] += 2;
            bits[j]--;
        }
    }
    while (bits[i] == 0)
        i--;
    bits[i]--; /* remove the reserved code */
    memset(out, 0, sizeof *out);
    for (k = 1; k <= 16; k++)
        out->bits[k] = (uint8_t)bits[k];
    p = 0;
    for (k = 1; k <= 32; k++)
        for (j = 0; j <= 255; j++)
            if (codesize[j] == k)
                out->vals[p++] = (uint8_t)j;
    out->nvals = p;
    return FDJ_OK;
}

/* ---- bit writer ------------------------------------------------------------ */
typedef struct bitwriter {
    fdj_buf *out;
    uint64_t acc;
    int nbits;
} bitwriter;

/* Room for one MCU's worth of output (10 blocks x 64 codes x 32 bits, doubled
 * for 0xFF stuffing, plus progressive correction bits). */
#define MCU_RESERVE 8192

/* Bits accumulate in a 64-bit word and go out as bytes (with 0xFF stuffing)
 * only when the word would overflow, so most codes cost a shift and an or. */
static void flush_bytes(bitwriter *w)
{
    uint8_t *p = w->out->data + w->out->size;
    while (w->nbits >= 8) {
        uint8_t byte;
        w->nbits -= 8;
        byte = (uint8_t)(w->acc >> w->nbits);
        *p++ = byte;
        if (byte == 0xFF)
            *p++ = 0;
    }
    w->out->size = (size_t)(p - w->out->data);
}

/* code must already be masked to size bits; size <= 32 */
FDJ_INLINE void put_bits(bitwriter *w, uint32_t code, int size)
{
    if (w->nbits + size > 64)
        flush_bytes(w);
    w->acc = (w->acc << size) | code;
    w->nbits += size;
}

/* pad with 1-bits to a byte boundary (T.81 F.1.2.3) and write everything out */
static void flush_bits(bitwriter *w)
{
    if (w->nbits & 7)
        put_bits(w, 0x7F >> ((w->nbits & 7) - 1), 8 - (w->nbits & 7));
    flush_bytes(w);
    w->acc = 0;
    w->nbits = 0;
}

FDJ_INLINE int nbits_of(uint32_t a)
{
#if defined(__GNUC__) || defined(__clang__)
    return a ? 32 - __builtin_clz(a) : 0;
#else
    int n = 0;
    while (a) {
        n++;
        a >>= 1;
    }
    return n;
#endif
}

FDJ_INLINE int lowest_bit(uint64_t m)
{
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_ctzll(m);
#else
    int k = 0;
    while (!(m & 1)) {
        m >>= 1;
        k++;
    }
    return k;
#endif
}

FDJ_INLINE uint32_t low_bits(int32_t v, int n)
{
    return (uint32_t)v & (((uint32_t)1 << n) - 1);
}

/* ---- scans ----------------------------------------------------------------- */
typedef struct scan_desc {
    int ncomps;
    int comps[FDJ_MAX_COMPONENTS];
    int ss, se, ah, al;
} scan_desc;

/* The coding state shared by sequential and progressive scans. */
typedef struct coder {
    const fdj_enc_frame *f;
    const scan_desc *scan;
    int gather;                           /* count symbols instead of writing */
    uint32_t dc_freq[4][257], ac_freq[4][257];
    fdj_huff_code dc_code[4], ac_code[4];
    bitwriter w;
    int last_dc[FDJ_MAX_COMPONENTS];
    /* progressive AC state */
    int ac_tbl;
    uint32_t eobrun;
    int be;                               /* buffered correction bits */
    uint8_t bit_buffer[1024];
    int restart_interval, restarts_to_go, next_rst;
    char *msg;
    int status;
} coder;

FDJ_INLINE void emit_symbol(coder *cd, int ac, int tbl, int sym)
{
    if (cd->gather) {
        (ac ? cd->ac_freq : cd->dc_freq)[tbl][sym]++;
        return;
    }
    {
        const fdj_huff_code *hc = ac ? &cd->ac_code[tbl] : &cd->dc_code[tbl];
        if (FDJ_UNLIKELY(hc->size[sym] == 0)) {
            if (cd->status == FDJ_OK)
                cd->status = fdj_fail(cd->msg, FDJ_ERR_ARGUMENT,
                                      "no Huffman code for %s symbol 0x%02x (coefficient out of range)",
                                      ac ? "AC" : "DC", sym);
            return;
        }
        put_bits(&cd->w, hc->code[sym], hc->size[sym]);
    }
}

FDJ_INLINE void emit_bits(coder *cd, uint32_t bits, int n)
{
    if (!cd->gather && n)
        put_bits(&cd->w, bits & (((uint32_t)1 << n) - 1), n);
}

static void range_error(coder *cd, int comp)
{
    if (cd->status == FDJ_OK)
        cd->status = fdj_fail(cd->msg, FDJ_ERR_ARGUMENT,
                              "coefficient out of range for %d-bit JPEG in component %d",
                              cd->f->precision == 12 ? 12 : 8, comp);
}

/* Blocks are stored in zigzag order (the quantizer writes them so), which is
 * the order every scan reads them in. */

/* Zigzag positions 1..63 of the nonzero coefficients of a zigzag block. */
FDJ_INLINE uint64_t nonzero_ac(const int16_t *zz)
{
#if defined(__SSE2__)
    const __m128i zero = _mm_setzero_si128();
    uint64_t m = 0;
    int k;
    for (k = 0; k < 64; k += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(zz + k));
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(zz + k + 8));
        __m128i z = _mm_packs_epi16(_mm_cmpeq_epi16(a, zero), _mm_cmpeq_epi16(b, zero));
        m |= (uint64_t)(uint16_t)~_mm_movemask_epi8(z) << k;
    }
    return m & ~(uint64_t)1;
#else
    uint64_t m = 0;
    int k;
    for (k = 1; k < 64; k++)
        m |= (uint64_t)(zz[k] != 0) << k;
    return m;
#endif
}

/* Bit k set where |zz[k]| > thr (k = 0..63); -32768 counts as 32767. */
FDJ_INLINE uint64_t abs_above(const int16_t *zz, int thr)
{
#if defined(__SSE2__)
    const __m128i zero = _mm_setzero_si128(), t = _mm_set1_epi16((short)thr);
    uint64_t m = 0;
    int k;
    for (k = 0; k < 64; k += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(zz + k));
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(zz + k + 8));
        a = _mm_max_epi16(a, _mm_subs_epi16(zero, a));
        b = _mm_max_epi16(b, _mm_subs_epi16(zero, b));
        m |= (uint64_t)(uint16_t)_mm_movemask_epi8(
                 _mm_packs_epi16(_mm_cmpgt_epi16(a, t), _mm_cmpgt_epi16(b, t)))
             << k;
    }
    return m;
#else
    uint64_t m = 0;
    int k;
    for (k = 0; k < 64; k++) {
        int32_t v = zz[k];
        m |= (uint64_t)((v < 0 ? -v : v) > thr) << k;
    }
    return m;
#endif
}

/* bits ss..se */
FDJ_INLINE uint64_t band_mask(int ss, int se)
{
    return (~(uint64_t)0 << ss) & (~(uint64_t)0 >> (63 - se));
}

/* Sequential block (F.1.2.1-2): DC difference, then run/size coded AC; each
 * Huffman code goes out together with its extra bits. */
static void encode_block_seq(coder *cd, const int16_t *zz, int ci)
{
    const fdj_enc_comp *cp = &cd->f->comp[ci];
    const fdj_huff_code *dc = &cd->dc_code[cp->dc_tbl], *ac = &cd->ac_code[cp->ac_tbl];
    bitwriter *w = &cd->w;
    int32_t diff = zz[0] - cd->last_dc[ci];
    int n = nbits_of((uint32_t)(diff < 0 ? -diff : diff)), last = 0;
    uint64_t nz = nonzero_ac(zz);
    cd->last_dc[ci] = zz[0];
    if (FDJ_UNLIKELY(n > FDJ_ENC_DC_MAX(cd->f) || dc->size[n] == 0)) {
        range_error(cd, ci);
        return;
    }
    put_bits(w, ((uint32_t)dc->code[n] << n) | low_bits(diff < 0 ? diff - 1 : diff, n),
             dc->size[n] + n);
    while (nz) {
        int k = lowest_bit(nz), r = k - last - 1, sym;
        int32_t v = zz[k];
        nz &= nz - 1;
        last = k;
        while (r > 15) {
            put_bits(w, ac->code[0xF0], ac->size[0xF0]);
            r -= 16;
        }
        n = nbits_of((uint32_t)(v < 0 ? -v : v));
        sym = (r << 4) + n;
        if (FDJ_UNLIKELY(n > FDJ_ENC_AC_MAX(cd->f) || ac->size[sym] == 0)) {
            range_error(cd, ci);
            return;
        }
        put_bits(w, ((uint32_t)ac->code[sym] << n) | low_bits(v < 0 ? v - 1 : v, n),
                 ac->size[sym] + n);
    }
    if (last != 63)
        put_bits(w, ac->code[0], ac->size[0]);
}

/* The same walk, counting symbols for optimal tables. */
static void count_block_seq(coder *cd, const int16_t *zz, int ci)
{
    const fdj_enc_comp *cp = &cd->f->comp[ci];
    uint32_t *dcf = cd->dc_freq[cp->dc_tbl], *acf = cd->ac_freq[cp->ac_tbl];
    int32_t diff = zz[0] - cd->last_dc[ci];
    int n = nbits_of((uint32_t)(diff < 0 ? -diff : diff)), last = 0;
    uint64_t nz = nonzero_ac(zz);
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

/* ---- progressive (G.1.2) ---- */
static void emit_eobrun(coder *cd)
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
    uint64_t nz = abs_above(zz, (1 << al) - 1) & band_mask(ss, se);
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
        emit_eobrun(cd);
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
            emit_eobrun(cd);
    }
}

#define MAX_CORR_BITS 1000

/* AC refinement scan (G.1.2.3): newly nonzero coefficients get a symbol and a
 * sign bit; previously nonzero ones a correction bit, buffered until the next
 * symbol.  Zero runs count zeros only, as in libjpeg. */
static void encode_ac_refine(coder *cd, const int16_t *zz, int ss, int se, int al)
{
    uint64_t band = band_mask(ss, se);
    uint64_t nz = abs_above(zz, (1 << al) - 1) & band;      /* |v| >> al != 0 */
    uint64_t ones = nz & ~abs_above(zz, (2 << al) - 1);    /* |v| >> al == 1 */
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
            emit_eobrun(cd);
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
        emit_eobrun(cd);
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
            emit_eobrun(cd);
    }
}

static void encode_block(coder *cd, const int16_t *zz, int ci, int progressive)
{
    const scan_desc *s = cd->scan;
    if (!progressive) {
        if (cd->gather)
            count_block_seq(cd, zz, ci);
        else
            encode_block_seq(cd, zz, ci);
    } else if (s->ss == 0) {
        if (s->ah == 0)
            encode_dc_first(cd, zz, ci, s->al);
        else
            emit_bits(cd, (uint32_t)((int32_t)zz[0] >> s->al), 1);
    } else if (s->ah == 0) {
        encode_ac_first(cd, zz, s->ss, s->se, s->al);
    } else {
        encode_ac_refine(cd, zz, s->ss, s->se, s->al);
    }
}

static void emit_restart(coder *cd, int num, int progressive)
{
    int i;
    if (progressive)
        emit_eobrun(cd);
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
static void scan_start(coder *cd, int restart_interval)
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
static int scan_rows(coder *cd, int r0, int r1, int progressive)
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

static int scan_finish(coder *cd, int progressive)
{
    if (progressive)
        emit_eobrun(cd);
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
    scan_start(cd, restart_interval);
    st = scan_rows(cd, 0, rows, progressive);
    if (st != FDJ_OK)
        return st;
    return scan_finish(cd, progressive);
}

/* Emit the scan's tables (optimal ones gathered from a counting pass),
 * DRI when it changes, and SOS; returns the scan's restart interval in *ri_out. */
static int scan_header(coder *cd, const fdj_encode_params *p, fdj_buf *out, int optimize,
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
static int write_scan(coder *cd, const fdj_encode_params *p, fdj_buf *out, int optimize,
                      int progressive, int *last_restart)
{
    int ri, st = scan_header(cd, p, out, optimize, progressive, last_restart, &ri);
    if (st != FDJ_OK)
        return st;
    return run_scan(cd, ri, progressive);
}

/* libjpeg's jpeg_simple_progression script. */
static int progression_script(const fdj_enc_frame *f, scan_desc *sc)
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

/* SOI, APP0/APP14, caller's segments, DQT, SOF */
static void file_header(const fdj_enc_frame *f, const fdj_encode_params *p, fdj_buf *out,
                        int progressive)
{
    int any16;
    fdj_mark_soi(out);
    if (p->write_jfif)
        fdj_mark_jfif(out, p->density_unit, p->x_density, p->y_density);
    if (p->write_adobe)
        fdj_mark_adobe(out, f->jpeg_color == FDJ_CS_YCBCR ? 1 : f->jpeg_color == FDJ_CS_YCCK ? 2 : 0);
    if (p->extra_size)
        fdj_buf_put(out, p->extra_segments, p->extra_size);
    any16 = fdj_mark_dqts(out, f);
    fdj_mark_sof(out, f, progressive ? 2 : (any16 || f->precision == 12) ? 1 : 0);
}

static void sequential_scan(const fdj_enc_frame *f, scan_desc *sc)
{
    int i;
    sc->ncomps = f->ncomp;
    for (i = 0; i < f->ncomp; i++)
        sc->comps[i] = i;
    sc->ss = 0;
    sc->se = 63;
    sc->ah = sc->al = 0;
}

int fdj_enc_write_file(const fdj_enc_frame *f, const fdj_encode_params *p, fdj_buf *out,
                       char *msg)
{
    coder *cd;
    scan_desc scans[32];
    int nscans, i, st = FDJ_OK, last_restart = 0;
    int progressive = p->progressive != 0;
    /* libjpeg forces optimal tables at 12 bits: Annex K's have no 12-bit magnitudes */
    int optimize = p->optimize || progressive || f->precision == 12;

    cd = (coder *)calloc(1, sizeof *cd);
    if (!cd)
        return fdj_fail(msg, FDJ_ERR_NOMEM, "out of memory");
    cd->f = f;
    cd->msg = msg;
    file_header(f, p, out, progressive);
    if (progressive) {
        nscans = progression_script(f, scans);
    } else {
        nscans = 1;
        sequential_scan(f, &scans[0]);
    }
    for (i = 0; i < nscans && st == FDJ_OK; i++) {
        cd->scan = &scans[i];
        st = write_scan(cd, p, out, optimize, progressive, &last_restart);
    }
    if (st == FDJ_OK) {
        fdj_mark_eoi(out);
        if (out->failed)
            st = fdj_fail(msg, FDJ_ERR_NOMEM, "out of memory for the output");
    }
    free(cd);
    return st;
}

/* ---- streaming baseline/extended sequential writer ---- */
struct fdj_enc_stream {
    coder cd;
    scan_desc scan;
    fdj_buf *out;
};

int fdj_enc_stream_begin(fdj_enc_stream **sp, const fdj_enc_frame *f, const fdj_encode_params *p,
                         fdj_buf *out, char *msg)
{
    fdj_enc_stream *s;
    int st, ri, last_restart = 0;
    *sp = NULL;
    s = (fdj_enc_stream *)calloc(1, sizeof *s);
    if (!s)
        return fdj_fail(msg, FDJ_ERR_NOMEM, "out of memory");
    s->cd.f = f;
    s->cd.msg = msg;
    s->out = out;
    sequential_scan(f, &s->scan);
    s->cd.scan = &s->scan;
    file_header(f, p, out, 0);
    st = scan_header(&s->cd, p, out, 0, 0, &last_restart, &ri);
    if (st != FDJ_OK) {
        free(s);
        return st;
    }
    scan_start(&s->cd, ri);
    *sp = s;
    return FDJ_OK;
}

int fdj_enc_stream_rows(fdj_enc_stream *s, int mcu_row)
{
    const fdj_enc_frame *f = s->cd.f;
    int r0 = mcu_row, r1 = mcu_row + 1;
    if (s->scan.ncomps == 1) {
        /* a non-interleaved scan codes block rows; the band holds v of them */
        const fdj_enc_comp *cp = &f->comp[s->scan.comps[0]];
        r0 = cp->row0;
        r1 = cp->row0 + cp->rows;
        if (r1 > cp->height_in_blocks)
            r1 = cp->height_in_blocks;
    }
    return scan_rows(&s->cd, r0, r1, 0);
}

int fdj_enc_stream_end(fdj_enc_stream *s, int ok)
{
    int st = FDJ_OK;
    if (!s)
        return FDJ_OK;
    if (ok) {
        st = scan_finish(&s->cd, 0);
        if (st == FDJ_OK) {
            fdj_mark_eoi(s->out);
            if (s->out->failed)
                st = fdj_fail(s->cd.msg, FDJ_ERR_NOMEM, "out of memory for the output");
        }
    }
    free(s);
    return st;
}
