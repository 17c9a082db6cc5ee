/*
 * purify12.c -- fused Feature Distillation on 12-bit pixels (fdj_purify with
 * p->precision == 12).
 *
 * The 12-bit compressor's front end (enc12.c: colour conversion, edge
 * replication, downsampling, 12-bit ISLOW FDCT, jcdctmgr.c's division) and the
 * 12-bit decoder's back end (dec_idct12.c: dequantization with int multipliers,
 * the 12-bit ISLOW IDCT; dec_render16.c: fancy upsampling, colour conversion)
 * joined without entropy coding.  Entropy coding is lossless, so the result is
 * exactly what libjpeg-turbo 3's 12-bit decoder gives for fdj_encode's 12-bit
 * file with the same tables.
 *
 * The tables in p are the 12-bit quantizers themselves; fdjpeg.purify gives an
 * 8-bit table T the meaning decode(data12, purify=T) and transcode give it,
 * 16 T (12-bit DCT coefficients are 16 times the 8-bit ones for the same image).
 *
 * Unlike the 8-bit path (purify.c), the whole image's coefficients are held
 * (2 bytes per padded sample of every component) and then its sample planes:
 * 12-bit purification is a correctness path, not the hot loop of a data loader.
 */
#include "enc12.h"
#include "dec_hiprec.h"

int fdj_purify12(const fdj_encode_params *p, const uint8_t *pixels, ptrdiff_t row_stride,
                 ptrdiff_t col_stride, ptrdiff_t chan_stride, uint8_t *out,
                 ptrdiff_t out_row_stride, char *msg)
{
    fdj_enc_frame f;
    fdj_render_spec spec;
    uint16_t *planes[FDJ_MAX_COMPONENTS] = {0};
    ptrdiff_t strides[FDJ_MAX_COMPONENTS];
    int h[FDJ_MAX_COMPONENTS], v[FDJ_MAX_COMPONENTS];
    const char *why;
    int st, c, i;
    if (!pixels || !out)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "no pixels or no output");
    st = fdj_enc12_coefficients(p, pixels, row_stride, col_stride, chan_stride, &f, msg);
    if (st != FDJ_OK)
        return st;
    for (c = 0; c < f.ncomp; c++) {
        h[c] = f.comp[c].h;
        v[c] = f.comp[c].v;
    }
    st = fdj_render_spec_init(&spec, f.width, f.height, f.ncomp, h, v, f.jpeg_color,
                              FDJ_OUT_NATIVE);
    if (st != FDJ_OK) {
        st = fdj_fail(msg, st, "unsupported sampling for purify");
        goto done;
    }
    spec.invert_cmyk = f.cmyk_invert;
    if (fdj_render16_check(&spec, 0, &why) != FDJ_OK) {
        st = fdj_fail(msg, FDJ_ERR_UNSUPPORTED, "%s", why);
        goto done;
    }
    for (c = 0; c < f.ncomp; c++) {
        const fdj_enc_comp *cp = &f.comp[c];
        const uint16_t *qt = f.qtable[cp->tq];
        int32_t q[64];
        size_t n;
        int bx, by;
        strides[c] = (ptrdiff_t)cp->width_in_blocks * 8;
        if (!fdj_mul3_size((size_t)strides[c], (size_t)cp->height_in_blocks * 8, sizeof(uint16_t),
                           &n) ||
            !(planes[c] = (uint16_t *)malloc(n ? n : 1))) {
            st = fdj_fail(msg, FDJ_ERR_NOMEM, "out of memory for 12-bit sample planes");
            goto done;
        }
        /* zigzag multipliers: the coefficient arrays are in zigzag order */
        for (i = 0; i < 64; i++)
            q[fdj_natural_to_zigzag[i]] = (int32_t)qt[i];
        for (by = 0; by < cp->height_in_blocks; by++) {
            const int16_t *src = cp->coef + (size_t)by * (size_t)cp->bw * 64;
            uint16_t *dst = planes[c] + (size_t)by * 8 * (size_t)strides[c];
            for (bx = 0; bx < cp->width_in_blocks; bx++) {
                const int16_t *blk = src + (size_t)bx * 64;
                int32_t tmp[64];
                for (i = 0; i < 64; i++)
                    tmp[i] = blk[fdj_natural_to_zigzag[i]] * q[fdj_natural_to_zigzag[i]];
                fdj_idct12_islow(tmp, dst + (size_t)bx * 8, strides[c] * (ptrdiff_t)sizeof(uint16_t));
            }
        }
    }
    st = fdj_render16_planes(&spec, 12, (const uint16_t *const *)planes, strides, out,
                             out_row_stride);
    if (st != FDJ_OK)
        st = fdj_fail(msg, st, "out of memory while rendering 12-bit samples");
done:
    for (c = 0; c < FDJ_MAX_COMPONENTS; c++)
        free(planes[c]);
    fdj_enc_free_coefs(&f);
    return st;
}
