/*
 * enc_stream.c -- the public streaming encoder (fdj_encode_begin / fdj_encode_rows /
 * fdj_encode_end): pixel rows in any number, coded MCU row by MCU row through
 * fdj_encode's stages (enc_color.c, enc_fdct.c) and its streaming file writer
 * (enc_file.c), the bytes handed to the caller's callback or buffer as they come.
 */
#include "enc_internal.h"

/* ---- the public streaming encoder: rows in, the streaming writer's bytes out ----
 *
 * Everything is allocated by fdj_encode_begin: the frame's one-MCU-row coefficient arrays
 * and colour/downsampling band (as fdj_encode's streaming path), a strip of one MCU row of
 * input pixels (rows arrive in any number, so a partial MCU row waits there), and a fixed
 * output buffer that is emptied into the caller's callback or buffer whenever the writer
 * needs room (fdj_buf's sink).  The bytes are fdj_encode's: the same writer, headers first,
 * then MCU row by MCU row, then EOI. */
#define FDJ_STREAM_OUT_BYTES ((size_t)32768) /* 4 x MCU_RESERVE: flushes every ~24 KiB */

struct fdj_encoder {
    fdj_encode_params p;
    fdj_enc_frame f;
    fdj_enc_band band;
    fdj_kernels kern;
    fdj_divisors div[4];
    fdj_enc_stream *stream;
    fdj_buf out;                  /* fixed capacity, sink = deliver() */
    fdj_write_fn write;
    void *user;
    uint8_t *dst;                 /* caller's output buffer (when no callback) */
    size_t dst_cap;
    size_t total;                 /* bytes delivered */
    int sink_error;               /* FDJ_ERR_* of a failed delivery, 0 if none */
    uint8_t *strip;               /* one MCU row of input pixels, channels interleaved */
    ptrdiff_t strip_stride;
    int channels;
    int rows_in;                  /* input rows received */
    int next_mcu_row;             /* next MCU row to code */
    int status;                   /* sticky: the first error */
    int ended;
    char msg[FDJ_MSG_SIZE];
};

static int deliver(void *ctx, const uint8_t *data, size_t n)
{
    fdj_encoder *e = (fdj_encoder *)ctx;
    if (e->write) {
        if (e->write(e->user, data, n) != 0) {
            e->sink_error = FDJ_ERR_ARGUMENT;
            return -1;
        }
    } else {
        if (n > e->dst_cap - e->total) {
            e->sink_error = FDJ_ERR_TOO_LARGE;
            return -1;
        }
        memcpy(e->dst + e->total, data, n);
    }
    e->total += n;
    return 0;
}

/* The error of a failed output, in the caller's terms; else st. */
static int output_status(fdj_encoder *e, int st)
{
    if (e->sink_error == FDJ_ERR_TOO_LARGE)
        return fdj_fail(e->msg, FDJ_ERR_TOO_LARGE,
                        "the output buffer of %zu bytes is too small for the JPEG", e->dst_cap);
    if (e->sink_error)
        return fdj_fail(e->msg, FDJ_ERR_ARGUMENT, "the output callback failed (returned nonzero)");
    return st;
}

static int stream_check(const fdj_encode_params *p, char *msg)
{
    if (p && (p->optimize || p->progressive))
        return fdj_fail(msg, FDJ_ERR_UNSUPPORTED,
                        "streaming encode writes sequential files with standard Huffman tables: "
                        "optimize and progressive need every block first (use fdj_encode)");
    return FDJ_OK;
}

size_t fdj_encode_stream_memory(const fdj_encode_params *p)
{
    fdj_enc_frame f;
    size_t total, rows;
    int c, channels;
    if (stream_check(p, NULL) != FDJ_OK || fdj_enc_setup_frame(p, &f, NULL) != FDJ_OK)
        return 0;
    channels = p->in_color;
    rows = (size_t)f.max_v * 8;
    total = sizeof(fdj_encoder) + fdj_enc_stream_size() + FDJ_STREAM_OUT_BYTES;
    total += rows * (size_t)f.width * (size_t)channels;                      /* strip */
    for (c = 0; c < f.ncomp; c++) {
        const fdj_enc_comp *cp = &f.comp[c];
        total += rows * (size_t)f.mcus_x * (size_t)f.max_h * 8;                 /* full rows */
        if (cp->h != f.max_h || cp->v != f.max_v)
            total += (size_t)cp->bw * 8 * (size_t)cp->v * 8;                   /* downsampled */
        total += (size_t)cp->bw * (size_t)cp->v * 64 * sizeof(int16_t);       /* coefficients */
    }
    return total;
}

int fdj_encode_begin(fdj_encoder **ep, const fdj_encode_params *p, fdj_write_fn write,
                     void *user, uint8_t *out, size_t out_capacity, char msg[FDJ_MSG_SIZE])
{
    fdj_encoder *e;
    int st, t;
    if (msg)
        msg[0] = 0;
    if (!ep)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "no encoder pointer");
    *ep = NULL;
    if (!p)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "no parameters");
    if (!write && !out)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "give an output callback or an output buffer");
    if ((st = stream_check(p, msg)) != FDJ_OK)
        return st;
    e = (fdj_encoder *)calloc(1, sizeof *e);
    if (!e)
        return fdj_fail(msg, FDJ_ERR_NOMEM, "out of memory");
    e->p = *p;
    e->write = write;
    e->user = user;
    e->dst = write ? NULL : out;
    e->dst_cap = write ? 0 : out_capacity;
    st = fdj_enc_setup_frame(p, &e->f, e->msg);
    if (st != FDJ_OK)
        goto fail;
    e->channels = p->in_color;
    e->strip_stride = (ptrdiff_t)e->f.width * e->channels;
    fdj_kernels_init(&e->kern, e->f.simd);
    for (t = 0; t < p->num_qtables; t++)
        fdj_enc_divisors_init(&e->div[t], p->qtable[t], &e->kern);
    e->strip = (uint8_t *)fdj_malloc2((size_t)e->f.max_v * 8, (size_t)e->strip_stride);
    fdj_buf_init(&e->out);
    e->out.data = (uint8_t *)malloc(FDJ_STREAM_OUT_BYTES);
    if (!e->strip || !e->out.data) {
        st = fdj_fail(e->msg, FDJ_ERR_NOMEM, "out of memory for the row buffers");
        goto fail;
    }
    e->out.cap = FDJ_STREAM_OUT_BYTES;
    e->out.sink = deliver;
    e->out.sink_ctx = e;
    if ((st = fdj_enc_alloc_coefs(&e->f, 1, e->msg)) != FDJ_OK)
        goto fail;
    if ((st = fdj_enc_band_init_k(&e->band, &e->f, &e->kern, e->msg)) != FDJ_OK)
        goto fail;
    st = fdj_enc_stream_begin(&e->stream, &e->f, &e->p, &e->kern, &e->out, e->msg);
    if (st == FDJ_OK && e->out.failed)
        st = output_status(e, FDJ_ERR_NOMEM);
    if (st != FDJ_OK)
        goto fail;
    e->p.extra_segments = NULL; /* written: the caller's bytes are not needed any more */
    e->p.extra_size = 0;
    *ep = e;
    return FDJ_OK;
fail:
    if (msg)
        memcpy(msg, e->msg, FDJ_MSG_SIZE);
    fdj_encoder_free(e);
    return st;
}

/* Code MCU row my from the strip. */
static int code_mcu_row(fdj_encoder *e, int my)
{
    /* fdj_enc_band_convert reads rows mcu_row * 8 max_v .. of an image: the strip is MCU
     * row 0 of the image that starts at this MCU row (same width, the rows left) */
    fdj_enc_frame rest = e->f;
    rest.height = e->f.height - my * e->f.max_v * 8;
    fdj_enc_band_rows(&e->f, my);
    fdj_enc_band_convert(&e->band, &rest, 0, e->strip, e->strip_stride, e->channels, 1);
    fdj_enc_band_transform(&e->band, &e->f, my, e->div, &e->kern);
    fdj_enc_fill_dummy_blocks(&e->f);
    return fdj_enc_stream_rows(e->stream, my);
}

int fdj_encode_rows(fdj_encoder *e, const uint8_t *pixels, int rows, ptrdiff_t row_stride,
                    ptrdiff_t col_stride, ptrdiff_t chan_stride)
{
    int band = 0, r, x, ch;
    if (!e)
        return FDJ_ERR_ARGUMENT;
    if (e->status)
        return e->status;
    if (e->ended)
        return fdj_fail(e->msg, FDJ_ERR_ARGUMENT, "encoder already ended");
    if (rows < 0 || (rows > 0 && !pixels))
        return fdj_fail(e->msg, FDJ_ERR_ARGUMENT, "bad rows (%d) or no pixels", rows);
    if (rows > e->f.height - e->rows_in)
        return fdj_fail(e->msg, FDJ_ERR_ARGUMENT,
                        "%d rows given, but only %d of the image's %d remain", rows,
                        e->f.height - e->rows_in, e->f.height);
    band = e->f.max_v * 8;
    for (r = 0; r < rows; r++) {
        const uint8_t *src = pixels + (ptrdiff_t)r * row_stride;
        uint8_t *dst = e->strip + (ptrdiff_t)(e->rows_in % band) * e->strip_stride;
        int st;
        if (col_stride == e->channels && (chan_stride == 1 || e->channels == 1))
            memcpy(dst, src, (size_t)e->strip_stride);
        else
            for (x = 0; x < e->f.width; x++)
                for (ch = 0; ch < e->channels; ch++)
                    dst[x * e->channels + ch] = src[x * col_stride + ch * chan_stride];
        e->rows_in++;
        if (e->rows_in % band == 0 || e->rows_in == e->f.height) {
            st = code_mcu_row(e, e->next_mcu_row++);
            if (st == FDJ_OK && e->out.failed)
                st = FDJ_ERR_NOMEM;
            if (st != FDJ_OK) {
                if (e->msg[0] == 0 || e->sink_error)
                    st = output_status(e, st);
                e->status = st;
                return st;
            }
        }
    }
    return FDJ_OK;
}

int fdj_encode_end(fdj_encoder *e, size_t *out_size)
{
    int st;
    if (out_size)
        *out_size = 0;
    if (!e)
        return FDJ_ERR_ARGUMENT;
    if (e->status)
        return e->status;
    if (e->ended)
        return fdj_fail(e->msg, FDJ_ERR_ARGUMENT, "encoder already ended");
    if (e->rows_in != e->f.height)
        return fdj_fail(e->msg, FDJ_ERR_ARGUMENT, "only %d of the image's %d rows were given",
                        e->rows_in, e->f.height);
    e->ended = 1;
    st = fdj_enc_stream_end(e->stream, 1);
    e->stream = NULL;
    if (st == FDJ_OK && !fdj_buf_flush(&e->out))
        st = FDJ_ERR_NOMEM;
    if (st != FDJ_OK) {
        st = output_status(e, st);
        e->status = st;
        return st;
    }
    if (out_size)
        *out_size = e->total;
    return FDJ_OK;
}

const char *fdj_encoder_message(const fdj_encoder *e) { return e ? e->msg : ""; }

void fdj_encoder_free(fdj_encoder *e)
{
    if (!e)
        return;
    if (e->stream)
        fdj_enc_stream_end(e->stream, 0);
    if (e->band.storage)
        fdj_enc_band_free(&e->band);
    fdj_enc_free_coefs(&e->f);
    free(e->strip);
    free(e->out.data);
    free(e);
}
