/*
 * fdj_simd.h -- the SIMD kernels and their one point of choice.
 *
 * Every hot kernel has a scalar reference (dec_idct.c, dec_dequant.c,
 * dec_render.c, enc_fdct.c, enc_color.c, enc_huff.c, and dec_idct_emul.c
 * for libjpeg-turbo's 16-bit IDCT arithmetic) and an x86 sibling
 * (dec_idct_simd.c, dec_idct16_simd.c, dec_color_simd.c, enc_fdct_simd.c,
 * enc_color_simd.c, enc_huff_simd.c) that produces the same bytes for every
 * input; where a 32-bit or 16-bit lane could leave the exact range on hostile
 * input, the sibling refuses the block and the caller takes the scalar
 * reference.  The platform is detected here,
 * once; the kernels of a level are listed in one table (fdj_kernels_init, in
 * fdj_simd.c).  The level is looked up once per decode/encode/purify call (no
 * global state) and kept in the stage's context; FDJPEG_SIMD=0 in the
 * environment forces the scalar references everywhere.
 */
#ifndef FDJ_SIMD_H
#define FDJ_SIMD_H

#include <stddef.h>
#include <stdint.h>

/* x86 with GCC/Clang: AVX2 kernels compiled per function, chosen at run time.
 * Only the *_simd.c files use FDJ_AVX2/FDJ_SSE2 (and include fdj_simd_x86.h). */
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define FDJ_X86_SIMD 1
#define FDJ_AVX2 __attribute__((target("avx2")))
#define FDJ_SSE2 __attribute__((target("sse2")))
#endif

enum fdj_simd_level {
    FDJ_SIMD_SCALAR = 0,
    FDJ_SIMD_AVX2 = 2
};

/* The best level this CPU supports, lowered by FDJPEG_SIMD ("0"/"scalar"/"off"). */
int fdj_simd_level(void);
/* The same from the features a caller detected with fdj_cpu_detect (fdjpeg.h; 0: detect
 * here): above FDJ_SIMD_SCALAR the level then carries FDJ_SIMD_KNOWN and, where the CPU
 * has BMI1/BMI2/LZCNT, FDJ_SIMD_BMI, so fdj_kernels_init needs no CPUID.  Every place
 * that takes a level takes these (levels compare with >= FDJ_SIMD_AVX2). */
int fdj_simd_level_cpu(unsigned cpu);
#define FDJ_SIMD_KNOWN 0x100
#define FDJ_SIMD_BMI 0x200

/* Scalar references the kernel table names (dec_huff.c). */
struct fdj_decoder;
int fdj_decode_mcu_sequential_scalar(struct fdj_decoder *d, int16_t *const blocks[], int nblocks,
                                     const int block_comp[]);
int fdj_decode_mcu_sequential_rq_scalar(struct fdj_decoder *d, int16_t *const blocks[],
                                        int nblocks, const int block_comp[]);
int fdj_decode_mcu_sequential_dc_scalar(struct fdj_decoder *d, int16_t *const blocks[],
                                        int nblocks, const int block_comp[]);

typedef void (*fdj_idct_fn)(const int32_t in[64], uint8_t *out, ptrdiff_t stride);
typedef void (*fdj_fdct_fn)(const uint8_t *in, ptrdiff_t stride, int32_t out[64]);

/* Dequantize (int16 coefficient times int32 multiplier, natural order) and
 * ISLOW IDCT in one kernel: equal to fdj_idct_islow of the products, and to
 * libjpeg-turbo's AVX2 kernel.  Returns 0, writing nothing, for a block where
 * that kernel's 16-bit arithmetic could give other pixels (never for blocks
 * of real images): the caller decodes it with fdj_idct_islow_avx2_emul. */
typedef int (*fdj_idct_q_fn)(const int16_t coef[64], const int32_t q[64], uint8_t *out,
                             ptrdiff_t stride);

/* One-pass FD requantization table with its division constants: for
 * n < 2^15, floor(n / t) = (n * magic) >> shift (Granlund-Montgomery,
 * magic = ceil(2^shift / t), shift = 15 + ceil(log2 t), so n * magic < 2^31).
 * Filled by fdj_requant_table_init (dec_dequant.c). */
typedef struct fdj_requant_table {
    int32_t t[64], half[64];
    uint32_t magic[64], shift[64];
    /* the same division in 16-bit lanes (dec_idct16_simd.c), n < 2^15:
     * x = (n * MAGIC) >> 16, floor(n / t) = ((x * POST) >> 16) | (x & KEEPX) | (n & KEEPN)
     * (t >= 3: MAGIC = magic, POST = 2^(32 - shift); t = 2: x itself; t = 1: n);
     * v16[field][row] holds the eight values of a row twice (both halves of a
     * ymm register, so the kernel reads them as memory operands) */
    uint16_t v16[7][8][16];
    int small_t;                /* some t is 1 or 2 (KEEPX/KEEPN needed) */
} fdj_requant_table;
/* v16 fields; FDJ_RQ_CMAX: the largest |c| (c the coefficient, with the
 * multipliers q given to fdj_requant_table_set_q) with |c * q| + T/2 < 2^15,
 * the 16-bit lanes' range; 0 (only zero rows taken) until then */
enum { FDJ_RQ_T, FDJ_RQ_HALF, FDJ_RQ_MAGIC, FDJ_RQ_POST, FDJ_RQ_KEEPX, FDJ_RQ_KEEPN, FDJ_RQ_CMAX };
void fdj_requant_table_init(fdj_requant_table *rt, const uint16_t t[64]);
void fdj_requant_table_set_q(fdj_requant_table *rt, const int32_t q[64]);

/* Dequantize, one-pass FD requantize by rt->t (dec_dequant.c), ISLOW IDCT.
 * Returns 0, writing nothing, for a block the kernel cannot compute exactly:
 * the caller takes the scalar reference fdj_idct_islow_rq (dec_dequant.c). */
typedef int (*fdj_idct_rq_fn)(const int16_t coef[64], const int32_t q[64],
                              const fdj_requant_table *rt, uint8_t *out, ptrdiff_t stride);

/* Dequantize (16-bit multiply, as libjpeg-turbo) and ISLOW IDCT a row of
 * nblocks blocks (64 coefficients each, natural order; block bx's pixels at
 * out + 8 * bx) with libjpeg-turbo's AVX2 arithmetic in 16-bit lanes
 * (dec_idct16_simd.c): equal, block by block and for every input, to
 * fdj_idct_islow_avx2_emul (dec_idct_emul.c, its scalar reference), which is
 * what the decoder gives for every block. */
typedef void (*fdj_idct_turbo_row_fn)(const int16_t *coef, const uint16_t q[64], int nblocks,
                                      uint8_t *out, ptrdiff_t stride);

/* ISLOW IDCT of two dequantized blocks, a at out and b at out + 8, in 16-bit
 * lanes: equal to fdj_idct_islow for the blocks whose bit is set in the
 * result (bit 0: a, bit 1: b; the blocks small enough that no 16-bit limit
 * can be reached, every block of real images); the caller runs
 * fdj_idct_islow for the others (their pixels may have been written). */
typedef int (*fdj_idct2_fn)(const int32_t a[64], const int32_t b[64], uint8_t *out,
                            ptrdiff_t stride);

/* Dequantize, one-pass FD requantize by rt->t and ISLOW IDCT a row of nblocks
 * blocks (block bx's pixels at out + 8 * bx): each equal to fdj_idct_islow_rq
 * (the row kernel runs the one-block kernels itself for blocks its 16-bit
 * lanes cannot take). */
typedef void (*fdj_idct_rq_row_fn)(const int16_t *coef, const int32_t q[64],
                                   const fdj_requant_table *rt, int nblocks, uint8_t *out,
                                   ptrdiff_t stride);

/* ISLOW IDCT of a row of nblocks blocks of already dequantized (one-pass FD:
 * requantized) int16 values, natural order (block bx's pixels at out + 8 * bx):
 * each equal to fdj_idct_islow of the values as int32 (libjpeg's C arithmetic;
 * the 16-bit lanes take the blocks within fdj_idct16_exact_mask's bound, the
 * others go to the 32-bit kernel).  Scalar reference: dec_dequant.c pre_row. */
typedef void (*fdj_idct_pre_row_fn)(const int16_t *x, int nblocks, uint8_t *out,
                                    ptrdiff_t stride);

/* ISLOW FDCT of two blocks side by side (a and b, same stride). */
typedef void (*fdj_fdct2_fn)(const uint8_t *a, const uint8_t *b, ptrdiff_t stride,
                             int32_t outa[64], int32_t outb[64]);

struct fdj_divisors;
/* purify's fused kernel's quantizer for a table T with every entry at most
 * 4080, in 16-bit lanes: quotient floor((|x| + 4T) / 8T), which is what the
 * encoder's float quantizer gives for every |x| < 2^15 (checked exhaustively
 * by tests/test_simd.py; the FDCT of 8-bit samples stays below 2^13), as
 * ((((|x| + BIAS) * MAGIC) >> 16) * POST) >> 16 (n < 2^15, divisor 8T >= 8:
 * the one-pass requantizer's constants), then times T.  v[field][row] holds
 * a row's eight values twice (both halves of a ymm register).  Filled by
 * fdj_purify_consts_init (purify.c), which returns 0 for a table it cannot
 * take. */
typedef struct fdj_purify_consts {
    uint16_t v[4][8][16];
} fdj_purify_consts;
enum { FDJ_PQ_BIAS, FDJ_PQ_MAGIC, FDJ_PQ_POST, FDJ_PQ_T };
int fdj_purify_consts_init(fdj_purify_consts *pc, const int32_t q[64]);
/* Purify two blocks side by side (a, b: same stride): ISLOW FDCT, quantize
 * and dequantize with pc's table, ISLOW IDCT; a's pixels at out, b's at
 * out + 8.  Returns the blocks done (bit 0: a, bit 1: b), each equal to
 * fdj_fdct_islow -> quantize_dequantize -> fdj_idct_islow; the caller runs
 * those for the others (their pixels may have been written). */
typedef int (*fdj_purify2_fn)(const uint8_t *a, const uint8_t *b, ptrdiff_t stride,
                              const fdj_purify_consts *pc, uint8_t *out, ptrdiff_t out_stride);
/* purify's 4:4:4 RGB tile (purify_simd.c): 16x8 packed RGB pixels (two blocks
 * side by side, rows `stride` bytes apart) through RGB -> YCbCr, FDCT,
 * quantize/dequantize with pc[c] for component c, IDCT, YCbCr -> RGB, written
 * at out.  Returns 1, or 0 (nothing written) when a block is outside the
 * 16-bit IDCT's exactness bound: the caller then runs the separate kernels. */
typedef int (*fdj_purify_tile_fn)(const uint8_t *rgb, ptrdiff_t stride,
                                  const fdj_purify_consts *const pc[3], uint8_t *out,
                                  ptrdiff_t out_stride);
/* Quantize a DCT block (natural order) into zigzag order / quantize and
 * dequantize it (natural order), with the encoder's divisors (enc_internal.h). */
typedef void (*fdj_quantize_fn)(const int32_t dct[64], const struct fdj_divisors *d,
                                int16_t out[64]);
typedef void (*fdj_dequantize_fn)(const int32_t dct[64], const struct fdj_divisors *d,
                                  int32_t out[64]);

/* RGB (3 bytes per pixel) -> Y, Cb, Cr rows; returns the pixels done, from 0. */
typedef int (*fdj_rgb_ycc_row_fn)(const uint8_t *src, int width, uint8_t *y, uint8_t *cb,
                                  uint8_t *cr);
/* Box downsampling of one output row by 2 horizontally (h2v1: row a) or 2x2
 * (h2v2: rows a, b) with libjpeg-turbo's alternating bias (enc_color.c);
 * returns the output columns done, from 0 (an even number). */
typedef int (*fdj_h2v1_down_row_fn)(const uint8_t *a, int out_cols, uint8_t *out);
typedef int (*fdj_h2v2_down_row_fn)(const uint8_t *a, const uint8_t *b, int out_cols, uint8_t *out);
/* YCbCr -> interleaved RGB for one row (libjpeg's jdcolor.c arithmetic). */
typedef void (*fdj_ycc_rgb_row_fn)(const uint8_t *y, const uint8_t *cb, const uint8_t *cr, int w,
                                   uint8_t *out);
/* h2v2 fancy upsampling of one output row (jdsample.c). */
typedef void (*fdj_h2v2_row_fn)(const uint8_t *near, const uint8_t *far, int w, uint8_t *out);
/* Bit k set where zz[k] != 0 (k = 1..63) / where |zz[k]| > thr (k = 0..63). */
typedef uint64_t (*fdj_nonzero_ac_fn)(const int16_t *zz);
typedef uint64_t (*fdj_abs_above_fn)(const int16_t *zz, int thr);
/* Huffman-code one zigzag block of a sequential scan into the coder's bit
 * writer (enc_huff_block.h; struct coder is enc_entropy.h's). */
struct coder;
typedef void (*fdj_huff_block_fn)(struct coder *cd, const int16_t *zz, int ci);
/* Huffman-decode one MCU of a sequential scan (dec_huff_mcu.h). */
struct fdj_decoder;
typedef int (*fdj_huff_mcu_fn)(struct fdj_decoder *d, int16_t *const blocks[], int nblocks,
                               const int block_comp[]);

/* The kernels of one level.  A NULL entry: the level has no sibling for that
 * kernel, and its caller runs the scalar reference it owns. */
typedef struct fdj_kernels {
    int level;
    const char *name;                   /* "avx2" / "scalar" (fdj_kernel_name) */
    fdj_idct_fn idct_islow;             /* never NULL */
    fdj_idct_q_fn idct_islow_q;
    fdj_idct_rq_fn idct_islow_rq;
    fdj_idct_turbo_row_fn idct_turbo_row;
    fdj_idct2_fn idct_islow2;
    fdj_idct_rq_row_fn idct_islow_rq_row;
    fdj_fdct_fn fdct_islow;             /* never NULL */
    fdj_fdct2_fn fdct_islow2;
    fdj_purify2_fn purify2;
    fdj_quantize_fn quantize;           /* never NULL */
    fdj_dequantize_fn quantize_dequantize; /* never NULL */
    fdj_rgb_ycc_row_fn rgb_ycc_row;
    fdj_h2v1_down_row_fn h2v1_down_row;
    fdj_h2v2_down_row_fn h2v2_down_row;
    fdj_ycc_rgb_row_fn ycc_rgb_row;
    fdj_h2v2_row_fn h2v2_fancy_row;
    fdj_nonzero_ac_fn nonzero_ac;       /* never NULL */
    fdj_abs_above_fn abs_above;         /* never NULL */
    fdj_huff_block_fn huff_block_seq;   /* never NULL */
    fdj_huff_mcu_fn huff_mcu_seq;       /* never NULL */
    fdj_huff_mcu_fn huff_mcu_seq_rq;    /* never NULL: its one-pass FD variant (dec_huff_mcu.h) */
    fdj_huff_mcu_fn huff_mcu_seq_dc;    /* never NULL: its DC-only variant (scale=8) */
    fdj_idct_pre_row_fn idct_pre_row;   /* one-pass FD after the Huffman decoder's requantization */
    /* scaled decode (dec_idct_scaled_simd.c): dequantize + jidctred.c 4x4 IDCT
     * (4x4 pixels out); returns 0, writing nothing, for a block it cannot
     * compute exactly: the caller takes the scalar reference fdj_idct_4x4 */
    fdj_idct_q_fn idct_4x4_q;
    fdj_idct_q_fn idct_2x2_q;           /* the same for jidctred.c's 2x2 (fdj_idct_2x2) */
    fdj_purify_tile_fn purify_tile;     /* purify 4:4:4 RGB (purify_simd.c) */
} fdj_kernels;

/* The kernels of a level (the scalar references below FDJ_SIMD_AVX2); a level without
 * FDJ_SIMD_KNOWN asks the CPU (CPUID) for the Huffman coders' BMI2/LZCNT builds. */
void fdj_kernels_init(fdj_kernels *k, int level);

/* Shorthands over fdj_kernels_init (NULL where the level has no sibling). */
fdj_idct_fn fdj_idct_islow_for(int level);
fdj_fdct_fn fdj_fdct_islow_for(int level);
fdj_idct_q_fn fdj_idct_islow_q_for(int level);
fdj_idct_rq_fn fdj_idct_islow_rq_for(int level);

/* ---- the x86 siblings: callable only when fdj_simd_level() >= FDJ_SIMD_AVX2 ---- */
#ifdef FDJ_X86_SIMD
void fdj_idct_islow_avx2(const int32_t in[64], uint8_t *out, ptrdiff_t stride);
int fdj_idct_islow_q_avx2(const int16_t coef[64], const int32_t q[64], uint8_t *out,
                          ptrdiff_t stride);
int fdj_idct_islow_rq_avx2(const int16_t coef[64], const int32_t q[64],
                           const fdj_requant_table *rt, uint8_t *out, ptrdiff_t stride);
void fdj_idct_islow_turbo_row_avx2(const int16_t *coef, const uint16_t q[64], int nblocks,
                                   uint8_t *out, ptrdiff_t stride);
int fdj_idct_islow2_avx2(const int32_t a[64], const int32_t b[64], uint8_t *out, ptrdiff_t stride);
void fdj_idct_islow_rq_row_avx2(const int16_t *coef, const int32_t q[64],
                                const fdj_requant_table *rt, int nblocks, uint8_t *out,
                                ptrdiff_t stride);
void fdj_fdct_islow_avx2(const uint8_t *in, ptrdiff_t stride, int32_t out[64]);
void fdj_fdct_islow2_avx2(const uint8_t *a, const uint8_t *b, ptrdiff_t stride,
                          int32_t outa[64], int32_t outb[64]);
int fdj_purify2_avx2(const uint8_t *a, const uint8_t *b, ptrdiff_t stride,
                     const fdj_purify_consts *pc, uint8_t *out, ptrdiff_t out_stride);
int fdj_purify_tile_avx2(const uint8_t *rgb, ptrdiff_t stride,
                          const fdj_purify_consts *const pc[3], uint8_t *out, ptrdiff_t out_stride);
void fdj_quantize_avx2(const int32_t dct[64], const struct fdj_divisors *d, int16_t out[64]);
void fdj_quantize_dequantize_avx2(const int32_t dct[64], const struct fdj_divisors *d,
                                  int32_t out[64]);
int fdj_rgb_ycc_row_avx2(const uint8_t *src, int width, uint8_t *y, uint8_t *cb, uint8_t *cr);
int fdj_h2v1_down_row_avx2(const uint8_t *a, int out_cols, uint8_t *out);
int fdj_h2v2_down_row_avx2(const uint8_t *a, const uint8_t *b, int out_cols, uint8_t *out);
void fdj_ycc_rgb_row_avx2(const uint8_t *y, const uint8_t *cb, const uint8_t *cr, int w,
                          uint8_t *out);
void fdj_h2v2_fancy_row_avx2(const uint8_t *near, const uint8_t *far, int w, uint8_t *out);
int fdj_idct_4x4_q_avx2(const int16_t coef[64], const int32_t q[64], uint8_t *out,
                        ptrdiff_t stride);
int fdj_idct_2x2_q_avx2(const int16_t coef[64], const int32_t q[64], uint8_t *out,
                        ptrdiff_t stride);
uint64_t fdj_nonzero_ac_sse2(const int16_t *zz);
uint64_t fdj_abs_above_sse2(const int16_t *zz, int thr);
/* needs BMI1/BMI2/LZCNT as well (fdj_kernels_init checks) */
void fdj_huff_block_seq_bmi2(struct coder *cd, const int16_t *zz, int ci);
int fdj_decode_mcu_sequential_bmi2(struct fdj_decoder *d, int16_t *const blocks[], int nblocks,
                                   const int block_comp[]);
int fdj_decode_mcu_sequential_rq_bmi2(struct fdj_decoder *d, int16_t *const blocks[], int nblocks,
                                      const int block_comp[]);
int fdj_decode_mcu_sequential_dc_bmi2(struct fdj_decoder *d, int16_t *const blocks[], int nblocks,
                                      const int block_comp[]);
void fdj_idct_islow_pre_row_avx2(const int16_t *x, int nblocks, uint8_t *out, ptrdiff_t stride);
#endif

#endif /* FDJ_SIMD_H */
