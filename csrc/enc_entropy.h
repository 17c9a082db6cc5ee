/*
 * enc_entropy.h -- the state the encoder's entropy coders share (enc_huff.c
 * sequential, enc_phuff.c progressive; T.81 F.1.2, G.1.2): the bit writer with
 * 0xFF stuffing (F.1.2.3), the per-scan coder and the scan engine's calls.
 * Private to the encoder; everything here is static inline.
 */
#ifndef FDJ_ENC_ENTROPY_H
#define FDJ_ENC_ENTROPY_H

#include "enc_internal.h"

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
static inline void flush_bytes(bitwriter *w)
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

/* nbits_of for a > 0 */
FDJ_INLINE int nbits_nonzero(uint32_t a)
{
#if defined(__GNUC__) || defined(__clang__)
    return 32 - __builtin_clz(a);
#else
    return nbits_of(a);
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

/* The coding state shared by sequential and progressive scans.  The large
 * arrays come last: they are written before they are read (the counting pass
 * clears the frequencies, fdj_huff_derive each table a scan uses, progressive
 * refinement fills bit_buffer before reading it), so a new coder needs only
 * its first CODER_HEAD bytes cleared (fdj_enc_coder_new). */
typedef struct coder {
    const fdj_enc_frame *f;
    const scan_desc *scan;
    int gather;                           /* count symbols instead of writing */
    bitwriter w;
    int last_dc[FDJ_MAX_COMPONENTS];
    /* progressive AC state */
    int ac_tbl;
    uint32_t eobrun;
    int be;                               /* buffered correction bits */
    int restart_interval, restarts_to_go, next_rst;
    char *msg;
    int status;
    fdj_nonzero_ac_fn nonzero_ac;         /* block bit masks (fdj_simd.h) */
    fdj_abs_above_fn abs_above;
    fdj_huff_block_fn huff_block_seq;     /* sequential block coder (fdj_simd.h) */
    uint32_t dc_freq[4][257], ac_freq[4][257];
    fdj_huff_code dc_code[4], ac_code[4];
    uint8_t bit_buffer[1024];
} coder;
#define CODER_HEAD offsetof(coder, dc_freq)

/* The block-mask and block-coder kernels of a kernel table for a coder. */
static inline void fdj_enc_coder_kernels_of(coder *cd, const fdj_kernels *k)
{
    cd->nonzero_ac = k->nonzero_ac;
    cd->abs_above = k->abs_above;
    cd->huff_block_seq = k->huff_block_seq;
}

/* The same for a level. */
static inline void fdj_enc_coder_kernels(coder *cd, int level)
{
    fdj_kernels k;
    fdj_kernels_init(&k, level);
    fdj_enc_coder_kernels_of(cd, &k);
}

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

static inline void range_error(coder *cd, int comp)
{
    if (cd->status == FDJ_OK)
        cd->status = fdj_fail(cd->msg, FDJ_ERR_ARGUMENT,
                              "coefficient out of range for %d-bit JPEG in component %d",
                              cd->f->precision == 12 ? 12 : 8, comp);
}

/* Blocks are stored in zigzag order (the quantizer writes them so), which is
 * the order every scan reads them in. */

/* bits ss..se */
FDJ_INLINE uint64_t band_mask(int ss, int se)
{
    return (~(uint64_t)0 << ss) & (~(uint64_t)0 >> (63 - se));
}

/* ---- the scan engine (enc_huff.c), used by the file writer in enc_file.c ---- */
/* Emit the scan's tables (optimal ones from a counting pass), DRI and SOS;
 * the scan's restart interval goes to *ri_out. */
int fdj_enc_scan_header(coder *cd, const fdj_encode_params *p, fdj_buf *out, int optimize,
                        int progressive, int *last_restart, int *ri_out);
/* Headers, then the whole scan's entropy data. */
int fdj_enc_write_scan(coder *cd, const fdj_encode_params *p, fdj_buf *out, int optimize,
                       int progressive, int *last_restart);
/* A scan in pieces (the streaming writer): start, rows r0..r1-1, finish. */
void fdj_enc_scan_start(coder *cd, int restart_interval);
int fdj_enc_scan_rows(coder *cd, int r0, int r1, int progressive);
int fdj_enc_scan_finish(coder *cd, int progressive);
/* The sequential scan of all components. */
void fdj_enc_sequential_scan(const fdj_enc_frame *f, scan_desc *sc);

/* Scalar references of the block masks (enc_huff.c; SSE2 siblings in enc_huff_simd.c). */
uint64_t fdj_nonzero_ac_scalar(const int16_t *zz);
uint64_t fdj_abs_above_scalar(const int16_t *zz, int thr);
/* Scalar reference of the sequential block coder (enc_huff.c, from
 * enc_huff_block.h; BMI2 sibling fdj_huff_block_seq_bmi2 in enc_huff_simd.c). */
void fdj_huff_block_seq_scalar(coder *cd, const int16_t *zz, int ci);

/* ---- progressive coding (enc_phuff.c) ---- */
void fdj_phuff_encode_block(coder *cd, const int16_t *zz, int ci);
void fdj_phuff_emit_eobrun(coder *cd); /* pending EOB run and correction bits */
int fdj_phuff_script(const fdj_enc_frame *f, scan_desc *sc); /* jpeg_simple_progression */

#endif /* FDJ_ENC_ENTROPY_H */
