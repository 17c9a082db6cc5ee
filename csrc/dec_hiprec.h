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

/* dec_idct12.c: libjpeg-turbo's 12-bit jpeg_idct_islow (PASS1_BITS 1, range
 * limit to 0..4095) of one block of dequantized coefficients. */
void fdj_idct12_islow(const int32_t in[64], uint16_t *out, ptrdiff_t stride);

/* dec_idct12.c: dequantize (+ one-pass purify, tables scaled by 16: see
 * fdjpeg.h) + IDCT the whole-image coefficient buffers of a 12-bit frame and
 * render them with spec (from the driver's output geometry). */
int fdj_output12_from_full(fdj_decoder *d, const fdj_render_spec *spec, uint8_t *out,
                           ptrdiff_t row_stride);

#endif
