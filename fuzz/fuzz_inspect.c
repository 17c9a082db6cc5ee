/*
 * fuzz_inspect.c -- libFuzzer target: header parse only (fdj_decoder_open), then
 * every accessor; checks the info and marker list are consistent with the input.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fdj_decode_options opt;
    fdj_decoder *dec = fdj_decoder_new();
    const fdj_marker *mk;
    size_t nm, i;
    int st;
    if (!dec)
        return 0;
    fuzz_decode_options(&opt, fuzz_option_byte(data, size));
    st = fdj_decoder_open(dec, data, size, &opt);
    mk = fdj_decoder_markers(dec, &nm);
    for (i = 0; i < nm; i++) {
        /* allow_truncated decodes the data with the EOI Pillow appends: that
         * marker is listed at offset == size, past the caller's bytes */
        if (opt.allow_truncated && i == nm - 1 && mk[i].marker == 0xD9 && mk[i].offset == size &&
            mk[i].length == 0)
            break;
        FUZZ_ASSERT(mk[i].offset < size);
        FUZZ_ASSERT((size_t)mk[i].offset + 2 + mk[i].length <= size);
    }
    if (st != FDJ_OK)
        fuzz_check_failure(st, fdj_decoder_message(dec));
    else {
        const fdj_info *inf = fdj_decoder_info(dec);
        int h, w, c, k;
        FUZZ_ASSERT(fdj_decoder_message(dec)[0] == 0);
        FUZZ_ASSERT(inf->width > 0 && inf->height > 0);
        FUZZ_ASSERT((uint64_t)inf->width * (uint64_t)inf->height <= FUZZ_MAX_PIXELS);
        FUZZ_ASSERT(inf->num_components >= 1 && inf->num_components <= FDJ_MAX_COMPONENTS);
        FUZZ_ASSERT(inf->max_h >= 1 && inf->max_h <= 4 && inf->max_v >= 1 && inf->max_v <= 4);
        for (k = 0; k < inf->num_components; k++) {
            const fdj_component_info *ci = &inf->comp[k];
            FUZZ_ASSERT(ci->h >= 1 && ci->h <= inf->max_h && ci->v >= 1 && ci->v <= inf->max_v);
            /* Tq is the SOF byte; like libjpeg (jdinput.c latch_quant_tables) the decoder
             * checks it when the component's first scan starts, so a component outside
             * the first scan of a progressive or non-interleaved file may still show a bad
             * slot here (lossless frames ignore it): then no table may be reported */
            FUZZ_ASSERT(ci->tq >= 0 && ci->tq <= 255);
            if (ci->tq > 3) {
                int z;
                for (z = 0; z < 64; z++)
                    FUZZ_ASSERT(ci->qtable[z] == 0);
            }
            FUZZ_ASSERT(ci->width_in_blocks >= 1 && ci->height_in_blocks >= 1);
            FUZZ_ASSERT(ci->downsampled_width >= 1 && ci->downsampled_height >= 1);
        }
        st = fdj_decoder_output_shape(dec, &h, &w, &c);
        if (st == FDJ_OK)
            FUZZ_ASSERT(h >= 1 && w >= 1 && w <= inf->width && h <= inf->height);
        else
            fuzz_check_failure(st, fdj_decoder_message(dec));
    }
    fdj_decoder_free(dec);
    return 0;
}
