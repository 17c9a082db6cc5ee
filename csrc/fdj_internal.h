/*
 * fdj_internal.h -- declarations shared between the codec's stages.
 * Not installed; C users include fdjpeg.h only.
 */
#ifndef FDJ_INTERNAL_H
#define FDJ_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fdjpeg.h"
#include "fdj_simd.h"

#if defined(__GNUC__) || defined(__clang__)
#define FDJ_LIKELY(x) __builtin_expect(!!(x), 1)
#define FDJ_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define FDJ_INLINE static inline __attribute__((always_inline))
#define FDJ_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define FDJ_LIKELY(x) (x)
#define FDJ_UNLIKELY(x) (x)
#define FDJ_INLINE static inline
#define FDJ_PRINTF(a, b)
#endif

/* zigzag index -> natural index (T.81 Figure A.6); 16 extra entries map
 * corrupt run lengths past 63 onto a harmless slot, as libjpeg does. */
extern const uint8_t fdj_zigzag_to_natural[64 + 16];
/* natural index -> zigzag index */
extern const uint8_t fdj_natural_to_zigzag[64];

/* Annex K.3 standard Huffman table (bits[1..16], vals) for DC/AC, luma/chroma (common.c) */
void fdj_std_huff_table(int ac, int chroma, const uint8_t **bits, const uint8_t **vals);

/* ---- overflow-checked allocation (common.c) ---- */
/* a*b (and a*b*c) with overflow detection: returns 0 on overflow */
int fdj_mul_size(size_t a, size_t b, size_t *out);
int fdj_mul3_size(size_t a, size_t b, size_t c, size_t *out);
/* malloc of a*b bytes, NULL on overflow or failure; zeroed variant */
void *fdj_malloc2(size_t a, size_t b);
void *fdj_calloc2(size_t a, size_t b);

/* snprintf into a FDJ_MSG_SIZE buffer (msg may be NULL) and return status */
int fdj_fail(char *msg, int status, const char *fmt, ...) FDJ_PRINTF(3, 4);

/* ---- growable output buffer (common.c) ---- */
typedef struct fdj_buf {
    uint8_t *data;
    size_t size, cap;
    int failed;             /* an allocation failed: all further writes are dropped */
    /* a fixed-capacity buffer (the streaming encoder): when full, its bytes go to the sink
     * (nonzero return: failed) instead of growing it; NULL for a growing buffer */
    int (*sink)(void *ctx, const uint8_t *data, size_t n);
    void *sink_ctx;
} fdj_buf;
/* Hand a sink buffer's bytes to its sink (no-op for a growing buffer); 0 if it failed. */
int fdj_buf_flush(fdj_buf *b);
void fdj_buf_init(fdj_buf *b);
int fdj_buf_reserve(fdj_buf *b, size_t extra);
void fdj_buf_put(fdj_buf *b, const void *src, size_t n);
void fdj_buf_byte(fdj_buf *b, uint8_t v);
void fdj_buf_u16be(fdj_buf *b, unsigned v);
void fdj_buf_release(fdj_buf *b);

/* ---- inverse DCT (dec_idct.c) ---- */
/* ISLOW IDCT of one block of dequantized coefficients (natural order, int32
 * so requantized/16-bit-table products do not wrap), libjpeg's jidctint.c
 * arithmetic, output range-limited into 8 rows of 8 bytes. */
void fdj_idct_islow(const int32_t in[64], uint8_t *out, ptrdiff_t stride);
/* Reduced-size IDCTs for scale 1/2, 1/4, 1/8 (4x4, 2x2, 1x1 outputs). */
void fdj_idct_4x4(const int32_t in[64], uint8_t *out, ptrdiff_t stride);
void fdj_idct_2x2(const int32_t in[64], uint8_t *out, ptrdiff_t stride);
void fdj_idct_1x1(const int32_t in[64], uint8_t *out, ptrdiff_t stride);
/* The pixel fdj_idct_1x1 writes for the dequantized DC dc (jidctred.c
 * jpeg_idct_1x1: DESCALE(dc, 3) through libjpeg's "& 1023" range limit). */
FDJ_INLINE uint8_t fdj_idct_1x1_pixel(int64_t dc)
{
    int v = (int)(((dc + 4) >> 3) & 1023);
    return (uint8_t)(v < 128 ? v + 128 : v < 512 ? 255 : v < 896 ? 0 : v - 896);
}

/* ---- upsampling and colour conversion to output pixels (dec_render.c) ---- */
/* How component sample rows become output pixels (jdsample.c + jdcolor.c). */
typedef struct fdj_render_spec {
    int width, height;                  /* output image size (already scaled) */
    int num_components;
    int comp_width[FDJ_MAX_COMPONENTS]; /* real (downsampled, scaled) samples per row */
    int comp_height[FDJ_MAX_COMPONENTS];/* real rows of the component */
    int hx[FDJ_MAX_COMPONENTS], vx[FDJ_MAX_COMPONENTS]; /* integer expansion factors */
    int fancy[FDJ_MAX_COMPONENTS];      /* fancy (triangular) upsampling allowed */
    int jpeg_color;                     /* enum fdj_colorspace of the components */
    int out_format;                     /* enum fdj_out_format */
    int invert_cmyk;                    /* invert CMYK output (Pillow's Adobe convention) */
    int simd;                           /* fdj_simd_level() at init (fdj_simd.h) */
    fdj_kernels kern;                   /* that level's kernels */
} fdj_render_spec;

/* Fill a spec for full-size decoding (block size 8 everywhere).  Returns
 * FDJ_ERR_UNSUPPORTED for non-integral sampling ratios, as libjpeg. */
int fdj_render_spec_init(fdj_render_spec *spec, int width, int height, int num_components,
                         const int h[], const int v[], int jpeg_color, int out_format);
/* the same with the kernel level given (fdj_simd_level_cpu: no CPUID) */
int fdj_render_spec_init_level(fdj_render_spec *spec, int width, int height, int num_components,
                               const int h[], const int v[], int jpeg_color, int out_format,
                               int level);
int fdj_render_channels(const fdj_render_spec *spec); /* output channels */

/* Rows of one component: row i is rows[i % ring] (i < comp_height + padding). */
typedef struct fdj_comp_rows {
    uint8_t *const *rows;
    int ring;
} fdj_comp_rows;

/* Scratch for rendering: one upsampled row per component. */
typedef struct fdj_render_scratch {
    uint8_t *buf;                       /* num_components * (width + 64) bytes */
} fdj_render_scratch;
int fdj_render_scratch_init(fdj_render_scratch *s, const fdj_render_spec *spec);
void fdj_render_scratch_free(fdj_render_scratch *s);

/* Produce output rows [y0, y1).  Needs component rows from (y0/vx - 1) to
 * (y1-1)/vx + 1 (clamped to the real rows) for vertically fancy components. */
void fdj_render_rows(const fdj_render_spec *spec, const fdj_comp_rows comp[],
                     fdj_render_scratch *scratch, int y0, int y1, uint8_t *out,
                     ptrdiff_t out_stride);

/* Render complete component planes (IDCT output, any padding) to pixels. */
int fdj_render_planes(const fdj_render_spec *spec, const uint8_t *const plane[],
                      const ptrdiff_t plane_stride[], uint8_t *out, ptrdiff_t out_stride);

#endif /* FDJ_INTERNAL_H */
