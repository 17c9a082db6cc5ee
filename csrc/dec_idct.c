/*
 * dec_idct.c -- inverse DCTs (T.81 A.3.3), libjpeg-turbo's "ISLOW" arithmetic.
 *
 * The input is the dequantized coefficient block in natural order, held in
 * int32 so that one-pass requantization and 16-bit tables cannot wrap.  The
 * arithmetic follows jidctint.c (CONST_BITS 13, PASS1_BITS 2) and jidctred.c
 * for the reduced sizes, including the "& 1023" range-limit wrap that
 * libjpeg's post-IDCT table applies, so output equals libjpeg-turbo's.
 */
#include "fdj_internal.h"

#include "fdj_islow.h"

/* libjpeg does this arithmetic in JLONG (64-bit on LP64); int64 keeps the
 * hostile-input cases free of signed overflow. */
typedef int64_t acc_t;

#define DESCALE(x, n) (((x) + ((acc_t)1 << ((n)-1))) >> (n))

/* libjpeg's post-IDCT range limit: index (x & 1023) of a table that is
 * x+128 clamped to 0..255 for x in -512..511 and wraps outside. */
FDJ_INLINE uint8_t range_limit(acc_t x)
{
    int v = (int)(x & 1023);
    if (v < 128)
        return (uint8_t)(v + 128);
    if (v < 512)
        return 255;
    if (v < 896)
        return 0;
    return (uint8_t)(v - 896);
}

void fdj_idct_islow(const int32_t in[64], uint8_t *out, ptrdiff_t stride)
{
    acc_t ws[64];
    int ctr;

    /* Pass 1: columns, results scaled up by sqrt(8) and 2^PASS1_BITS. */
    for (ctr = 0; ctr < 8; ctr++) {
        const int32_t *ip = in + ctr;
        acc_t *wp = ws + ctr;
        acc_t tmp0, tmp1, tmp2, tmp3, tmp10, tmp11, tmp12, tmp13, z1, z2, z3, z4, z5;
        if ((ip[8] | ip[16] | ip[24] | ip[32] | ip[40] | ip[48] | ip[56]) == 0) {
            acc_t dc = (acc_t)ip[0] * (1 << PASS1_BITS);
            wp[0] = wp[8] = wp[16] = wp[24] = wp[32] = wp[40] = wp[48] = wp[56] = dc;
            continue;
        }
        z2 = ip[16];
        z3 = ip[48];
        z1 = (z2 + z3) * FIX_0_541196100;
        tmp2 = z1 + z3 * (-FIX_1_847759065);
        tmp3 = z1 + z2 * FIX_0_765366865;
        z2 = ip[0];
        z3 = ip[32];
        tmp0 = (z2 + z3) * (1 << CONST_BITS);
        tmp1 = (z2 - z3) * (1 << CONST_BITS);
        tmp10 = tmp0 + tmp3;
        tmp13 = tmp0 - tmp3;
        tmp11 = tmp1 + tmp2;
        tmp12 = tmp1 - tmp2;

        tmp0 = ip[56];
        tmp1 = ip[40];
        tmp2 = ip[24];
        tmp3 = ip[8];
        z1 = tmp0 + tmp3;
        z2 = tmp1 + tmp2;
        z3 = tmp0 + tmp2;
        z4 = tmp1 + tmp3;
        z5 = (z3 + z4) * FIX_1_175875602;
        tmp0 = tmp0 * FIX_0_298631336;
        tmp1 = tmp1 * FIX_2_053119869;
        tmp2 = tmp2 * FIX_3_072711026;
        tmp3 = tmp3 * FIX_1_501321110;
        z1 = z1 * (-FIX_0_899976223);
        z2 = z2 * (-FIX_2_562915447);
        z3 = z3 * (-FIX_1_961570560);
        z4 = z4 * (-FIX_0_390180644);
        z3 += z5;
        z4 += z5;
        tmp0 += z1 + z3;
        tmp1 += z2 + z4;
        tmp2 += z2 + z3;
        tmp3 += z1 + z4;

        /* libjpeg stores the workspace as int */
        wp[0] = (int)DESCALE(tmp10 + tmp3, CONST_BITS - PASS1_BITS);
        wp[56] = (int)DESCALE(tmp10 - tmp3, CONST_BITS - PASS1_BITS);
        wp[8] = (int)DESCALE(tmp11 + tmp2, CONST_BITS - PASS1_BITS);
        wp[48] = (int)DESCALE(tmp11 - tmp2, CONST_BITS - PASS1_BITS);
        wp[16] = (int)DESCALE(tmp12 + tmp1, CONST_BITS - PASS1_BITS);
        wp[40] = (int)DESCALE(tmp12 - tmp1, CONST_BITS - PASS1_BITS);
        wp[24] = (int)DESCALE(tmp13 + tmp0, CONST_BITS - PASS1_BITS);
        wp[32] = (int)DESCALE(tmp13 - tmp0, CONST_BITS - PASS1_BITS);
    }

    /* Pass 2: rows, descale by PASS1_BITS + 3 and range-limit. */
    for (ctr = 0; ctr < 8; ctr++) {
        const acc_t *wp = ws + ctr * 8;
        uint8_t *op = out + ctr * stride;
        acc_t tmp0, tmp1, tmp2, tmp3, tmp10, tmp11, tmp12, tmp13, z1, z2, z3, z4, z5;
        if ((wp[1] | wp[2] | wp[3] | wp[4] | wp[5] | wp[6] | wp[7]) == 0) {
            uint8_t v = range_limit(DESCALE(wp[0], PASS1_BITS + 3));
            memset(op, v, 8);
            continue;
        }
        z2 = wp[2];
        z3 = wp[6];
        z1 = (z2 + z3) * FIX_0_541196100;
        tmp2 = z1 + z3 * (-FIX_1_847759065);
        tmp3 = z1 + z2 * FIX_0_765366865;
        tmp0 = (wp[0] + wp[4]) * (1 << CONST_BITS);
        tmp1 = (wp[0] - wp[4]) * (1 << CONST_BITS);
        tmp10 = tmp0 + tmp3;
        tmp13 = tmp0 - tmp3;
        tmp11 = tmp1 + tmp2;
        tmp12 = tmp1 - tmp2;

        tmp0 = wp[7];
        tmp1 = wp[5];
        tmp2 = wp[3];
        tmp3 = wp[1];
        z1 = tmp0 + tmp3;
        z2 = tmp1 + tmp2;
        z3 = tmp0 + tmp2;
        z4 = tmp1 + tmp3;
        z5 = (z3 + z4) * FIX_1_175875602;
        tmp0 = tmp0 * FIX_0_298631336;
        tmp1 = tmp1 * FIX_2_053119869;
        tmp2 = tmp2 * FIX_3_072711026;
        tmp3 = tmp3 * FIX_1_501321110;
        z1 = z1 * (-FIX_0_899976223);
        z2 = z2 * (-FIX_2_562915447);
        z3 = z3 * (-FIX_1_961570560);
        z4 = z4 * (-FIX_0_390180644);
        z3 += z5;
        z4 += z5;
        tmp0 += z1 + z3;
        tmp1 += z2 + z4;
        tmp2 += z2 + z3;
        tmp3 += z1 + z4;

        op[0] = range_limit(DESCALE(tmp10 + tmp3, CONST_BITS + PASS1_BITS + 3));
        op[7] = range_limit(DESCALE(tmp10 - tmp3, CONST_BITS + PASS1_BITS + 3));
        op[1] = range_limit(DESCALE(tmp11 + tmp2, CONST_BITS + PASS1_BITS + 3));
        op[6] = range_limit(DESCALE(tmp11 - tmp2, CONST_BITS + PASS1_BITS + 3));
        op[2] = range_limit(DESCALE(tmp12 + tmp1, CONST_BITS + PASS1_BITS + 3));
        op[5] = range_limit(DESCALE(tmp12 - tmp1, CONST_BITS + PASS1_BITS + 3));
        op[3] = range_limit(DESCALE(tmp13 + tmp0, CONST_BITS + PASS1_BITS + 3));
        op[4] = range_limit(DESCALE(tmp13 - tmp0, CONST_BITS + PASS1_BITS + 3));
    }
}

/* jidctred.c: 4x4 output from the 8x8 block (row/column 4 ignored). */
void fdj_idct_4x4(const int32_t in[64], uint8_t *out, ptrdiff_t stride)
{
    acc_t ws[8 * 4];
    int ctr;
    for (ctr = 0; ctr < 8; ctr++) {
        const int32_t *ip = in + ctr;
        acc_t *wp = ws + ctr;
        acc_t tmp0, tmp2, tmp10, tmp12, z1, z2, z3, z4;
        if (ctr == 4)
            continue; /* column 4 is not needed */
        if ((ip[8] | ip[16] | ip[24] | ip[40] | ip[48] | ip[56]) == 0) {
            acc_t dc = (acc_t)ip[0] * (1 << PASS1_BITS);
            wp[0] = wp[8] = wp[16] = wp[24] = dc;
            continue;
        }
        tmp0 = (acc_t)ip[0] * (1 << (CONST_BITS + 1));
        z2 = ip[16];
        z3 = ip[48];
        tmp2 = z2 * FIX_1_847759065 + z3 * (-FIX_0_765366865);
        tmp10 = tmp0 + tmp2;
        tmp12 = tmp0 - tmp2;
        z1 = ip[56];
        z2 = ip[40];
        z3 = ip[24];
        z4 = ip[8];
        tmp0 = z1 * (-FIX_0_211164243) + z2 * FIX_1_451774981 + z3 * (-FIX_2_172734803) +
               z4 * FIX_1_061594337;
        tmp2 = z1 * (-FIX_0_509795579) + z2 * (-FIX_0_601344887) + z3 * FIX_0_899976223 +
               z4 * FIX_2_562915447;
        wp[0] = (int)DESCALE(tmp10 + tmp2, CONST_BITS - PASS1_BITS + 1);
        wp[24] = (int)DESCALE(tmp10 - tmp2, CONST_BITS - PASS1_BITS + 1);
        wp[8] = (int)DESCALE(tmp12 + tmp0, CONST_BITS - PASS1_BITS + 1);
        wp[16] = (int)DESCALE(tmp12 - tmp0, CONST_BITS - PASS1_BITS + 1);
    }
    for (ctr = 0; ctr < 4; ctr++) {
        const acc_t *wp = ws + ctr * 8;
        uint8_t *op = out + ctr * stride;
        acc_t tmp0, tmp2, tmp10, tmp12, z1, z2, z3, z4;
        if ((wp[1] | wp[2] | wp[3] | wp[5] | wp[6] | wp[7]) == 0) {
            uint8_t v = range_limit(DESCALE(wp[0], PASS1_BITS + 3));
            op[0] = op[1] = op[2] = op[3] = v;
            continue;
        }
        tmp0 = wp[0] * (1 << (CONST_BITS + 1));
        tmp2 = wp[2] * FIX_1_847759065 + wp[6] * (-FIX_0_765366865);
        tmp10 = tmp0 + tmp2;
        tmp12 = tmp0 - tmp2;
        z1 = wp[7];
        z2 = wp[5];
        z3 = wp[3];
        z4 = wp[1];
        tmp0 = z1 * (-FIX_0_211164243) + z2 * FIX_1_451774981 + z3 * (-FIX_2_172734803) +
               z4 * FIX_1_061594337;
        tmp2 = z1 * (-FIX_0_509795579) + z2 * (-FIX_0_601344887) + z3 * FIX_0_899976223 +
               z4 * FIX_2_562915447;
        op[0] = range_limit(DESCALE(tmp10 + tmp2, CONST_BITS + PASS1_BITS + 3 + 1));
        op[3] = range_limit(DESCALE(tmp10 - tmp2, CONST_BITS + PASS1_BITS + 3 + 1));
        op[1] = range_limit(DESCALE(tmp12 + tmp0, CONST_BITS + PASS1_BITS + 3 + 1));
        op[2] = range_limit(DESCALE(tmp12 - tmp0, CONST_BITS + PASS1_BITS + 3 + 1));
    }
}

/* jidctred.c: 2x2 output. */
void fdj_idct_2x2(const int32_t in[64], uint8_t *out, ptrdiff_t stride)
{
    acc_t ws[8 * 2];
    int ctr;
    for (ctr = 0; ctr < 8; ctr++) {
        const int32_t *ip = in + ctr;
        acc_t *wp = ws + ctr;
        acc_t tmp0, tmp10;
        if (ctr == 2 || ctr == 4 || ctr == 6)
            continue;
        if ((ip[8] | ip[24] | ip[40] | ip[56]) == 0) {
            acc_t dc = (acc_t)ip[0] * (1 << PASS1_BITS);
            wp[0] = wp[8] = dc;
            continue;
        }
        tmp10 = (acc_t)ip[0] * (1 << (CONST_BITS + 2));
        tmp0 = (acc_t)ip[56] * (-FIX_0_720959822) + (acc_t)ip[40] * FIX_0_850430095 +
               (acc_t)ip[24] * (-FIX_1_272758580) + (acc_t)ip[8] * FIX_3_624509785;
        wp[0] = (int)DESCALE(tmp10 + tmp0, CONST_BITS - PASS1_BITS + 2);
        wp[8] = (int)DESCALE(tmp10 - tmp0, CONST_BITS - PASS1_BITS + 2);
    }
    for (ctr = 0; ctr < 2; ctr++) {
        const acc_t *wp = ws + ctr * 8;
        uint8_t *op = out + ctr * stride;
        acc_t tmp0, tmp10;
        if ((wp[1] | wp[3] | wp[5] | wp[7]) == 0) {
            uint8_t v = range_limit(DESCALE(wp[0], PASS1_BITS + 3));
            op[0] = op[1] = v;
            continue;
        }
        tmp10 = wp[0] * (1 << (CONST_BITS + 2));
        tmp0 = wp[7] * (-FIX_0_720959822) + wp[5] * FIX_0_850430095 + wp[3] * (-FIX_1_272758580) +
               wp[1] * FIX_3_624509785;
        op[0] = range_limit(DESCALE(tmp10 + tmp0, CONST_BITS + PASS1_BITS + 3 + 2));
        op[1] = range_limit(DESCALE(tmp10 - tmp0, CONST_BITS + PASS1_BITS + 3 + 2));
    }
}

/* jidctred.c: DC only. */
void fdj_idct_1x1(const int32_t in[64], uint8_t *out, ptrdiff_t stride)
{
    (void)stride;
    out[0] = fdj_idct_1x1_pixel(in[0]);
}
