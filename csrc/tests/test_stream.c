/*
 * test_stream.c -- C unit tests of the streaming and partial calls of fdjpeg.h:
 * fdj_encode_begin/rows/end, fdj_decoder_read_rows, fdj_decoder_decode_region.
 *
 * References: the pixels Pillow (libjpeg-turbo) decodes from the JPEGs in test_data.h
 * (region decode and read_rows must give exactly those, cropped or in strips), and for the
 * streaming encoder the bytes of fdj_encode with the same params (its contract; fdj_encode
 * itself is checked against Pillow by test_codec.c and the Python suite).
 *
 * Memory: this binary is linked with -Wl,--wrap=malloc,calloc,realloc so every allocation
 * the library makes is counted: fdj_encode_rows/fdj_encode_end and every read_rows call
 * after the first must allocate nothing, fdj_encode_begin exactly fdj_encode_stream_memory
 * bytes, and read_rows the same whatever the image height (sequential files).
 *
 * Build and run: make -C csrc test   (make -C csrc SAN=1 test under ASan/UBSan/LSan)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fdjpeg.h"
#include "test_data.h"

#include "check.h"

/* ---- allocation counting (--wrap) ---- */
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
static size_t g_alloc_calls, g_alloc_bytes;

void *__wrap_malloc(size_t n)
{
    g_alloc_calls++;
    g_alloc_bytes += n;
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
    g_alloc_calls++;
    g_alloc_bytes += n * m;
    return __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
    g_alloc_calls++;
    g_alloc_bytes += n;
    return __real_realloc(p, n);
}

static void alloc_reset(void)
{
    g_alloc_calls = 0;
    g_alloc_bytes = 0;
}

/* ---- helpers ---- */
static uint32_t g_rng = 12345;
static uint32_t rnd(void)
{
    g_rng = g_rng * 1103515245u + 12345u;
    return (g_rng >> 8) & 0xFFFFFF;
}

/* a photo-like test image: gradients, edges and grain */
static uint8_t *make_image(int w, int h, int ch)
{
    uint8_t *px = (uint8_t *)malloc((size_t)w * h * ch);
    int x, y, c;
    if (!px)
        return NULL;
    for (y = 0; y < h; y++)
        for (x = 0; x < w; x++)
            for (c = 0; c < ch; c++) {
                int v = (x * 3 + y * 2 + c * 50) % 256 + (int)(rnd() % 40) - 20;
                if ((x / 9 + y / 7) % 3 == 0)
                    v = 255 - v;
                px[((size_t)y * w + x) * ch + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
    return px;
}

static void params_for(fdj_encode_params *p, int w, int h, int in_color, int hs, int vs)
{
    fdj_encode_params_init(p);
    p->width = w;
    p->height = h;
    p->in_color = in_color;
    p->h_samp[0] = hs;
    p->v_samp[0] = vs;
    p->num_qtables = 2;
    fdj_quality_table(85, 0, 1, p->qtable[0]);
    fdj_quality_table(85, 1, 1, p->qtable[1]);
    if (in_color == FDJ_IN_CMYK)
        p->write_adobe = 1;
}

typedef struct sink {
    uint8_t *data;
    size_t size, cap;
    int fail_after;          /* fail the call after this many bytes (-1: never) */
    int calls;
} sink;

static int sink_write(void *user, const uint8_t *d, size_t n)
{
    sink *s = (sink *)user;
    s->calls++;
    if (s->fail_after >= 0 && s->size + n > (size_t)s->fail_after)
        return 1;
    if (s->size + n > s->cap)
        return 2;
    memcpy(s->data + s->size, d, n);
    s->size += n;
    return 0;
}

/* Stream-encode px in chunks of `chunk` rows (0: random chunk sizes), to a callback or a
 * caller buffer; compare with fdj_encode; check that no allocation happens after begin and
 * that begin allocates exactly fdj_encode_stream_memory bytes. */
static void check_stream_equals(const fdj_encode_params *p, const uint8_t *px, ptrdiff_t rs,
                                ptrdiff_t cs, ptrdiff_t chs, int chunk, int to_buffer,
                                const char *what)
{
    uint8_t *ref = NULL, *buf;
    size_t ref_size = 0, size = 0;
    char msg[FDJ_MSG_SIZE];
    fdj_encoder *enc = NULL;
    sink s;
    int st, y;
    size_t begin_bytes;
    st = fdj_encode(p, px, rs, cs, chs, &ref, &ref_size, msg);
    CHECK_STATUS(st, FDJ_OK);
    if (st != FDJ_OK) {
        fprintf(stderr, "  %s: %s\n", what, msg);
        return;
    }
    buf = (uint8_t *)malloc(ref_size + 100);
    memset(&s, 0, sizeof s);
    s.data = buf;
    s.cap = ref_size + 100;
    s.fail_after = -1;
    alloc_reset();
    st = fdj_encode_begin(&enc, p, to_buffer ? NULL : sink_write, &s, to_buffer ? buf : NULL,
                          to_buffer ? ref_size + 100 : 0, msg);
    begin_bytes = g_alloc_bytes;
    CHECK_STATUS(st, FDJ_OK);
    if (st != FDJ_OK) {
        fprintf(stderr, "  %s: %s\n", what, msg);
        free(ref);
        free(buf);
        return;
    }
    CHECK(begin_bytes == fdj_encode_stream_memory(p));
    if (begin_bytes != fdj_encode_stream_memory(p))
        fprintf(stderr, "  %s: begin allocated %zu bytes, fdj_encode_stream_memory says %zu\n",
                what, begin_bytes, fdj_encode_stream_memory(p));
    alloc_reset();
    for (y = 0; y < p->height;) {
        int n = chunk ? chunk : 1 + (int)(rnd() % 23);
        if (n > p->height - y)
            n = p->height - y;
        st = fdj_encode_rows(enc, px + (ptrdiff_t)y * rs, n, rs, cs, chs);
        CHECK_STATUS(st, FDJ_OK);
        if (st != FDJ_OK) {
            fprintf(stderr, "  %s: %s\n", what, fdj_encoder_message(enc));
            break;
        }
        y += n;
    }
    st = fdj_encode_end(enc, &size);
    CHECK_STATUS(st, FDJ_OK);
    CHECK(g_alloc_calls == 0);
    if (!to_buffer)
        CHECK(s.size == size);
    CHECK(size == ref_size && memcmp(buf, ref, ref_size) == 0);
    if (size != ref_size || memcmp(buf, ref, ref_size) != 0)
        fprintf(stderr, "  %s: streamed %zu bytes, fdj_encode %zu, differ\n", what, size, ref_size);
    fdj_encoder_free(enc);
    fdj_free(ref);
    free(buf);
}

static void test_stream_encoder_same_bytes(void)
{
    static const int sizes[][2] = {{1, 1}, {17, 9}, {64, 48}, {100, 37}, {33, 130}};
    static const int samp[][2] = {{1, 1}, {2, 2}, {2, 1}, {1, 2}, {4, 1}};
    size_t i, j;
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        int w = sizes[i][0], h = sizes[i][1];
        uint8_t *rgb = make_image(w, h, 3), *gray = make_image(w, h, 1), *cmyk = make_image(w, h, 4);
        fdj_encode_params p;
        for (j = 0; j < sizeof samp / sizeof samp[0]; j++) {
            params_for(&p, w, h, FDJ_IN_RGB, samp[j][0], samp[j][1]);
            check_stream_equals(&p, rgb, (ptrdiff_t)w * 3, 3, 1, (int)(j * 5 + 1), (int)(j & 1),
                                "rgb");
            p.restart_interval = 3;
            check_stream_equals(&p, rgb, (ptrdiff_t)w * 3, 3, 1, 0, 0, "rgb restart 3");
            p.restart_interval = 0;
            p.restart_rows = 1;
            check_stream_equals(&p, rgb, (ptrdiff_t)w * 3, 3, 1, 0, 1, "rgb restart rows");
        }
        params_for(&p, w, h, FDJ_IN_GRAY, 1, 1);
        check_stream_equals(&p, gray, w, 1, 1, 0, 0, "gray");
        check_stream_equals(&p, gray, w, 1, 1, 8, 1, "gray");
        params_for(&p, w, h, FDJ_IN_CMYK, 1, 1);
        check_stream_equals(&p, cmyk, (ptrdiff_t)w * 4, 4, 1, 0, 0, "cmyk");
        params_for(&p, w, h, FDJ_IN_RGB, 1, 1);
        p.keep_rgb = 1;
        p.write_adobe = 1;
        check_stream_equals(&p, rgb, (ptrdiff_t)w * 3, 3, 1, 5, 0, "keep_rgb");
        {   /* bottom-up BGR with negative strides */
            params_for(&p, w, h, FDJ_IN_RGB, 2, 2);
            check_stream_equals(&p, rgb + (size_t)(h - 1) * w * 3 + 2, -(ptrdiff_t)w * 3, 3, -1, 0,
                                0, "negative strides");
        }
        free(rgb);
        free(gray);
        free(cmyk);
    }
}

static void test_stream_encoder_tables_and_segments(void)
{
    int w = 75, h = 61, i;
    uint8_t *rgb = make_image(w, h, 3);
    uint8_t *seg = (uint8_t *)malloc(3 * 65537);
    fdj_encode_params p;
    /* a Feature Distillation style table (two-pass: encode with the defensive table) and
     * 16-bit entries (extended sequential, SOF1) */
    params_for(&p, w, h, FDJ_IN_RGB, 2, 2);
    for (i = 0; i < 64; i++) {
        p.qtable[0][i] = (uint16_t)(i < 6 ? 10 + i : 60 + i * 3);
        p.qtable[1][i] = (uint16_t)(300 + i * 11);
    }
    check_stream_equals(&p, rgb, (ptrdiff_t)w * 3, 3, 1, 0, 0, "FD/16-bit tables");
    /* caller segments longer than the output buffer: three full APP1 segments */
    for (i = 0; i < 3; i++) {
        uint8_t *s = seg + (size_t)i * 65537;
        s[0] = 0xFF;
        s[1] = 0xE1;
        s[2] = 0xFF;
        s[3] = 0xFF;
        memset(s + 4, 'a' + i, 65533);
    }
    params_for(&p, w, h, FDJ_IN_RGB, 2, 2);
    p.extra_segments = seg;
    p.extra_size = 3 * 65537;
    check_stream_equals(&p, rgb, (ptrdiff_t)w * 3, 3, 1, 0, 0, "large segments");
    check_stream_equals(&p, rgb, (ptrdiff_t)w * 3, 3, 1, 16, 1, "large segments, buffer");
    free(seg);
    free(rgb);
}

static void test_stream_encoder_errors(void)
{
    int w = 40, h = 30;
    uint8_t *rgb = make_image(w, h, 3);
    uint8_t small[600], big[20000];
    fdj_encode_params p;
    fdj_encoder *enc = NULL;
    char msg[FDJ_MSG_SIZE];
    size_t size = 123;
    sink s;
    params_for(&p, w, h, FDJ_IN_RGB, 2, 2);
    CHECK_STATUS(fdj_encode_begin(&enc, &p, NULL, NULL, NULL, 0, msg), FDJ_ERR_ARGUMENT);
    CHECK(enc == NULL);
    p.optimize = 1;
    CHECK_STATUS(fdj_encode_begin(&enc, &p, NULL, NULL, big, sizeof big, msg), FDJ_ERR_UNSUPPORTED);
    CHECK(strstr(msg, "optimize") != NULL);
    CHECK(fdj_encode_stream_memory(&p) == 0);
    p.optimize = 0;
    p.progressive = 1;
    CHECK_STATUS(fdj_encode_begin(&enc, &p, NULL, NULL, big, sizeof big, msg), FDJ_ERR_UNSUPPORTED);
    p.progressive = 0;
    p.width = 0;
    CHECK_STATUS(fdj_encode_begin(&enc, &p, NULL, NULL, big, sizeof big, msg), FDJ_ERR_ARGUMENT);
    CHECK(enc == NULL);
    p.width = w;
    /* too many rows, too few rows, rows after the end */
    CHECK_STATUS(fdj_encode_begin(&enc, &p, NULL, NULL, big, sizeof big, msg), FDJ_OK);
    CHECK_STATUS(fdj_encode_rows(enc, rgb, h + 1, w * 3, 3, 1), FDJ_ERR_ARGUMENT);
    CHECK_STATUS(fdj_encode_rows(enc, NULL, 3, w * 3, 3, 1), FDJ_ERR_ARGUMENT);
    CHECK_STATUS(fdj_encode_rows(enc, rgb, 20, w * 3, 3, 1), FDJ_OK);
    CHECK_STATUS(fdj_encode_end(enc, &size), FDJ_ERR_ARGUMENT);
    CHECK(size == 0);
    CHECK(strstr(fdj_encoder_message(enc), "rows") != NULL);
    CHECK_STATUS(fdj_encode_rows(enc, rgb + 20 * w * 3, 10, w * 3, 3, 1), FDJ_OK);
    CHECK_STATUS(fdj_encode_rows(enc, rgb, 0, w * 3, 3, 1), FDJ_OK);
    CHECK_STATUS(fdj_encode_end(enc, &size), FDJ_OK);
    CHECK(size > 100 && big[0] == 0xFF && big[1] == 0xD8 && big[size - 1] == 0xD9);
    CHECK_STATUS(fdj_encode_rows(enc, rgb, 1, w * 3, 3, 1), FDJ_ERR_ARGUMENT);
    CHECK_STATUS(fdj_encode_end(enc, &size), FDJ_ERR_ARGUMENT);
    fdj_encoder_free(enc);
    /* a caller buffer that is too small: the error, sticky */
    CHECK_STATUS(fdj_encode_begin(&enc, &p, NULL, NULL, small, sizeof small, msg), FDJ_OK);
    {
        int st = fdj_encode_rows(enc, rgb, h, w * 3, 3, 1);
        if (st == FDJ_OK)
            st = fdj_encode_end(enc, &size);
        CHECK_STATUS(st, FDJ_ERR_TOO_LARGE);
        CHECK(strstr(fdj_encoder_message(enc), "too small") != NULL);
        CHECK_STATUS(fdj_encode_end(enc, &size), FDJ_ERR_TOO_LARGE);
    }
    fdj_encoder_free(enc);
    /* a callback that fails part way */
    memset(&s, 0, sizeof s);
    s.data = big;
    s.cap = sizeof big;
    s.fail_after = 10;
    {
        int st = fdj_encode_begin(&enc, &p, sink_write, &s, NULL, 0, msg);
        if (st == FDJ_OK)
            st = fdj_encode_rows(enc, rgb, h, w * 3, 3, 1);
        if (st == FDJ_OK)
            st = fdj_encode_end(enc, &size);
        CHECK_STATUS(st, FDJ_ERR_ARGUMENT);
        CHECK(strstr(enc ? fdj_encoder_message(enc) : msg, "callback") != NULL);
    }
    fdj_encoder_free(enc);
    fdj_encoder_free(NULL);
    free(rgb);
}

/* Streaming memory does not depend on the height and follows the stated formula. */
static void test_stream_encoder_memory(void)
{
    fdj_encode_params p;
    size_t m1, m2, s;
    params_for(&p, 1920, 16, FDJ_IN_RGB, 2, 2);
    m1 = fdj_encode_stream_memory(&p);
    p.height = 10000;
    m2 = fdj_encode_stream_memory(&p);
    CHECK(m1 == m2);
    /* fdjpeg.h: RGB 4:2:0 is S + 152 W bytes with S about 54 KiB */
    s = m1 - 152 * 1920;
    CHECK(s > 32768 && s < 80000);
    printf("streaming encoder memory, RGB 4:2:0, 1920 wide: %zu bytes (152 W + %zu)\n", m1, s);
}

/* ---- decoder: read_rows and decode_region ---- */

static void check_read_rows(const uint8_t *jpg, size_t n, const uint8_t *ref, int h, int w, int ch,
                            int strip, const char *what)
{
    fdj_decoder *dec = fdj_decoder_new();
    uint8_t *buf = (uint8_t *)malloc((size_t)strip * w * ch);
    int y = 0, got = -1, st, ok = 1;
    CHECK_STATUS(fdj_decoder_open(dec, jpg, n, NULL), FDJ_OK);
    for (;;) {
        st = fdj_decoder_read_rows(dec, buf, (ptrdiff_t)w * ch, strip, &got);
        CHECK_STATUS(st, FDJ_OK);
        if (st != FDJ_OK || got == 0)
            break;
        CHECK(got <= strip && y + got <= h);
        if (y + got > h)
            break;
        if (memcmp(buf, ref + (size_t)y * w * ch, (size_t)got * w * ch) != 0)
            ok = 0;
        y += got;
    }
    CHECK(y == h);
    CHECK(ok);
    if (!ok || y != h)
        fprintf(stderr, "  %s, strips of %d: %d rows, %s\n", what, strip, y, ok ? "same" : "differ");
    CHECK_STATUS(fdj_decoder_read_rows(dec, buf, (ptrdiff_t)w * ch, strip, &got), FDJ_OK);
    CHECK(got == 0);
    CHECK_STATUS(fdj_decoder_decode(dec, buf, (ptrdiff_t)w * ch), FDJ_ERR_ARGUMENT);
    free(buf);
    fdj_decoder_free(dec);
}

static void test_read_rows_matches_pillow(void)
{
    static const int strips[] = {1, 2, 5, 8, 16, 1000};
    size_t i;
    for (i = 0; i < sizeof strips / sizeof strips[0]; i++) {
        int s = strips[i];
        check_read_rows(td_rgb420_jpg, sizeof td_rgb420_jpg, td_rgb420_pixels, TD_RGB420_H,
                        TD_RGB420_W, 3, s, "rgb420");
        check_read_rows(td_rgb444_jpg, sizeof td_rgb444_jpg, td_rgb444_pixels, TD_RGB444_H,
                        TD_RGB444_W, 3, s, "rgb444");
        check_read_rows(td_gray_jpg, sizeof td_gray_jpg, td_gray_pixels, TD_GRAY_H, TD_GRAY_W, 1, s,
                        "gray");
        check_read_rows(td_prog_jpg, sizeof td_prog_jpg, td_prog_pixels, TD_PROG_H, TD_PROG_W, 3, s,
                        "progressive");
        check_read_rows(td_arith_jpg, sizeof td_arith_jpg, td_arith_pixels, TD_ARITH_H, TD_ARITH_W,
                        3, s, "arithmetic");
    }
}

/* read_rows with purification equals decode with purification */
static void test_read_rows_purify(void)
{
    fdj_decode_options opt;
    fdj_decoder *dec = fdj_decoder_new();
    uint8_t full[TD_RGB420_H * TD_RGB420_W * 3], strip[3 * TD_RGB420_W * 3];
    int i, y = 0, got, same = 1;
    fdj_decode_options_init(&opt);
    opt.purify_count = 1;
    for (i = 0; i < 64; i++)
        opt.purify[0][i] = (uint16_t)(20 + i);
    CHECK_STATUS(fdj_decoder_open(dec, td_rgb420_jpg, sizeof td_rgb420_jpg, &opt), FDJ_OK);
    CHECK_STATUS(fdj_decoder_decode(dec, full, TD_RGB420_W * 3), FDJ_OK);
    CHECK(memcmp(full, td_rgb420_pixels, sizeof full) != 0); /* purification changed pixels */
    CHECK_STATUS(fdj_decoder_open(dec, td_rgb420_jpg, sizeof td_rgb420_jpg, &opt), FDJ_OK);
    while (fdj_decoder_read_rows(dec, strip, TD_RGB420_W * 3, 3, &got) == FDJ_OK && got > 0) {
        if (memcmp(strip, full + (size_t)y * TD_RGB420_W * 3, (size_t)got * TD_RGB420_W * 3))
            same = 0;
        y += got;
    }
    CHECK(y == TD_RGB420_H && same);
    fdj_decoder_free(dec);
}

static void test_read_rows_errors(void)
{
    fdj_decoder *dec = fdj_decoder_new();
    uint8_t buf[TD_RGB420_H * TD_RGB420_W * 3];
    int got = 7, st;
    CHECK_STATUS(fdj_decoder_read_rows(dec, buf, TD_RGB420_W * 3, 4, &got), FDJ_ERR_ARGUMENT);
    CHECK(got == 0);
    CHECK_STATUS(fdj_decoder_open(dec, td_rgb420_jpg, sizeof td_rgb420_jpg, NULL), FDJ_OK);
    CHECK_STATUS(fdj_decoder_read_rows(dec, buf, TD_RGB420_W * 3, 4, NULL), FDJ_ERR_ARGUMENT);
    CHECK_STATUS(fdj_decoder_read_rows(dec, buf, TD_RGB420_W * 3 - 1, 4, &got), FDJ_ERR_ARGUMENT);
    CHECK_STATUS(fdj_decoder_read_rows(dec, buf, TD_RGB420_W * 3, 0, &got), FDJ_OK);
    CHECK(got == 0);
    CHECK_STATUS(fdj_decoder_read_rows(dec, buf, TD_RGB420_W * 3, 4, &got), FDJ_OK);
    CHECK(got == 4);
    /* truncated data: the error comes at the rows it reaches, and stays */
    CHECK_STATUS(fdj_decoder_open(dec, td_rgb420_jpg, sizeof td_rgb420_jpg - 150, NULL), FDJ_OK);
    do
        st = fdj_decoder_read_rows(dec, buf, TD_RGB420_W * 3, 2, &got);
    while (st == FDJ_OK && got > 0);
    CHECK_STATUS(st, FDJ_ERR_TRUNCATED);
    CHECK_STATUS(fdj_decoder_read_rows(dec, buf, TD_RGB420_W * 3, 2, &got), FDJ_ERR_TRUNCATED);
    /* lossless: not streamed */
    CHECK_STATUS(fdj_decoder_open(dec, td_lossless_jpg, sizeof td_lossless_jpg, NULL), FDJ_OK);
    CHECK_STATUS(fdj_decoder_read_rows(dec, buf, TD_LOSSLESS_W * 3, 2, &got), FDJ_ERR_UNSUPPORTED);
    /* reopen after a partial read frees the strip state (LeakSanitizer) */
    CHECK_STATUS(fdj_decoder_open(dec, td_rgb420_jpg, sizeof td_rgb420_jpg, NULL), FDJ_OK);
    CHECK_STATUS(fdj_decoder_read_rows(dec, buf, TD_RGB420_W * 3, 4, &got), FDJ_OK);
    CHECK_STATUS(fdj_decoder_open(dec, td_rgb420_jpg, sizeof td_rgb420_jpg, NULL), FDJ_OK);
    CHECK_STATUS(fdj_decoder_read_rows(dec, buf, TD_RGB420_W * 3, 4, &got), FDJ_OK);
    fdj_decoder_free(dec);
}

/* Memory of read_rows on a sequential file: the same for 16 rows and 2000, nothing
 * allocated after the first call, and within fdjpeg.h's 124 W + state for 4:2:0. */
static size_t read_rows_memory(int w, int h, size_t *later_calls)
{
    fdj_encode_params p;
    uint8_t *px = make_image(w, h, 3), *jpg = NULL, *buf = (uint8_t *)malloc((size_t)w * 3 * 8);
    size_t n = 0, first = 0;
    char msg[FDJ_MSG_SIZE];
    fdj_decoder *dec = fdj_decoder_new();
    int got, calls = 0;
    params_for(&p, w, h, FDJ_IN_RGB, 2, 2);
    CHECK_STATUS(fdj_encode(&p, px, (ptrdiff_t)w * 3, 3, 1, &jpg, &n, msg), FDJ_OK);
    CHECK_STATUS(fdj_decoder_open(dec, jpg, n, NULL), FDJ_OK);
    *later_calls = 0;
    for (;;) {
        alloc_reset();
        if (fdj_decoder_read_rows(dec, buf, (ptrdiff_t)w * 3, 8, &got) != FDJ_OK || got == 0)
            break;
        if (calls++ == 0)
            first = g_alloc_bytes;
        else
            *later_calls += g_alloc_calls;
    }
    fdj_decoder_free(dec);
    fdj_free(jpg);
    free(px);
    free(buf);
    return first;
}

static void test_read_rows_memory(void)
{
    size_t later1 = 1, later2 = 1;
    size_t m1 = read_rows_memory(640, 16, &later1), m2 = read_rows_memory(640, 2000, &later2);
    CHECK(m1 == m2);
    CHECK(later1 == 0 && later2 == 0);
    CHECK(m1 > 0 && m1 <= 124 * 640 + 65536);
    printf("read_rows memory, RGB 4:2:0, 640 wide: %zu bytes at 16 and %zu at 2000 rows "
           "(124 W = %d)\n", m1, m2, 124 * 640);
}

/* ---- prebuilt one-pass FD tables (fdj_rq_tables) ---- */

/* Decode jpg with one purify table t for every component and the prebuilt tables pre
 * (set after open through fdj_decoder_set_purify, or given to open when at_open); the
 * bytes the decode allocated. */
static size_t decode_rq(const uint8_t *jpg, size_t n, const uint16_t t[64],
                        const fdj_rq_tables *pre0, const fdj_rq_tables *pre1, int slot,
                        int at_open, uint8_t *out, int w, int ch)
{
    fdj_decode_options opt;
    fdj_decoder *dec = fdj_decoder_new();
    size_t bytes;
    fdj_decode_options_init(&opt);
    CHECK(opt.rq_tables[0] == NULL && opt.rq_tables[3] == NULL);
    opt.purify_count = 1;
    memcpy(opt.purify[0], t, 64 * sizeof(uint16_t));
    if (at_open) {
        opt.rq_tables[slot] = pre0;
        opt.rq_tables[(slot + 1) & 3] = pre1;
    }
    CHECK_STATUS(fdj_decoder_open(dec, jpg, n, &opt), FDJ_OK);
    if (!at_open) {
        opt.rq_tables[slot] = pre0;
        opt.rq_tables[(slot + 1) & 3] = pre1;
        CHECK_STATUS(fdj_decoder_set_purify(dec, &opt), FDJ_OK);
    }
    alloc_reset();
    CHECK_STATUS(fdj_decoder_decode(dec, out, (ptrdiff_t)w * ch), FDJ_OK);
    bytes = g_alloc_bytes;
    fdj_decoder_free(dec);
    return bytes;
}

/* The tables a decode with purification builds per (q, T) pair, prebuilt: the same pixels,
 * and nothing built (>= 40 KB fewer bytes allocated per pair) for the pairs they match, in
 * any slot, given at open or through set_purify; tables of another pair are ignored (the
 * decode builds its own: the same bytes allocated as without them); a table whose entries
 * leave int16 makes the decode requantize in the row stage, as the decoder's own build of
 * it does, without building anything. */
static void test_rq_tables(void)
{
    enum { W = 96, H = 64, N = W * H * 3, LUT = 40000 };
    fdj_encode_params p;
    uint8_t *px = make_image(W, H, 3), *jpg = NULL, *jpg255 = NULL;
    static uint8_t want[N], got[N];
    uint16_t t[64], t2[64], q255[64], tdc[64], zero_t[64];
    size_t n = 0, n255 = 0, b0, b;
    char msg[FDJ_MSG_SIZE];
    fdj_decoder *dec = fdj_decoder_new();
    const fdj_info *inf;
    fdj_rq_tables *luma = NULL, *chroma = NULL, *other = NULL, *bad = (fdj_rq_tables *)1;
    int i, slot, at_open;
    for (i = 0; i < 64; i++) {
        t[i] = (uint16_t)(10 + (i * 7) % 50);
        t2[i] = t[i];
        q255[i] = 255;
        tdc[i] = (uint16_t)(3 + i % 40);
        zero_t[i] = t[i];
    }
    t2[17]++;
    tdc[0] = 60000; /* DC 512 * 255: R = 120000, outside int16 */
    zero_t[5] = 0;
    /* errors */
    CHECK_STATUS(fdj_rq_tables_new(q255, zero_t, &bad), FDJ_ERR_ARGUMENT);
    CHECK(bad == NULL);
    CHECK_STATUS(fdj_rq_tables_new(NULL, t, &bad), FDJ_ERR_ARGUMENT);
    CHECK_STATUS(fdj_rq_tables_new(q255, NULL, &bad), FDJ_ERR_ARGUMENT);
    CHECK_STATUS(fdj_rq_tables_new(q255, t, NULL), FDJ_ERR_ARGUMENT);
    CHECK(fdj_rq_tables_usable(NULL) == 0);
    fdj_rq_tables_free(NULL);

    params_for(&p, W, H, FDJ_IN_RGB, 2, 2); /* two tables: luma and chroma pairs */
    CHECK_STATUS(fdj_encode(&p, px, (ptrdiff_t)W * 3, 3, 1, &jpg, &n, msg), FDJ_OK);
    CHECK_STATUS(fdj_decoder_open(dec, jpg, n, NULL), FDJ_OK);
    inf = fdj_decoder_info(dec);
    CHECK(memcmp(inf->comp[0].qtable, inf->comp[1].qtable, sizeof inf->comp[0].qtable) != 0);
    CHECK_STATUS(fdj_rq_tables_new(inf->comp[0].qtable, t, &luma), FDJ_OK);
    CHECK_STATUS(fdj_rq_tables_new(inf->comp[1].qtable, t, &chroma), FDJ_OK);
    CHECK_STATUS(fdj_rq_tables_new(inf->comp[0].qtable, t2, &other), FDJ_OK);
    CHECK(fdj_rq_tables_usable(luma) == 1 && fdj_rq_tables_usable(chroma) == 1);

    b0 = decode_rq(jpg, n, t, NULL, NULL, 0, 0, want, W, 3);
    CHECK(b0 >= 2 * LUT);
    for (at_open = 0; at_open < 2; at_open++)
        for (slot = 0; slot < 4; slot++) {
            b = decode_rq(jpg, n, t, luma, chroma, slot, at_open, got, W, 3);
            CHECK(memcmp(got, want, N) == 0);
            CHECK(b + 2 * LUT <= b0);
        }
    b = decode_rq(jpg, n, t, chroma, NULL, 1, 0, got, W, 3); /* luma built, chroma not */
    CHECK(memcmp(got, want, N) == 0);
    CHECK(b + LUT <= b0 && b >= LUT);
    b = decode_rq(jpg, n, t, other, NULL, 2, 0, got, W, 3); /* another T: ignored */
    CHECK(memcmp(got, want, N) == 0);
    CHECK(b == b0);
    b = decode_rq(jpg, n, t2, other, NULL, 0, 1, got, W, 3); /* its own pair: used */
    CHECK(memcmp(got, want, N) != 0);

    /* a table that leaves int16: the row stage, nothing built, the same pixels */
    fdj_encode_params_init(&p);
    p.width = W;
    p.height = H;
    p.in_color = FDJ_IN_RGB;
    p.num_qtables = 1;
    p.comp_qtable[1] = p.comp_qtable[2] = 0;
    memcpy(p.qtable[0], q255, sizeof q255);
    CHECK_STATUS(fdj_encode(&p, px, (ptrdiff_t)W * 3, 3, 1, &jpg255, &n255, msg), FDJ_OK);
    fdj_rq_tables_free(other);
    other = NULL;
    CHECK_STATUS(fdj_rq_tables_new(q255, tdc, &other), FDJ_OK);
    CHECK(fdj_rq_tables_usable(other) == 0);
    b0 = decode_rq(jpg255, n255, tdc, NULL, NULL, 0, 0, want, W, 3);
    b = decode_rq(jpg255, n255, tdc, other, NULL, 3, 0, got, W, 3);
    CHECK(memcmp(got, want, N) == 0);
    CHECK(b + LUT <= b0);
    printf("prebuilt one-pass FD tables: %zu bytes allocated by a decode without, %zu with\n",
           b0, b);

    fdj_rq_tables_free(luma);
    fdj_rq_tables_free(chroma);
    fdj_rq_tables_free(other);
    fdj_decoder_free(dec);
    fdj_free(jpg);
    fdj_free(jpg255);
    free(px);
}

/* decode_region = Pillow's pixels cropped, for every region of the small test images */
static void check_all_regions(const uint8_t *jpg, size_t n, const uint8_t *ref, int h, int w,
                              int ch, const char *what)
{
    fdj_decoder *dec = fdj_decoder_new();
    uint8_t *buf = (uint8_t *)malloc((size_t)h * w * ch);
    int x, y, rw, rh, bad = 0, tried = 0;
    for (y = 0; y < h; y++)
        for (x = 0; x < w; x++)
            for (rh = 1; y + rh <= h; rh += 1 + (rh > 3) * 2)
                for (rw = 1; x + rw <= w; rw += 1 + (rw > 3) * 3) {
                    int r, st;
                    CHECK_STATUS(fdj_decoder_open(dec, jpg, n, NULL), FDJ_OK);
                    st = fdj_decoder_decode_region(dec, x, y, rw, rh, buf, (ptrdiff_t)rw * ch);
                    tried++;
                    if (st != FDJ_OK) {
                        bad++;
                        continue;
                    }
                    for (r = 0; r < rh; r++)
                        if (memcmp(buf + (size_t)r * rw * ch, ref + ((size_t)(y + r) * w + x) * ch,
                                   (size_t)rw * ch) != 0) {
                            bad++;
                            break;
                        }
                }
    CHECK(bad == 0 && tried > 100);
    if (bad)
        fprintf(stderr, "  %s: %d of %d regions differ\n", what, bad, tried);
    free(buf);
    fdj_decoder_free(dec);
}

static void test_decode_region_matches_pillow(void)
{
    check_all_regions(td_rgb420_jpg, sizeof td_rgb420_jpg, td_rgb420_pixels, TD_RGB420_H,
                      TD_RGB420_W, 3, "rgb420");
    check_all_regions(td_rgb444_jpg, sizeof td_rgb444_jpg, td_rgb444_pixels, TD_RGB444_H,
                      TD_RGB444_W, 3, "rgb444");
    check_all_regions(td_gray_jpg, sizeof td_gray_jpg, td_gray_pixels, TD_GRAY_H, TD_GRAY_W, 1,
                      "gray");
    check_all_regions(td_prog_jpg, sizeof td_prog_jpg, td_prog_pixels, TD_PROG_H, TD_PROG_W, 3,
                      "progressive");
    check_all_regions(td_arith_jpg, sizeof td_arith_jpg, td_arith_pixels, TD_ARITH_H, TD_ARITH_W,
                      3, "arithmetic");
}

static void test_decode_region_errors(void)
{
    fdj_decoder *dec = fdj_decoder_new();
    uint8_t buf[TD_RGB420_H * TD_RGB420_W * 3];
    static const int bad[][4] = {{-1, 0, 2, 2}, {0, -1, 2, 2}, {0, 0, 0, 2}, {0, 0, 2, 0},
                                 {TD_RGB420_W, 0, 1, 1}, {0, TD_RGB420_H, 1, 1},
                                 {1, 0, TD_RGB420_W, 1}, {0, 0, 0x7FFFFFFF, 1},
                                 {0x7FFFFFFF, 0, 0x7FFFFFFF, 1}};
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_STATUS(fdj_decoder_open(dec, td_rgb420_jpg, sizeof td_rgb420_jpg, NULL), FDJ_OK);
        CHECK_STATUS(fdj_decoder_decode_region(dec, bad[i][0], bad[i][1], bad[i][2], bad[i][3], buf,
                                               TD_RGB420_W * 3),
                     FDJ_ERR_ARGUMENT);
    }
    CHECK_STATUS(fdj_decoder_open(dec, td_rgb420_jpg, sizeof td_rgb420_jpg, NULL), FDJ_OK);
    CHECK_STATUS(fdj_decoder_decode_region(dec, 0, 0, 4, 4, buf, 11), FDJ_ERR_ARGUMENT);
    CHECK_STATUS(fdj_decoder_decode_region(dec, 0, 0, 4, 4, NULL, 12), FDJ_ERR_ARGUMENT);
    CHECK_STATUS(fdj_decoder_decode_region(dec, 0, 0, 4, 4, buf, 12), FDJ_OK);
    CHECK_STATUS(fdj_decoder_decode_region(dec, 0, 0, 4, 4, buf, 12), FDJ_ERR_ARGUMENT); /* used */
    {
        /* lossless: the region is the full decode cropped (rows reconstructed down to it) */
        uint8_t full[TD_LOSSLESS_W * TD_LOSSLESS_H * 3], reg[4 * 3 * 3];
        int r;
        CHECK_STATUS(fdj_decoder_open(dec, td_lossless_jpg, sizeof td_lossless_jpg, NULL), FDJ_OK);
        CHECK_STATUS(fdj_decoder_decode(dec, full, TD_LOSSLESS_W * 3), FDJ_OK);
        CHECK_STATUS(fdj_decoder_open(dec, td_lossless_jpg, sizeof td_lossless_jpg, NULL), FDJ_OK);
        CHECK_STATUS(fdj_decoder_decode_region(dec, 3, 2, 4, 3, reg, 12), FDJ_OK);
        for (r = 0; r < 3; r++)
            CHECK(memcmp(reg + r * 12, full + ((2 + r) * TD_LOSSLESS_W + 3) * 3, 12) == 0);
    }
    fdj_decoder_free(dec);
}

/* End to end: stream-encode, then read it back in strips and by regions. */
static void test_stream_roundtrip(void)
{
    int w = 150, h = 97, y = 0, got;
    uint8_t *px = make_image(w, h, 3), *full = (uint8_t *)malloc((size_t)w * h * 3);
    uint8_t *jpg = (uint8_t *)malloc(200000), *strip = (uint8_t *)malloc((size_t)w * 3 * 7);
    uint8_t region[40 * 30 * 3];
    fdj_encode_params p;
    fdj_encoder *enc = NULL;
    fdj_decoder *dec = fdj_decoder_new();
    char msg[FDJ_MSG_SIZE];
    size_t n = 0;
    int same = 1, r;
    params_for(&p, w, h, FDJ_IN_RGB, 2, 2);
    p.restart_rows = 1;
    CHECK_STATUS(fdj_encode_begin(&enc, &p, NULL, NULL, jpg, 200000, msg), FDJ_OK);
    for (y = 0; y < h; y += 10)
        CHECK_STATUS(fdj_encode_rows(enc, px + (size_t)y * w * 3, y + 10 <= h ? 10 : h - y, w * 3, 3, 1),
                     FDJ_OK);
    CHECK_STATUS(fdj_encode_end(enc, &n), FDJ_OK);
    fdj_encoder_free(enc);
    CHECK_STATUS(fdj_decoder_open(dec, jpg, n, NULL), FDJ_OK);
    CHECK_STATUS(fdj_decoder_decode(dec, full, (ptrdiff_t)w * 3), FDJ_OK);
    CHECK_STATUS(fdj_decoder_open(dec, jpg, n, NULL), FDJ_OK);
    y = 0;
    while (fdj_decoder_read_rows(dec, strip, (ptrdiff_t)w * 3, 7, &got) == FDJ_OK && got > 0) {
        if (memcmp(strip, full + (size_t)y * w * 3, (size_t)got * w * 3))
            same = 0;
        y += got;
    }
    CHECK(same && y == h);
    CHECK_STATUS(fdj_decoder_open(dec, jpg, n, NULL), FDJ_OK);
    CHECK_STATUS(fdj_decoder_decode_region(dec, 101, 60, 40, 30, region, 40 * 3), FDJ_OK);
    for (r = 0; r < 30; r++)
        CHECK(memcmp(region + r * 40 * 3, full + ((size_t)(60 + r) * w + 101) * 3, 40 * 3) == 0);
    fdj_decoder_free(dec);
    free(px);
    free(full);
    free(jpg);
    free(strip);
}

int main(void)
{
    test_stream_encoder_same_bytes();
    test_stream_encoder_tables_and_segments();
    test_stream_encoder_errors();
    test_stream_encoder_memory();
    test_read_rows_matches_pillow();
    test_read_rows_purify();
    test_read_rows_errors();
    test_read_rows_memory();
    test_rq_tables();
    test_decode_region_matches_pillow();
    test_decode_region_errors();
    test_stream_roundtrip();
    printf("fdjpeg %s streaming/region C tests: %d checks, %d failed\n", fdj_version(), g_checks,
           g_failures);
    return g_failures ? 1 : 0;
}
