/*
 * fuzz_decode.c -- libFuzzer target: open + decode pixels (or read the quantized
 * coefficients) of arbitrary bytes with options chosen by the last byte.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fdj_decode_options opt;
    unsigned ob = fuzz_option_byte(data, size);
    fdj_decoder *dec = fdj_decoder_new();
    int st;
    if (!dec)
        return 0;
    fuzz_decode_options(&opt, ob);
    st = fdj_decoder_open(dec, data, size, &opt);
    if (st != FDJ_OK)
        fuzz_check_failure(st, fdj_decoder_message(dec));
    else if ((ob >> 6) & 1)
        fuzz_read_coefficients(dec);
    else
        fuzz_decode_pixels(dec);
    fdj_decoder_free(dec);
    return 0;
}
