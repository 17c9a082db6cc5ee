/*
 * enc_main.c -- the encoder's entry points: parameters, quality tables
 * (libjpeg's jpeg_quality_scaling over the Annex K.1 tables), frame geometry
 * (T.81 A.1.1, A.2.4), dummy blocks of partial MCUs, fdj_encode and
 * fdj_write_coefficients, and the drivers that write a file (B.2 order: SOI,
 * APPn, DQT, SOF, then per scan DHT/DRI/SOS and entropy data, EOI) whole or
 * streamed by MCU rows.
 */
#include "enc_entropy.h"
#include "enc12.h"

/* T.81 Annex K.1, natural order */
static const uint16_t std_luma_q[64] = {
    16, 11, 10, 16, 24,  40,  51,  61,  12, 12, 14, 19, 26,  58,  60,  55,
    14, 13, 16, 24, 40,  57,  69,  56,  14, 17, 22, 29, 51,  87,  80,  62,
    18, 22, 37, 56, 68,  109, 103, 77,  24, 35, 55, 64, 81,  104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99};
static const uint16_t std_chroma_q[64] = {
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99};

void fdj_encode_params_init(fdj_encode_params *p)
{
    int c;
    memset(p, 0, sizeof *p);
    p->in_color = FDJ_IN_RGB;
    for (c = 0; c < FDJ_MAX_COMPONENTS; c++) {
        p->h_samp[c] = p->v_samp[c] = 1;
        p->comp_qtable[c] = c == 0 ? 0 : 1;
    }
    p->num_qtables = 0;
    p->write_jfif = 1;
    p->density_unit = 0;
    p->x_density = p->y_density = 1;
}

void fdj_quality_table(int quality, int chroma, int force_baseline, uint16_t out[64])
{
    fdj_scale_qtable(chroma ? std_chroma_q : std_luma_q, quality, force_baseline, out);
}

static int ceil_div(int a, int b) { return (a + b - 1) / b; }

int fdj_enc_setup_frame(const fdj_encode_params *p, fdj_enc_frame *f, char *msg)
{
    int c, blocks_in_mcu = 0;
    uint64_t max_pixels;
    memset(f, 0, sizeof *f);
    if (!p)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "no parameters");
    if (p->width < 1 || p->height < 1 || p->width > 65535 || p->height > 65535)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "image size %dx%d outside 1..65535", p->width,
                        p->height);
    max_pixels = p->max_pixels ? p->max_pixels : FDJ_DEFAULT_MAX_PIXELS;
    if ((uint64_t)p->width * (uint64_t)p->height > max_pixels)
        return fdj_fail(msg, FDJ_ERR_TOO_LARGE, "image of %dx%d pixels exceeds the limit of %llu",
                        p->width, p->height, (unsigned long long)max_pixels);
    f->width = p->width;
    f->height = p->height;
    switch (p->in_color) {
    case FDJ_IN_GRAY:
        f->ncomp = 1;
        f->jpeg_color = FDJ_CS_GRAY;
        f->comp[0].id = 1;
        break;
    case FDJ_IN_RGB:
        f->ncomp = 3;
        if (p->keep_rgb) {
            f->jpeg_color = FDJ_CS_RGB;
            f->comp[0].id = 'R';
            f->comp[1].id = 'G';
            f->comp[2].id = 'B';
        } else {
            f->jpeg_color = FDJ_CS_YCBCR;
            for (c = 0; c < 3; c++) {
                f->comp[c].id = c + 1;
                f->comp[c].dc_tbl = f->comp[c].ac_tbl = c ? 1 : 0;
            }
        }
        break;
    case FDJ_IN_CMYK:
        f->ncomp = 4;
        f->jpeg_color = FDJ_CS_CMYK;
        f->cmyk_invert = 1;
        f->comp[0].id = 'C';
        f->comp[1].id = 'M';
        f->comp[2].id = 'Y';
        f->comp[3].id = 'K';
        break;
    default:
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "in_color must be 1 (gray), 3 (RGB) or 4 (CMYK), not %d",
                        p->in_color);
    }
    if (p->precision != 0 && p->precision != 8 && p->precision != 12)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "precision must be 8 or 12, not %d", p->precision);
    f->precision = p->precision == 12 ? 12 : 8;
    if (p->num_qtables < 1 || p->num_qtables > 4)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "num_qtables must be 1..4, not %d", p->num_qtables);
    memcpy(f->qtable, p->qtable, sizeof f->qtable);
    for (c = 0; c < f->ncomp; c++) {
        fdj_enc_comp *cp = &f->comp[c];
        int i;
        cp->h = p->h_samp[c];
        cp->v = p->v_samp[c];
        cp->tq = p->comp_qtable[c];
        if (cp->h < 1 || cp->h > 4 || cp->v < 1 || cp->v > 4)
            return fdj_fail(msg, FDJ_ERR_ARGUMENT, "sampling factors of component %d must be 1..4, not %dx%d",
                            c, cp->h, cp->v);
        if (cp->tq < 0 || cp->tq >= p->num_qtables)
            return fdj_fail(msg, FDJ_ERR_ARGUMENT, "component %d uses table slot %d of %d", c, cp->tq,
                            p->num_qtables);
        for (i = 0; i < 64; i++)
            if (p->qtable[cp->tq][i] == 0)
                return fdj_fail(msg, FDJ_ERR_ARGUMENT, "quantization table %d has a zero entry at %d",
                                cp->tq, i);
        if (cp->h > f->max_h)
            f->max_h = cp->h;
        if (cp->v > f->max_v)
            f->max_v = cp->v;
        blocks_in_mcu += cp->h * cp->v;
    }
    if (f->ncomp > 1 && blocks_in_mcu > 10)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "sampling factors give %d blocks per MCU (at most 10)",
                        blocks_in_mcu);
    f->mcus_x = ceil_div(f->width, 8 * f->max_h);
    f->mcus_y = ceil_div(f->height, 8 * f->max_v);
    for (c = 0; c < f->ncomp; c++) {
        fdj_enc_comp *cp = &f->comp[c];
        int dw, dh;
        if (f->max_h % cp->h || f->max_v % cp->v)
            return fdj_fail(msg, FDJ_ERR_UNSUPPORTED,
                            "sampling %dx%d of component %d is not an integral fraction of %dx%d", cp->h,
                            cp->v, c, f->max_h, f->max_v);
        dw = ceil_div(f->width * cp->h, f->max_h);
        dh = ceil_div(f->height * cp->v, f->max_v);
        cp->width_in_blocks = ceil_div(dw, 8);
        cp->height_in_blocks = ceil_div(dh, 8);
        cp->bw = f->mcus_x * cp->h;
        cp->bh = f->mcus_y * cp->v;
        if (cp->width_in_blocks > cp->bw || cp->height_in_blocks > cp->bh)
            return fdj_fail(msg, FDJ_ERR_ARGUMENT, "inconsistent sampling geometry");
    }
    if (p->restart_interval < 0 || p->restart_interval > 65535)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "restart_interval must be 0..65535, not %d",
                        p->restart_interval);
    if (p->restart_rows < 0 || p->restart_rows > 65535)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "restart_rows must be 0..65535, not %d", p->restart_rows);
    if (p->write_jfif && (p->density_unit < 0 || p->density_unit > 2 || p->x_density < 0 ||
                          p->x_density > 65535 || p->y_density < 0 || p->y_density > 65535))
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "bad JFIF density %d (%d, %d)", p->density_unit,
                        p->x_density, p->y_density);
    if (p->extra_size && !p->extra_segments)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "extra_size without extra_segments");
    return fdj_mark_check_segments(p->extra_segments, p->extra_size, msg);
}

int fdj_enc_alloc_coefs(fdj_enc_frame *f, int mcu_rows_only, char *msg)
{
    int c;
    for (c = 0; c < f->ncomp; c++) {
        fdj_enc_comp *cp = &f->comp[c];
        size_t n;
        cp->row0 = 0;
        cp->rows = mcu_rows_only ? cp->v : cp->bh;
        if (!fdj_mul3_size((size_t)cp->bw, (size_t)cp->rows, 64 * sizeof(int16_t), &n)) {
            fdj_enc_free_coefs(f);
            return fdj_fail(msg, FDJ_ERR_TOO_LARGE, "coefficient buffer size overflows");
        }
        cp->coef = (int16_t *)malloc(n ? n : 1); /* every stored block is written */
        if (!cp->coef) {
            fdj_enc_free_coefs(f);
            return fdj_fail(msg, FDJ_ERR_NOMEM, "out of memory for %zu bytes of coefficients", n);
        }
    }
    return FDJ_OK;
}

void fdj_enc_free_coefs(fdj_enc_frame *f)
{
    int c;
    for (c = 0; c < FDJ_MAX_COMPONENTS; c++) {
        free(f->comp[c].coef);
        f->comp[c].coef = NULL;
    }
}

void fdj_enc_band_rows(fdj_enc_frame *f, int my)
{
    int c;
    for (c = 0; c < f->ncomp; c++)
        f->comp[c].row0 = my * f->comp[c].v;
}

/* jccoefct.c: dummy blocks right of the image copy the DC of the block to
 * their left; dummy rows below take the DC of the last block of the row above
 * within the same MCU.  AC = 0 in both.  (A stored band always starts with a
 * real block row, so the row above a dummy row is stored too.) */
void fdj_enc_fill_dummy_blocks(fdj_enc_frame *f)
{
    int c, by, bx;
    for (c = 0; c < f->ncomp; c++) {
        fdj_enc_comp *cp = &f->comp[c];
        for (by = cp->row0; by < cp->row0 + cp->rows; by++) {
            int16_t *row = cp->coef + (size_t)(by - cp->row0) * (size_t)cp->bw * 64;
            int start = by < cp->height_in_blocks ? cp->width_in_blocks : 0;
            for (bx = start; bx < cp->bw; bx++) {
                int16_t dc;
                if (by < cp->height_in_blocks) {
                    dc = row[(size_t)(bx - 1) * 64];
                } else {
                    const int16_t *above = row - (ptrdiff_t)cp->bw * 64;
                    int src = (bx / cp->h) * cp->h + cp->h - 1;
                    dc = above[(size_t)src * 64];
                }
                memset(row + (size_t)bx * 64, 0, 64 * sizeof(int16_t));
                row[(size_t)bx * 64] = dc;
            }
        }
    }
}

static int finish(fdj_buf *b, int st, uint8_t **out, size_t *out_size)
{
    if (st != FDJ_OK) {
        fdj_buf_release(b);
        return st;
    }
    *out = b->data;
    *out_size = b->size;
    return FDJ_OK;
}

int fdj_encode(const fdj_encode_params *p, const uint8_t *pixels, ptrdiff_t row_stride,
               ptrdiff_t col_stride, ptrdiff_t chan_stride, uint8_t **out, size_t *out_size,
               char msg[FDJ_MSG_SIZE])
{
    fdj_enc_frame f;
    fdj_enc_band band;
    fdj_divisors *div = NULL;
    fdj_enc_stream *stream = NULL;
    fdj_kernels kern;
    fdj_buf b;
    int st, my, t;
    /* one pass over MCU rows unless the entropy coder needs every block first */
    int streaming;
    if (msg)
        msg[0] = 0;
    if (!out || !out_size)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "no output pointers");
    *out = NULL;
    *out_size = 0;
    if (!pixels)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "no pixels");
    if (p && p->precision == 12)
        return fdj_encode12(p, pixels, row_stride, col_stride, chan_stride, out, out_size, msg);
    fdj_buf_init(&b);
    st = fdj_enc_setup_frame(p, &f, msg);
    if (st != FDJ_OK)
        return st;
    streaming = !p->optimize && !p->progressive;
    fdj_kernels_init(&kern, fdj_simd_level());
    div = (fdj_divisors *)malloc(4 * sizeof *div);
    if (!div)
        return fdj_fail(msg, FDJ_ERR_NOMEM, "out of memory");
    for (t = 0; t < p->num_qtables; t++)
        fdj_enc_divisors_init(&div[t], p->qtable[t], &kern);
    st = fdj_enc_alloc_coefs(&f, streaming, msg);
    if (st != FDJ_OK) {
        free(div);
        return st;
    }
    st = fdj_enc_band_init(&band, &f, msg);
    if (st == FDJ_OK && streaming) {
        /* a rough size guess (capped) saves most of the output buffer's regrowth */
        size_t guess = (size_t)f.width * (size_t)f.height / 4 + 1024;
        fdj_buf_reserve(&b, guess < ((size_t)16 << 20) ? guess : ((size_t)16 << 20));
        st = fdj_enc_stream_begin(&stream, &f, p, &b, msg);
    }
    if (st == FDJ_OK) {
        for (my = 0; my < f.mcus_y && st == FDJ_OK; my++) {
            if (streaming)
                fdj_enc_band_rows(&f, my);
            fdj_enc_band_convert(&band, &f, my, pixels, row_stride, col_stride, chan_stride);
            fdj_enc_band_transform(&band, &f, my, div, &kern);
            if (streaming) {
                fdj_enc_fill_dummy_blocks(&f);
                st = fdj_enc_stream_rows(stream, my);
            }
        }
        if (streaming) {
            int st2 = fdj_enc_stream_end(stream, st == FDJ_OK);
            if (st == FDJ_OK)
                st = st2;
        } else if (st == FDJ_OK) {
            fdj_enc_fill_dummy_blocks(&f);
            st = fdj_enc_write_file(&f, p, &b, msg);
        }
    }
    if (band.storage)
        fdj_enc_band_free(&band);
    fdj_enc_free_coefs(&f);
    free(div);
    return finish(&b, st, out, out_size);
}

int fdj_write_coefficients(const fdj_encode_params *p, const int16_t *const coef[],
                           uint8_t **out, size_t *out_size, char msg[FDJ_MSG_SIZE])
{
    fdj_enc_frame f;
    fdj_buf b;
    int st, c, by;
    if (msg)
        msg[0] = 0;
    if (!out || !out_size)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "no output pointers");
    *out = NULL;
    *out_size = 0;
    if (!coef)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "no coefficients");
    fdj_buf_init(&b);
    st = fdj_enc_setup_frame(p, &f, msg);
    if (st != FDJ_OK)
        return st;
    for (c = 0; c < f.ncomp; c++)
        if (!coef[c])
            return fdj_fail(msg, FDJ_ERR_ARGUMENT, "no coefficients for component %d", c);
    st = fdj_enc_alloc_coefs(&f, 0, msg);
    if (st != FDJ_OK)
        return st;
    for (c = 0; c < f.ncomp; c++) {
        fdj_enc_comp *cp = &f.comp[c];
        for (by = 0; by < cp->height_in_blocks; by++) {
            const int16_t *src = coef[c] + (size_t)by * (size_t)cp->width_in_blocks * 64;
            int16_t *dst = cp->coef + (size_t)by * (size_t)cp->bw * 64;
            int bx, k;
            for (bx = 0; bx < cp->width_in_blocks; bx++, src += 64, dst += 64)
                for (k = 0; k < 64; k++)
                    dst[fdj_natural_to_zigzag[k]] = src[k];
        }
    }
    fdj_enc_fill_dummy_blocks(&f);
    st = fdj_enc_write_file(&f, p, &b, msg);
    fdj_enc_free_coefs(&f);
    return finish(&b, st, out, out_size);
}

/* ---- drivers: the whole file, or a sequential file streamed by MCU rows ---- */

/* SOI, APP0/APP14, caller's segments, DQT, SOF */
static void file_header(const fdj_enc_frame *f, const fdj_encode_params *p, fdj_buf *out,
                        int progressive)
{
    int any16;
    fdj_mark_soi(out);
    if (p->write_jfif)
        fdj_mark_jfif(out, p->density_unit, p->x_density, p->y_density);
    if (p->write_adobe)
        fdj_mark_adobe(out, f->jpeg_color == FDJ_CS_YCBCR ? 1 : f->jpeg_color == FDJ_CS_YCCK ? 2 : 0);
    if (p->extra_size)
        fdj_buf_put(out, p->extra_segments, p->extra_size);
    any16 = fdj_mark_dqts(out, f);
    fdj_mark_sof(out, f, progressive ? 2 : (any16 || f->precision == 12) ? 1 : 0);
}

int fdj_enc_write_file(const fdj_enc_frame *f, const fdj_encode_params *p, fdj_buf *out,
                       char *msg)
{
    coder *cd;
    scan_desc scans[32];
    int nscans, i, st = FDJ_OK, last_restart = 0;
    int progressive = p->progressive != 0;
    /* libjpeg forces optimal tables at 12 bits: Annex K's have no 12-bit magnitudes */
    int optimize = p->optimize || progressive || f->precision == 12;

    cd = (coder *)calloc(1, sizeof *cd);
    if (!cd)
        return fdj_fail(msg, FDJ_ERR_NOMEM, "out of memory");
    cd->f = f;
    cd->msg = msg;
    fdj_enc_coder_kernels(cd, fdj_simd_level());
    file_header(f, p, out, progressive);
    if (progressive) {
        nscans = fdj_phuff_script(f, scans);
    } else {
        nscans = 1;
        fdj_enc_sequential_scan(f, &scans[0]);
    }
    for (i = 0; i < nscans && st == FDJ_OK; i++) {
        cd->scan = &scans[i];
        st = fdj_enc_write_scan(cd, p, out, optimize, progressive, &last_restart);
    }
    if (st == FDJ_OK) {
        fdj_mark_eoi(out);
        if (out->failed)
            st = fdj_fail(msg, FDJ_ERR_NOMEM, "out of memory for the output");
    }
    free(cd);
    return st;
}

/* ---- streaming baseline/extended sequential writer ---- */
struct fdj_enc_stream {
    coder cd;
    scan_desc scan;
    fdj_buf *out;
};

int fdj_enc_stream_begin(fdj_enc_stream **sp, const fdj_enc_frame *f, const fdj_encode_params *p,
                         fdj_buf *out, char *msg)
{
    fdj_enc_stream *s;
    int st, ri, last_restart = 0;
    *sp = NULL;
    s = (fdj_enc_stream *)calloc(1, sizeof *s);
    if (!s)
        return fdj_fail(msg, FDJ_ERR_NOMEM, "out of memory");
    s->cd.f = f;
    s->cd.msg = msg;
    fdj_enc_coder_kernels(&s->cd, fdj_simd_level());
    s->out = out;
    fdj_enc_sequential_scan(f, &s->scan);
    s->cd.scan = &s->scan;
    file_header(f, p, out, 0);
    st = fdj_enc_scan_header(&s->cd, p, out, 0, 0, &last_restart, &ri);
    if (st != FDJ_OK) {
        free(s);
        return st;
    }
    fdj_enc_scan_start(&s->cd, ri);
    *sp = s;
    return FDJ_OK;
}

size_t fdj_enc_stream_size(void) { return sizeof(fdj_enc_stream); }

int fdj_enc_stream_rows(fdj_enc_stream *s, int mcu_row)
{
    const fdj_enc_frame *f = s->cd.f;
    int r0 = mcu_row, r1 = mcu_row + 1;
    if (s->scan.ncomps == 1) {
        /* a non-interleaved scan codes block rows; the band holds v of them */
        const fdj_enc_comp *cp = &f->comp[s->scan.comps[0]];
        r0 = cp->row0;
        r1 = cp->row0 + cp->rows;
        if (r1 > cp->height_in_blocks)
            r1 = cp->height_in_blocks;
    }
    return fdj_enc_scan_rows(&s->cd, r0, r1, 0);
}

int fdj_enc_stream_end(fdj_enc_stream *s, int ok)
{
    int st = FDJ_OK;
    if (!s)
        return FDJ_OK;
    if (ok) {
        st = fdj_enc_scan_finish(&s->cd, 0);
        if (st == FDJ_OK) {
            fdj_mark_eoi(s->out);
            if (s->out->failed)
                st = fdj_fail(s->cd.msg, FDJ_ERR_NOMEM, "out of memory for the output");
        }
    }
    free(s);
    return st;
}

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
    fdj_kernels_init(&e->kern, fdj_simd_level());
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
    if ((st = fdj_enc_band_init(&e->band, &e->f, e->msg)) != FDJ_OK)
        goto fail;
    st = fdj_enc_stream_begin(&e->stream, &e->f, &e->p, &e->out, e->msg);
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
