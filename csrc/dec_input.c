/*
 * dec_input.c -- the decoder's input side: the error report every stage uses,
 * the marker log, and libjpeg's next_marker scan over the byte stream (T.81
 * B.1.1.2-B.1.1.3: markers, fill bytes, stuffed zeros outside a scan).
 */
#include <stdio.h>

#include "dec_internal.h"

int fdj_fail_dec(fdj_decoder *d, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof d->msg, fmt, ap);
    va_end(ap);
    d->status = status;
    return status;
}

int fdj_add_marker(fdj_decoder *d, int marker, size_t offset, unsigned length)
{
    if (d->nmarkers == d->cap_markers) {
        size_t cap = d->cap_markers ? d->cap_markers * 2 : 32;
        fdj_marker *m = (fdj_marker *)realloc(d->markers, cap * sizeof *m);
        if (!m)
            return fdj_fail_dec(d, FDJ_ERR_NOMEM, "out of memory recording markers");
        d->markers = m;
        d->cap_markers = cap;
    }
    d->markers[d->nmarkers].marker = (uint8_t)marker;
    d->markers[d->nmarkers].offset = (uint32_t)(offset > UINT32_MAX ? UINT32_MAX : offset);
    d->markers[d->nmarkers].length = length;
    d->nmarkers++;
    return FDJ_OK;
}

/* libjpeg's next_marker: skip garbage up to 0xFF, skip fill bytes, return the code.
 * Every iteration consumes input, so the loop is bounded by the data size. */
int fdj_next_marker(fdj_decoder *d, int *marker)
{
    const uint8_t *p = d->data;
    size_t n = d->size, i = d->pos;
    for (;;) {
        while (i < n && p[i] != 0xFF)
            i++;
        while (i < n && p[i] == 0xFF)
            i++;
        if (i >= n) {
            d->pos = n;
            d->truncated = 1;
            if (d->opt.allow_truncated && !d->owned_data) {
                *marker = 0xD9; /* pretend EOI, as Pillow does for truncated files */
                return FDJ_OK;
            }
            /* with the EOI Pillow appends already read as segment data, libjpeg suspends */
            return fdj_fail_dec(d, FDJ_ERR_TRUNCATED,
                                "JPEG data ends at offset %zu before the EOI marker", n);
        }
        if (p[i] != 0) {
            *marker = p[i];
            d->pos = i + 1;
            return fdj_add_marker(d, *marker, i - 1, 0);
        }
        i++; /* FF 00 outside a scan: discard and keep looking */
    }
}
