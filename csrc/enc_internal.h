/*
 * enc_internal.h -- declarations shared by the encoder's stages (enc_*.c, purify.c).
 *
 * The encoder works like libjpeg's "full-image buffer" mode: every stage before
 * entropy coding fills one array of quantized blocks per component (zigzag
 * order, padded to whole MCUs), and the entropy coder (sequential or
 * progressive, standard or optimal tables) reads those arrays.  fdj_encode,
 * fdj_write_coefficients and the optimize pass therefore share one back end.
 */
#ifndef FDJ_ENC_INTERNAL_H
#define FDJ_ENC_INTERNAL_H

#include "fdj_internal.h"
#include "fdj_simd.h"

/* One component of the frame being written. */
typedef struct fdj_enc_comp {
    int id;                     /* component identifier written in SOF/SOS */
    int h, v;                   /* sampling factors */
    int tq;                     /* quantization table slot */
    int dc_tbl, ac_tbl;         /* Huffman table slots (0 luma, 1 chroma) */
    int width_in_blocks;        /* real blocks: ceil(ceil(W*h/hmax)/8) */
    int height_in_blocks;
    int bw, bh;                 /* blocks of whole MCUs (mcus_x*h, mcus_y*v) */
    int row0, rows;             /* block rows stored in coef: row0 .. row0+rows-1 */
    int16_t *coef;              /* rows*bw blocks of 64 quantized values, zigzag order */
} fdj_enc_comp;

typedef struct fdj_enc_frame {
    int width, height;
    int ncomp;
    int max_h, max_v;
    int mcus_x, mcus_y;         /* MCUs of the interleaved scan */
    int jpeg_color;             /* enum fdj_colorspace of the stored components */
    int cmyk_invert;            /* CMYK input is stored inverted (Adobe convention) */
    int precision;              /* 8, or 12 (enc12.c): larger magnitude categories, SOF1 */
    int simd;                   /* kernel level, fdj_simd_level_cpu(p->cpu) once per call */
    uint16_t qtable[4][64];     /* natural order */
    fdj_enc_comp comp[FDJ_MAX_COMPONENTS];
} fdj_enc_frame;

/* ---- frame setup (enc_frame.c) ---- */
/* Validate the parameters and fill the frame geometry (no allocation). */
int fdj_enc_setup_frame(const fdj_encode_params *p, fdj_enc_frame *f, char *msg);
/* Allocate coefficient arrays for every component: the whole image
 * (mcu_rows_only = 0) or one MCU row (the streaming sequential encoder). */
int fdj_enc_alloc_coefs(fdj_enc_frame *f, int mcu_rows_only, char *msg);
void fdj_enc_free_coefs(fdj_enc_frame *f);
/* Point the stored rows of every component at MCU row my (band mode). */
void fdj_enc_band_rows(fdj_enc_frame *f, int my);
/* Give the dummy blocks of partial MCUs among the stored rows AC = 0 and the
 * DC libjpeg gives them. */
void fdj_enc_fill_dummy_blocks(fdj_enc_frame *f);

/* ---- colour conversion and downsampling (enc_color.c) ---- */
/* Per-band work buffers: full-resolution component rows and downsampled rows. */
typedef struct fdj_enc_band {
    int full_width;             /* mcus_x * max_h * 8 */
    int full_rows;              /* max_v * 8 */
    uint8_t *full[FDJ_MAX_COMPONENTS];  /* full_rows rows of full_width (NULL if no colour work) */
    uint8_t *plane[FDJ_MAX_COMPONENTS]; /* v*8 rows of bw*8 downsampled samples */
    ptrdiff_t plane_stride[FDJ_MAX_COMPONENTS];
    uint8_t *storage;
    fdj_rgb_ycc_row_fn rgb_ycc_row; /* SIMD sibling of the RGB -> YCbCr loop, or NULL */
    fdj_h2v1_down_row_fn h2v1_down_row; /* SIMD siblings of the downsampling rows, or NULL */
    fdj_h2v2_down_row_fn h2v2_down_row;
} fdj_enc_band;

/* Scalar references of the h2v1 / h2v2 downsampling rows, from column x0 on. */
void fdj_h2v1_down_row(const uint8_t *a, int x0, int out_cols, uint8_t *o);
void fdj_h2v2_down_row(const uint8_t *a, const uint8_t *b, int x0, int out_cols, uint8_t *o);
int fdj_enc_band_init(fdj_enc_band *b, const fdj_enc_frame *f, char *msg);
/* The same with the caller's kernel table (no second CPU query). */
int fdj_enc_band_init_k(fdj_enc_band *b, const fdj_enc_frame *f, const fdj_kernels *k, char *msg);
void fdj_enc_band_free(fdj_enc_band *b);
/* Convert MCU row `mcu_row` of the input into the band's downsampled planes:
 * colour transform, edge replication to the padded size, libjpeg's box
 * downsampling. */
void fdj_enc_band_convert(fdj_enc_band *b, const fdj_enc_frame *f, int mcu_row,
                          const uint8_t *pixels, ptrdiff_t row_stride,
                          ptrdiff_t col_stride, ptrdiff_t chan_stride);

/* ---- forward DCT and quantizer (enc_fdct.c) ---- */
/* Division by 8*q, rounded half away from zero.  libjpeg-turbo computes it
 * with a 16-bit reciprocal (jcdctmgr.c compute_reciprocal), which equals
 * exact rounding for every ISLOW output (|x| <= 8192) and entry <= 8191, and
 * overflows above.  fdjpeg computes floor((|x| + 4q + 0.5) / (8q)) in single
 * precision: x + 4q + 0.5 is exact in a float, and its distance 0.5/(8q) from
 * the nearest integer quotient exceeds the product's rounding error, so the
 * result is the exact rounded quotient for every entry 1..65535 (checked
 * exhaustively for |x| <= 8192) and the loop vectorizes. */
typedef struct fdj_divisors {
    float bias[64];             /* 4q + 0.5, natural order */
    float inv[64];              /* 1 / (8q) */
    int32_t q[64];
    fdj_quantize_fn quantize;   /* the level's kernels (fdj_kernels_init) */
    fdj_dequantize_fn quantize_dequantize;
} fdj_divisors;

void fdj_enc_divisors_init(fdj_divisors *d, const uint16_t qtable[64], const fdj_kernels *k);
/* ISLOW forward DCT of an 8x8 block of samples (level shift included);
 * output is 8 times the orthonormal DCT, natural order (scalar reference;
 * the AVX2 siblings are in enc_fdct_simd.c). */
void fdj_fdct_islow(const uint8_t *in, ptrdiff_t stride, int32_t out[64]);
/* Scalar references of the quantizer (fdj_quantize_fn, fdj_dequantize_fn). */
void fdj_quantize_scalar(const int32_t dct[64], const fdj_divisors *d, int16_t out[64]);
void fdj_quantize_dequantize_scalar(const int32_t dct[64], const fdj_divisors *d, int32_t out[64]);
/* Quantize a DCT block (natural order) into zigzag order. */
static inline void fdj_quantize_block(const int32_t dct[64], const fdj_divisors *d, int16_t out[64])
{
    d->quantize(dct, d, out);
}
/* Quantize then dequantize (natural order, int32), for the fused purify path. */
static inline void fdj_quantize_dequantize(const int32_t dct[64], const fdj_divisors *d,
                                           int32_t out[64])
{
    d->quantize_dequantize(dct, d, out);
}
/* DCT and quantize every real block of a band into the frame's coefficient arrays. */
void fdj_enc_band_transform(const fdj_enc_band *b, fdj_enc_frame *f, int mcu_row,
                            const fdj_divisors *div, const fdj_kernels *k);

/* ---- Huffman tables (enc_huff_table.c) ---- */
/* Largest magnitude category (T.81 F.1.2.1: SSSS) of a DC difference / AC value:
 * 11 / 10 at 8 bits, 15 / 14 at 12 bits (libjpeg's MAX_COEF_BITS + 1). */
#define FDJ_ENC_DC_MAX(f) ((f)->precision == 12 ? 15 : 11)
#define FDJ_ENC_AC_MAX(f) ((f)->precision == 12 ? 14 : 10)
typedef struct fdj_huff_spec {
    uint8_t bits[17];           /* bits[k]: number of codes of length k (k = 1..16) */
    uint8_t vals[256];
    int nvals;
} fdj_huff_spec;

typedef struct fdj_huff_code {
    uint16_t code[256];
    uint8_t size[256];          /* 0: symbol has no code */
    /* code and extra-bit count of a symbol in one word, for the AVX2 block
     * coder: (size + s) << 32 | code << s with s = sym & 15 (the magnitude
     * category of a DC or AC symbol); 0 when the symbol has no code */
    uint64_t ent[256];
    /* codes for every symbol of an 8-bit AC table: EOB, ZRL and r/n for
     * r = 0..15, n = 1..10 (Annex K's tables; an optimal table may lack some) */
    int full8;
} fdj_huff_code;

/* Annex K.3 tables: ac = 0/1, chroma = 0/1. */
void fdj_huff_std_spec(int ac, int chroma, fdj_huff_spec *out);
int fdj_huff_derive(const fdj_huff_spec *s, fdj_huff_code *c, char *msg);
/* libjpeg's jpeg_gen_optimal_table: code lengths limited to 16, all-ones code reserved. */
int fdj_huff_optimal(const uint32_t freq_in[257], fdj_huff_spec *out, char *msg);

/* ---- the file writer (enc_file.c) ---- */
/* Write the complete marker stream and entropy data for a frame whose
 * coefficient arrays are filled (through enc_marker.c and the entropy coders). */
int fdj_enc_write_file(const fdj_enc_frame *f, const fdj_encode_params *p, fdj_buf *out,
                       char *msg);

/* Streaming sequential writer (standard tables, no optimization): headers at
 * begin, then one MCU row at a time from the frame's stored rows (dummy
 * blocks filled), then EOI. */
typedef struct fdj_enc_stream fdj_enc_stream;
int fdj_enc_stream_begin(fdj_enc_stream **s, const fdj_enc_frame *f, const fdj_encode_params *p,
                         const fdj_kernels *k, fdj_buf *out, char *msg);
int fdj_enc_stream_rows(fdj_enc_stream *s, int mcu_row);
/* Flush and write EOI when ok; always frees the stream. */
int fdj_enc_stream_end(fdj_enc_stream *s, int ok);
size_t fdj_enc_stream_size(void); /* bytes fdj_enc_stream_begin allocates */

/* ---- markers (enc_marker.c) ---- */
void fdj_mark_soi(fdj_buf *b);
void fdj_mark_eoi(fdj_buf *b);
void fdj_mark_jfif(fdj_buf *b, int unit, int xd, int yd);
void fdj_mark_adobe(fdj_buf *b, int transform);
/* Emit DQT for each table used, in component order; returns nonzero if any is 16-bit. */
int fdj_mark_dqts(fdj_buf *b, const fdj_enc_frame *f);
void fdj_mark_sof(fdj_buf *b, const fdj_enc_frame *f, int sof_type);
void fdj_mark_dht(fdj_buf *b, int ac, int slot, const fdj_huff_spec *s);
void fdj_mark_dri(fdj_buf *b, int interval);
void fdj_mark_sos(fdj_buf *b, const fdj_enc_frame *f, const int *comps, int ncomps, int ss,
                  int se, int ah, int al, int progressive);
/* Check that extra bytes are complete APPn/COM segments. */
int fdj_mark_check_segments(const uint8_t *data, size_t size, char *msg);

#endif /* FDJ_ENC_INTERNAL_H */
