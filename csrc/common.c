/*
 * common.c -- status strings, checked allocation, output buffers, zigzag tables.
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
