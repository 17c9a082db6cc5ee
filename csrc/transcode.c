/*
 * transcode.c -- quantization-table arithmetic on coefficients and tables:
 *
 *   fdj_requantize_coefficients
 *       Feature Distillation in the coefficient domain ("transcode"): the quantized
 *       coefficients c of a file, quantized with Q, become c' = round(c * Q / T) (half away
 *       from zero), the coefficients of the same image quantized with T.  Written with T,
 *       they decode exactly like the one-pass purified decode (fdj_decode_options.purify =
 *       T), whose decoder computes T * round(c * Q / T) before its IDCT.
 *   fdj_scale_qtable
 *       libjpeg's quality scaling of a table (jpeg_quality_scaling + jpeg_add_quant_table),
 *       for Annex K's tables (fdj_quality_table) and for a caller's own (Pillow's
 *       qtables= with quality=).
 *
 * Self-contained: only fdjpeg.h and the C library.
 */
#include <stdio.h>
#include <string.h>

#include "fdjpeg.h"

int fdj_requantize_coefficients(const int16_t *coef, size_t num_blocks, const uint16_t qfile[64],
                   const uint16_t table[64], int16_t *out, char msg[FDJ_MSG_SIZE])
{
    size_t b;
    int k;
    if (msg)
        msg[0] = 0;
    if ((num_blocks && (!coef || !out)) || !qfile || !table) {
        if (msg)
            snprintf(msg, FDJ_MSG_SIZE, "fdj_requantize_coefficients: NULL argument");
        return FDJ_ERR_ARGUMENT;
    }
    for (k = 0; k < 64; k++) {
        if (table[k] == 0 || qfile[k] == 0) {
            if (msg)
                snprintf(msg, FDJ_MSG_SIZE, "%s table entry %d is 0 (entries are 1..65535)",
                         table[k] == 0 ? "target" : "source", k);
            return FDJ_ERR_ARGUMENT;
        }
    }
    for (b = 0; b < num_blocks; b++) {
        const int16_t *src = coef + b * 64;
        int16_t *dst = out + b * 64;
        for (k = 0; k < 64; k++) {
            /* |c * Q| < 2^31 (|c| <= 32768, Q <= 65535): exact in 64-bit */
            int64_t d = (int64_t)src[k] * qfile[k];
            int64_t t = table[k];
            int64_t m = d < 0 ? -d : d;
            int64_t r = (m + (t >> 1)) / t; /* round(|D| / T), half away from zero: the
                                               decoder's one-pass requantizer */
            if (r > 32767) {
                if (msg)
                    snprintf(msg, FDJ_MSG_SIZE,
                             "requantized coefficient %lld (block %zu, entry %d) does not fit "
                             "in 16 bits", (long long)(d < 0 ? -r : r), b, k);
                return FDJ_ERR_ARGUMENT;
            }
            dst[k] = (int16_t)(d < 0 ? -r : r);
        }
    }
    return FDJ_OK;
}

void fdj_scale_qtable(const uint16_t base[64], int quality, int force_baseline,
                      uint16_t out[64])
{
    long scale;
    int i;
    if (quality < 1)
        quality = 1;
    if (quality > 100)
        quality = 100;
    scale = quality < 50 ? 5000L / quality : 200L - 2L * quality;
    for (i = 0; i < 64; i++) {
        long t = ((long)base[i] * scale + 50L) / 100L;
        if (t < 1)
            t = 1;
        if (t > 32767)
            t = 32767;
        if (force_baseline && t > 255)
            t = 255;
        out[i] = (uint16_t)t;
    }
}
