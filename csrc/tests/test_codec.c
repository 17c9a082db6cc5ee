/*
 * test_codec.c -- C unit tests of libfdjpeg through its public API (fdjpeg.h) alone.
 *
 * References are independent of fdjpeg: the JPEGs, their decoded pixels and the
 * grey image's quantized coefficients in test_data.h come from Pillow
 * (libjpeg-turbo 3.2) and jpeglib; the rest are closed forms (T.81 tables,
 * output sizes) and the API's own contracts (purify == decode(encode), lossless
 * coefficient transcoding, progressive/optimized/restart files carry the same
 * coefficients as baseline ones).
 *
 * Build and run: make -C csrc test   (make -C csrc SAN=1 test for ASan/UBSan/LSan)
 * Exit status 0 when every check passes; each failure prints file:line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fdjpeg.h"
#include "test_data.h"

#include "check.h"

#define CHECK_MSG(msg, sub)                                                                 \
    do {                                                                                    \
        const char *m_ = (msg);                                                             \
        g_checks++;                                                                         \
        if (!m_ || !strstr(m_, (sub))) {                                                    \
            g_failures++;                                                                   \
            fprintf(stderr, "%s:%d: %s: message \"%s\" lacks \"%s\"\n", __FILE__, __LINE__, \
                    __func__, m_ ? m_ : "(null)", (sub));                                    \
        }                                                                                   \
    } while (0)

/* T.81 Figure A.6: zigzag position of each natural-order index */
static const int natural_to_zigzag[64] = {
    0,  1,  5,  6,  14, 15, 27, 28, 2,  4,  7,  13, 16, 26, 29, 42,
    3,  8,  12, 17, 25, 30, 41, 43, 9,  11, 18, 24, 31, 40, 44, 53,
    10, 19, 23, 32, 39, 45, 52, 54, 20, 22, 33, 38, 46, 51, 55, 60,
    21, 34, 37, 47, 50, 56, 59, 61, 35, 36, 48, 49, 57, 58, 62, 63};

/* T.81 Table K.1, natural order */
static const int annex_k_luma[64] = {
    16, 11, 10, 16, 24,  40,  51,  61,  12, 12, 14, 19, 26,  58,  60,  55,
    14, 13, 16, 24, 40,  57,  69,  56,  14, 17, 22, 29, 51,  87,  80,  62,
    18, 22, 37, 56, 68,  109, 103, 77,  24, 35, 55, 64, 81,  104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99};

/* ---- helpers ------------------------------------------------------------- */

/* Offset of the nth (0-based) marker segment with this code, walking the
 * header segments from SOI up to SOS; -1 if absent. */
static long find_segment(const uint8_t *d, size_t n, int code, int nth)
{
    size_t pos = 2;
    while (pos + 4 <= n && d[pos] == 0xFF) {
        int m = d[pos + 1];
        size_t len = ((size_t)d[pos + 2] << 8) | d[pos + 3];
        if (m == code && nth-- == 0)
            return (long)pos;
        if (m == 0xDA)
            break;
        pos += 2 + len;
    }
    return -1;
}

static uint8_t *copy_bytes(const uint8_t *src, size_t n)
{
    uint8_t *p = (uint8_t *)malloc(n ? n : 1);
    if (p)
        memcpy(p, src, n);
    return p;
}

/* Decode a whole image with the given options; returns status, fills *out
 * (malloc'ed), shape, and copies the decoder's message into msg. */
static int decode_all(const uint8_t *data, size_t size, const fdj_decode_options *opt,
                      uint8_t **out, int *h, int *w, int *c, char msg[FDJ_MSG_SIZE])
{
    fdj_decoder *dec = fdj_decoder_new();
    int st;
    *out = NULL;
    *h = *w = *c = 0;
    msg[0] = 0;
    if (!dec)
        return FDJ_ERR_NOMEM;
    st = fdj_decoder_open(dec, data, size, opt);
    if (st == FDJ_OK)
        st = fdj_decoder_output_shape(dec, h, w, c);
    if (st == FDJ_OK) {
        *out = (uint8_t *)malloc((size_t)*h * (size_t)*w * (size_t)*c);
        st = *out ? fdj_decoder_decode(dec, *out, (ptrdiff_t)*w * *c) : FDJ_ERR_NOMEM;
    }
    snprintf(msg, FDJ_MSG_SIZE, "%s", fdj_decoder_message(dec));
    if (st != FDJ_OK) {
        free(*out);
        *out = NULL;
    }
    fdj_decoder_free(dec);
    return st;
}

/* Status and message of opening (and, if open succeeds, decoding) data. */
static int try_decode(const uint8_t *data, size_t size, const fdj_decode_options *opt,
                      char msg[FDJ_MSG_SIZE])
{
    uint8_t *pix;
    int h, w, c, st = decode_all(data, size, opt, &pix, &h, &w, &c, msg);
    free(pix);
    return st;
}

static void pattern(uint8_t *p, int h, int w, int ch, int seed)
{
    int y, x, k;
    for (y = 0; y < h; y++)
        for (x = 0; x < w; x++)
            for (k = 0; k < ch; k++)
                p[((size_t)y * w + x) * ch + k] =
                    (uint8_t)((x * (7 + k * 5) + y * (3 + seed) + ((x * y) >> (k + 1)) + k * 60) & 255);
}

static void params_for(fdj_encode_params *p, int w, int h, int ch, int quality, int hs, int vs)
{
    fdj_encode_params_init(p);
    p->width = w;
    p->height = h;
    p->in_color = ch;
    p->num_qtables = ch == 1 ? 1 : 2;
    fdj_quality_table(quality, 0, 1, p->qtable[0]);
    fdj_quality_table(quality, 1, 1, p->qtable[1]);
    p->comp_qtable[0] = 0;
    p->comp_qtable[1] = p->comp_qtable[2] = 1;
    p->h_samp[0] = hs;
    p->v_samp[0] = vs;
}

static int encode(const fdj_encode_params *p, const uint8_t *pix, uint8_t **out, size_t *n,
                  char msg[FDJ_MSG_SIZE])
{
    int ch = p->in_color;
    return fdj_encode(p, pix, (ptrdiff_t)p->width * ch, ch, 1, out, n, msg);
}

/* ---- version, status strings -------------------------------------------- */

static void test_version_and_status(void)
{
    char buf[32];
    int s, t;
    snprintf(buf, sizeof buf, "%d.%d.%d", FDJ_VERSION_MAJOR, FDJ_VERSION_MINOR, FDJ_VERSION_PATCH);
    CHECK(strcmp(fdj_version(), FDJ_VERSION_STRING) == 0);
    CHECK(strcmp(fdj_version(), buf) == 0);
    CHECK(fdj_kernel_name() != NULL && fdj_kernel_name()[0] != 0);
    for (s = FDJ_ERR_NOT_JPEG; s <= FDJ_OK; s++) {
        CHECK(fdj_status_string(s) != NULL);
        CHECK(strcmp(fdj_status_string(s), fdj_status_string(12345)) != 0);
        for (t = FDJ_ERR_NOT_JPEG; t < s; t++)
            CHECK(strcmp(fdj_status_string(s), fdj_status_string(t)) != 0);
    }
    CHECK(fdj_status_string(-999) != NULL);
}

/* ---- decoding against Pillow -------------------------------------------- */

static void check_decode_equals(const uint8_t *jpg, size_t n, const uint8_t *want, int H, int W,
                                int C, const char *name)
{
    uint8_t *pix;
    int h, w, c;
    char msg[FDJ_MSG_SIZE];
    int st = decode_all(jpg, n, NULL, &pix, &h, &w, &c, msg);
    CHECK_STATUS(st, FDJ_OK);
    if (st != FDJ_OK) {
        fprintf(stderr, "  %s: %s\n", name, msg);
        return;
    }
    CHECK(h == H && w == W && c == C);
    if (h == H && w == W && c == C) {
        size_t i, bad = 0, total = (size_t)H * W * C;
        for (i = 0; i < total; i++)
            bad += pix[i] != want[i];
        if (bad)
            fprintf(stderr, "  %s: %zu of %zu samples differ from Pillow\n", name, bad, total);
        CHECK(bad == 0);
    }
    free(pix);
}

static void test_decode_matches_pillow(void)
{
    check_decode_equals(td_rgb420_jpg, sizeof td_rgb420_jpg, td_rgb420_pixels, TD_RGB420_H,
                        TD_RGB420_W, 3, "rgb420");
    check_decode_equals(td_rgb444_jpg, sizeof td_rgb444_jpg, td_rgb444_pixels, TD_RGB444_H,
                        TD_RGB444_W, 3, "rgb444");
    check_decode_equals(td_gray_jpg, sizeof td_gray_jpg, td_gray_pixels, TD_GRAY_H, TD_GRAY_W, 1,
                        "gray");
    check_decode_equals(td_prog_jpg, sizeof td_prog_jpg, td_prog_pixels, TD_PROG_H, TD_PROG_W, 3,
                        "progressive");
    check_decode_equals(td_arith_jpg, sizeof td_arith_jpg, td_arith_pixels, TD_ARITH_H, TD_ARITH_W, 3,
                        "arithmetic");
    check_decode_equals(td_lossless_jpg, sizeof td_lossless_jpg, td_lossless_pixels, TD_LOSSLESS_H,
                        TD_LOSSLESS_W, 3, "lossless");
    {   /* a lossless file has no DCT coefficients to read */
        fdj_decoder *dec = fdj_decoder_new();
        int16_t *planes[FDJ_MAX_COMPONENTS] = {0};
        CHECK(dec != NULL);
        if (dec) {
            CHECK_STATUS(fdj_decoder_open(dec, td_lossless_jpg, sizeof td_lossless_jpg, NULL), FDJ_OK);
            CHECK(fdj_decoder_info(dec)->lossless && fdj_decoder_info(dec)->sof == 3);
            CHECK_STATUS(fdj_decoder_read_coefficients(dec, planes), FDJ_ERR_UNSUPPORTED);
            CHECK_MSG(fdj_decoder_message(dec), "lossless");
            CHECK_STATUS(fdj_decoder_open(dec, td_arith_jpg, sizeof td_arith_jpg, NULL), FDJ_OK);
            CHECK(fdj_decoder_info(dec)->arithmetic && fdj_decoder_info(dec)->sof == 9);
        }
        fdj_decoder_free(dec);
    }
}

/* The decoder reads only the caller's bytes: a copy in a heap buffer of the
 * exact size (ASan catches any read past it) decodes the same. */
static void test_decode_exact_size_buffer(void)
{
    uint8_t *jpg = copy_bytes(td_prog_jpg, sizeof td_prog_jpg);
    CHECK(jpg != NULL);
    if (jpg)
        check_decode_equals(jpg, sizeof td_prog_jpg, td_prog_pixels, TD_PROG_H, TD_PROG_W, 3,
                            "progressive (heap copy)");
    free(jpg);
}

static void test_info_and_markers(void)
{
    fdj_decoder *dec = fdj_decoder_new();
    const fdj_info *inf;
    const fdj_marker *mk;
    size_t nm, i;
    int k;
    long dqt = find_segment(td_rgb420_jpg, sizeof td_rgb420_jpg, 0xDB, 0);
    CHECK(dec != NULL && dqt > 0);
    if (!dec || dqt <= 0)
        return;
    CHECK_STATUS(fdj_decoder_open(dec, td_rgb420_jpg, sizeof td_rgb420_jpg, NULL), FDJ_OK);
    inf = fdj_decoder_info(dec);
    CHECK(inf->width == TD_RGB420_W && inf->height == TD_RGB420_H);
    CHECK(inf->num_components == 3 && inf->sof == 0 && !inf->progressive && inf->precision == 8);
    CHECK(inf->jpeg_color == FDJ_CS_YCBCR && inf->has_jfif);
    CHECK(inf->comp[0].h == 2 && inf->comp[0].v == 2 && inf->comp[1].h == 1 && inf->comp[2].v == 1);
    /* ceil(ceil(W*h/hmax)/8) */
    CHECK(inf->comp[0].width_in_blocks == (TD_RGB420_W + 7) / 8);
    CHECK(inf->comp[1].width_in_blocks == ((TD_RGB420_W + 1) / 2 + 7) / 8);
    CHECK(inf->comp[1].downsampled_height == (TD_RGB420_H + 1) / 2);
    /* the first DQT (luma, slot 0) in zigzag order in the file, natural in the info */
    CHECK(td_rgb420_jpg[dqt + 4] == 0x00);
    for (k = 0; k < 64; k++)
        CHECK(inf->qtable[0][k] == td_rgb420_jpg[dqt + 5 + natural_to_zigzag[k]]);
    for (k = 0; k < 64; k++)
        CHECK(inf->comp[0].qtable[k] == inf->qtable[0][k]);
    mk = fdj_decoder_markers(dec, &nm);
    CHECK(nm >= 3 && mk[0].marker == 0xD8 && mk[0].offset == 0);
    CHECK(nm >= 3 && mk[1].marker == 0xE0 && mk[1].offset == 2 && mk[1].length == 16);
    for (i = 0; i < nm; i++)
        if (mk[i].marker == 0xDB && mk[i].offset == (uint32_t)dqt)
            break;
    CHECK(i < nm && mk[i].length == 67);
    fdj_decoder_free(dec);

    dec = fdj_decoder_new();
    CHECK(dec != NULL);
    if (!dec)
        return;
    CHECK_STATUS(fdj_decoder_open(dec, td_prog_jpg, sizeof td_prog_jpg, NULL), FDJ_OK);
    CHECK(fdj_decoder_info(dec)->progressive == 1 && fdj_decoder_info(dec)->sof == 2);
    {
        uint8_t *pix = (uint8_t *)malloc((size_t)TD_PROG_W * TD_PROG_H * 3);
        size_t nsos = 0, pos;
        CHECK_STATUS(fdj_decoder_decode(dec, pix, TD_PROG_W * 3), FDJ_OK);
        /* count SOS markers in the file independently (FF DA outside entropy
         * data cannot be stuffed: entropy data has FF 00) */
        for (pos = 0; pos + 1 < sizeof td_prog_jpg; pos++)
            nsos += td_prog_jpg[pos] == 0xFF && td_prog_jpg[pos + 1] == 0xDA;
        CHECK(fdj_decoder_info(dec)->num_scans == (int)nsos);
        mk = fdj_decoder_markers(dec, &nm);
        CHECK(nm > 0 && mk[nm - 1].marker == 0xD9 && mk[nm - 1].offset == sizeof td_prog_jpg - 2);
        free(pix);
    }
    fdj_decoder_free(dec);
}

static void test_read_coefficients_match_jpeglib(void)
{
    fdj_decoder *dec = fdj_decoder_new();
    int16_t *coef;
    int16_t *planes[1];
    int k, same = 1;
    coef = (int16_t *)calloc((size_t)TD_GRAY_BH * TD_GRAY_BW * 64, sizeof *coef);
    CHECK(dec && coef);
    if (!dec || !coef) {
        fdj_decoder_free(dec);
        free(coef);
        return;
    }
    planes[0] = coef;
    CHECK_STATUS(fdj_decoder_open(dec, td_gray_jpg, sizeof td_gray_jpg, NULL), FDJ_OK);
    CHECK(fdj_decoder_info(dec)->comp[0].height_in_blocks == TD_GRAY_BH);
    CHECK(fdj_decoder_info(dec)->comp[0].width_in_blocks == TD_GRAY_BW);
    CHECK_STATUS(fdj_decoder_read_coefficients(dec, planes), FDJ_OK);
    for (k = 0; k < TD_GRAY_BH * TD_GRAY_BW * 64; k++)
        same &= coef[k] == td_gray_coef[k];
    CHECK(same);
    for (k = 0; k < 64; k++)
        CHECK(fdj_decoder_info(dec)->comp[0].qtable[k] == td_gray_qt[k]);
    /* a used decoder refuses a second pass until reopened */
    CHECK_STATUS(fdj_decoder_read_coefficients(dec, planes), FDJ_ERR_ARGUMENT);
    CHECK_MSG(fdj_decoder_message(dec), "already used");
    /* reopening the same decoder object works (no leak, same result) */
    memset(coef, 0, (size_t)TD_GRAY_BH * TD_GRAY_BW * 64 * sizeof *coef);
    CHECK_STATUS(fdj_decoder_open(dec, td_gray_jpg, sizeof td_gray_jpg, NULL), FDJ_OK);
    CHECK_STATUS(fdj_decoder_read_coefficients(dec, planes), FDJ_OK);
    CHECK(memcmp(coef, td_gray_coef, sizeof td_gray_coef) == 0);
    fdj_decoder_free(dec);
    free(coef);
}

static void test_scaled_and_formats(void)
{
    static const int denoms[4] = {1, 2, 4, 8};
    int i;
    for (i = 0; i < 4; i++) {
        fdj_decode_options opt;
        uint8_t *pix;
        int h, w, c;
        char msg[FDJ_MSG_SIZE];
        fdj_decode_options_init(&opt);
        opt.scale_denom = denoms[i];
        CHECK_STATUS(decode_all(td_rgb420_jpg, sizeof td_rgb420_jpg, &opt, &pix, &h, &w, &c, msg),
                     FDJ_OK);
        /* libjpeg: ceil(W / denom) */
        CHECK(w == (TD_RGB420_W + denoms[i] - 1) / denoms[i]);
        CHECK(h == (TD_RGB420_H + denoms[i] - 1) / denoms[i]);
        CHECK(c == 3);
        free(pix);
    }
    {
        fdj_decode_options opt;
        uint8_t *pix, *rgb;
        int h, w, c, hh, ww, cc;
        size_t i2, bad = 0;
        char msg[FDJ_MSG_SIZE];
        /* grey replicated to RGB equals the grey decode in every channel */
        fdj_decode_options_init(&opt);
        opt.out_format = FDJ_OUT_RGB;
        CHECK_STATUS(decode_all(td_gray_jpg, sizeof td_gray_jpg, &opt, &rgb, &h, &w, &c, msg), FDJ_OK);
        CHECK_STATUS(decode_all(td_gray_jpg, sizeof td_gray_jpg, NULL, &pix, &hh, &ww, &cc, msg),
                     FDJ_OK);
        CHECK(c == 3 && cc == 1 && h == hh && w == ww);
        if (rgb && pix && c == 3 && cc == 1)
            for (i2 = 0; i2 < (size_t)h * w; i2++)
                bad += rgb[3 * i2] != pix[i2] || rgb[3 * i2 + 1] != pix[i2] || rgb[3 * i2 + 2] != pix[i2];
        CHECK(bad == 0);
        free(rgb);
        free(pix);
        /* colour file as grey: one channel */
        opt.out_format = FDJ_OUT_GRAY;
        CHECK_STATUS(decode_all(td_rgb444_jpg, sizeof td_rgb444_jpg, &opt, &pix, &h, &w, &c, msg),
                     FDJ_OK);
        CHECK(c == 1 && h == TD_RGB444_H && w == TD_RGB444_W);
        free(pix);
    }
}

/* Decoding into a strided buffer leaves the padding untouched. */
static void test_decode_row_stride(void)
{
    fdj_decoder *dec = fdj_decoder_new();
    const int W = TD_RGB444_W, H = TD_RGB444_H, pad = 5, stride = W * 3 + pad;
    uint8_t *buf = (uint8_t *)malloc((size_t)stride * H);
    int y, ok = 1;
    CHECK(dec && buf);
    if (!dec || !buf) {
        fdj_decoder_free(dec);
        free(buf);
        return;
    }
    memset(buf, 0xA5, (size_t)stride * H);
    CHECK_STATUS(fdj_decoder_open(dec, td_rgb444_jpg, sizeof td_rgb444_jpg, NULL), FDJ_OK);
    CHECK_STATUS(fdj_decoder_decode(dec, buf, stride), FDJ_OK);
    for (y = 0; y < H; y++) {
        int k;
        ok &= memcmp(buf + (size_t)y * stride, td_rgb444_pixels + (size_t)y * W * 3, (size_t)W * 3) == 0;
        for (k = 0; k < pad; k++)
            ok &= buf[(size_t)y * stride + W * 3 + k] == 0xA5;
    }
    CHECK(ok);
    /* too small a stride is misuse */
    CHECK_STATUS(fdj_decoder_open(dec, td_rgb444_jpg, sizeof td_rgb444_jpg, NULL), FDJ_OK);
    CHECK_STATUS(fdj_decoder_decode(dec, buf, W * 3 - 1), FDJ_ERR_ARGUMENT);
    CHECK_MSG(fdj_decoder_message(dec), "stride");
    fdj_decoder_free(dec);
    free(buf);
}

/* ---- encoder ------------------------------------------------------------- */

static void test_quality_tables(void)
{
    uint16_t t[64];
    long dqt = find_segment(td_rgb420_jpg, sizeof td_rgb420_jpg, 0xDB, 0);
    long dqt2 = find_segment(td_rgb420_jpg, sizeof td_rgb420_jpg, 0xDB, 1);
    int k, ok = 1;
    /* quality 50 is Annex K itself */
    fdj_quality_table(50, 0, 1, t);
    for (k = 0; k < 64; k++)
        ok &= t[k] == annex_k_luma[k];
    CHECK(ok);
    /* quality 90 equals the tables Pillow wrote into td_rgb420 (zigzag order there) */
    CHECK(dqt > 0 && dqt2 > 0);
    if (dqt > 0 && dqt2 > 0) {
        fdj_quality_table(90, 0, 1, t);
        ok = 1;
        for (k = 0; k < 64; k++)
            ok &= t[k] == td_rgb420_jpg[dqt + 5 + natural_to_zigzag[k]];
        CHECK(ok);
        fdj_quality_table(90, 1, 1, t);
        ok = 1;
        for (k = 0; k < 64; k++)
            ok &= t[k] == td_rgb420_jpg[dqt2 + 5 + natural_to_zigzag[k]];
        CHECK(ok);
    }
    /* quality 1, not forced baseline: scale 5000, entries up to 32767 */
    fdj_quality_table(1, 0, 0, t);
    for (k = 0; k < 64; k++)
        CHECK(t[k] == (annex_k_luma[k] * 5000 + 50) / 100);
    fdj_quality_table(1, 0, 1, t);
    for (k = 0; k < 64; k++)
        CHECK(t[k] == 255);
}

/* decode a freshly encoded JPEG; returns malloc'ed pixels or NULL */
static uint8_t *decode_simple(const uint8_t *jpg, size_t n, int *h, int *w, int *c)
{
    uint8_t *pix;
    char msg[FDJ_MSG_SIZE];
    int st = decode_all(jpg, n, NULL, &pix, h, w, c, msg);
    if (st != FDJ_OK)
        fprintf(stderr, "  decode failed: %s\n", msg);
    return st == FDJ_OK ? pix : NULL;
}

static void test_roundtrip_lossless_table(void)
{
    /* all-ones table, grey: FDCT/quantize/IDCT is within one level of the input */
    enum { W = 23, H = 17 };
    static uint8_t src[W * H];
    fdj_encode_params p;
    uint8_t *jpg = NULL, *pix;
    size_t n = 0, i;
    int h, w, c, k, maxerr = 0;
    char msg[FDJ_MSG_SIZE];
    pattern(src, H, W, 1, 1);
    fdj_encode_params_init(&p);
    p.width = W;
    p.height = H;
    p.in_color = FDJ_IN_GRAY;
    p.num_qtables = 1;
    for (k = 0; k < 64; k++)
        p.qtable[0][k] = 1;
    CHECK_STATUS(encode(&p, src, &jpg, &n, msg), FDJ_OK);
    CHECK(n > 4 && jpg[0] == 0xFF && jpg[1] == 0xD8 && jpg[n - 2] == 0xFF && jpg[n - 1] == 0xD9);
    pix = jpg ? decode_simple(jpg, n, &h, &w, &c) : NULL;
    CHECK(pix && h == H && w == W && c == 1);
    if (pix)
        for (i = 0; i < (size_t)W * H; i++) {
            int e = abs((int)pix[i] - (int)src[i]);
            maxerr = e > maxerr ? e : maxerr;
        }
    CHECK(pix && maxerr <= 1);
    free(pix);
    fdj_free(jpg);
}

/* Every coding option writes the same quantized coefficients, so the same pixels. */
static void test_coding_options_same_pixels(void)
{
    static const int samp[3][2] = {{1, 1}, {2, 1}, {2, 2}};
    enum { W = 37, H = 29 };
    static uint8_t src[W * H * 3];
    int s;
    pattern(src, H, W, 3, 2);
    for (s = 0; s < 3; s++) {
        fdj_encode_params p;
        uint8_t *base = NULL, *base_pix;
        size_t nb = 0;
        int h, w, c, variant;
        char msg[FDJ_MSG_SIZE];
        params_for(&p, W, H, 3, 80, samp[s][0], samp[s][1]);
        CHECK_STATUS(encode(&p, src, &base, &nb, msg), FDJ_OK);
        base_pix = base ? decode_simple(base, nb, &h, &w, &c) : NULL;
        CHECK(base_pix && h == H && w == W && c == 3);
        for (variant = 0; variant < 4 && base_pix; variant++) {
            fdj_encode_params q = p;
            uint8_t *jpg = NULL, *pix;
            size_t n = 0;
            int hh, ww, cc;
            if (variant == 0)
                q.optimize = 1;
            else if (variant == 1)
                q.progressive = 1;
            else if (variant == 2)
                q.restart_interval = 3;
            else
                q.restart_rows = 1;
            CHECK_STATUS(encode(&q, src, &jpg, &n, msg), FDJ_OK);
            pix = jpg ? decode_simple(jpg, n, &hh, &ww, &cc) : NULL;
            CHECK(pix && hh == H && ww == W && cc == 3 &&
                  memcmp(pix, base_pix, (size_t)W * H * 3) == 0);
            if (variant == 0)
                CHECK(n < nb); /* optimal Huffman tables are smaller than Annex K's here */
            free(pix);
            fdj_free(jpg);
        }
        free(base_pix);
        fdj_free(base);
    }
}

/* fdj_purify == decode(encode(x)) bit for bit (its documented contract). */
static void test_purify_equals_decode_encode(void)
{
    static const int samp[3][2] = {{1, 1}, {2, 1}, {2, 2}};
    enum { W = 33, H = 21 };
    static uint8_t src[W * H * 3], out[W * H * 3];
    int s, ch;
    pattern(src, H, W, 3, 3);
    for (ch = 1; ch <= 3; ch += 2)
        for (s = 0; s < (ch == 1 ? 1 : 3); s++) {
            fdj_encode_params p;
            uint8_t *jpg = NULL, *pix;
            size_t n = 0;
            int h, w, c, k;
            char msg[FDJ_MSG_SIZE];
            params_for(&p, W, H, ch, 90, samp[s][0], samp[s][1]);
            for (k = 0; k < 64; k++) /* an FD-like table: 20 in the low band, 30 elsewhere */
                p.qtable[0][k] = p.qtable[1][k] = (k % 8 < 4 && k / 8 < 4) ? 20 : 30;
            CHECK_STATUS(encode(&p, src, &jpg, &n, msg), FDJ_OK);
            pix = jpg ? decode_simple(jpg, n, &h, &w, &c) : NULL;
            memset(out, 0, sizeof out);
            CHECK_STATUS(fdj_purify(&p, src, (ptrdiff_t)W * ch, ch, 1, out, (ptrdiff_t)W * ch, msg),
                         FDJ_OK);
            CHECK(pix && c == ch && memcmp(pix, out, (size_t)W * H * ch) == 0);
            free(pix);
            fdj_free(jpg);
        }
}

/* The caller-detected CPU features (fdjpeg.h fdj_cpu_detect, the options' cpu field):
 * 0 (detect per call), the detected value and FDJ_CPU_DETECTED alone (no AVX2: the
 * scalar kernels) give the same bytes for decode, one-pass purify, encode and purify. */
static void test_caller_detected_cpu(void)
{
    enum { W = 33, H = 21 };
    static uint8_t src[W * H * 3], out[3][W * H * 3];
    const unsigned cpus[3] = {0, fdj_cpu_detect(), FDJ_CPU_DETECTED};
    uint8_t *pix[3], *jpg[3];
    size_t n[3];
    int i, k, fd;
    char msg[FDJ_MSG_SIZE];
    CHECK((cpus[1] & FDJ_CPU_DETECTED) != 0);
    for (fd = 0; fd < 2; fd++) {
        int h[3], w[3], c[3];
        for (i = 0; i < 3; i++) {
            fdj_decode_options opt;
            fdj_decode_options_init(&opt);
            CHECK(opt.cpu == 0);
            opt.cpu = cpus[i];
            if (fd) {
                opt.purify_count = 1;
                for (k = 0; k < 64; k++)
                    opt.purify[0][k] = (uint16_t)(k < 10 ? 20 : 30);
            }
            CHECK_STATUS(decode_all(td_rgb420_jpg, sizeof td_rgb420_jpg, &opt, &pix[i], &h[i],
                                    &w[i], &c[i], msg), FDJ_OK);
        }
        for (i = 1; i < 3; i++)
            CHECK(pix[0] && pix[i] && h[i] == h[0] && w[i] == w[0] && c[i] == c[0] &&
                  memcmp(pix[0], pix[i], (size_t)h[0] * w[0] * c[0]) == 0);
        for (i = 0; i < 3; i++)
            free(pix[i]);
    }
    pattern(src, H, W, 3, 5);
    for (i = 0; i < 3; i++) {
        fdj_encode_params p;
        params_for(&p, W, H, 3, 90, 2, 2);
        CHECK(p.cpu == 0);
        p.cpu = cpus[i];
        jpg[i] = NULL;
        n[i] = 0;
        CHECK_STATUS(encode(&p, src, &jpg[i], &n[i], msg), FDJ_OK);
        CHECK_STATUS(fdj_purify(&p, src, (ptrdiff_t)W * 3, 3, 1, out[i], (ptrdiff_t)W * 3, msg), FDJ_OK);
    }
    for (i = 1; i < 3; i++) {
        CHECK(jpg[0] && jpg[i] && n[i] == n[0] && memcmp(jpg[0], jpg[i], n[0]) == 0);
        CHECK(memcmp(out[0], out[i], sizeof out[0]) == 0);
    }
    for (i = 0; i < 3; i++)
        fdj_free(jpg[i]);
}

/* fdj_purify_batch: every thread count gives fdj_purify's result per image; a
 * batch of bad images reports the first one's error; threads < 1 is refused. */
static void test_purify_batch_threads(void)
{
    enum { W = 35, H = 19, N = 5, IMG = W * H * 3 };
    static uint8_t src[N * IMG], want[N * IMG], got[N * IMG];
    fdj_encode_params p;
    char msg[FDJ_MSG_SIZE];
    int i, threads;
    for (i = 0; i < N; i++)
        pattern(src + i * IMG, H, W, 3, 3 + i);
    params_for(&p, W, H, 3, 90, 2, 2);
    for (i = 0; i < N; i++)
        CHECK_STATUS(fdj_purify(&p, src + i * IMG, W * 3, 3, 1, want + i * IMG, W * 3, msg), FDJ_OK);
    for (threads = 1; threads <= 7; threads += 2) {
        memset(got, 0, sizeof got);
        CHECK_STATUS(fdj_purify_batch(&p, N, src, IMG, W * 3, 3, 1, got, IMG, W * 3, threads, msg),
                     FDJ_OK);
        CHECK(memcmp(got, want, sizeof got) == 0);
    }
    CHECK_STATUS(fdj_purify_batch(&p, 0, src, IMG, W * 3, 3, 1, got, IMG, W * 3, 2, msg), FDJ_OK);
    CHECK_STATUS(fdj_purify_batch(&p, N, src, IMG, W * 3, 3, 1, got, IMG, W * 3, 0, msg),
                 FDJ_ERR_ARGUMENT);
    CHECK_MSG(msg, "threads");
    p.width = 0; /* every image fails the same way, in every share */
    CHECK_STATUS(fdj_purify_batch(&p, N, src, IMG, W * 3, 3, 1, got, IMG, W * 3, 3, msg),
                 FDJ_ERR_ARGUMENT);
    CHECK(msg[0] != 0);
}

/* one-pass purify in the decoder with an all-ones table changes nothing;
 * with the file's own table it changes nothing either (already on the grid) */
static void test_decoder_purify_identity(void)
{
    fdj_decode_options opt;
    uint8_t *pix;
    int h, w, c, k, slot;
    char msg[FDJ_MSG_SIZE];
    for (slot = 0; slot < 2; slot++) {
        fdj_decode_options_init(&opt);
        opt.purify_count = 1;
        for (k = 0; k < 64; k++)
            opt.purify[0][k] = slot == 0 ? 1 : td_gray_qt[k];
        CHECK_STATUS(decode_all(td_gray_jpg, sizeof td_gray_jpg, &opt, &pix, &h, &w, &c, msg), FDJ_OK);
        CHECK(pix && memcmp(pix, td_gray_pixels, sizeof td_gray_pixels) == 0);
        free(pix);
    }
    /* a coarse table changes the picture */
    opt.purify[0][0] = 255;
    for (k = 1; k < 64; k++)
        opt.purify[0][k] = 200;
    CHECK_STATUS(decode_all(td_gray_jpg, sizeof td_gray_jpg, &opt, &pix, &h, &w, &c, msg), FDJ_OK);
    CHECK(pix && memcmp(pix, td_gray_pixels, sizeof td_gray_pixels) != 0);
    free(pix);
}

/* strided (column-flipped) input encodes like its contiguous copy */
static void test_encode_negative_strides(void)
{
    enum { W = 19, H = 11 };
    static uint8_t src[W * H * 3], flipped[W * H * 3];
    fdj_encode_params p;
    uint8_t *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    int y, x, k;
    char msg[FDJ_MSG_SIZE];
    pattern(src, H, W, 3, 4);
    for (y = 0; y < H; y++)
        for (x = 0; x < W; x++)
            for (k = 0; k < 3; k++)
                flipped[((size_t)y * W + (W - 1 - x)) * 3 + (2 - k)] = src[((size_t)y * W + x) * 3 + k];
    params_for(&p, W, H, 3, 75, 2, 2);
    CHECK_STATUS(encode(&p, src, &a, &na, msg), FDJ_OK);
    /* element (y, x, c) of flipped read backwards in x and c is src */
    CHECK_STATUS(fdj_encode(&p, flipped + (size_t)(W - 1) * 3 + 2, (ptrdiff_t)W * 3, -3, -1, &b, &nb, msg),
                 FDJ_OK);
    CHECK(a && b && na == nb && memcmp(a, b, na) == 0);
    fdj_free(a);
    fdj_free(b);
}

/* 12-bit through the public API: encode uint16 samples (precision 12), the file says
 * SOF1/P=12, decodes to 2-byte samples close to the input, a stride one sample short is
 * refused, and values above 4095 are refused by the encoder */
static void test_twelve_bit_round_trip(void)
{
    enum { W = 21, H = 13 };
    static uint16_t src[W * H * 3], out[W * H * 3];
    fdj_encode_params p;
    fdj_decoder *dec;
    uint8_t *jpg = NULL;
    size_t n = 0, i;
    int h = 0, w = 0, c = 0, maxerr = 0;
    char msg[FDJ_MSG_SIZE];
    for (i = 0; i < (size_t)W * H * 3; i++)
        src[i] = (uint16_t)((i * 97 + (i / 3) * 13) % 4096 / 64 * 64 + 1000) % 4096;
    params_for(&p, W, H, 3, 95, 1, 1);
    p.precision = 12;
    CHECK_STATUS(fdj_encode(&p, (const uint8_t *)src, (ptrdiff_t)W * 6, 6, 2, &jpg, &n, msg), FDJ_OK);
    CHECK(jpg && n > 20);
    dec = fdj_decoder_new();
    CHECK(dec != NULL);
    if (!dec || !jpg)
        return;
    CHECK_STATUS(fdj_decoder_open(dec, jpg, n, NULL), FDJ_OK);
    CHECK(fdj_decoder_info(dec)->precision == 12 && fdj_decoder_info(dec)->sof == 1);
    CHECK(fdj_decoder_sample_bytes(dec) == 2);
    CHECK_STATUS(fdj_decoder_output_shape(dec, &h, &w, &c), FDJ_OK);
    CHECK(h == H && w == W && c == 3);
    CHECK_STATUS(fdj_decoder_decode(dec, (uint8_t *)out, (ptrdiff_t)W * 6 - 1), FDJ_ERR_ARGUMENT);
    CHECK_STATUS(fdj_decoder_decode(dec, (uint8_t *)out, (ptrdiff_t)W * 6), FDJ_OK);
    for (i = 0; i < (size_t)W * H * 3; i++) {
        int d = out[i] > src[i] ? out[i] - src[i] : src[i] - out[i];
        CHECK(out[i] <= 4095);
        if (d > maxerr)
            maxerr = d;
    }
    CHECK(maxerr < 600); /* q95 on a hard pattern: lossy, but the picture survives */
    fdj_decoder_free(dec);
    fdj_free(jpg);
    src[5] = 4096;
    jpg = NULL;
    CHECK_STATUS(fdj_encode(&p, (const uint8_t *)src, (ptrdiff_t)W * 6, 6, 2, &jpg, &n, msg),
                 FDJ_ERR_ARGUMENT);
    CHECK(jpg == NULL);
    p.precision = 10;
    CHECK_STATUS(fdj_encode(&p, (const uint8_t *)src, (ptrdiff_t)W * 6, 6, 2, &jpg, &n, msg),
                 FDJ_ERR_ARGUMENT);
}

/* read_coefficients -> write_coefficients -> read_coefficients is the identity */
static void test_coefficient_transcode(void)
{
    fdj_decoder *dec = fdj_decoder_new();
    fdj_encode_params p;
    int16_t *coef = (int16_t *)malloc(sizeof td_gray_coef), *back = (int16_t *)malloc(sizeof td_gray_coef);
    int16_t *planes[1];
    const int16_t *cplanes[1];
    uint8_t *jpg = NULL;
    size_t n = 0;
    int k;
    char msg[FDJ_MSG_SIZE];
    CHECK(dec && coef && back);
    if (!dec || !coef || !back)
        goto done;
    planes[0] = coef;
    CHECK_STATUS(fdj_decoder_open(dec, td_gray_jpg, sizeof td_gray_jpg, NULL), FDJ_OK);
    CHECK_STATUS(fdj_decoder_read_coefficients(dec, planes), FDJ_OK);
    fdj_encode_params_init(&p);
    p.width = TD_GRAY_W;
    p.height = TD_GRAY_H;
    p.in_color = FDJ_IN_GRAY;
    p.num_qtables = 1;
    for (k = 0; k < 64; k++)
        p.qtable[0][k] = td_gray_qt[k];
    cplanes[0] = coef;
    CHECK_STATUS(fdj_write_coefficients(&p, cplanes, &jpg, &n, msg), FDJ_OK);
    planes[0] = back;
    CHECK_STATUS(fdj_decoder_open(dec, jpg, n, NULL), FDJ_OK);
    CHECK_STATUS(fdj_decoder_read_coefficients(dec, planes), FDJ_OK);
    CHECK(memcmp(back, td_gray_coef, sizeof td_gray_coef) == 0);
    {   /* and its pixels are Pillow's pixels of the original */
        uint8_t *pix;
        int h, w, c;
        pix = jpg ? decode_simple(jpg, n, &h, &w, &c) : NULL;
        CHECK(pix && memcmp(pix, td_gray_pixels, sizeof td_gray_pixels) == 0);
        free(pix);
    }
done:
    fdj_free(jpg);
    fdj_decoder_free(dec);
    free(coef);
    free(back);
}

static void test_encoder_errors(void)
{
    enum { W = 8, H = 8 };
    static uint8_t src[W * H * 3];
    fdj_encode_params p;
    uint8_t *jpg = NULL;
    size_t n = 0;
    char msg[FDJ_MSG_SIZE];

    params_for(&p, 0, H, 3, 75, 1, 1);
    CHECK_STATUS(encode(&p, src, &jpg, &n, msg), FDJ_ERR_ARGUMENT);
    CHECK_MSG(msg, "image size 0x8");
    CHECK(jpg == NULL);

    params_for(&p, 70000, H, 3, 75, 1, 1);
    CHECK_STATUS(fdj_encode(&p, src, 0, 0, 0, &jpg, &n, msg), FDJ_ERR_ARGUMENT);
    CHECK_MSG(msg, "outside 1..65535");

    params_for(&p, 60000, 60000, 3, 75, 1, 1); /* over the default pixel limit, no allocation */
    CHECK_STATUS(fdj_encode(&p, src, 0, 0, 0, &jpg, &n, msg), FDJ_ERR_TOO_LARGE);
    CHECK_MSG(msg, "exceeds the limit");

    params_for(&p, W, H, 3, 75, 1, 1);
    p.max_pixels = 63;
    CHECK_STATUS(encode(&p, src, &jpg, &n, msg), FDJ_ERR_TOO_LARGE);

    params_for(&p, W, H, 3, 75, 1, 1);
    p.in_color = 2;
    CHECK_STATUS(encode(&p, src, &jpg, &n, msg), FDJ_ERR_ARGUMENT);
    CHECK_MSG(msg, "in_color");

    params_for(&p, W, H, 3, 75, 1, 1);
    p.qtable[1][17] = 0;
    CHECK_STATUS(encode(&p, src, &jpg, &n, msg), FDJ_ERR_ARGUMENT);
    CHECK_MSG(msg, "zero entry");

    params_for(&p, W, H, 3, 75, 5, 1);
    CHECK_STATUS(encode(&p, src, &jpg, &n, msg), FDJ_ERR_ARGUMENT);
    CHECK_MSG(msg, "sampling factors");

    params_for(&p, W, H, 3, 75, 4, 4); /* 16 + 2 blocks per MCU */
    CHECK_STATUS(encode(&p, src, &jpg, &n, msg), FDJ_ERR_ARGUMENT);
    CHECK_MSG(msg, "blocks per MCU");

    params_for(&p, W, H, 3, 75, 1, 1);
    p.num_qtables = 0;
    CHECK_STATUS(encode(&p, src, &jpg, &n, msg), FDJ_ERR_ARGUMENT);
    CHECK_MSG(msg, "num_qtables");

    params_for(&p, W, H, 3, 75, 1, 1);
    p.num_qtables = 1; /* components 1, 2 use slot 1 */
    CHECK_STATUS(encode(&p, src, &jpg, &n, msg), FDJ_ERR_ARGUMENT);
    CHECK_MSG(msg, "table slot");

    params_for(&p, W, H, 3, 75, 1, 1);
    p.restart_interval = 70000;
    CHECK_STATUS(encode(&p, src, &jpg, &n, msg), FDJ_ERR_ARGUMENT);
    CHECK_MSG(msg, "restart_interval");

    params_for(&p, W, H, 3, 75, 1, 1);
    CHECK_STATUS(fdj_encode(&p, NULL, W * 3, 3, 1, &jpg, &n, msg), FDJ_ERR_ARGUMENT);
    CHECK_STATUS(fdj_encode(&p, src, W * 3, 3, 1, NULL, &n, msg), FDJ_ERR_ARGUMENT);
    CHECK_STATUS(fdj_encode(NULL, src, W * 3, 3, 1, &jpg, &n, msg), FDJ_ERR_ARGUMENT);
    /* msg may be NULL */
    CHECK_STATUS(fdj_encode(&p, NULL, W * 3, 3, 1, &jpg, &n, NULL), FDJ_ERR_ARGUMENT);
    CHECK(jpg == NULL);

    params_for(&p, W, H, 3, 75, 1, 1);
    CHECK_STATUS(fdj_write_coefficients(&p, NULL, &jpg, &n, msg), FDJ_ERR_ARGUMENT);
    CHECK_STATUS(fdj_purify(&p, src, W * 3, 3, 1, NULL, W * 3, msg), FDJ_ERR_ARGUMENT);
    p.width = 0;
    CHECK_STATUS(fdj_purify(&p, src, W * 3, 3, 1, src, W * 3, msg), FDJ_ERR_ARGUMENT);
}

/* ---- decoder errors: each path, its status and message ------------------- */

/* a copy of rgb420 with one byte changed */
static int decode_patched(const uint8_t *base, size_t n, size_t at, uint8_t v, const fdj_decode_options *opt,
                          char msg[FDJ_MSG_SIZE])
{
    uint8_t *p = copy_bytes(base, n);
    int st;
    if (!p)
        return FDJ_ERR_NOMEM;
    p[at] = v;
    st = try_decode(p, n, opt, msg);
    free(p);
    return st;
}

static void test_decoder_errors(void)
{
    const uint8_t *J = td_rgb420_jpg;
    const size_t N = sizeof td_rgb420_jpg;
    long dqt = find_segment(J, N, 0xDB, 0), sof = find_segment(J, N, 0xC0, 0);
    long sos = find_segment(J, N, 0xDA, 0);
    char msg[FDJ_MSG_SIZE];
    fdj_decode_options opt;
    static const uint8_t soi_only[] = {0xFF, 0xD8};
    static const uint8_t soi_ff[] = {0xFF, 0xD8, 0xFF};
    static const uint8_t soi_eoi[] = {0xFF, 0xD8, 0xFF, 0xD9};
    static const uint8_t png[] = {0x89, 'P', 'N', 'G', 13, 10, 26, 10};
    /* SOI, SOS (1 comp) with no SOF */
    static const uint8_t sos_first[] = {0xFF, 0xD8, 0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 63, 0};
    /* SOI, 16-bit DQT whose 3 table bytes leave one odd byte over (libjpeg: JERR_BAD_LENGTH) */
    static const uint8_t dqt_odd[] = {0xFF, 0xD8, 0xFF, 0xDB, 0, 6, 0x10, 0, 1, 2, 0xFF, 0xD9};
    /* a short 8-bit DQT is read as far as it goes, like libjpeg: no error from it */
    static const uint8_t dqt_short[] = {0xFF, 0xD8, 0xFF, 0xDB, 0, 3, 0x00, 0xFF, 0xD9};
    /* segment length 1 (below the 2 bytes of the length itself); a DQT, since APPn/COM
     * that short are skipped as empty, as libjpeg and Pillow do */
    static const uint8_t len1[] = {0xFF, 0xD8, 0xFF, 0xDB, 0, 1, 0xFF, 0xD9};
    /* 60000 x 60000 grey baseline SOF: refused at open, before any allocation */
    static const uint8_t huge[] = {0xFF, 0xD8, 0xFF, 0xC0, 0, 11, 8, 0xEA, 0x60, 0xEA, 0x60, 1, 1, 0x11, 0,
                                   0xFF, 0xD9};
    /* 16-bit lossy precision (8 and 12 decode, as libjpeg-turbo) */
    static const uint8_t twelve[] = {0xFF, 0xD8, 0xFF, 0xC1, 0, 11, 16, 0, 8, 0, 8, 1, 1, 0x11, 0, 0xFF, 0xD9};
    /* hierarchical (SOF5) */
    static const uint8_t sof5[] = {0xFF, 0xD8, 0xFF, 0xC5, 0, 11, 8, 0, 8, 0, 8, 1, 1, 0x11, 0, 0xFF, 0xD9};
    /* zero width */
    static const uint8_t zero_w[] = {0xFF, 0xD8, 0xFF, 0xC0, 0, 11, 8, 0, 8, 0, 0, 1, 1, 0x11, 0, 0xFF, 0xD9};
    /* sampling factor 5 */
    static const uint8_t bad_samp[] = {0xFF, 0xD8, 0xFF, 0xC0, 0, 11, 8, 0, 8, 0, 8, 1, 1, 0x51, 0, 0xFF, 0xD9};
    /* DQT precision 2 */
    static const uint8_t dqt_prec[] = {0xFF, 0xD8, 0xFF, 0xDB, 0, 67, 0x20};
    /* DQT index 5 */
    uint8_t dqt_index[2 + 2 + 67 + 2];
    /* two SOFs */
    static const uint8_t two_sof[] = {0xFF, 0xD8, 0xFF, 0xC0, 0, 11, 8, 0, 8, 0, 8, 1, 1, 0x11, 0,
                                      0xFF, 0xC0, 0, 11, 8, 0, 8, 0, 8, 1, 1, 0x11, 0, 0xFF, 0xD9};
    /* SOI then no marker: Pillow's signature is FF D8 FF, so not a JPEG */
    static const uint8_t garbage[] = {0xFF, 0xD8, 1, 2, 3, 4, 5, 6, 7, 8};
    /* a COM, then garbage without any marker: runs out looking for one */
    static const uint8_t com_garbage[] = {0xFF, 0xD8, 0xFF, 0xFE, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8};

    CHECK(dqt > 0 && sof > 0 && sos > 0);
    if (dqt <= 0 || sof <= 0 || sos <= 0)
        return;

    CHECK_STATUS(try_decode(NULL, 0, NULL, msg), FDJ_ERR_NOT_JPEG);
    CHECK_STATUS(try_decode(png, sizeof png, NULL, msg), FDJ_ERR_NOT_JPEG);
    CHECK_MSG(msg, "no SOI marker at offset 0");
    CHECK_STATUS(try_decode(soi_only, sizeof soi_only, NULL, msg), FDJ_ERR_NOT_JPEG);
    CHECK_MSG(msg, "not followed by another marker");
    CHECK_STATUS(try_decode(garbage, sizeof garbage, NULL, msg), FDJ_ERR_NOT_JPEG);
    CHECK_STATUS(try_decode(soi_ff, sizeof soi_ff, NULL, msg), FDJ_ERR_TRUNCATED);
    CHECK_MSG(msg, "ends at offset 3 before the EOI");
    CHECK_STATUS(try_decode(com_garbage, sizeof com_garbage, NULL, msg), FDJ_ERR_TRUNCATED);
    CHECK_MSG(msg, "ends at offset 14 before the EOI");
    CHECK_STATUS(try_decode(soi_eoi, sizeof soi_eoi, NULL, msg), FDJ_ERR_CORRUPT);
    CHECK_MSG(msg, "no image");
    CHECK_STATUS(try_decode(sos_first, sizeof sos_first, NULL, msg), FDJ_ERR_CORRUPT);
    CHECK_MSG(msg, "SOS before SOF at offset 2");
    CHECK_STATUS(try_decode(dqt_odd, sizeof dqt_odd, NULL, msg), FDJ_ERR_CORRUPT);
    CHECK_MSG(msg, "bad DQT length at offset 2");
    /* a table shorter than 64 entries before the first scan: Pillow refuses it */
    CHECK_STATUS(try_decode(dqt_short, sizeof dqt_short, NULL, msg), FDJ_ERR_CORRUPT);
    CHECK_MSG(msg, "bad DQT length at offset 2");
    CHECK_STATUS(try_decode(len1, sizeof len1, NULL, msg), FDJ_ERR_CORRUPT);
    CHECK_MSG(msg, "length 1 at offset 2");
    CHECK_STATUS(try_decode(huge, sizeof huge, NULL, msg), FDJ_ERR_TOO_LARGE);
    CHECK_MSG(msg, "60000");
    CHECK_STATUS(try_decode(twelve, sizeof twelve, NULL, msg), FDJ_ERR_UNSUPPORTED);
    CHECK_MSG(msg, "16-bit");
    CHECK_STATUS(try_decode(sof5, sizeof sof5, NULL, msg), FDJ_ERR_UNSUPPORTED);
    CHECK_STATUS(try_decode(zero_w, sizeof zero_w, NULL, msg), FDJ_ERR_CORRUPT);
    CHECK_MSG(msg, "empty image");
    CHECK_STATUS(try_decode(bad_samp, sizeof bad_samp, NULL, msg), FDJ_ERR_CORRUPT);
    CHECK_MSG(msg, "bad sampling factors 5x1");
    /* cut inside a DQT whose first byte is already wrong: libjpeg reports the bad table */
    CHECK_STATUS(try_decode(dqt_prec, sizeof dqt_prec, NULL, msg), FDJ_ERR_CORRUPT);
    CHECK_MSG(msg, "bad DQT table at offset 2");
    memset(dqt_index, 1, sizeof dqt_index);
    memcpy(dqt_index, "\xFF\xD8\xFF\xDB\x00\x43\x05", 7);
    CHECK_STATUS(try_decode(dqt_index, sizeof dqt_index, NULL, msg), FDJ_ERR_CORRUPT);
    CHECK_MSG(msg, "bad DQT table index 5 at offset 2");
    memcpy(dqt_index, "\xFF\xD8\xFF\xDB\x00\x43\x20", 7);
    CHECK_STATUS(try_decode(dqt_index, sizeof dqt_index, NULL, msg), FDJ_ERR_CORRUPT);
    CHECK_MSG(msg, "bad DQT precision 2 at offset 2");
    CHECK_STATUS(try_decode(two_sof, sizeof two_sof, NULL, msg), FDJ_ERR_CORRUPT);
    CHECK_MSG(msg, "duplicate SOF marker at offset 15");

    /* patches of a real file */
    CHECK_STATUS(decode_patched(J, N, (size_t)sof + 3, 12, NULL, msg), FDJ_ERR_CORRUPT);
    CHECK_MSG(msg, "bad SOF length");
    /* component id in the SOS (first component selector) unknown */
    CHECK_STATUS(decode_patched(J, N, (size_t)sos + 5, 77, NULL, msg), FDJ_ERR_CORRUPT);
    {
        char want[64];
        snprintf(want, sizeof want, "component id 77 at offset %ld", sos);
        CHECK_MSG(msg, want);
    }
    /* DC table selector 5 */
    CHECK_STATUS(decode_patched(J, N, (size_t)sos + 6, 0x50, NULL, msg), FDJ_ERR_CORRUPT);
    CHECK_MSG(msg, "Huffman table selector");
    /* component's quantization table 3 is not defined */
    CHECK_STATUS(decode_patched(J, N, (size_t)sof + 12, 3, NULL, msg), FDJ_ERR_CORRUPT);
    CHECK_MSG(msg, "quantization table 3 is not defined");
    /* an APP0 length past the end of the data: truncated */
    CHECK_STATUS(decode_patched(J, N, 4, 0xFF, NULL, msg), FDJ_ERR_TRUNCATED);
    CHECK_MSG(msg, "marker 0xE0 at offset 2 has length 65296 past the end of data");
    /* a DQT length past the end: libjpeg reads on and meets the next marker as a bad table */
    {
        char want[64];
        snprintf(want, sizeof want, "bad DQT table at offset %ld", dqt);
        CHECK_STATUS(decode_patched(J, N, (size_t)dqt + 2, 0xFF, NULL, msg), FDJ_ERR_CORRUPT);
        CHECK_MSG(msg, want);
    }

    /* truncation: header intact, entropy data cut */
    CHECK_STATUS(try_decode(J, (size_t)sos + 40, NULL, msg), FDJ_ERR_TRUNCATED);
    fdj_decode_options_init(&opt);
    opt.allow_truncated = 1;
    {
        fdj_decoder *dec = fdj_decoder_new();
        uint8_t *pix = (uint8_t *)malloc((size_t)TD_RGB420_W * TD_RGB420_H * 3);
        CHECK(dec && pix);
        if (dec && pix) {
            CHECK_STATUS(fdj_decoder_open(dec, J, (size_t)sos + 40, &opt), FDJ_OK);
            CHECK_STATUS(fdj_decoder_decode(dec, pix, TD_RGB420_W * 3), FDJ_OK);
            CHECK(fdj_decoder_was_truncated(dec));
            /* the full file is not truncated */
            CHECK_STATUS(fdj_decoder_open(dec, J, N, &opt), FDJ_OK);
            CHECK_STATUS(fdj_decoder_decode(dec, pix, TD_RGB420_W * 3), FDJ_OK);
            CHECK(!fdj_decoder_was_truncated(dec));
        }
        free(pix);
        fdj_decoder_free(dec);
    }
    /* every prefix of a file fails cleanly or (allow_truncated) decodes */
    {
        size_t cut;
        int bad = 0, outside = 0;
        fdj_decoder *dec = fdj_decoder_new();
        CHECK(dec != NULL);
        for (cut = 0; cut < N; cut++) {
            int st = try_decode(J, cut, NULL, msg);
            bad += st != FDJ_ERR_TRUNCATED && st != FDJ_ERR_NOT_JPEG && st != FDJ_ERR_CORRUPT;
            st = try_decode(J, cut, &opt, msg);
            bad += st != FDJ_OK && st != FDJ_ERR_TRUNCATED && st != FDJ_ERR_NOT_JPEG && st != FDJ_ERR_CORRUPT;
            /* the marker list, even after a failed open, describes only the caller's
             * bytes: a segment cut off by the end (which allow_truncated reads into the
             * EOI it appends) is listed with the length that is there (fuzz_inspect
             * finding, session 3); the appended EOI itself sits at offset == cut */
            if (dec) {
                const fdj_marker *mk;
                size_t nm, i;
                (void)fdj_decoder_open(dec, J, cut, &opt);
                mk = fdj_decoder_markers(dec, &nm);
                for (i = 0; i < nm; i++)
                    if (!(mk[i].marker == 0xD9 && mk[i].offset == cut && mk[i].length == 0))
                        outside += mk[i].offset >= cut || (size_t)mk[i].offset + 2 + mk[i].length > cut;
            }
        }
        fdj_decoder_free(dec);
        CHECK(bad == 0);
        CHECK(outside == 0);
    }
}

static void test_decoder_limits_and_misuse(void)
{
    fdj_decode_options opt;
    char msg[FDJ_MSG_SIZE];
    fdj_decoder *dec;
    uint8_t *pix;
    int k;

    /* pixel limit: W*H just over and exactly at the limit */
    fdj_decode_options_init(&opt);
    opt.max_pixels = (uint64_t)TD_RGB420_W * TD_RGB420_H - 1;
    CHECK_STATUS(try_decode(td_rgb420_jpg, sizeof td_rgb420_jpg, &opt, msg), FDJ_ERR_TOO_LARGE);
    CHECK_MSG(msg, "pixel");
    opt.max_pixels = (uint64_t)TD_RGB420_W * TD_RGB420_H;
    CHECK_STATUS(try_decode(td_rgb420_jpg, sizeof td_rgb420_jpg, &opt, msg), FDJ_OK);

    /* scan limit on the progressive file */
    {
        size_t nsos = 0, pos;
        for (pos = 0; pos + 1 < sizeof td_prog_jpg; pos++)
            nsos += td_prog_jpg[pos] == 0xFF && td_prog_jpg[pos + 1] == 0xDA;
        CHECK(nsos > 2);
        fdj_decode_options_init(&opt);
        opt.max_scans = (int)nsos - 1;
        CHECK_STATUS(try_decode(td_prog_jpg, sizeof td_prog_jpg, &opt, msg), FDJ_ERR_TOO_LARGE);
        CHECK_MSG(msg, "scan limit");
        opt.max_scans = (int)nsos;
        CHECK_STATUS(try_decode(td_prog_jpg, sizeof td_prog_jpg, &opt, msg), FDJ_OK);
    }

    /* segment byte limit */
    fdj_decode_options_init(&opt);
    opt.max_segment_bytes = 100;
    CHECK_STATUS(try_decode(td_rgb420_jpg, sizeof td_rgb420_jpg, &opt, msg), FDJ_ERR_TOO_LARGE);
    CHECK_MSG(msg, "limit of 100 bytes");

    /* bad options */
    fdj_decode_options_init(&opt);
    opt.scale_denom = 3;
    CHECK_STATUS(try_decode(td_rgb420_jpg, sizeof td_rgb420_jpg, &opt, msg), FDJ_ERR_ARGUMENT);
    CHECK_MSG(msg, "scale_denom");
    fdj_decode_options_init(&opt);
    opt.purify_count = 5;
    CHECK_STATUS(try_decode(td_rgb420_jpg, sizeof td_rgb420_jpg, &opt, msg), FDJ_ERR_ARGUMENT);
    fdj_decode_options_init(&opt);
    opt.purify_count = 1;
    for (k = 0; k < 64; k++)
        opt.purify[0][k] = 10;
    opt.purify[0][9] = 0;
    CHECK_STATUS(try_decode(td_rgb420_jpg, sizeof td_rgb420_jpg, &opt, msg), FDJ_ERR_ARGUMENT);
    CHECK_MSG(msg, "1..65535");

    /* decode before open, twice, after a failed open */
    dec = fdj_decoder_new();
    pix = (uint8_t *)malloc((size_t)TD_RGB420_W * TD_RGB420_H * 3);
    CHECK(dec && pix);
    if (dec && pix) {
        int h, w, c;
        CHECK(fdj_decoder_decode(dec, pix, TD_RGB420_W * 3) < 0);
        CHECK(fdj_decoder_message(dec)[0] != 0);
        CHECK_STATUS(fdj_decoder_open(dec, td_rgb420_jpg, sizeof td_rgb420_jpg, NULL), FDJ_OK);
        CHECK(fdj_decoder_message(dec)[0] == 0);
        CHECK_STATUS(fdj_decoder_output_shape(dec, &h, &w, &c), FDJ_OK);
        CHECK(h == TD_RGB420_H && w == TD_RGB420_W && c == 3);
        CHECK_STATUS(fdj_decoder_decode(dec, pix, TD_RGB420_W * 3), FDJ_OK);
        CHECK_STATUS(fdj_decoder_decode(dec, pix, TD_RGB420_W * 3), FDJ_ERR_ARGUMENT);
        CHECK_MSG(fdj_decoder_message(dec), "already used");
        CHECK_STATUS(fdj_decoder_open(dec, td_rgb420_jpg, 10, NULL), FDJ_ERR_TRUNCATED);
        CHECK(fdj_decoder_decode(dec, pix, TD_RGB420_W * 3) < 0);
        /* the decoder object is reusable after a failure */
        CHECK_STATUS(fdj_decoder_open(dec, td_rgb420_jpg, sizeof td_rgb420_jpg, NULL), FDJ_OK);
        CHECK_STATUS(fdj_decoder_decode(dec, pix, TD_RGB420_W * 3), FDJ_OK);
        CHECK(memcmp(pix, td_rgb420_pixels, sizeof td_rgb420_pixels) == 0);
    }
    free(pix);
    fdj_decoder_free(dec);
    fdj_decoder_free(NULL); /* allowed, like free(NULL) */
}

/* A progressive file with thousands of (empty-ish) scans stops at the scan limit. */
static void test_many_scans(void)
{
    /* grey 8x8 SOF2 + DHT + DQT, then 5000 DC-refinement scans of one byte each */
    static const uint8_t head[] = {
        0xFF, 0xD8,
        0xFF, 0xDB, 0, 67, 0,
    };
    size_t nscans = 5000, n = 0, i;
    uint8_t *buf = (uint8_t *)malloc(sizeof head + 64 + 64 + nscans * 16);
    char msg[FDJ_MSG_SIZE];
    fdj_decode_options opt;
    CHECK(buf != NULL);
    if (!buf)
        return;
    memcpy(buf, head, sizeof head);
    n = sizeof head;
    for (i = 0; i < 64; i++)
        buf[n++] = 1;
    {
        static const uint8_t sof2[] = {0xFF, 0xC2, 0, 11, 8, 0, 8, 0, 8, 1, 1, 0x11, 0};
        /* one DC table: a single code of length 1 for symbol 0 */
        static const uint8_t dht[] = {0xFF, 0xC4, 0, 20, 0x00, 1, 0, 0, 0, 0, 0, 0, 0,
                                      0,    0,    0, 0,  0,    0, 0, 0, 0};
        memcpy(buf + n, sof2, sizeof sof2);
        n += sizeof sof2;
        memcpy(buf + n, dht, sizeof dht);
        n += sizeof dht;
    }
    for (i = 0; i < nscans; i++) {
        /* SOS: 1 component, id 1, tables 0/0, Ss=0 Se=0, Ah/Al = 0/0 first, then 1/0 refinements */
        static const uint8_t sos[] = {0xFF, 0xDA, 0, 8, 1, 1, 0x00, 0, 0, 0x00};
        memcpy(buf + n, sos, sizeof sos);
        if (i > 0)
            buf[n + sizeof sos - 1] = 0x10; /* Ah=1 Al=0: successive approximation */
        n += sizeof sos;
        buf[n++] = 0x00;
    }
    buf[n++] = 0xFF;
    buf[n++] = 0xD9;
    fdj_decode_options_init(&opt);
    opt.max_scans = 64;
    CHECK_STATUS(try_decode(buf, n, &opt, msg), FDJ_ERR_TOO_LARGE);
    CHECK_MSG(msg, "more than 64 scans");
    /* the default limit (1000) stops it too */
    CHECK_STATUS(try_decode(buf, n, NULL, msg), FDJ_ERR_TOO_LARGE);
    CHECK_MSG(msg, "more than 1000 scans");
    free(buf);
}

int main(void)
{
    test_version_and_status();
    test_decode_matches_pillow();
    test_decode_exact_size_buffer();
    test_info_and_markers();
    test_read_coefficients_match_jpeglib();
    test_scaled_and_formats();
    test_decode_row_stride();
    test_quality_tables();
    test_roundtrip_lossless_table();
    test_coding_options_same_pixels();
    test_purify_equals_decode_encode();
    test_purify_batch_threads();
    test_caller_detected_cpu();
    test_decoder_purify_identity();
    test_encode_negative_strides();
    test_coefficient_transcode();
    test_twelve_bit_round_trip();
    test_encoder_errors();
    test_decoder_errors();
    test_decoder_limits_and_misuse();
    test_many_scans();
    printf("fdjpeg %s C unit tests: %d checks, %d failed\n", fdj_version(), g_checks, g_failures);
    return g_failures ? 1 : 0;
}
