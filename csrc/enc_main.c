/*
 * enc_main.c -- the encoder's entry points: parameters, quality tables
 * (libjpeg's jpeg_quality_scaling over the Annex K.1 tables), fdj_encode (pixels:
 * colour conversion and downsampling, FDCT and quantization band by band, then the
 * file writer whole or streamed by MCU rows; 12-bit pixels go to enc12.c) and
 * fdj_write_coefficients (quantized blocks straight to the file writer).  The frame
 * (enc_frame.c) and the file writer (enc_file.c) are shared with enc12.c and the
 * public streaming encoder (enc_stream.c).
 */
#include "enc_internal.h"
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
    fdj_kernels_init(&kern, f.simd);
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
    st = fdj_enc_band_init_k(&band, &f, &kern, msg);
    if (st == FDJ_OK && streaming) {
        /* a rough size guess (capped) saves most of the output buffer's regrowth */
        size_t guess = (size_t)f.width * (size_t)f.height / 4 + 1024;
        fdj_buf_reserve(&b, guess < ((size_t)16 << 20) ? guess : ((size_t)16 << 20));
        st = fdj_enc_stream_begin(&stream, &f, p, &kern, &b, msg);
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
