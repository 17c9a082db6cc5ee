/*
 * fuzz_region.c -- libFuzzer target: region decode (fdj_decoder_decode_region) and strip
 * decode (fdj_decoder_read_rows) against the whole-image decode of the same input.
 *
 * Every frame kind, 12-bit lossy and 2..16-bit lossless included (sample bytes from
 * fdj_decoder_sample_bytes).  Invariants (a violation is a finding):
 * - whenever the full decode succeeds, a region decode succeeds and its pixels are the
 *   full decode's pixels cropped (a region may also succeed where the full decode fails:
 *   it does not read the data after its last MCU row, and skips whole restart intervals);
 * - read_rows in strips of a fuzzer-chosen height returns the full decode's status and, on
 *   success, its rows, with every row delivered once;
 * - failures carry a known status and a message.
 * The last byte selects the decoder options (fuzz_common.h), bit 6 adds one-pass FD
 * purification; the bytes before it choose the region and the strip height, so seed files
 * (which end in entropy data and FF D9) get varied regions.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned byte_at(const uint8_t *data, size_t size, size_t back)
{
    return size > back ? data[size - 1 - back] : 0;
}

static fdj_decoder *open_with(const uint8_t *data, size_t size, const fdj_decode_options *opt)
{
    fdj_decoder *dec = fdj_decoder_new();
    int st;
    if (!dec)
        return NULL;
    st = fdj_decoder_open(dec, data, size, opt);
    if (st != FDJ_OK) {
        fuzz_check_failure(st, fdj_decoder_message(dec));
        fdj_decoder_free(dec);
        return NULL;
    }
    return dec;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fdj_decode_options opt;
    unsigned ob = fuzz_option_byte(data, size);
    fdj_decoder *dec;
    int h = 0, w = 0, ch = 0, st_full, st, x, y, rw, rh, strip, r, got, rows;
    uint8_t *full = NULL, *reg = NULL, *buf = NULL;
    fuzz_decode_options(&opt, ob);
    if ((ob >> 6) & 1) {
        int k;
        opt.purify_count = 1;
        for (k = 0; k < 64; k++)
            opt.purify[0][k] = (uint16_t)(3 + (k * 5 + (int)size) % 40);
    }
    dec = open_with(data, size, &opt);
    if (!dec)
        return 0;
    st = fdj_decoder_output_shape(dec, &h, &w, &ch);
    if (st != FDJ_OK) {
        fuzz_check_failure(st, fdj_decoder_message(dec));
        fdj_decoder_free(dec);
        return 0;
    }
    FUZZ_ASSERT((uint64_t)h * (uint64_t)w <= FUZZ_MAX_PIXELS);
    ch *= fdj_decoder_sample_bytes(dec); /* bytes per pixel: uint16 samples above 8 bits */
    full = (uint8_t *)malloc((size_t)h * w * ch);
    reg = (uint8_t *)malloc((size_t)h * w * ch);
    if (!full || !reg)
        goto done;
    st_full = fdj_decoder_decode(dec, full, (ptrdiff_t)w * ch);
    if (st_full != FDJ_OK)
        fuzz_check_failure(st_full, fdj_decoder_message(dec));

    /* a region from the bytes before the option byte: small ones are the common case */
    x = (int)((byte_at(data, size, 1) * 7u + byte_at(data, size, 5)) % (unsigned)w);
    y = (int)((byte_at(data, size, 2) * 5u + byte_at(data, size, 6)) % (unsigned)h);
    rw = 1 + (int)(byte_at(data, size, 3) % (unsigned)(w - x));
    rh = 1 + (int)(byte_at(data, size, 4) % (unsigned)(h - y));
    fdj_decoder_free(dec);
    dec = open_with(data, size, &opt);
    FUZZ_ASSERT(dec != NULL); /* opened once already */
    st = fdj_decoder_decode_region(dec, x, y, rw, rh, reg, (ptrdiff_t)rw * ch);
    if (st != FDJ_OK) {
        fuzz_check_failure(st, fdj_decoder_message(dec));
        /* only where the full decode fails too (every frame is region-decoded: 12-bit
         * and lossless natively since issue 17's second session) */
        FUZZ_ASSERT(st_full != FDJ_OK);
    } else if (st_full == FDJ_OK) {
        for (r = 0; r < rh; r++)
            FUZZ_ASSERT(memcmp(reg + (size_t)r * rw * ch,
                               full + ((size_t)(y + r) * w + x) * ch, (size_t)rw * ch) == 0);
    }

    /* strips */
    fdj_decoder_free(dec);
    dec = open_with(data, size, &opt);
    FUZZ_ASSERT(dec != NULL);
    strip = 1 + (int)(byte_at(data, size, 7) % 24);
    buf = (uint8_t *)malloc((size_t)strip * w * ch);
    if (!buf)
        goto done;
    rows = 0;
    for (;;) {
        st = fdj_decoder_read_rows(dec, buf, (ptrdiff_t)w * ch, strip, &got);
        if (st != FDJ_OK || got == 0)
            break;
        FUZZ_ASSERT(got > 0 && got <= strip && rows + got <= h);
        if (st_full == FDJ_OK)
            FUZZ_ASSERT(memcmp(buf, full + (size_t)rows * w * ch, (size_t)got * w * ch) == 0);
        rows += got;
    }
    if (st == FDJ_ERR_UNSUPPORTED) {
        fuzz_check_failure(st, fdj_decoder_message(dec)); /* lossless, 12-bit: not streamed */
    } else {
        FUZZ_ASSERT(st == st_full);
        if (st != FDJ_OK)
            fuzz_check_failure(st, fdj_decoder_message(dec));
        else
            FUZZ_ASSERT(rows == h);
    }
done:
    free(full);
    free(reg);
    free(buf);
    fdj_decoder_free(dec);
    return 0;
}
