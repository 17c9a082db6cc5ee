/*
 * dec_idct_emul.c -- the ISLOW IDCT with the 16-bit arithmetic of libjpeg-turbo's
 * AVX2 kernel (jidctint-avx2.asm), in scalar C (T.81 A.3.3 as Pillow computes
 * it on x86-64); used by the dequantization stage (dec_dequant.c).
 *
 * On x86-64 Pillow's libjpeg-turbo runs the AVX2 kernel.  For every block a real
 * encoder produces it equals the C reference (dec_idct.c), but on hostile
 * coefficients it differs, because it
 *   - dequantizes with a 16-bit multiply (the product wraps),
 *   - forms in0 +- in4 and the odd-part sums in7 + in3, in5 + in1 in 16 bits (wrap),
 *   - takes a shortcut when rows 1..7 of the block are all zero: column value
 *     (c * q) << 2 in 16 bits (wrap), instead of the full column transform,
 *   - saturates each pass's descaled result to int16, and the final value to
 *     -128..127 before adding 128 (the C code wraps through a 1024-entry table).
 * Everything else (the 16x16->32 multiply-adds, 32-bit sums and descaling) is
 * exact, as in the C code.  The scalar decoder uses this for blocks whose values
 * could reach those limits, so that files built to overflow decode as Pillow shows
 * them; it is also the reference of the AVX2 kernel that computes the same
 * arithmetic in 16-bit lanes for every block (dec_idct16_simd.c).
 */
#include "dec_internal.h"

#define CONST_BITS 13
#define PASS1_BITS 2

#define F_0_298 2446
#define F_0_390 3196
#define F_0_541 4433
#define F_0_765 6270
#define F_0_899 7373
#define F_1_175 9633
#define F_1_501 12299
#define F_1_847 15137
#define F_1_961 16069
#define F_2_053 16819
#define F_2_562 20995
#define F_3_072 25172

static int16_t wrap16(int32_t x) { return (int16_t)(uint16_t)(uint32_t)x; }

static int16_t sat16(int32_t x) { return (int16_t)(x < -32768 ? -32768 : x > 32767 ? 32767 : x); }

static int32_t wrap32(int64_t x) { return (int32_t)(uint32_t)(uint64_t)x; }

/* One 8-point pass over in[0..7] (stride 1), 16-bit in and out, as the kernel's dodct. */
static void pass(const int16_t in[8], int16_t out[8], int descale)
{
    int32_t rnd = (int32_t)1 << (descale - 1);
    /* even part */
    int32_t tmp3 = (int32_t)in[2] * (F_0_541 + F_0_765) + (int32_t)in[6] * F_0_541;
    int32_t tmp2 = (int32_t)in[2] * F_0_541 + (int32_t)in[6] * (F_0_541 - F_1_847);
    int32_t tmp0 = (int32_t)wrap16((int32_t)in[0] + in[4]) * (1 << CONST_BITS);
    int32_t tmp1 = (int32_t)wrap16((int32_t)in[0] - in[4]) * (1 << CONST_BITS);
    int32_t tmp10 = wrap32((int64_t)tmp0 + tmp3), tmp13 = wrap32((int64_t)tmp0 - tmp3);
    int32_t tmp11 = wrap32((int64_t)tmp1 + tmp2), tmp12 = wrap32((int64_t)tmp1 - tmp2);
    /* odd part: in7, in5, in3, in1 */
    int16_t z3 = wrap16((int32_t)in[7] + in[3]), z4 = wrap16((int32_t)in[5] + in[1]);
    int32_t z3x = (int32_t)z3 * (F_1_175 - F_1_961) + (int32_t)z4 * F_1_175;
    int32_t z4x = (int32_t)z3 * F_1_175 + (int32_t)z4 * (F_1_175 - F_0_390);
    int32_t o0 = wrap32((int64_t)in[7] * (F_0_298 - F_0_899) - (int64_t)in[1] * F_0_899 + z3x);
    int32_t o1 = wrap32((int64_t)in[5] * (F_2_053 - F_2_562) - (int64_t)in[3] * F_2_562 + z4x);
    int32_t o3 = wrap32(-(int64_t)in[7] * F_0_899 + (int64_t)in[1] * (F_1_501 - F_0_899) + z4x);
    int32_t o2 = wrap32(-(int64_t)in[5] * F_2_562 + (int64_t)in[3] * (F_3_072 - F_2_562) + z3x);
#define OUT(v) sat16(wrap32((int64_t)(v) + rnd) >> descale)
    out[0] = OUT((int64_t)tmp10 + o3);
    out[7] = OUT((int64_t)tmp10 - o3);
    out[1] = OUT((int64_t)tmp11 + o2);
    out[6] = OUT((int64_t)tmp11 - o2);
    out[3] = OUT((int64_t)tmp13 + o0);
    out[4] = OUT((int64_t)tmp13 - o0);
    out[2] = OUT((int64_t)tmp12 + o1);
    out[5] = OUT((int64_t)tmp12 - o1);
#undef OUT
}

void fdj_idct_islow_avx2_emul(const int16_t coef[64], const uint16_t q[64], uint8_t *out,
                              ptrdiff_t stride)
{
    int16_t ws[64], col[8], res[8];
    int i, u, rows_zero = 1;
    for (i = 8; i < 64; i++)
        if (coef[i]) {
            rows_zero = 0;
            break;
        }
    for (u = 0; u < 8; u++) {
        if (rows_zero) {
            int16_t v = wrap16((int32_t)wrap16((int32_t)coef[u] * (int16_t)q[u]) * 4);
            for (i = 0; i < 8; i++)
                ws[i * 8 + u] = v;
            continue;
        }
        for (i = 0; i < 8; i++)
            col[i] = wrap16((int32_t)coef[i * 8 + u] * (int16_t)q[i * 8 + u]);
        pass(col, res, CONST_BITS - PASS1_BITS);
        for (i = 0; i < 8; i++)
            ws[i * 8 + u] = res[i];
    }
    for (i = 0; i < 8; i++) {
        uint8_t *o = out + (ptrdiff_t)i * stride;
        pass(ws + i * 8, res, CONST_BITS + PASS1_BITS + 3);
        for (u = 0; u < 8; u++) {
            int v = res[u] < -128 ? -128 : res[u] > 127 ? 127 : res[u];
            o[u] = (uint8_t)(v + 128);
        }
    }
}

/* Whether a block's values can reach the kernel's 16-bit limits; below this bound
 * the AVX2 kernel and the C reference agree, so the fast kernels are used. */
int fdj_idct_block_is_hostile(const int16_t coef[64], const uint16_t q[64])
{
    int64_t sum = 0;
    int i;
    for (i = 0; i < 64; i++) {
        int64_t v = (int64_t)coef[i] * (int16_t)q[i];
        sum += v < 0 ? -v : v;
        if ((uint16_t)q[i] > 32767)
            return 1;
    }
    return sum > 2048;
}
