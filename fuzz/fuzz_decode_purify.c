/*
 * fuzz_decode_purify.c -- libFuzzer target: decode with one-pass Feature
 * Distillation (requantization before the IDCT), tables given at open or
 * through fdj_decoder_set_purify, including 16-bit steps.
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
        fuzz_decode_pixels(dec);
    }
    fdj_decoder_free(dec);
    return 0;
}
