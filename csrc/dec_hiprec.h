/*
 * dec_hiprec.h -- the decoder's higher-precision paths (12-bit lossy, 2..16-bit
 * lossless): uint16 sample planes, the 12-bit ISLOW IDCT and 16-bit rendering.
 *
 * Output convention: for precision > 8 every output sample is a uint16_t in
 * native byte order (rows of width * channels * 2 bytes); for precision <= 8
 * a uint8_t, as before.
 */
#ifndef FDJ_DEC_HIPREC_H
#define FDJ_DEC_HIPREC_H

#include "dec_internal.h"

/* Bytes per output sample for a frame of this precision: 1 (P <= 8) or 2. */
FDJ_INLINE int fdj_sample_bytes(int precision) { return precision > 8 ? 2 : 1; }

/* dec_render16.c: whether a uint16 render of this spec is supported (FDJ_OK or
 * FDJ_ERR_UNSUPPORTED with a static reason in *why).  lossless: libjpeg-turbo
 * allows no lossy colour conversion in lossless mode (jdcolor.c). */
int fdj_render16_check(const fdj_render_spec *spec, int lossless, const char **why);

/* Upsample (jdsample.c: fancy where spec->fancy allows, replication otherwise)
 * and colour-convert (jdcolor.c at this precision) complete uint16 component
 * planes (plane_stride in samples) into uint16 pixels (out_stride in bytes). */
int fdj_render16_planes(const fdj_render_spec *spec, int precision,
                        const uint16_t *const plane[], const ptrdiff_t plane_stride[],
                        uint8_t *out, ptrdiff_t out_stride);

/* The same for the window x0..x1-1, y0..y1-1 of the output only (out: its rows):
 * exactly those pixels of fdj_render16_planes' output; reads plane samples only in
 * [x0/hx - 1, (x1-1)/hx + 1] x [y0/vx - 1, (y1-1)/vx + 1] (clamped to the component). */
int fdj_render16_window(const fdj_render_spec *spec, int precision,
                        const uint16_t *const plane[], const ptrdiff_t plane_stride[], int x0,
                        int y0, int x1, int y1, uint8_t *out, ptrdiff_t out_stride);

/* dec_idct12.c: libjpeg-turbo's 12-bit jpeg_idct_islow (PASS1_BITS 1, range
 * limit to 0..4095) of one block of dequantized coefficients. */
void fdj_idct12_islow(const int32_t in[64], uint16_t *out, ptrdiff_t stride);

/* dec_idct12.c: dequantize (+ one-pass purify, tables scaled by 16: see
 * fdjpeg.h) + IDCT the whole-image coefficient buffers of a 12-bit frame and
 * render them with spec (from the driver's output geometry). */
int fdj_output12_from_full(fdj_decoder *d, const fdj_render_spec *spec, uint8_t *out,
                           ptrdiff_t row_stride);
/* The same for the output window x0..x1-1, y0..y1-1: only the blocks whose samples the
 * window reads (fdj_render16_window) are dequantized and IDCT'd (fdj_decode12_needed). */
int fdj_output12_window(fdj_decoder *d, const fdj_render_spec *spec, int x0, int y0, int x1,
                        int y1, uint8_t *out, ptrdiff_t row_stride);
/* The block rectangle of component c that the window reads: block columns
 * [*bx0, *bx1), block rows [*by0, *by1). */
void fdj_decode12_needed(const fdj_decoder *d, const fdj_render_spec *spec, int c, int x0,
                         int y0, int x1, int y1, int *bx0, int *bx1, int *by0, int *by1);

#endif
