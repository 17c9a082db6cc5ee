/*
 * fuzz_simd_diff.c -- differential libFuzzer target: the SIMD kernels (AVX2
 * IDCT/FDCT, colour conversion, upsampling, quantizer; the 16-bit IDCT row
 * kernels of plain and one-pass decoding against the emulation / exact
 * scalar choice, purify's fused two-block kernel) against the scalar
 * reference, bit for bit, through the public API (downsampling and the
 * Huffman block coder on the encode side).  The kernel level is read
 * from FDJPEG_SIMD at every call, so each input is run twice: once with
 * FDJPEG_SIMD=0 (scalar) and once with the CPU's best level.
 *   - decode (optionally one-pass purified with 8- or 16-bit steps, scaled):
 *     same status, same message, same pixels;
 *   - when it decodes, encode those pixels with the file's first table and
 *     purify them: same JPEG bytes, same purified pixels; RGB images are also
 *     purified at 4:4:4 with two tables (purify's tile kernel).
 * On a CPU without AVX2 both runs are scalar and the target only checks
 * determinism.
 */
#define _POSIX_C_SOURCE 200112L /* setenv */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct result {
    int status, h, w, c;
    char msg[FDJ_MSG_SIZE];
    uint8_t *pix;
    uint16_t qt[64];
} result;

static void set_scalar(int scalar)
{
    if (scalar)
        setenv("FDJPEG_SIMD", "0", 1);
    else
        unsetenv("FDJPEG_SIMD");
}

static void run_decode(const uint8_t *data, size_t size, const fdj_decode_options *opt, result *r)
{
    fdj_decoder *dec = fdj_decoder_new();
    memset(r, 0, sizeof *r);
    if (!dec) {
        r->status = FDJ_ERR_NOMEM;
        return;
    }
    r->status = fdj_decoder_open(dec, data, size, opt);
    if (r->status == FDJ_OK)
        r->status = fdj_decoder_output_shape(dec, &r->h, &r->w, &r->c);
    if (r->status == FDJ_OK) {
        r->pix = (uint8_t *)malloc((size_t)r->h * r->w * r->c);
        r->status = r->pix ? fdj_decoder_decode(dec, r->pix, (ptrdiff_t)r->w * r->c) : FDJ_ERR_NOMEM;
        memcpy(r->qt, fdj_decoder_info(dec)->comp[0].qtable, sizeof r->qt);
    }
    snprintf(r->msg, sizeof r->msg, "%s", fdj_decoder_message(dec));
    fdj_decoder_free(dec);
}

static void check_encode_side(const result *r)
{
    fdj_encode_params p;
    uint8_t *jpg[2] = {NULL, NULL}, *pur[2] = {NULL, NULL};
    size_t n[2] = {0, 0};
    char msg[FDJ_MSG_SIZE];
    int st[2], ps[2], s, k;
    if (r->c == 4 || (uint64_t)r->w * r->h > 65536)
        return;
    fdj_encode_params_init(&p);
    p.width = r->w;
    p.height = r->h;
    p.in_color = r->c == 1 ? FDJ_IN_GRAY : FDJ_IN_RGB;
    p.num_qtables = 1;
    for (k = 0; k < 64; k++)
        p.qtable[0][k] = r->qt[k] ? r->qt[k] : 1;
    if (r->c == 3) { /* 4:2:0, or 4:2:2 for odd heights: both downsampling kernels */
        p.h_samp[0] = 2;
        p.v_samp[0] = r->h & 1 ? 1 : 2;
    }
    /* optimal tables for odd widths: the AVX2 block coder's path for tables that may
     * lack codes (Annex K's have them all) */
    p.optimize = r->w & 1;
    for (s = 0; s < 2; s++) {
        set_scalar(s == 0);
        st[s] = fdj_encode(&p, r->pix, (ptrdiff_t)r->w * r->c, r->c, 1, &jpg[s], &n[s], msg);
        pur[s] = (uint8_t *)malloc((size_t)r->w * r->h * r->c);
        ps[s] = pur[s] ? fdj_purify(&p, r->pix, (ptrdiff_t)r->w * r->c, r->c, 1, pur[s],
                                    (ptrdiff_t)r->w * r->c, msg)
                       : FDJ_ERR_NOMEM;
    }
    set_scalar(0);
    FUZZ_ASSERT(st[0] == st[1]);
    if (st[0] == FDJ_OK)
        FUZZ_ASSERT(n[0] == n[1] && memcmp(jpg[0], jpg[1], n[0]) == 0);
    if (ps[0] != FDJ_ERR_NOMEM && ps[1] != FDJ_ERR_NOMEM) {
        FUZZ_ASSERT(ps[0] == ps[1]);
        if (ps[0] == FDJ_OK)
            FUZZ_ASSERT(memcmp(pur[0], pur[1], (size_t)r->w * r->h * r->c) == 0);
    }
    for (s = 0; s < 2; s++) {
        fdj_free(jpg[s]);
        free(pur[s]);
        pur[s] = NULL;
    }
    if (r->c == 3) {
        /* 4:4:4 RGB: purify's tile kernel (purify_simd.c) against the scalar chain, with
         * the file's table for luma and a second one (entries 1..64) for chroma */
        p.h_samp[0] = p.v_samp[0] = 1;
        p.num_qtables = 2;
        for (k = 0; k < 64; k++)
            p.qtable[1][k] = (uint16_t)(1 + (r->qt[k] + k) % 64);
        p.comp_qtable[0] = 0;
        p.comp_qtable[1] = p.comp_qtable[2] = 1;
        for (s = 0; s < 2; s++) {
            set_scalar(s == 0);
            pur[s] = (uint8_t *)malloc((size_t)r->w * r->h * 3);
            ps[s] = pur[s] ? fdj_purify(&p, r->pix, (ptrdiff_t)r->w * 3, 3, 1, pur[s],
                                        (ptrdiff_t)r->w * 3, msg)
                           : FDJ_ERR_NOMEM;
        }
        set_scalar(0);
        if (ps[0] != FDJ_ERR_NOMEM && ps[1] != FDJ_ERR_NOMEM) {
            FUZZ_ASSERT(ps[0] == ps[1]);
            if (ps[0] == FDJ_OK)
                FUZZ_ASSERT(memcmp(pur[0], pur[1], (size_t)r->w * r->h * 3) == 0);
        }
        free(pur[0]);
        free(pur[1]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fdj_decode_options opt;
    unsigned ob = fuzz_option_byte(data, size);
    result r[2];
    int c, k;
    fuzz_decode_options(&opt, ob);
    opt.out_format = (ob >> 2) & 1 ? FDJ_OUT_RGB : FDJ_OUT_NATIVE;
    if ((ob >> 6) & 1) {
        opt.purify_count = 1;
        for (c = 0; c < FDJ_MAX_COMPONENTS; c++)
            for (k = 0; k < 64; k++)
                opt.purify[c][k] = (uint16_t)((ob >> 7) & 1 ? 30000 + k * 500 : 1 + (k * 5) % 40);
    }
    set_scalar(1);
    run_decode(data, size, &opt, &r[0]);
    set_scalar(0);
    run_decode(data, size, &opt, &r[1]);
    FUZZ_ASSERT(r[0].status == r[1].status);
    FUZZ_ASSERT(strcmp(r[0].msg, r[1].msg) == 0);
    if (r[0].status == FDJ_OK) {
        FUZZ_ASSERT(r[0].h == r[1].h && r[0].w == r[1].w && r[0].c == r[1].c);
        FUZZ_ASSERT(memcmp(r[0].pix, r[1].pix, (size_t)r[0].h * r[0].w * r[0].c) == 0);
        check_encode_side(&r[0]);
    }
    free(r[0].pix);
    free(r[1].pix);
    return 0;
}
