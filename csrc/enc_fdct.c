/*
 * enc_fdct.c -- forward DCT (ISLOW) and quantizer.  T.81 A.3.3 (FDCT), A.3.4
 * (quantization), with libjpeg-turbo's integer arithmetic so coefficients match
 * it exactly: the Loeffler-Ligtenberg-Moschytz factorisation in 13-bit fixed
 * point with 2 extra bits between the passes (output = 8 x orthonormal DCT),
 * and division by 8*q rounded half away from zero (see fdj_divisors).
 */
#include "enc_internal.h"

#include "fdj_islow.h"

/* arithmetic right shift with rounding */
#define DESCALE(x, n) (((x) + ((int32_t)1 << ((n)-1))) >> (n))

void fdj_fdct_islow(const uint8_t *in, ptrdiff_t stride, int32_t out[64])
{
    int32_t tmp0, tmp1, tmp2, tmp3, tmp4, tmp5, tmp6, tmp7;
    int32_t tmp10, tmp11, tmp12, tmp13, z1, z2, z3, z4, z5;
    int32_t *d;
    int i;

    /* Pass 1: rows.  Level shift (-128) folded into the sums. */
    for (i = 0; i < 8; i++) {
        const uint8_t *s = in + i * stride;
        int32_t s0 = (int32_t)s[0] - 128, s1 = (int32_t)s[1] - 128, s2 = (int32_t)s[2] - 128,
                s3 = (int32_t)s[3] - 128, s4 = (int32_t)s[4] - 128, s5 = (int32_t)s[5] - 128,
                s6 = (int32_t)s[6] - 128, s7 = (int32_t)s[7] - 128;
        d = out + i * 8;
        tmp0 = s0 + s7;
        tmp7 = s0 - s7;
        tmp1 = s1 + s6;
        tmp6 = s1 - s6;
        tmp2 = s2 + s5;
        tmp5 = s2 - s5;
        tmp3 = s3 + s4;
        tmp4 = s3 - s4;

        tmp10 = tmp0 + tmp3;
        tmp13 = tmp0 - tmp3;
        tmp11 = tmp1 + tmp2;
        tmp12 = tmp1 - tmp2;
        d[0] = (tmp10 + tmp11) * (1 << PASS1_BITS);
        d[4] = (tmp10 - tmp11) * (1 << PASS1_BITS);
        z1 = (tmp12 + tmp13) * FIX_0_541196100;
        d[2] = DESCALE(z1 + tmp13 * FIX_0_765366865, CONST_BITS - PASS1_BITS);
        d[6] = DESCALE(z1 - tmp12 * FIX_1_847759065, CONST_BITS - PASS1_BITS);

        z1 = tmp4 + tmp7;
        z2 = tmp5 + tmp6;
        z3 = tmp4 + tmp6;
        z4 = tmp5 + tmp7;
        z5 = (z3 + z4) * FIX_1_175875602;
        tmp4 *= FIX_0_298631336;
        tmp5 *= FIX_2_053119869;
        tmp6 *= FIX_3_072711026;
        tmp7 *= FIX_1_501321110;
        z1 *= -FIX_0_899976223;
        z2 *= -FIX_2_562915447;
        z3 = z3 * -FIX_1_961570560 + z5;
        z4 = z4 * -FIX_0_390180644 + z5;
        d[7] = DESCALE(tmp4 + z1 + z3, CONST_BITS - PASS1_BITS);
        d[5] = DESCALE(tmp5 + z2 + z4, CONST_BITS - PASS1_BITS);
        d[3] = DESCALE(tmp6 + z2 + z3, CONST_BITS - PASS1_BITS);
        d[1] = DESCALE(tmp7 + z1 + z4, CONST_BITS - PASS1_BITS);
    }

    /* Pass 2: columns; removes PASS1_BITS, leaves the factor 8. */
    for (i = 0; i < 8; i++) {
        d = out + i;
        tmp0 = d[0] + d[56];
        tmp7 = d[0] - d[56];
        tmp1 = d[8] + d[48];
        tmp6 = d[8] - d[48];
        tmp2 = d[16] + d[40];
        tmp5 = d[16] - d[40];
        tmp3 = d[24] + d[32];
        tmp4 = d[24] - d[32];

        tmp10 = tmp0 + tmp3;
        tmp13 = tmp0 - tmp3;
        tmp11 = tmp1 + tmp2;
        tmp12 = tmp1 - tmp2;
        d[0] = DESCALE(tmp10 + tmp11, PASS1_BITS);
        d[32] = DESCALE(tmp10 - tmp11, PASS1_BITS);
        z1 = (tmp12 + tmp13) * FIX_0_541196100;
        d[16] = DESCALE(z1 + tmp13 * FIX_0_765366865, CONST_BITS + PASS1_BITS);
        d[48] = DESCALE(z1 - tmp12 * FIX_1_847759065, CONST_BITS + PASS1_BITS);

        z1 = tmp4 + tmp7;
        z2 = tmp5 + tmp6;
        z3 = tmp4 + tmp6;
        z4 = tmp5 + tmp7;
        z5 = (z3 + z4) * FIX_1_175875602;
        tmp4 *= FIX_0_298631336;
        tmp5 *= FIX_2_053119869;
        tmp6 *= FIX_3_072711026;
        tmp7 *= FIX_1_501321110;
        z1 *= -FIX_0_899976223;
        z2 *= -FIX_2_562915447;
        z3 = z3 * -FIX_1_961570560 + z5;
        z4 = z4 * -FIX_0_390180644 + z5;
        d[56] = DESCALE(tmp4 + z1 + z3, CONST_BITS + PASS1_BITS);
        d[40] = DESCALE(tmp5 + z2 + z4, CONST_BITS + PASS1_BITS);
        d[24] = DESCALE(tmp6 + z2 + z3, CONST_BITS + PASS1_BITS);
        d[8] = DESCALE(tmp7 + z1 + z4, CONST_BITS + PASS1_BITS);
    }
}

void fdj_enc_divisors_init(fdj_divisors *d, const uint16_t qtable[64], const fdj_kernels *k)
{
    int i;
    for (i = 0; i < 64; i++) {
        int32_t q = qtable[i] ? qtable[i] : 1;
        d->q[i] = q;
        d->bias[i] = (float)(4 * q) + 0.5f;
        d->inv[i] = 1.0f / (float)(8 * q);
    }
    d->quantize = k->quantize;
    d->quantize_dequantize = k->quantize_dequantize;
}

/* Scalar reference (sign-magnitude without branches, so it also vectorizes
 * for the baseline ISA); the AVX2 sibling (enc_fdct_simd.c) performs the same
 * float operations. */
#define QUANTIZE_ONE(x, i)                                                                       \
    do {                                                                                         \
        int32_t s_ = (x) >> 31;                                                                  \
        int32_t a_ = ((x) ^ s_) - s_;                                                            \
        int32_t q_ = (int32_t)(((float)a_ + d->bias[i]) * d->inv[i]);                            \
        qv = (q_ ^ s_) - s_;                                                                     \
    } while (0)

#define QUANTIZE_BODY                                                                            \
    int i;                                                                                       \
    for (i = 0; i < 64; i++) {                                                                   \
        int32_t qv;                                                                              \
        QUANTIZE_ONE(dct[i], i);                                                                 \
        out[fdj_natural_to_zigzag[i]] = (int16_t)qv;                                             \
    }

#define DEQUANTIZE_BODY                                                                          \
    int i;                                                                                       \
    for (i = 0; i < 64; i++) {                                                                   \
        int32_t qv;                                                                              \
        QUANTIZE_ONE(dct[i], i);                                                                 \
        out[i] = qv * d->q[i];                                                                   \
    }

void fdj_quantize_scalar(const int32_t dct[64], const fdj_divisors *d, int16_t out[64])
{
    QUANTIZE_BODY
}

void fdj_quantize_dequantize_scalar(const int32_t dct[64], const fdj_divisors *d, int32_t out[64])
{
    DEQUANTIZE_BODY
}

void fdj_enc_band_transform(const fdj_enc_band *b, fdj_enc_frame *f, int mcu_row,
                            const fdj_divisors *div, const fdj_kernels *k)
{
    int c, by, bx;
    int32_t ws[64];
    for (c = 0; c < f->ncomp; c++) {
        fdj_enc_comp *cp = &f->comp[c];
        const fdj_divisors *dv = &div[cp->tq];
        int row0 = mcu_row * cp->v;
        int rows = cp->height_in_blocks - row0;
        if (rows > cp->v)
            rows = cp->v;
        for (by = 0; by < rows; by++) {
            const uint8_t *src = b->plane[c] + (ptrdiff_t)by * 8 * b->plane_stride[c];
            int16_t *dst = cp->coef + ((size_t)(row0 + by - cp->row0) * (size_t)cp->bw) * 64;
            bx = 0;
            if (k->fdct_islow2) {
                int32_t ws2[64];
                for (; bx + 2 <= cp->width_in_blocks; bx += 2) {
                    k->fdct_islow2(src + bx * 8, src + bx * 8 + 8, b->plane_stride[c], ws, ws2);
                    fdj_quantize_block(ws, dv, dst + (size_t)bx * 64);
                    fdj_quantize_block(ws2, dv, dst + (size_t)(bx + 1) * 64);
                }
            }
            for (; bx < cp->width_in_blocks; bx++) {
                k->fdct_islow(src + bx * 8, b->plane_stride[c], ws);
                fdj_quantize_block(ws, dv, dst + (size_t)bx * 64);
            }
        }
    }
}
