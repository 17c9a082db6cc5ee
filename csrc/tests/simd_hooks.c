/*
 * simd_hooks.c -- test-only entry points into the kernel table (fdj_simd.h),
 * built by `make hooks` into libfdjpeg_test_hooks.so and loaded by
 * tests/test_simd.py through ctypes: run the kernel a SIMD level selects on
 * raw blocks, so the AVX2 siblings can be checked bit for bit against the
 * scalar references on any input, hostile ones included.  Not part of the
 * library or of the Python module.
 */
#include "dec_internal.h"
#include "enc_entropy.h"

int fdj_hook_simd_level(void) { return fdj_simd_level(); }

/* The kernels of `level`; -1 when the level is not available here. */
static int kernels_at(int level, fdj_kernels *k)
{
    if (level > fdj_simd_level())
        return -1;
    fdj_kernels_init(k, level);
    return 0;
}

/* ISLOW IDCT of n (64,) int32 dequantized blocks with the kernel of `level`. */
int fdj_hook_idct_blocks(const int32_t *in, size_t n, int level, uint8_t *out)
{
    fdj_kernels k;
    size_t i;
    if (kernels_at(level, &k))
        return -1;
    for (i = 0; i < n; i++)
        k.idct_islow(in + 64 * i, out + 64 * i, 8);
    return 0;
}

/* ISLOW FDCT of n 8x8 uint8 blocks with the kernel of `level`. */
int fdj_hook_fdct_blocks(const uint8_t *in, size_t n, int level, int32_t *out)
{
    fdj_kernels k;
    size_t i;
    if (kernels_at(level, &k))
        return -1;
    for (i = 0; i < n; i++)
        k.fdct_islow(in + 64 * i, 8, out + 64 * i);
    return 0;
}

/* libjpeg-turbo's AVX2 ISLOW arithmetic (dec_idct_emul.c) on n int16 blocks. */
void fdj_hook_idct_turbo_emul_blocks(const int16_t *coef, size_t n, const uint16_t *q, uint8_t *out)
{
    size_t i;
    for (i = 0; i < n; i++)
        fdj_idct_islow_avx2_emul(coef + 64 * i, q, out + 64 * i, 8);
}

/* The 16-bit libjpeg-turbo-arithmetic row kernel of `level` on one row of n
 * int16 blocks (uint16 table q); block i's pixels at out + 64 * i as 8x8.
 * The scalar level runs the emulation (its reference).  -1 when the level is
 * not available, -2 when it has no such kernel. */
int fdj_hook_idct_turbo_row(const int16_t *coef, size_t n, const uint16_t *q, int level, uint8_t *out)
{
    fdj_kernels k;
    uint8_t *row;
    size_t i, y;
    if (kernels_at(level, &k))
        return -1;
    if (level == FDJ_SIMD_SCALAR) {
        fdj_hook_idct_turbo_emul_blocks(coef, n, q, out);
        return 0;
    }
    if (!k.idct_turbo_row)
        return -2;
    /* one image row of n blocks side by side, as the decoder lays them out */
    row = (uint8_t *)malloc(n * 64 + 1);
    if (!row)
        return -3;
    k.idct_turbo_row(coef, q, (int)n, row, (ptrdiff_t)(n * 8));
    for (i = 0; i < n; i++)
        for (y = 0; y < 8; y++)
            memcpy(out + 64 * i + 8 * y, row + y * n * 8 + 8 * i, 8);
    free(row);
    return 0;
}

/* The two-block 16-bit IDCT of `level` on n int32 blocks (pairs side by side,
 * an odd last block paired with a copy of itself), with the scalar kernel for
 * the blocks it refuses, as purify runs it; taken[i] = 1 where the 16-bit
 * kernel took block i.  -1 when the level is not available, -2 without the
 * kernel. */
int fdj_hook_idct2_blocks(const int32_t *in, size_t n, int level, uint8_t *out, uint8_t *taken)
{
    fdj_kernels k;
    uint8_t pix[8 * 16];
    size_t i, y;
    if (kernels_at(level, &k))
        return -1;
    if (!k.idct_islow2)
        return -2;
    for (i = 0; i < n; i += 2) {
        const int32_t *a = in + 64 * i, *b = i + 1 < n ? a + 64 : a;
        int done = k.idct_islow2(a, b, pix, 16);
        if (!(done & 1))
            fdj_idct_islow(a, pix, 16);
        if (!(done & 2))
            fdj_idct_islow(b, pix + 8, 16);
        for (y = 0; y < 8; y++) {
            memcpy(out + 64 * i + 8 * y, pix + 16 * y, 8);
            if (i + 1 < n)
                memcpy(out + 64 * (i + 1) + 8 * y, pix + 16 * y + 8, 8);
        }
        taken[i] = (uint8_t)(done & 1);
        if (i + 1 < n)
            taken[i + 1] = (uint8_t)((done >> 1) & 1);
    }
    return 0;
}

/* One row of n int16 blocks through the one-pass FD row kernel of the
 * active level (block i's pixels at out + 64 * i as 8x8), as dec_dequant.c
 * runs it.  -1 when the level has none. */
int fdj_hook_idct_rq_row(const int16_t *coef, size_t n, const int32_t *q, const uint16_t *t,
                         uint8_t *out)
{
    fdj_kernels k;
    fdj_requant_table rt;
    uint8_t *row;
    size_t i, y;
    fdj_kernels_init(&k, fdj_simd_level());
    if (!k.idct_islow_rq_row)
        return -1;
    fdj_requant_table_init(&rt, t);
    fdj_requant_table_set_q(&rt, q);
    row = (uint8_t *)malloc(n * 64 + 1);
    if (!row)
        return -3;
    k.idct_islow_rq_row(coef, q, &rt, (int)n, row, (ptrdiff_t)(n * 8));
    for (i = 0; i < n; i++)
        for (y = 0; y < 8; y++)
            memcpy(out + 64 * i + 8 * y, row + y * n * 8 + 8 * i, 8);
    free(row);
    return 0;
}

/* The encoder's quantizer of `level` on n (64,) int32 DCT blocks (natural
 * order) with qtable: n (64,) int16 blocks in zigzag order.  -1 when the
 * level is not available. */
int fdj_hook_quantize(const int32_t *dct, size_t n, const uint16_t *qtable, int level, int16_t *out)
{
    fdj_kernels k;
    fdj_divisors dv;
    size_t i;
    if (kernels_at(level, &k))
        return -1;
    fdj_enc_divisors_init(&dv, qtable, &k);
    for (i = 0; i < n; i++)
        fdj_quantize_block(dct + 64 * i, &dv, out + 64 * i);
    return 0;
}

/* purify's block pipeline (FDCT, quantize/dequantize by qtable, IDCT) at
 * `level` on n 8x8 uint8 blocks taken in pairs side by side (an odd last
 * block with a copy of itself): the fused two-block kernel where the level
 * has one and the table fits it (every entry <= 4080), the separate kernels
 * for the blocks it refuses; taken[i] = 1 where the fused kernel did block i.
 * -1 when the level is not available. */
int fdj_hook_purify_blocks(const uint8_t *in, size_t n, const uint16_t *qtable, int level,
                           uint8_t *out, uint8_t *taken)
{
    fdj_kernels k;
    fdj_divisors dv;
    fdj_purify_consts pc;
    uint8_t src[8 * 16], pix[8 * 16];
    int32_t ws[64], dq[64];
    size_t i, y;
    int j, fits;
    if (kernels_at(level, &k))
        return -1;
    fdj_enc_divisors_init(&dv, qtable, &k);
    fits = fdj_purify_consts_init(&pc, dv.q);
    for (i = 0; i < n; i += 2) {
        size_t b = i + 1 < n ? i + 1 : i;
        int done = 0;
        for (y = 0; y < 8; y++) {
            memcpy(src + 16 * y, in + 64 * i + 8 * y, 8);
            memcpy(src + 16 * y + 8, in + 64 * b + 8 * y, 8);
        }
        if (k.purify2 && fits)
            done = k.purify2(src, src + 8, 16, &pc, pix, 16);
        for (j = 0; j < 2; j++) {
            if (done & (1 << j))
                continue;
            k.fdct_islow(src + 8 * j, 16, ws);
            fdj_quantize_dequantize(ws, &dv, dq);
            k.idct_islow(dq, pix + 8 * j, 16);
        }
        for (y = 0; y < 8; y++) {
            memcpy(out + 64 * i + 8 * y, pix + 16 * y, 8);
            if (b != i)
                memcpy(out + 64 * b + 8 * y, pix + 16 * y + 8, 8);
        }
        taken[i] = (uint8_t)(done & 1);
        if (b != i)
            taken[b] = (uint8_t)((done >> 1) & 1);
    }
    return 0;
}

/* purify's 4:4:4 RGB tile (fdj_kernels.purify_tile) at `level` on n 16x8
 * packed RGB tiles (384 bytes each, rows 48 bytes apart), every component
 * purified with qtable: the level's tile kernel where it has one and takes
 * the tile (accepted[i] = 1), else the scalar chain it must equal --
 * jccolor.c's RGB -> YCbCr, fdj_fdct_islow, the scalar quantizer,
 * fdj_idct_islow, jdcolor.c's YCbCr -> RGB.  -1 when the level is not
 * available here. */
int fdj_hook_purify_tiles(const uint8_t *in, size_t n, const uint16_t *qtable, int level,
                          uint8_t *out, uint8_t *accepted)
{
    fdj_kernels k;
    fdj_divisors dv;
    fdj_purify_consts pc;
    const fdj_purify_consts *pcs[3];
    uint8_t pl[3][128], res[3][128];
    int32_t ws[64], dq[64];
    size_t i;
    int fits, x, y, c, j;
    if (kernels_at(level, &k))
        return -1;
    fdj_enc_divisors_init(&dv, qtable, &k);
    fits = fdj_purify_consts_init(&pc, dv.q);
    pcs[0] = pcs[1] = pcs[2] = &pc;
    for (i = 0; i < n; i++) {
        const uint8_t *t = in + 384 * i;
        uint8_t *o = out + 384 * i;
        accepted[i] = (uint8_t)(k.purify_tile && fits && k.purify_tile(t, 48, pcs, o, 48));
        if (accepted[i])
            continue;
        for (y = 0; y < 8; y++)
            for (x = 0; x < 16; x++) {
                int32_t r = t[48 * y + 3 * x], g = t[48 * y + 3 * x + 1], b = t[48 * y + 3 * x + 2];
                pl[0][16 * y + x] = (uint8_t)((19595 * r + 38470 * g + 7471 * b + 32768) >> 16);
                pl[1][16 * y + x] = (uint8_t)((-11059 * r - 21709 * g + 32768 * b + (128 << 16) + 32767) >> 16);
                pl[2][16 * y + x] = (uint8_t)((32768 * r - 27439 * g - 5329 * b + (128 << 16) + 32767) >> 16);
            }
        for (c = 0; c < 3; c++)
            for (j = 0; j < 2; j++) {
                fdj_fdct_islow(pl[c] + 8 * j, 16, ws);
                fdj_quantize_dequantize_scalar(ws, &dv, dq);
                fdj_idct_islow(dq, res[c] + 8 * j, 16);
            }
        for (y = 0; y < 8; y++)
            for (x = 0; x < 16; x++) {
                int32_t Y = res[0][16 * y + x], b = res[1][16 * y + x] - 128, r = res[2][16 * y + x] - 128;
                int32_t v[3];
                v[0] = Y + ((91881 * r + 32768) >> 16);
                v[1] = Y + ((-22554 * b - 46802 * r + 32768) >> 16);
                v[2] = Y + ((116130 * b + 32768) >> 16);
                for (c = 0; c < 3; c++)
                    o[48 * y + 3 * x + c] = (uint8_t)(v[c] < 0 ? 0 : v[c] > 255 ? 255 : v[c]);
            }
    }
    return 0;
}

/* The decoder's fused kernels of the active level on n int16 blocks with the
 * int32 table q.  Without t (NULL): dequantize + IDCT, accepted[i] = 0 where
 * the kernel refuses the block (its pixels stay as they were).  With t:
 * dequantize + requantize by t + IDCT, a refused block taking the scalar
 * reference as the decoder does.  -1 when no fused kernel is active. */
int fdj_hook_idct_fused_blocks(const int16_t *coef, size_t n, const int32_t *q, const uint16_t *t,
                               uint8_t *out, uint8_t *accepted)
{
    fdj_kernels k;
    fdj_requant_table rt;
    size_t i;
    fdj_kernels_init(&k, fdj_simd_level());
    if (t ? !k.idct_islow_rq : !k.idct_islow_q)
        return -1;
    if (t)
        fdj_requant_table_init(&rt, t);
    for (i = 0; i < n; i++) {
        if (t) {
            if (!k.idct_islow_rq(coef + 64 * i, q, &rt, out + 64 * i, 8))
                fdj_idct_islow_rq(coef + 64 * i, q, &rt, out + 64 * i, 8);
        } else {
            accepted[i] = (uint8_t)(k.idct_islow_q(coef + 64 * i, q, out + 64 * i, 8) != 0);
        }
    }
    return 0;
}

/* One downsampled row as the encoder computes it at `level`: the level's
 * kernel (if any) for the leading columns, the scalar reference for the rest.
 * b == NULL: h2v1 of row a; else h2v2 of rows a, b (2 * out_cols bytes each). */
int fdj_hook_downsample_row(const uint8_t *a, const uint8_t *b, int out_cols, int level, uint8_t *out)
{
    fdj_kernels k;
    int x0 = 0;
    if (kernels_at(level, &k))
        return -1;
    if (b) {
        if (k.h2v2_down_row)
            x0 = k.h2v2_down_row(a, b, out_cols, out);
        fdj_h2v2_down_row(a, b, x0, out_cols, out);
    } else {
        if (k.h2v1_down_row)
            x0 = k.h2v1_down_row(a, out_cols, out);
        fdj_h2v1_down_row(a, x0, out_cols, out);
    }
    return x0;
}

/* Huffman-code n zigzag blocks as one sequential single-component scan with
 * the Annex K luminance tables and the block coder of `level`, then pad and
 * flush as at the end of a scan.  The entropy-coded bytes go to out (at most
 * cap; *out_len bytes).  Returns the coder's status (FDJ_OK, or the range
 * error a block out of range for 8-bit JPEG gives), -1 when the level is
 * unavailable, -2 when out is too small. */
int fdj_hook_huff_blocks(const int16_t *zz, size_t n, int level, uint8_t *out, size_t cap,
                         size_t *out_len, char *msg)
{
    fdj_kernels k;
    fdj_enc_frame f;
    fdj_huff_spec spec;
    fdj_buf buf;
    coder *cd;
    size_t i;
    int st;
    if (kernels_at(level, &k))
        return -1;
    cd = (coder *)calloc(1, sizeof *cd);
    if (!cd)
        return FDJ_ERR_NOMEM;
    memset(&f, 0, sizeof f);
    f.ncomp = 1;
    cd->f = &f;
    cd->msg = msg;
    fdj_huff_std_spec(0, 0, &spec);
    fdj_huff_derive(&spec, &cd->dc_code[0], msg);
    fdj_huff_std_spec(1, 0, &spec);
    fdj_huff_derive(&spec, &cd->ac_code[0], msg);
    fdj_enc_coder_kernels(cd, level);
    fdj_buf_init(&buf);
    cd->w.out = &buf;
    for (i = 0; i < n && cd->status == FDJ_OK; i++) {
        if (!fdj_buf_reserve(&buf, MCU_RESERVE)) {
            cd->status = FDJ_ERR_NOMEM;
            break;
        }
        cd->huff_block_seq(cd, zz + 64 * i, 0);
    }
    st = cd->status == FDJ_OK ? fdj_enc_scan_finish(cd, 0) : cd->status;
    *out_len = buf.size;
    if (st == FDJ_OK && buf.size > cap)
        st = -2;
    else if (st == FDJ_OK)
        memcpy(out, buf.data, buf.size);
    fdj_buf_release(&buf);
    free(cd);
    return st;
}

/* The RGB -> YCbCr row kernel of `level` on a packed RGB row: the pixels it
 * converts (0 where the level has none; the encoder converts the rest with
 * its scalar loop), or -1 when the level is unavailable. */
int fdj_hook_rgb_ycc_row(const uint8_t *src, int width, int level, uint8_t *y, uint8_t *cb,
                         uint8_t *cr)
{
    fdj_kernels k;
    if (kernels_at(level, &k))
        return -1;
    return k.rgb_ycc_row ? k.rgb_ycc_row(src, width, y, cb, cr) : 0;
}

/* The YCbCr -> RGB row kernel of `level` (the decoder's scalar loop where the
 * level has none): w pixels of y, cb, cr to packed RGB.  0, or -1 when the
 * level is unavailable. */
int fdj_hook_ycc_rgb_row(const uint8_t *y, const uint8_t *cb, const uint8_t *cr, int w, int level,
                         uint8_t *out)
{
    fdj_kernels k;
    int i;
    if (kernels_at(level, &k))
        return -1;
    if (k.ycc_rgb_row) {
        k.ycc_rgb_row(y, cb, cr, w, out);
        return 0;
    }
    for (i = 0; i < w; i++) {
        int32_t Y = y[i], b = cb[i] - 128, r = cr[i] - 128, v[3];
        int c;
        v[0] = Y + ((91881 * r + 32768) >> 16);
        v[1] = Y + ((-22554 * b - 46802 * r + 32768) >> 16);
        v[2] = Y + ((116130 * b + 32768) >> 16);
        for (c = 0; c < 3; c++)
            out[3 * i + c] = (uint8_t)(v[c] < 0 ? 0 : v[c] > 255 ? 255 : v[c]);
    }
    return 0;
}

/* Scaled decode: dequantize (int32 table q, as the decoder's multipliers) and
 * run jidctred.c's reduced IDCT (bs 4 or 2) on n int16 blocks; bs x bs pixels
 * per block (stride bs).  Level 0: the scalar reference (fdj_idct_4x4 /
 * fdj_idct_2x2 of the products).  Higher: the level's fused sibling,
 * accepted[i] = 0 where it refuses a block (its pixels stay as they were).
 * -1 when the level is unavailable or has no sibling, -2 for another bs. */
int fdj_hook_idct_reduced_blocks(const int16_t *coef, size_t n, const int32_t *q, int bs,
                                 int level, uint8_t *out, uint8_t *accepted)
{
    fdj_kernels k;
    fdj_idct_q_fn fused;
    size_t i;
    int j;
    if (bs != 4 && bs != 2)
        return -2;
    if (kernels_at(level, &k))
        return -1;
    fused = bs == 4 ? k.idct_4x4_q : k.idct_2x2_q;
    if (level > 0 && !fused)
        return -1;
    for (i = 0; i < n; i++) {
        const int16_t *blk = coef + 64 * i;
        uint8_t *o = out + (size_t)bs * bs * i;
        if (level > 0) {
            accepted[i] = (uint8_t)(fused(blk, q, o, bs) != 0);
        } else {
            int32_t tmp[64];
            for (j = 0; j < 64; j++)
                tmp[j] = blk[j] * q[j];
            (bs == 4 ? fdj_idct_4x4 : fdj_idct_2x2)(tmp, o, bs);
            accepted[i] = 1;
        }
    }
    return 0;
}

/* The one-pass FD row kernel (fdj_idct_pre_row_fn): n int16 blocks of requantized values
 * as one row, block i's pixels at out + 8 i (stride 8 n); level 0: its scalar reference
 * (dec_dequant.c pre_row: each block as int32 through fdj_idct_islow). */
int fdj_hook_idct_pre_row(const int16_t *x, size_t n, int level, uint8_t *out)
{
    fdj_kernels k;
    size_t i;
    int j;
    if (kernels_at(level, &k))
        return -1;
    if (level > 0) {
        if (!k.idct_pre_row)
            return -1;
        k.idct_pre_row(x, (int)n, out, (ptrdiff_t)(8 * n));
        return 0;
    }
    for (i = 0; i < n; i++) {
        int32_t tmp[64];
        for (j = 0; j < 64; j++)
            tmp[j] = x[64 * i + (size_t)j];
        fdj_idct_islow(tmp, out + 8 * i, (ptrdiff_t)(8 * n));
    }
    return 0;
}
