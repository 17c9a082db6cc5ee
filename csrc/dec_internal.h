/*
 * dec_internal.h -- the decoder's private state, shared by dec_*.c.
 */
#ifndef FDJ_DEC_INTERNAL_H
#define FDJ_DEC_INTERNAL_H

#include "fdj_internal.h"

#define HUFF_LOOKAHEAD 9

/* one-pass FD lookup range: coefficients -FDJ_RQ_LUT_HALF..FDJ_RQ_LUT_HALF - 1 (fdj_rq_lut).
 * 128 rather than 64: fewer AC values take the multiply-shift path (one-pass overhead over a
 * plain decode +5.9% -> +4.8..5.1%, bench/results/performance.md).  fast_rq packs
 * (value + FDJ_RQ_LUT_HALF) * 80 above 16 bits of an int32, so 2 * HALF * 80 must stay below 2^15. */
#define FDJ_RQ_LUT_HALF 128
typedef char fdj_rq_lut_half_fits_fast_rq[(2 * FDJ_RQ_LUT_HALF * 80 < 32768) ? 1 : -1];

/* A derived Huffman decoding table (T.81 Annex C / F.2.2.3). */
typedef struct fdj_huff {
    int defined;
    int built;                 /* the lookup below is derived (at the first scan that uses it) */
    int broken;                /* its codes overflow: an error only when a scan uses it */
    uint8_t bits[17];          /* bits[k]: number of codes of length k */
    uint8_t vals[256];
    /* lookahead: (length << 8) | symbol for codes of <= HUFF_LOOKAHEAD bits, 0 if longer */
    uint16_t look[1 << HUFF_LOOKAHEAD];
    int32_t maxcode[18];       /* largest code of length k, -1 if none; maxcode[17] sentinel */
    int32_t valoffset[18];     /* vals index of the first code of length k, minus that code */
    /* AC fast path: for lookahead bits holding a whole code and its extra bits,
     * (value << 16) | (run << 8) | (code + extra length); 0 otherwise */
    int32_t fast_ac[1 << HUFF_LOOKAHEAD];
    /* the same for one-pass FD in the Huffman decoder (fdj_huff_build_fast_rq):
     * ((value + FDJ_RQ_LUT_HALF) * 80 << 16) | (run << 8) | length for values in the
     * lookup table's range (fdj_rq_lut.lut[value + FDJ_RQ_LUT_HALF][k] at that offset
     * plus k), 0 otherwise */
    int32_t fast_rq[1 << HUFF_LOOKAHEAD];
} fdj_huff;

/* The entropy-coded segment reader: a 64-bit bit buffer over the input that
 * removes stuffed zeros and stops at markers, supplying zero bits after a
 * marker or the end of the data, as libjpeg does. */
typedef struct fdj_bits {
    const uint8_t *data;
    size_t size, pos;          /* pos: next byte to load */
    uint64_t acc;              /* bits are left-aligned: the next bit is bit 63 */
    int nbits;                 /* valid bits in acc */
    int marker_hit;            /* a marker (or the end) stopped the loading */
    int hit_end;               /* the end of data, not a marker, stopped it */
    int zero_fed;              /* zero bits were supplied past a marker */
} fdj_bits;

/* Arithmetic decoder state (dec_arith.c, T.81 Annex D). */
typedef struct fdj_arith {
    uint64_t c;                /* code register: interval base + unused input bits */
    uint64_t a;                /* interval size, normalized to >= 0x8000 */
    int ct;                    /* bits of input left in c; -16 before the first byte; -1 after a bad code */
    int need_reset;            /* set at the start of a scan and by restarts */
    int32_t last_dc[FDJ_MAX_COMPONENTS];   /* per scan component */
    int dc_context[FDJ_MAX_COMPONENTS];
    uint8_t fixed;             /* the fixed 0.5-probability bin */
    int ran_out;               /* the data ended (not a marker) inside the scan */
    size_t real_end;           /* end of the caller's data */
    uint8_t dc_stats[16][64];
    uint8_t ac_stats[16][256];
} fdj_arith;

typedef struct fdj_dcomp {
    int id, h, v, tq;
    int width_in_blocks, height_in_blocks;   /* real blocks (jpeglib layout) */
    int bw, bh;                               /* blocks allocated (padded to MCU) */
    int dw, dh;                               /* downsampled width/height in samples */
    int qlatched;                             /* table latched at the component's first scan */
    uint16_t q[64];                           /* natural order */
    int16_t *coef;                            /* full coefficient buffer bh*bw*64 (multi-scan) */
    int dc_pred;
    int eobrun_unused;
    int seen_in_scan;                         /* any scan included this component */
    /* progressive bookkeeping: coef_bits[k] = current Al of coefficient k, -1 not yet seen */
    int coef_bits[64];
    int prev_coef_bits[10];                   /* coef_bits[0..9] before the component's last scan */
    /* output: ring of sample rows */
    uint8_t *ring;
    uint8_t **ring_rows;
    int ring_n;
    int bs;                                    /* IDCT output size 8/4/2/1 */
} fdj_dcomp;

typedef struct fdj_engine fdj_engine;

/* One-pass FD inside the Huffman decoder (dec_huff_mcu.h with DEC_HUFF_MCU_RQ):
 * the requantized value R = T * round(c * q / T) (rounding half away from zero,
 * as fd_requantize_block in dec_dequant.c) of a coefficient c at zigzag position
 * k is stored where the decoder would store c, so the row stage runs only the
 * IDCT.  lut[c + FDJ_RQ_LUT_HALF][k] for -FDJ_RQ_LUT_HALF <= c < FDJ_RQ_LUT_HALF (columns 64..79 repeat 63:
 * corrupt runs past the end, fdj_zigzag_to_natural), dc[c + FDJ_RQ_DC_HALF] for
 * the DC, fdj_rq_value otherwise.  Built by fdj_rq_lut_init (dec_dequant.c), only
 * when every table entry fits int16; a value outside int16 makes the decoder redo
 * its MCU raw (dec_huff_mcu.h). */
#define FDJ_RQ_DC_HALF 512
typedef struct fdj_rq_lut {
    int16_t lut[2 * FDJ_RQ_LUT_HALF][80];
    uint8_t nat[80];            /* fdj_zigzag_to_natural, next to lut (one base register) */
    int16_t dc[2 * FDJ_RQ_DC_HALF];
    int32_t q[80], t[80];       /* zigzag order: the multiplier (as short) and T */
    uint64_t magic[80];         /* floor(n / t) = (n * magic) >> shift for n < 2^31 */
    int shift[80];
} fdj_rq_lut;

/* R for any int16 c at zigzag position k: |c * q| <= 2^30, n = |c * q| + T/2 < 2^31,
 * magic = ceil(2^(31 + l) / T) < 2^32 with l = ceil(log2 T) (Granlund-Montgomery:
 * exact for every n < 2^31), so n * magic < 2^63; |R| <= n. */
FDJ_INLINE int32_t fdj_rq_value(const fdj_rq_lut *L, int k, int c)
{
    int32_t d = c * L->q[k];
    uint32_t n = (uint32_t)(d < 0 ? -d : d) + (uint32_t)(L->t[k] >> 1);
    uint32_t quo = (uint32_t)(((uint64_t)n * L->magic[k]) >> L->shift[k]);
    int32_t r = (int32_t)(quo * (uint32_t)L->t[k]);
    return d < 0 ? -r : r;
}

struct fdj_decoder {
    fdj_huff_mcu_fn huff_mcu_seq; /* sequential MCU decoder of the kernel level (dec_huff.c) */
    fdj_huff_mcu_fn huff_mcu_seq_rq; /* its one-pass FD variant (DEC_HUFF_MCU_RQ) */
    fdj_huff_mcu_fn huff_mcu_seq_dc; /* its DC-only variant (DEC_HUFF_MCU_DCONLY, scale=8) */
    /* one-pass FD in the Huffman decoder, set by the row engine for a streaming decode
     * (dec_rows.c; NULL when off): the table per component, and for an MCU redone raw
     * (a requantized value outside int16) a mark per block of the group buffer */
    const fdj_rq_lut *rq_lut[FDJ_MAX_COMPONENTS];
    uint8_t *rq_raw[FDJ_MAX_COMPONENTS];
    const int16_t *rq_base[FDJ_MAX_COMPONENTS];
    int rq_any_raw;
    const uint8_t *data;
    size_t size, pos;
    uint8_t *owned_data;       /* allow_truncated: the input plus the EOI Pillow appends */
    size_t real_size;          /* size of the caller's data */
    fdj_decode_options opt;
    fdj_info info;
    char msg[FDJ_MSG_SIZE];
    int status;

    fdj_marker *markers;
    size_t nmarkers, cap_markers;
    uint64_t segment_bytes;

    uint16_t qt[4][64];
    int qt_defined[4];
    fdj_huff dc[4], ac[4];
    uint8_t arith_dc_L[16], arith_dc_U[16], arith_ac_K[16]; /* DAC conditioning (T.81 F.1.4.4) */
    int restart_interval;

    int have_sof, have_sos, saw_eoi;
    int truncated;
    int ncomp;
    fdj_dcomp comp[FDJ_MAX_COMPONENTS];
    int max_h, max_v, mcus_x, mcus_y;

    /* current scan */
    int scan_ncomp;
    int scan_comp[FDJ_MAX_COMPONENTS];
    int scan_td[FDJ_MAX_COMPONENTS], scan_ta[FDJ_MAX_COMPONENTS];
    int Ss, Se, Ah, Al;
    int eobrun;
    int next_restart;
    int insufficient;          /* libjpeg: skip the rest of the restart interval */
    fdj_bits br;
    fdj_arith arith;

    int cur_imcu_row;          /* iMCU row of the MCU being decoded */
    int last_good_imcu;        /* last iMCU row decoded with data (libjpeg's last_good_iMCU_row) */
    int arith_fail_imcu;       /* iMCU row where arithmetic data ran out, -1 if it did not */

    int decoded;               /* pixel or coefficient decode has run */
    struct fdj_engine *engine; /* fdj_decoder_read_rows in progress (dec_rows.c) */
    int rows_read_done;        /* read_rows delivered every row */
    int rows_read_failed;      /* read_rows failed with this status: it keeps failing */
    int coefs_allocated;
};

/* dec_input.c */
int fdj_fail_dec(fdj_decoder *d, int status, const char *fmt, ...) FDJ_PRINTF(3, 4);
int fdj_next_marker(fdj_decoder *d, int *marker);
int fdj_add_marker(fdj_decoder *d, int marker, size_t offset, unsigned length);

/* dec_marker.c */
int fdj_read_headers(fdj_decoder *d); /* up to and including the next SOS or EOI */

/* dec_scan.c: the scan loop */
int fdj_begin_scan(fdj_decoder *d);
int fdj_end_scan(fdj_decoder *d);
int fdj_decode_mcu(fdj_decoder *d, int16_t *const blocks[], int n, const int bc[], int *togo);
/* the same with one-pass FD in the Huffman decoder (d->rq_lut set; sequential Huffman) */
int fdj_decode_mcu_rq(fdj_decoder *d, int16_t *const blocks[], int n, const int bc[], int *togo);
/* the same storing DC coefficients only (every IDCT 1x1; sequential Huffman) */
int fdj_decode_mcu_dc(fdj_decoder *d, int16_t *const blocks[], int n, const int bc[], int *togo);
int fdj_decode_all_scans(fdj_decoder *d); /* every remaining scan into whole-image buffers */

/* dec_rows.c: output geometry and the row engine */
typedef struct fdj_out_geom {
    int width, height, min_bs;
    int bs[FDJ_MAX_COMPONENTS];
    fdj_render_spec spec;
} fdj_out_geom;
int fdj_output_geometry(fdj_decoder *d, fdj_out_geom *g); /* jpeg_core_output_dimensions */
fdj_engine *fdj_engine_new(void); /* zeroed; NULL when out of memory */
int fdj_engine_start(fdj_decoder *d, fdj_engine *e, int x0, int y0, int x1, int y1, int full);
/* deliver up to nrows more rows of the window; *done gets the number delivered */
int fdj_engine_rows(fdj_decoder *d, fdj_engine *e, uint8_t *out, ptrdiff_t stride, int nrows,
                    int *done);
void fdj_engine_free(fdj_decoder *d, fdj_engine *e);
ptrdiff_t fdj_engine_row_bytes(const fdj_engine *e); /* bytes of one delivered row */
int fdj_engine_finished(const fdj_engine *e);        /* every row delivered, the end checked */
/* the window (x, y, w, h) into out in one go; full: the whole image (read to EOI) */
int fdj_run_engine(fdj_decoder *d, int x, int y, int w, int h, int full, uint8_t *out,
                   ptrdiff_t stride);

/* dec_huff.c */
void fdj_bits_init(fdj_bits *b, const uint8_t *data, size_t size, size_t pos);
size_t fdj_bits_position(const fdj_bits *b); /* byte position of the first unread marker/byte */
int fdj_decode_mcu_sequential(fdj_decoder *d, int16_t *const blocks[], int nblocks,
                              const int block_comp[]);
int fdj_decode_mcu_progressive(fdj_decoder *d, int16_t *const blocks[], int nblocks,
                               const int block_comp[]);
/* Skip mode (dec_huff_mcu.h with DEC_HUFF_MCU_SKIP): one sequential Huffman MCU walked
 * for its bits and DC predictions only, nothing stored; the same errors as decoding it. */
int fdj_skip_mcu_sequential(fdj_decoder *d, int nblocks, const int block_comp[]);
#ifdef FDJ_X86_SIMD
int fdj_skip_mcu_sequential_bmi2(fdj_decoder *d, int16_t *const blocks[], int nblocks,
                                 const int block_comp[]);
#endif
/* dec_scan.c: fdj_decode_mcu in skip mode (single-scan sequential Huffman only) */
int fdj_skip_mcu(fdj_decoder *d, int n, const int bc[], int *togo);
/* dec_scan.c: decode the first (single, interleaved, sequential Huffman) scan into the
 * whole-image buffers up to group g1 - 1 (a group: an MCU row; a block row of a single
 * component); groups before g0 are skipped (restart intervals by their markers, the
 * rest in skip mode), their coefficients left zero.  Nothing after g1 is read. */
int fdj_decode_scan_groups(fdj_decoder *d, int g0, int g1);
/* dec_rows.c: the position after the k-th restart marker of the scan data at pos (0: none) */
size_t fdj_find_restart(const fdj_decoder *d, size_t pos, long k);
int64_t fdj_jump_to_restart(fdj_decoder *d, int g0, int mcols);
int fdj_process_restart(fdj_decoder *d);
void fdj_reset_entropy(fdj_decoder *d);
int fdj_prepare_scan_tables(fdj_decoder *d); /* check/derive the tables the scan needs */
void fdj_huff_build_fast_rq(fdj_huff *t);     /* fast_rq from fast_ac */
int fdj_huff_decode_diff(fdj_decoder *d, const fdj_huff *t); /* lossless difference */
/* n lossless differences in a row (a single-component scan's MCU row) */
void fdj_huff_decode_diff_row(fdj_decoder *d, const fdj_huff *t, int32_t *out, int n);

/* dec_arith.c */
void fdj_arith_reset_conditioning(fdj_decoder *d); /* DAC defaults, at SOI */
int fdj_decode_mcu_arith(fdj_decoder *d, int16_t *const blocks[], int nblocks,
                         const int block_comp[]);
int fdj_arith_rows_kept(const fdj_decoder *d, int height);

/* dec_smooth.c */
int fdj_smooth_coefficients(fdj_decoder *d); /* progressive block smoothing (K.8) */

/* dec_dequant.c: dequantize (+ Feature Distillation requantize) + IDCT, one block row at a time */
typedef struct fdj_dequant_comp {
    int bs;                    /* IDCT output size 8/4/2/1 */
    int purify;                /* requantize by rq.t (one-pass FD) */
    uint16_t q[64];            /* the component's table, natural order */
    int32_t qmul[64];          /* the multipliers libjpeg uses (as short) */
    fdj_requant_table rq;
} fdj_dequant_comp;
typedef struct fdj_dequant {
    fdj_dequant_comp comp[FDJ_MAX_COMPONENTS];
    fdj_idct_fn idct8;         /* ISLOW IDCT kernel */
    fdj_idct_q_fn idct8q;      /* fused dequantize + IDCT sibling, or NULL */
    fdj_idct_rq_fn idct8rq;    /* fused dequantize + requantize + IDCT sibling, or NULL */
    fdj_idct_turbo_row_fn idct8t; /* libjpeg-turbo-arithmetic row kernel, or NULL */
    fdj_idct_rq_row_fn idct8rqr; /* fused requantize + IDCT row kernel, or NULL */
    fdj_idct_q_fn idct4q;      /* fused dequantize + 4x4 reduced IDCT sibling, or NULL */
    fdj_idct_q_fn idct2q;      /* fused dequantize + 2x2 reduced IDCT sibling, or NULL */
    fdj_idct_pre_row_fn idct8pre; /* IDCT of requantized int16 rows (one-pass FD), or NULL */
    fdj_rq_lut *luts;          /* fdj_dequant_prepare_huff: one per distinct (q, T) */
    const fdj_rq_lut *lut[FDJ_MAX_COMPONENTS];
} fdj_dequant;
int fdj_dequant_check_purify(fdj_decoder *d, const fdj_decode_options *opt);
void fdj_dequant_init(fdj_dequant *dq, const fdj_decoder *d, const int bs[], int simd);
void fdj_dequant_row(const fdj_dequant *dq, int c, const int16_t *coef, int nblocks,
                     uint8_t *out, ptrdiff_t stride);
void fdj_dequant_free(fdj_dequant *dq);
/* One-pass FD in the Huffman decoder: 1 and dq->lut[] filled when every component is
 * purified at full size and every table's entries fit int16, else 0 (the row stage
 * requantizes, fdj_dequant_row) or FDJ_ERR_NOMEM. */
int fdj_dequant_prepare_huff(fdj_dequant *dq, const fdj_decoder *d, int ncomp);
/* A row of blocks holding requantized values (the Huffman decoder's one-pass output):
 * IDCT only; raw[bx] != 0 (raw may be NULL) marks a block decoded raw, which takes
 * the dequantize + requantize + IDCT path of fdj_dequant_row. */
void fdj_dequant_row_pre(const fdj_dequant *dq, int c, const int16_t *coef, int nblocks,
                         const uint8_t *raw, uint8_t *out, ptrdiff_t stride);
int fdj_rq_lut_init(fdj_rq_lut *L, const int32_t qmul[64], const int32_t t[64]);
/* the scalar reference of the fused kernel (fdj_idct_rq_fn); always returns 1 */
int fdj_idct_islow_rq(const int16_t coef[64], const int32_t q[64], const fdj_requant_table *rt,
                      uint8_t *out, ptrdiff_t stride);

/* dec_idct_emul.c: libjpeg-turbo's AVX2 ISLOW arithmetic for hostile blocks */
void fdj_idct_islow_avx2_emul(const int16_t coef[64], const uint16_t q[64], uint8_t *out,
                              ptrdiff_t stride);
int fdj_idct_block_is_hostile(const int16_t coef[64], const uint16_t q[64]);

/* dec_lossless.c */
int fdj_decode_lossless(fdj_decoder *d, uint8_t *out, ptrdiff_t row_stride);
/* the output window x0..x1-1, y0..y1-1 only (out: its rows, row_stride apart) */
int fdj_decode_lossless_window(fdj_decoder *d, int x0, int y0, int x1, int y1, uint8_t *out,
                               ptrdiff_t row_stride);

#endif
