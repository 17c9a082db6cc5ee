/*
 * common.c -- shared by both sides: status strings, checked allocation, output
 * buffers, the zigzag tables (T.81 Figure A.6) and the Annex K.3 Huffman tables.
 */
#include <stdio.h>

#include "fdj_internal.h"

const uint8_t fdj_zigzag_to_natural[64 + 16] = {
    0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,
    12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6,  7,  14, 21, 28,
    35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
    58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
    /* extra entries for corrupt data: k past 63 lands on 63 */
    63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63};

const uint8_t fdj_natural_to_zigzag[64] = {
    0,  1,  5,  6,  14, 15, 27, 28, 2,  4,  7,  13, 16, 26, 29, 42,
    3,  8,  12, 17, 25, 30, 41, 43, 9,  11, 18, 24, 31, 40, 44, 53,
    10, 19, 23, 32, 39, 45, 52, 54, 20, 22, 33, 38, 46, 51, 55, 60,
    21, 34, 37, 47, 50, 56, 59, 61, 35, 36, 48, 49, 57, 58, 62, 63};

/* ---- Annex K.3 standard Huffman tables (encoder default; decoder fallback for
 * sequential files that omit DHT, as libjpeg-turbo) ---- */
static const uint8_t std_dc_luma_bits[17] = {0, 0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0};
static const uint8_t std_dc_chroma_bits[17] = {0, 0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0};
static const uint8_t std_dc_vals[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};

static const uint8_t std_ac_luma_bits[17] = {0, 0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d};
static const uint8_t std_ac_luma_vals[162] = {
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61,
    0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52,
    0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25,
    0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45,
    0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64,
    0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83,
    0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99,
    0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6,
    0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3,
    0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8,
    0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa};

static const uint8_t std_ac_chroma_bits[17] = {0, 0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77};
static const uint8_t std_ac_chroma_vals[162] = {
    0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61,
    0x71, 0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33,
    0x52, 0xf0, 0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18,
    0x19, 0x1a, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44,
    0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63,
    0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a,
    0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97,
    0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4,
    0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca,
    0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7,
    0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa};

void fdj_std_huff_table(int ac, int chroma, const uint8_t **bits, const uint8_t **vals)
{
    if (!ac) {
        *bits = chroma ? std_dc_chroma_bits : std_dc_luma_bits;
        *vals = std_dc_vals;
    } else {
        *bits = chroma ? std_ac_chroma_bits : std_ac_luma_bits;
        *vals = chroma ? std_ac_chroma_vals : std_ac_luma_vals;
    }
}

const char *fdj_status_string(int status)
{
    switch (status) {
    case FDJ_OK: return "ok";
    case FDJ_ERR_CORRUPT: return "corrupt JPEG data";
    case FDJ_ERR_UNSUPPORTED: return "unsupported JPEG feature";
    case FDJ_ERR_TOO_LARGE: return "image exceeds a configured limit";
    case FDJ_ERR_NOMEM: return "out of memory";
    case FDJ_ERR_ARGUMENT: return "invalid argument";
    case FDJ_ERR_TRUNCATED: return "JPEG data is truncated";
    case FDJ_ERR_NOT_JPEG: return "not a JPEG file";
    default: return "unknown status";
    }
}

const char *fdj_version(void) { return FDJ_VERSION_STRING; }

int fdj_mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return 0;
    *out = a * b;
    return 1;
}

int fdj_mul3_size(size_t a, size_t b, size_t c, size_t *out)
{
    size_t ab;
    return fdj_mul_size(a, b, &ab) && fdj_mul_size(ab, c, out);
}

void *fdj_malloc2(size_t a, size_t b)
{
    size_t n;
    if (!fdj_mul_size(a, b, &n))
        return NULL;
    return malloc(n ? n : 1);
}

void *fdj_calloc2(size_t a, size_t b)
{
    if (a == 0 || b == 0)
        return calloc(1, 1);
    return calloc(a, b); /* calloc checks a*b itself */
}

void fdj_free(void *ptr) { free(ptr); }

int fdj_fail(char *msg, int status, const char *fmt, ...)
{
    if (msg) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, FDJ_MSG_SIZE, fmt, ap);
        va_end(ap);
    }
    return status;
}

void fdj_buf_init(fdj_buf *b)
{
    b->data = NULL;
    b->size = b->cap = 0;
    b->failed = 0;
    b->sink = NULL;
    b->sink_ctx = NULL;
}

int fdj_buf_flush(fdj_buf *b)
{
    if (b->failed)
        return 0;
    if (!b->sink || b->size == 0)
        return 1;
    if (b->sink(b->sink_ctx, b->data, b->size) != 0) {
        b->failed = 1;
        return 0;
    }
    b->size = 0;
    return 1;
}

int fdj_buf_reserve(fdj_buf *b, size_t extra)
{
    size_t need, cap;
    uint8_t *p;
    if (b->failed)
        return 0;
    if (extra > SIZE_MAX - b->size)
        goto fail;
    need = b->size + extra;
    if (need <= b->cap)
        return 1;
    if (b->sink) {
        /* fixed capacity: empty it into the sink, never grow */
        if (!fdj_buf_flush(b))
            return 0;
        if (extra <= b->cap)
            return 1;
        goto fail;
    }
    cap = b->cap ? b->cap : 4096;
    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            goto fail;
        cap *= 2;
    }
    p = (uint8_t *)realloc(b->data, cap);
    if (!p)
        goto fail;
    b->data = p;
    b->cap = cap;
    return 1;
fail:
    b->failed = 1;
    return 0;
}

void fdj_buf_put(fdj_buf *b, const void *src, size_t n)
{
    if (b->sink && n > b->cap && !b->failed) {
        /* more than the buffer holds (a large caller segment): straight to the sink */
        if (fdj_buf_flush(b) && b->sink(b->sink_ctx, (const uint8_t *)src, n) != 0)
            b->failed = 1;
        return;
    }
    if (n == 0 || !fdj_buf_reserve(b, n))
        return;
    memcpy(b->data + b->size, src, n);
    b->size += n;
}

void fdj_buf_byte(fdj_buf *b, uint8_t v)
{
    if (b->size < b->cap) {
        b->data[b->size++] = v;
        return;
    }
    fdj_buf_put(b, &v, 1);
}

void fdj_buf_u16be(fdj_buf *b, unsigned v)
{
    uint8_t t[2];
    t[0] = (uint8_t)(v >> 8);
    t[1] = (uint8_t)v;
    fdj_buf_put(b, t, 2);
}

void fdj_buf_release(fdj_buf *b)
{
    free(b->data);
    fdj_buf_init(b);
}
