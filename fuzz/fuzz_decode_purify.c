/*
 * fuzz_decode_purify.c -- libFuzzer target: decode with one-pass Feature
 * Distillation (requantization before the IDCT), tables given at open or
 * through fdj_decoder_set_purify, including 16-bit steps.  Then the same decode
 * with prebuilt tables (fdj_rq_tables_new) for the file's (q, T) pairs, plus one
 * for a pair the file does not have, in slots chosen by the option byte: the same
 * status and the same pixels.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fill_tables(fdj_decode_options *opt, unsigned ob, size_t size)
{
    /* steps from small to 16-bit, varied per band and component */
    static const uint16_t base[4] = {1, 20, 255, 40000};
    int c, k;
    for (c = 0; c < FDJ_MAX_COMPONENTS; c++)
        for (k = 0; k < 64; k++) {
            uint32_t v = base[(ob + (unsigned)c) & 3] + (uint32_t)((k * 7 + c * 3 + size) % 31);
            opt->purify[c][k] = (uint16_t)(v > 65535 ? 65535 : v);
        }
}

/* The purify table of component c (fdj_decode_options.purify_count's rule). */
static const uint16_t *table_of(const fdj_decode_options *opt, int c)
{
    int n = opt->purify_count;
    return opt->purify[n == 1 ? 0 : n == 2 ? (c ? 1 : 0) : (c < n ? c : n - 1)];
}

/* Open and decode into a new buffer: the status, the pixels in *out (NULL if none). */
static int decode_to(const uint8_t *data, size_t size, const fdj_decode_options *opt,
                     uint8_t **out, size_t *n)
{
    fdj_decoder *dec = fdj_decoder_new();
    int h = 0, w = 0, c = 0, st;
    *out = NULL;
    *n = 0;
    if (!dec)
        return FDJ_ERR_NOMEM;
    st = fdj_decoder_open(dec, data, size, opt);
    if (st == FDJ_OK)
        st = fdj_decoder_output_shape(dec, &h, &w, &c);
    if (st == FDJ_OK) {
        c *= fdj_decoder_sample_bytes(dec);
        *n = (size_t)h * (size_t)w * (size_t)c;
        *out = (uint8_t *)calloc(*n ? *n : 1, 1); /* rows an error leaves unwritten: 0 */
        st = *out ? fdj_decoder_decode(dec, *out, (ptrdiff_t)w * c) : FDJ_ERR_NOMEM;
    }
    fdj_decoder_free(dec);
    return st;
}

/* Prebuilt tables for the file's pairs (and one it lacks): the same decode. */
static void check_prebuilt(const uint8_t *data, size_t size, fdj_decode_options *opt,
                           const fdj_info *inf, unsigned ob)
{
    fdj_rq_tables *pre[FDJ_MAX_COMPONENTS + 1] = {0};
    uint16_t other[64];
    uint8_t *a, *b;
    size_t na, nb;
    int c, k, sa, sb, np = 0, rot = (int)(ob & 3);
    for (c = 0; c < inf->num_components && c < FDJ_MAX_COMPONENTS; c++) {
        int st = fdj_rq_tables_new(inf->comp[c].qtable, table_of(opt, c), &pre[np]);
        FUZZ_ASSERT(st == FDJ_OK || st == FDJ_ERR_NOMEM);
        if (st == FDJ_OK)
            np++;
    }
    /* a pair no component has (T one step off): never used */
    memcpy(other, table_of(opt, 0), sizeof other);
    other[ob % 64] = (uint16_t)(other[ob % 64] == 65535 ? 1 : other[ob % 64] + 1);
    if (fdj_rq_tables_new(inf->comp[0].qtable, other, &pre[np]) == FDJ_OK)
        np++;
    sa = decode_to(data, size, opt, &a, &na);
    /* up to four slots (the rest dropped), rotated by the option byte */
    for (k = 0; k < FDJ_MAX_COMPONENTS; k++)
        opt->rq_tables[(k + rot) & 3] = k < np ? pre[k] : NULL;
    sb = decode_to(data, size, opt, &b, &nb);
    memset(opt->rq_tables, 0, sizeof opt->rq_tables);
    if (sa != FDJ_ERR_NOMEM && sb != FDJ_ERR_NOMEM) {
        FUZZ_ASSERT(sa == sb && na == nb && !a == !b);
        FUZZ_ASSERT(!a || memcmp(a, b, na) == 0);
    }
    free(a);
    free(b);
    for (k = 0; k < np; k++) {
        FUZZ_ASSERT(fdj_rq_tables_usable(pre[k]) == 0 || fdj_rq_tables_usable(pre[k]) == 1);
        fdj_rq_tables_free(pre[k]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fdj_decode_options opt;
    unsigned ob = fuzz_option_byte(data, size);
    fdj_decoder *dec = fdj_decoder_new();
    int st;
    if (!dec)
        return 0;
    fuzz_decode_options(&opt, ob);
    fill_tables(&opt, ob, size);
    opt.purify_count = (ob >> 6) & 1 ? 2 : 1;
    st = fdj_decoder_open(dec, data, size, &opt);
    if (st != FDJ_OK)
        fuzz_check_failure(st, fdj_decoder_message(dec));
    else {
        if ((ob >> 7) & 1) {
            /* one table per component, set after open */
            opt.purify_count = fdj_decoder_info(dec)->num_components;
            st = fdj_decoder_set_purify(dec, &opt);
            FUZZ_ASSERT(st == FDJ_OK);
        }
        if (fuzz_decode_pixels(dec) != FDJ_ERR_NOMEM)
            check_prebuilt(data, size, &opt, fdj_decoder_info(dec), ob);
    }
    fdj_decoder_free(dec);
    return 0;
}
