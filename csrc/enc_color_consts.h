/*
 * enc_color_consts.h -- the RGB -> YCbCr constants (JFIF 1.02, libjpeg's
 * jccolor.c) shared by enc_color.c and its AVX2 sibling enc_color_simd.c.
 */
#ifndef FDJ_ENC_COLOR_CONSTS_H
#define FDJ_ENC_COLOR_CONSTS_H

/* 16-bit fixed point RGB -> YCbCr coefficients, FIX(x) = round(x * 65536) */
#define FIX_0_29900 19595
#define FIX_0_58700 38470
#define FIX_0_11400 7471
#define FIX_0_16874 11059
#define FIX_0_33126 21709
#define FIX_0_41869 27439
#define FIX_0_08131 5329
#define ONE_HALF ((int32_t)1 << 15)
#define CBCR_OFFSET ((int32_t)128 << 16)

#endif /* FDJ_ENC_COLOR_CONSTS_H */
