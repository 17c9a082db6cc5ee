/*
 * fuzz_roundtrip.c -- libFuzzer target: encode -> decode round trip with
 * fuzzer-chosen geometry, colour, sampling, tables (8- and 16-bit), coding
 * options and pixels.  Differential checks, all documented contracts:
 *   - whatever fdj_encode accepts, fdj_decoder decodes, with the right shape;
 *   - fdj_purify(x) == decode(encode(x)) bit for bit (grey and RGB);
 *   - read_coefficients -> write_coefficients re-encodes to the same pixels;
 *   - the streaming encoder (fdj_encode_begin/rows/end), fed rows in fuzzer-chosen chunks,
 *     writes fdj_encode's bytes, into a callback and into an exact-size caller buffer.
 *
 * Input: 8 header bytes, then (optionally) 128 bytes of table, then pixels
 * (cycled if short).  Bit 7 of the flags byte selects 12-bit encoding (uint16
 * samples from byte pairs, masked to 12 bits): the file must decode as 12-bit
 * with the right shape, its coefficients written back (precision 12) must
 * decode to the same samples, fdj_purify at 12 bits must give the decoded samples,
 * and a region decode the decoded samples cropped.  fuzz_roundtrip12.c includes this file
 * with FUZZ_FORCE_12BIT: every input in 12-bit mode.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifdef FUZZ_FORCE_12BIT
/* fuzz_roundtrip12: smaller images and no coefficient round trip (fuzzed in 12-bit mode
 * of fuzz_roundtrip), so the new paths (purify12, 12-bit regions) get ~10x the rate */
#define MAX_SIDE 32
#else
#define MAX_SIDE 80
#endif

typedef struct stream_out {
    uint8_t *data;
    size_t size, cap;
} stream_out;

static int stream_write(void *user, const uint8_t *d, size_t n)
{
    stream_out *o = (stream_out *)user;
    if (n > o->cap - o->size)
        return 1;
    memcpy(o->data + o->size, d, n);
    o->size += n;
    return 0;
}

/* stream-encode src in chunks of `chunk` rows; the bytes must be ref's */
static void check_stream(const fdj_encode_params *p, const uint8_t *src, int ch, int chunk,
                         int to_buffer, const uint8_t *ref, size_t ref_size)
{
    fdj_encoder *enc = NULL;
    char msg[FDJ_MSG_SIZE];
    stream_out o;
    size_t size = 0;
    int y, st;
    o.data = (uint8_t *)malloc(ref_size);
    o.size = 0;
    o.cap = ref_size;
    if (!o.data)
        return;
    st = fdj_encode_begin(&enc, p, to_buffer ? NULL : stream_write, &o, to_buffer ? o.data : NULL,
                          ref_size, msg);
    FUZZ_ASSERT(st == FDJ_OK);
    for (y = 0; y < p->height && st == FDJ_OK; y += chunk) {
        int n = p->height - y < chunk ? p->height - y : chunk;
        st = fdj_encode_rows(enc, src + (size_t)y * p->width * ch, n, (ptrdiff_t)p->width * ch, ch, 1);
    }
    if (st == FDJ_OK)
        st = fdj_encode_end(enc, &size);
    FUZZ_ASSERT(st == FDJ_OK);
    FUZZ_ASSERT(size == ref_size && memcmp(o.data, ref, ref_size) == 0);
    if (!to_buffer)
        FUZZ_ASSERT(o.size == ref_size);
    fdj_encoder_free(enc);
    free(o.data);
}

static int decode_to(const uint8_t *jpg, size_t n, uint8_t *out, int h, int w, int c)
{
    fdj_decoder *dec = fdj_decoder_new();
    int st, hh, ww, cc;
    if (!dec)
        return FDJ_ERR_NOMEM;
    st = fdj_decoder_open(dec, jpg, n, NULL);
    FUZZ_ASSERT(st == FDJ_OK);
    st = fdj_decoder_output_shape(dec, &hh, &ww, &cc);
    FUZZ_ASSERT(st == FDJ_OK && hh == h && ww == w && cc == c);
    st = fdj_decoder_decode(dec, out, (ptrdiff_t)w * c);
    FUZZ_ASSERT(st == FDJ_OK);
    FUZZ_ASSERT(!fdj_decoder_was_truncated(dec));
    fdj_decoder_free(dec);
    return st;
}

/* read the coefficients of jpg, write them back with params p, decode: same pixels */
static void check_transcode(const fdj_encode_params *p, const uint8_t *jpg, size_t n,
                            const uint8_t *pixels, int c)
{
    fdj_decoder *dec = fdj_decoder_new();
    int16_t *planes[FDJ_MAX_COMPONENTS] = {0};
    const int16_t *cplanes[FDJ_MAX_COMPONENTS] = {0};
    uint8_t *jpg2 = NULL, *pix2 = NULL;
    size_t n2 = 0;
    char msg[FDJ_MSG_SIZE];
    int k, st;
    if (!dec)
        return;
    st = fdj_decoder_open(dec, jpg, n, NULL);
    FUZZ_ASSERT(st == FDJ_OK);
    for (k = 0; k < fdj_decoder_info(dec)->num_components; k++) {
        const fdj_component_info *ci = &fdj_decoder_info(dec)->comp[k];
        planes[k] = (int16_t *)malloc((size_t)ci->width_in_blocks * ci->height_in_blocks * 64 * 2);
        cplanes[k] = planes[k];
        if (!planes[k])
            goto done;
    }
    st = fdj_decoder_read_coefficients(dec, planes);
    FUZZ_ASSERT(st == FDJ_OK);
    st = fdj_write_coefficients(p, cplanes, &jpg2, &n2, msg);
    FUZZ_ASSERT(st == FDJ_OK);
    pix2 = (uint8_t *)malloc((size_t)p->width * p->height * c);
    if (pix2) {
        decode_to(jpg2, n2, pix2, p->height, p->width, c);
        FUZZ_ASSERT(memcmp(pix2, pixels, (size_t)p->width * p->height * c) == 0);
    }
done:
    for (k = 0; k < FDJ_MAX_COMPONENTS; k++)
        free(planes[k]);
    free(pix2);
    fdj_free(jpg2);
    fdj_decoder_free(dec);
}

/* 12-bit region decode (a window chosen from the pixel bytes) == the full decode
 * cropped; strips of read_rows too where the decoder streams 12-bit frames */
static void check_region12(const uint8_t *jpg, size_t n, const uint16_t *pix, int h, int w,
                           int c, const uint8_t *rest, size_t nrest)
{
    fdj_decoder *dec = fdj_decoder_new();
    uint16_t *reg;
    int x0, y0, rw, rh, y, st;
    unsigned r0 = nrest > 0 ? rest[0] : 0, r1 = nrest > 1 ? rest[nrest - 1] : 7;
    unsigned r2 = nrest > 2 ? rest[nrest / 2] : 3, r3 = nrest > 3 ? rest[nrest / 3] : 5;
    if (!dec)
        return;
    x0 = (int)(r0 % (unsigned)w);
    y0 = (int)(r1 % (unsigned)h);
    rw = 1 + (int)(r2 % (unsigned)(w - x0));
    rh = 1 + (int)(r3 % (unsigned)(h - y0));
    reg = (uint16_t *)malloc((size_t)rw * rh * c * 2);
    if (reg) {
        FUZZ_ASSERT(fdj_decoder_open(dec, jpg, n, NULL) == FDJ_OK);
        st = fdj_decoder_decode_region(dec, x0, y0, rw, rh, (uint8_t *)reg, (ptrdiff_t)rw * c * 2);
        FUZZ_ASSERT(st == FDJ_OK);
        for (y = 0; y < rh; y++)
            FUZZ_ASSERT(memcmp(reg + (size_t)y * rw * c, pix + ((size_t)(y0 + y) * w + x0) * c,
                               (size_t)rw * c * 2) == 0);
    }
    free(reg);
    fdj_decoder_free(dec);
}

/* 12-bit: encode, decode (uint16), coefficients written back decode the same */
static void check_12bit(fdj_encode_params *p, const uint8_t *rest, size_t nrest, int ch)
{
    size_t npx = (size_t)p->width * p->height * ch, i, nout;
    uint16_t *src = (uint16_t *)malloc(npx * 2), *pix = NULL, *pix2 = NULL;
    uint8_t *jpg = NULL, *jpg2 = NULL;
    int16_t *planes[FDJ_MAX_COMPONENTS] = {0};
    const int16_t *cplanes[FDJ_MAX_COMPONENTS] = {0};
    size_t n = 0, n2 = 0;
    char msg[FDJ_MSG_SIZE];
    fdj_decoder *dec = NULL;
    int st, hh, ww, cc, k, outc = ch == FDJ_IN_GRAY ? 1 : ch == FDJ_IN_RGB ? 3 : 4;
    if (!src)
        return;
    for (i = 0; i < npx; i++)
        src[i] = (uint16_t)((nrest >= 2 ? (rest[(2 * i) % nrest] << 8 | rest[(2 * i + 1) % nrest])
                                        : (unsigned)(i * 37)) & 0x0FFF);
    p->precision = 12;
    /* label an RGB frame as RGB (Adobe transform 0 without JFIF, as fdjpeg.encode writes
     * it): with a JFIF marker too, readers take it as YCbCr and the decode is not the
     * pixels (found by fuzz_roundtrip12 at once: a harness fault, not a codec one) */
    if (p->keep_rgb)
        p->write_jfif = 0;
    st = fdj_encode(p, (const uint8_t *)src, (ptrdiff_t)p->width * ch * 2, ch * 2, 2, &jpg, &n, msg);
    if (st != FDJ_OK) {
        FUZZ_ASSERT(st == FDJ_ERR_ARGUMENT || st == FDJ_ERR_UNSUPPORTED);
        FUZZ_ASSERT(msg[0] != 0 && jpg == NULL);
        goto done;
    }
    dec = fdj_decoder_new();
    if (!dec)
        goto done;
    FUZZ_ASSERT(fdj_decoder_open(dec, jpg, n, NULL) == FDJ_OK);
    FUZZ_ASSERT(fdj_decoder_info(dec)->precision == 12 && fdj_decoder_sample_bytes(dec) == 2);
    FUZZ_ASSERT(fdj_decoder_output_shape(dec, &hh, &ww, &cc) == FDJ_OK);
    FUZZ_ASSERT(hh == p->height && ww == p->width && cc == outc);
    nout = (size_t)hh * ww * cc;
    pix = (uint16_t *)malloc(nout * 2);
    pix2 = (uint16_t *)malloc(nout * 2);
    for (k = 0; k < fdj_decoder_info(dec)->num_components; k++) {
        const fdj_component_info *ci = &fdj_decoder_info(dec)->comp[k];
        planes[k] = (int16_t *)malloc((size_t)ci->width_in_blocks * ci->height_in_blocks * 64 * 2);
        cplanes[k] = planes[k];
        if (!planes[k])
            goto done;
    }
    if (!pix || !pix2)
        goto done;
    FUZZ_ASSERT(fdj_decoder_decode(dec, (uint8_t *)pix, (ptrdiff_t)ww * cc * 2) == FDJ_OK);
    for (i = 0; i < nout; i++)
        FUZZ_ASSERT(pix[i] <= 4095);
#ifndef FUZZ_FORCE_12BIT
    FUZZ_ASSERT(fdj_decoder_open(dec, jpg, n, NULL) == FDJ_OK);
    FUZZ_ASSERT(fdj_decoder_read_coefficients(dec, planes) == FDJ_OK);
    FUZZ_ASSERT(fdj_write_coefficients(p, cplanes, &jpg2, &n2, msg) == FDJ_OK);
    FUZZ_ASSERT(fdj_decoder_open(dec, jpg2, n2, NULL) == FDJ_OK);
    FUZZ_ASSERT(fdj_decoder_decode(dec, (uint8_t *)pix2, (ptrdiff_t)ww * cc * 2) == FDJ_OK);
    FUZZ_ASSERT(memcmp(pix, pix2, nout * 2) == 0);
#else
    (void)cplanes;
    (void)n2;
#endif
    /* fused 12-bit purification (purify12.c) == the decode of the encoded file: every
     * colour (CMYK inverted on both sides, as the decoder's default), keep-RGB too */
    memset(pix2, 0xAB, nout * 2);
    st = fdj_purify(p, (const uint8_t *)src, (ptrdiff_t)p->width * ch * 2, ch * 2, 2,
                    (uint8_t *)pix2, (ptrdiff_t)ww * cc * 2, msg);
    FUZZ_ASSERT(st == FDJ_OK);
    FUZZ_ASSERT(memcmp(pix, pix2, nout * 2) == 0);
    check_region12(jpg, n, pix, hh, ww, cc, rest, nrest);
done:
    for (k = 0; k < FDJ_MAX_COMPONENTS; k++)
        free(planes[k]);
    fdj_decoder_free(dec);
    fdj_free(jpg);
    fdj_free(jpg2);
    free(pix);
    free(pix2);
    free(src);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int colors[3] = {FDJ_IN_GRAY, FDJ_IN_RGB, FDJ_IN_CMYK};
    fdj_encode_params p;
    uint8_t *src, *jpg = NULL, *pix = NULL, *pur = NULL;
    size_t n = 0, npx, i;
    const uint8_t *rest;
    size_t nrest;
    char msg[FDJ_MSG_SIZE];
    int w, h, ch, outc, st, k, flags;
    if (size < 8)
        return 0;
    w = 1 + data[0] % MAX_SIDE;
    h = 1 + data[1] % MAX_SIDE;
    ch = colors[data[2] % 3];
    flags = data[4];
    fdj_encode_params_init(&p);
    p.width = w;
    p.height = h;
    p.in_color = ch;
    p.keep_rgb = ch == FDJ_IN_RGB && (data[2] >> 2) & 1;
    p.write_adobe = p.keep_rgb || ch == FDJ_IN_CMYK;
    p.h_samp[0] = 1 + (data[3] & 3);
    p.v_samp[0] = 1 + ((data[3] >> 2) & 3);
    if ((data[3] >> 4) & 1 && ch != FDJ_IN_GRAY) { /* odd chroma factors too */
        p.h_samp[1] = 1 + ((data[3] >> 5) & 1);
        p.v_samp[2] = 1 + ((data[3] >> 6) & 1);
    }
    p.optimize = flags & 1;
    p.progressive = (flags >> 1) & 1;
    if ((flags >> 2) & 1)
        p.restart_interval = data[6];
    else if ((flags >> 3) & 1)
        p.restart_rows = 1 + data[6] % 4;
    p.num_qtables = ch == FDJ_IN_GRAY ? 1 : 2;
    for (k = 0; k < FDJ_MAX_COMPONENTS; k++)
        p.comp_qtable[k] = k == 0 ? 0 : p.num_qtables - 1;
    rest = data + 8;
    nrest = size - 8;
    if ((flags >> 4) & 1 && nrest >= 128) {
        /* fuzzer's own tables, 16-bit entries allowed (zero -> 1) */
        for (k = 0; k < 64; k++) {
            unsigned v = ((unsigned)rest[2 * k] << 8) | rest[2 * k + 1];
            if ((flags >> 5) & 1)
                v &= 0xFF; /* mostly 8-bit tables */
            p.qtable[0][k] = (uint16_t)(v ? v : 1);
            p.qtable[1][k] = (uint16_t)((v >> 3) ? (v >> 3) : 1);
        }
        rest += 128;
        nrest -= 128;
    } else {
        int q = 1 + data[5] % 100;
        fdj_quality_table(q, 0, !((flags >> 5) & 1), p.qtable[0]);
        fdj_quality_table(q, 1, !((flags >> 5) & 1), p.qtable[1]);
    }
#ifdef FUZZ_FORCE_12BIT
    flags |= 0x80; /* fuzz_roundtrip12: every input in 12-bit mode */
#endif
    if ((flags >> 7) & 1) {
        check_12bit(&p, rest, nrest, ch);
        return 0;
    }
    npx = (size_t)w * h * ch;
    src = (uint8_t *)malloc(npx);
    if (!src)
        return 0;
    for (i = 0; i < npx; i++)
        src[i] = nrest ? rest[i % nrest] : (uint8_t)(i * 37);

    st = fdj_encode(&p, src, (ptrdiff_t)w * ch, ch, 1, &jpg, &n, msg);
    if (st != FDJ_OK) {
        /* only parameter combinations T.81 forbids may be refused */
        FUZZ_ASSERT(st == FDJ_ERR_ARGUMENT || st == FDJ_ERR_UNSUPPORTED);
        FUZZ_ASSERT(msg[0] != 0);
        FUZZ_ASSERT(jpg == NULL);
        free(src);
        return 0;
    }
    FUZZ_ASSERT(n >= 4 && jpg[0] == 0xFF && jpg[1] == 0xD8 && jpg[n - 2] == 0xFF && jpg[n - 1] == 0xD9);
    outc = ch == FDJ_IN_GRAY ? 1 : ch == FDJ_IN_RGB ? 3 : 4;
    pix = (uint8_t *)malloc((size_t)w * h * outc);
    if (pix) {
        decode_to(jpg, n, pix, h, w, outc);
        if (ch != FDJ_IN_CMYK && !p.keep_rgb) {
            pur = (uint8_t *)malloc((size_t)w * h * outc);
            if (pur) {
                st = fdj_purify(&p, src, (ptrdiff_t)w * ch, ch, 1, pur, (ptrdiff_t)w * outc, msg);
                FUZZ_ASSERT(st == FDJ_OK);
                FUZZ_ASSERT(memcmp(pur, pix, (size_t)w * h * outc) == 0);
            }
        }
        if (!p.progressive && (flags >> 6) & 1)
            check_transcode(&p, jpg, n, pix, outc);
    }
    if (!p.optimize && !p.progressive)
        check_stream(&p, src, ch, 1 + (int)(n % 19), (int)(n & 1), jpg, n);
    free(pur);
    free(pix);
    fdj_free(jpg);
    free(src);
    return 0;
}
