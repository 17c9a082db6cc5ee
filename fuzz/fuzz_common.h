/*
 * fuzz_common.h -- shared pieces of the libFuzzer harnesses.
 *
 * Harness limits are small (256 K pixels, 64 scans, 1 MiB of marker segments) so that
 * libFuzzer's memory and time limits report real bugs, not big valid images.
 * The last input byte, XOR 0xD9, selects decoder options: a normal JPEG ends
 * in EOI (FF D9), so seed files run with the defaults and mutations of the
 * last byte explore the others.
 */
#ifndef FDJ_FUZZ_COMMON_H
#define FDJ_FUZZ_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fdjpeg.h"

#define FUZZ_MAX_PIXELS (1u << 18)
#define FUZZ_MAX_SCANS 64

/* abort (a finding) when an invariant of the API breaks */
#define FUZZ_ASSERT(cond)                                                                  \
    do {                                                                                   \
        if (!(cond))                                                                       \
            __builtin_trap();                                                              \
    } while (0)

static inline unsigned fuzz_option_byte(const uint8_t *data, size_t size)
{
    return size ? (unsigned)(data[size - 1] ^ 0xD9) : 0;
}

static inline void fuzz_decode_options(fdj_decode_options *opt, unsigned ob)
{
    static const int scales[4] = {1, 2, 4, 8};
    fdj_decode_options_init(opt);
    opt->max_pixels = FUZZ_MAX_PIXELS;
    opt->max_scans = FUZZ_MAX_SCANS;
    opt->max_segment_bytes = 1u << 20;
    opt->scale_denom = scales[ob & 3];
    opt->out_format = (int)((ob >> 2) & 3) % 3;
    opt->allow_truncated = (ob >> 4) & 1;
    opt->invert_adobe_cmyk = !((ob >> 5) & 1);
}

/* A failed call must say what went wrong with a known status. */
static inline void fuzz_check_failure(int st, const char *msg)
{
    FUZZ_ASSERT(st >= FDJ_ERR_NOT_JPEG && st < 0);
    FUZZ_ASSERT(msg != NULL && msg[0] != 0);
    FUZZ_ASSERT(strlen(msg) < FDJ_MSG_SIZE);
}

/* Decode pixels after a successful open; returns the status. */
static inline int fuzz_decode_pixels(fdj_decoder *dec)
{
    int h = 0, w = 0, c = 0, st, sb;
    uint8_t *out;
    st = fdj_decoder_output_shape(dec, &h, &w, &c);
    if (st != FDJ_OK) {
        fuzz_check_failure(st, fdj_decoder_message(dec));
        return st;
    }
    FUZZ_ASSERT(h > 0 && w > 0 && (c == 1 || c == 3 || c == 4));
    FUZZ_ASSERT((uint64_t)h * (uint64_t)w <= FUZZ_MAX_PIXELS);
    /* uint16 samples above 8 bits (12-bit lossy, 9..16-bit lossless) */
    sb = fdj_decoder_sample_bytes(dec);
    FUZZ_ASSERT(sb == (fdj_decoder_info(dec)->precision > 8 ? 2 : 1));
    c *= sb;
    out = (uint8_t *)malloc((size_t)h * (size_t)w * (size_t)c);
    if (!out)
        return FDJ_ERR_NOMEM;
    /* a row stride one sample short is refused before any work */
    FUZZ_ASSERT(fdj_decoder_decode(dec, out, (ptrdiff_t)w * c - 1) == FDJ_ERR_ARGUMENT);
    st = fdj_decoder_decode(dec, out, (ptrdiff_t)w * c);
    if (st != FDJ_OK)
        fuzz_check_failure(st, fdj_decoder_message(dec));
    else {
        /* touch every output byte: MSan-free way to make ASan see the whole buffer used */
        volatile uint8_t sink = 0;
        size_t i, n = (size_t)h * (size_t)w * (size_t)c;
        for (i = 0; i < n; i += 61)
            sink ^= out[i];
        (void)sink;
    }
    free(out);
    return st;
}

/* Read the quantized coefficients after a successful open. */
static inline int fuzz_read_coefficients(fdj_decoder *dec)
{
    const fdj_info *inf = fdj_decoder_info(dec);
    int16_t *planes[FDJ_MAX_COMPONENTS] = {0};
    int c, st = FDJ_OK;
    for (c = 0; c < inf->num_components; c++) {
        size_t n = (size_t)inf->comp[c].width_in_blocks * (size_t)inf->comp[c].height_in_blocks;
        FUZZ_ASSERT(inf->comp[c].width_in_blocks > 0 && inf->comp[c].height_in_blocks > 0);
        planes[c] = (int16_t *)malloc(n * 64 * sizeof(int16_t));
        if (!planes[c])
            st = FDJ_ERR_NOMEM;
    }
    if (st == FDJ_OK) {
        st = fdj_decoder_read_coefficients(dec, planes);
        if (st != FDJ_OK)
            fuzz_check_failure(st, fdj_decoder_message(dec));
    }
    for (c = 0; c < FDJ_MAX_COMPONENTS; c++)
        free(planes[c]);
    return st;
}

#endif
