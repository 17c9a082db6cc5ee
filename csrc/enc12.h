/*
 * enc12.h -- 12-bit lossy encoding (enc12.c): the pixel -> coefficient stages of
 * libjpeg-turbo 3's 12-bit compressor feeding the shared entropy back end.
 */
#ifndef FDJ_ENC12_H
#define FDJ_ENC12_H

#include "enc_internal.h"

/* Set up the frame for p and fill its whole-image coefficient arrays (zigzag,
 * dummy blocks included) from uint16 samples 0..4095; element (y, x, c) at
 * pixels + y*row_stride + x*col_stride + c*chan_stride (strides in bytes).
 * On failure the frame holds no allocation. */
int fdj_enc12_coefficients(const fdj_encode_params *p, const uint8_t *pixels, ptrdiff_t row_stride,
                           ptrdiff_t col_stride, ptrdiff_t chan_stride, fdj_enc_frame *f, char *msg);

/* fdj_encode for p->precision == 12 (dispatched there by fdj_encode). */
int fdj_encode12(const fdj_encode_params *p, const uint8_t *pixels, ptrdiff_t row_stride,
                 ptrdiff_t col_stride, ptrdiff_t chan_stride, uint8_t **out, size_t *out_size,
                 char *msg);

/* purify12.c: fdj_purify for p->precision == 12 (dispatched there by fdj_purify).
 * p->qtable holds the 12-bit quantizers themselves (the Python layer passes 16 T for
 * an 8-bit table T): the result is the pixels libjpeg-turbo 3's 12-bit decoder gives
 * for fdj_encode's 12-bit file with those tables.  Samples uint16 0..4095 in and out
 * (out: rows of width * channels uint16, out_row_stride bytes apart). */
int fdj_purify12(const fdj_encode_params *p, const uint8_t *pixels, ptrdiff_t row_stride,
                 ptrdiff_t col_stride, ptrdiff_t chan_stride, uint8_t *out,
                 ptrdiff_t out_row_stride, char *msg);

#endif
