/*
 * fdj_simd.h -- run-time choice of the SIMD kernels.
 *
 * Every hot kernel has a scalar reference (dec_idct.c, enc_fdct.c,
 * dec_render.c) and x86 AVX2 siblings (dec_idct_simd.c, enc_fdct_simd.c,
 * dec_color_simd.c) that produce the same bytes for every input; where a
 * 32-bit SIMD lane could overflow on hostile input, the sibling checks the
 * range and hands the block to the scalar code.  The level is looked up once
 * per decode/encode/purify call (no global state) and stored in the stage's
 * context; FDJPEG_SIMD=0 in the environment forces the scalar path.
 */
#ifndef FDJ_SIMD_H
#define FDJ_SIMD_H

#include <stddef.h>
#include <stdint.h>

enum fdj_simd_level {
    FDJ_SIMD_SCALAR = 0,
    FDJ_SIMD_AVX2 = 2
};

/* The best level this CPU supports, lowered by FDJPEG_SIMD ("0"/"scalar"/"off"). */
int fdj_simd_level(void);

typedef void (*fdj_idct_fn)(const int32_t in[64], uint8_t *out, ptrdiff_t stride);
typedef void (*fdj_fdct_fn)(const uint8_t *in, ptrdiff_t stride, int32_t out[64]);

/* Dequantize (int16 coefficient times int32 multiplier, natural order) and
 * ISLOW IDCT in one kernel: equal to fdj_idct_islow of the products, and to
 * libjpeg-turbo's AVX2 kernel.  Returns 0, writing nothing, for a block where
 * that kernel's 16-bit arithmetic could give other pixels (never for blocks
 * of real images): the caller decodes it with fdj_idct_islow_avx2_emul. */
typedef int (*fdj_idct_q_fn)(const int16_t coef[64], const int32_t q[64], uint8_t *out,
                             ptrdiff_t stride);
fdj_idct_q_fn fdj_idct_islow_q_for(int level); /* NULL: no fused kernel, dequantize first */

/* One-pass FD requantization table with its division constants: for
 * n < 2^15, floor(n / t) = (n * magic) >> shift (Granlund-Montgomery,
 * magic = ceil(2^shift / t), shift = 15 + ceil(log2 t), so n * magic < 2^31). */
typedef struct fdj_requant_table {
    int32_t t[64], half[64];
    uint32_t magic[64], shift[64];
} fdj_requant_table;
void fdj_requant_table_init(fdj_requant_table *rt, const uint16_t t[64]);

/* Dequantize, one-pass FD requantize by rt->t (fdj_requantize), ISLOW IDCT.
 * Returns 0, writing nothing, for a block the kernel cannot compute exactly:
 * the caller takes the scalar reference fdj_idct_islow_rq (dec_dequant.c). */
typedef int (*fdj_idct_rq_fn)(const int16_t coef[64], const int32_t q[64],
                              const fdj_requant_table *rt, uint8_t *out, ptrdiff_t stride);
fdj_idct_rq_fn fdj_idct_islow_rq_for(int level); /* NULL: no SIMD sibling */

/* The ISLOW IDCT / FDCT for a level (scalar for levels without a sibling). */
fdj_idct_fn fdj_idct_islow_for(int level);
fdj_fdct_fn fdj_fdct_islow_for(int level);

/* AVX2 siblings: callable only when fdj_simd_level() >= FDJ_SIMD_AVX2. */
void fdj_idct_islow_avx2(const int32_t in[64], uint8_t *out, ptrdiff_t stride);
int fdj_idct_islow_q_avx2(const int16_t coef[64], const int32_t q[64], uint8_t *out,
                          ptrdiff_t stride);
int fdj_idct_islow_rq_avx2(const int16_t coef[64], const int32_t q[64],
                           const fdj_requant_table *rt, uint8_t *out, ptrdiff_t stride);
void fdj_fdct_islow_avx2(const uint8_t *in, ptrdiff_t stride, int32_t out[64]);
/* YCbCr -> interleaved RGB for one row (libjpeg's jdcolor.c arithmetic). */
void fdj_ycc_rgb_row_avx2(const uint8_t *y, const uint8_t *cb, const uint8_t *cr, int w,
                          uint8_t *out);
/* h2v2 fancy upsampling of one output row (jdsample.c), interior part. */
void fdj_h2v2_fancy_row_avx2(const uint8_t *near, const uint8_t *far, int w, uint8_t *out);

#endif /* FDJ_SIMD_H */
