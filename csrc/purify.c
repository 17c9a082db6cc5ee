/*
 * purify.c -- fused Feature Distillation on pixels (fdj_purify; T.81 A.3.3
 * FDCT/IDCT, A.3.4 quantization by T).
 *
 * The encoder's front end (colour conversion, edge replication, downsampling,
 * ISLOW FDCT, quantization by T) and the decoder's back end (dequantization,
 * ISLOW IDCT, fancy upsampling, colour conversion) joined without entropy
 * coding: each block goes FDCT -> quantize/dequantize -> IDCT while it is in
 * cache, so the result equals decoding fdj_encode's file bit for bit.
 *
 * Component planes are produced one MCU row at a time into a ring of rows,
 * and output rows are rendered as soon as the component rows they depend on
 * (one row of context above and below for fancy upsampling) exist.
 */
#include "enc_internal.h"
#include "enc12.h" /* fdj_purify12 (purify12.c): 12-bit pixels */

/* A purifier: the parameters with their tables turned into the kernels'
 * constants once (fdj_purifier_new), read-only afterwards, so one serves any
 * number of calls and threads. */
struct fdj_purifier {
    fdj_encode_params p;        /* width and height are set per run */
    fdj_kernels k;              /* the level's kernels (fdj_simd.h) */
    fdj_divisors div[4];
    int fuse[4];                /* table t fits the fused two-block kernel (k.purify2) */
    fdj_purify_consts pc[4];    /* its constants */
};

/* One thread's working state for images of one shape (reused image after image). */
typedef struct purify_state {
    const fdj_purifier *pf;
    fdj_enc_frame f;
    int tile;                   /* 4:4:4 YCbCr from packed RGB: k.purify_tile, no buffers */
    const fdj_purify_consts *tile_pc[3];
    fdj_enc_band band;
    fdj_render_spec spec;
    fdj_render_scratch scratch;
    int have_band, have_scratch;
    uint8_t *ring_mem;
    uint8_t **rows[FDJ_MAX_COMPONENTS];   /* ring row pointers per component */
    int ring[FDJ_MAX_COMPONENTS];         /* rows in each ring */
    ptrdiff_t ring_stride[FDJ_MAX_COMPONENTS];
    int strip;                  /* 4:4:4 YCbCr to RGB with a SIMD row kernel: each 8-row
                                 * strip goes RGB -> YCbCr -> blocks -> RGB while in L1 */
} purify_state;

/* Each ring holds three MCU rows of a component: the band being written, the
 * band before it (rendered rows reach back one component row into it), and
 * slack so rows are never overwritten while still needed. */
static int setup_rings(purify_state *s, char *msg)
{
    size_t total = 0, off = 0, sizes[FDJ_MAX_COMPONENTS];
    int c, i, nptr = 0;
    for (c = 0; c < s->f.ncomp; c++) {
        const fdj_enc_comp *cp = &s->f.comp[c];
        /* the strip path renders each band as soon as it exists: one band of rows */
        s->ring[c] = (s->strip ? 1 : 3) * cp->v * 8;
        s->ring_stride[c] = (ptrdiff_t)cp->width_in_blocks * 8;
        if (!fdj_mul_size((size_t)s->ring[c], (size_t)s->ring_stride[c], &sizes[c]))
            return fdj_fail(msg, FDJ_ERR_TOO_LARGE, "image too wide");
        total += sizes[c];
        nptr += s->ring[c];
    }
    s->ring_mem = (uint8_t *)malloc(total + (size_t)nptr * sizeof(uint8_t *) + sizeof(uint8_t *));
    if (!s->ring_mem)
        return fdj_fail(msg, FDJ_ERR_NOMEM, "out of memory for purify buffers");
    {
        uint8_t **ptrs = (uint8_t **)(void *)(s->ring_mem);
        uint8_t *data = s->ring_mem + (size_t)nptr * sizeof(uint8_t *) + sizeof(uint8_t *);
        for (c = 0; c < s->f.ncomp; c++) {
            s->rows[c] = ptrs;
            for (i = 0; i < s->ring[c]; i++)
                ptrs[i] = data + off + (size_t)i * (size_t)s->ring_stride[c];
            ptrs += s->ring[c];
            off += sizes[c];
        }
    }
    return FDJ_OK;
}

/* FDCT, quantize/dequantize with T, IDCT for the real blocks of one band. */
static void band_roundtrip(purify_state *s, int mcu_row)
{
    const fdj_purifier *pf = s->pf;
    int c, by, bx;
    int32_t ws[64], dq[64];
    for (c = 0; c < s->f.ncomp; c++) {
        const fdj_enc_comp *cp = &s->f.comp[c];
        const fdj_divisors *dv = &pf->div[cp->tq];
        int row0 = mcu_row * cp->v;
        int rows = cp->height_in_blocks - row0;
        if (rows > cp->v)
            rows = cp->v;
        for (by = 0; by < rows; by++) {
            const uint8_t *src = s->band.plane[c] + (ptrdiff_t)by * 8 * s->band.plane_stride[c];
            /* 8 consecutive ring rows: ring size is a multiple of 8 */
            int ring_row = ((row0 + by) * 8) % s->ring[c];
            uint8_t *dst = s->rows[c][ring_row];
            bx = 0;
            if (pf->fuse[cp->tq]) {
                /* FDCT -> quantize/dequantize -> IDCT in registers, two blocks at a
                 * time; the separate kernels for a block it refuses */
                for (; bx + 2 <= cp->width_in_blocks; bx += 2) {
                    int done = pf->k.purify2(src + bx * 8, src + bx * 8 + 8, s->band.plane_stride[c],
                                            &pf->pc[cp->tq], dst + bx * 8, s->ring_stride[c]);
                    int j;
                    for (j = 0; j < 2 && done != 3; j++) {
                        if (done & (1 << j))
                            continue;
                        pf->k.fdct_islow(src + (bx + j) * 8, s->band.plane_stride[c], ws);
                        fdj_quantize_dequantize(ws, dv, dq);
                        pf->k.idct_islow(dq, dst + (bx + j) * 8, s->ring_stride[c]);
                    }
                }
            }
            if (pf->k.fdct_islow2) {
                int32_t ws2[64];
                int32_t dq2[64];
                for (; bx + 2 <= cp->width_in_blocks; bx += 2) {
                    pf->k.fdct_islow2(src + bx * 8, src + bx * 8 + 8, s->band.plane_stride[c], ws, ws2);
                    fdj_quantize_dequantize(ws, dv, dq);
                    fdj_quantize_dequantize(ws2, dv, dq2);
                    if (pf->k.idct_islow2) {
                        /* 16-bit lanes, two blocks; the scalar-range kernel for any it refuses */
                        int done = pf->k.idct_islow2(dq, dq2, dst + bx * 8, s->ring_stride[c]);
                        if (!(done & 1))
                            pf->k.idct_islow(dq, dst + bx * 8, s->ring_stride[c]);
                        if (!(done & 2))
                            pf->k.idct_islow(dq2, dst + bx * 8 + 8, s->ring_stride[c]);
                    } else {
                        pf->k.idct_islow(dq, dst + bx * 8, s->ring_stride[c]);
                        pf->k.idct_islow(dq2, dst + bx * 8 + 8, s->ring_stride[c]);
                    }
                }
            }
            for (; bx < cp->width_in_blocks; bx++) {
                pf->k.fdct_islow(src + bx * 8, s->band.plane_stride[c], ws);
                fdj_quantize_dequantize(ws, dv, dq);
                pf->k.idct_islow(dq, dst + bx * 8, s->ring_stride[c]);
            }
        }
    }
}

/* The fused kernel's 16-bit quantizer constants (fdj_simd.h) for the table q
 * (the divisors' q); 0 when an entry is above 4080. */
int fdj_purify_consts_init(fdj_purify_consts *pc, const int32_t q[64])
{
    int i, h;
    for (i = 0; i < 64; i++)
        if (q[i] < 1 || q[i] > 4080)
            return 0;
    for (i = 0; i < 64; i++) {
        uint32_t d = 8 * (uint32_t)q[i], l = 0, shift;
        uint16_t v[4];
        while (((uint32_t)1 << l) < d)
            l++; /* ceil(log2 d), 3..15 */
        shift = 15 + l;
        v[FDJ_PQ_BIAS] = (uint16_t)(4 * q[i]);
        v[FDJ_PQ_MAGIC] = (uint16_t)((((uint64_t)1 << shift) + d - 1) / d);
        v[FDJ_PQ_POST] = (uint16_t)(1u << (32 - shift));
        v[FDJ_PQ_T] = (uint16_t)q[i];
        for (h = 0; h < 4; h++)
            pc->v[h][i >> 3][i & 7] = pc->v[h][i >> 3][8 + (i & 7)] = v[h];
    }
    return 1;
}

/* ---- purifiers ---------------------------------------------------------- */

int fdj_purifier_new(const fdj_encode_params *p, fdj_purifier **out, char msg[FDJ_MSG_SIZE])
{
    fdj_purifier *pf;
    fdj_enc_frame f;
    int st, t;
    if (msg)
        msg[0] = 0;
    if (!out)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "no place for the purifier");
    *out = NULL;
    if (!p)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "no parameters");
    pf = (fdj_purifier *)calloc(1, sizeof *pf);
    if (!pf)
        return fdj_fail(msg, FDJ_ERR_NOMEM, "out of memory");
    pf->p = *p;
    pf->p.extra_segments = NULL; /* purify writes no file */
    pf->p.extra_size = 0;
    if (pf->p.precision != 12) {
        /* the tables and sampling are checked here, the size (and max_pixels) per run */
        fdj_encode_params check = pf->p;
        check.width = check.height = 8;
        check.max_pixels = 0;
        st = fdj_enc_setup_frame(&check, &f, msg);
        if (st != FDJ_OK) {
            free(pf);
            return st;
        }
        fdj_kernels_init(&pf->k, f.simd); /* the level of p->cpu (fdj_enc_setup_frame) */
        for (t = 0; t < pf->p.num_qtables; t++) {
            fdj_enc_divisors_init(&pf->div[t], pf->p.qtable[t], &pf->k);
            pf->fuse[t] = pf->k.purify2 && fdj_purify_consts_init(&pf->pc[t], pf->div[t].q);
        }
    }
    *out = pf;
    return FDJ_OK;
}

void fdj_purifier_free(fdj_purifier *pf) { free(pf); }

/* ---- one thread's state for images of one shape ------------------------- */

static void state_close(purify_state *s)
{
    if (s->have_scratch)
        fdj_render_scratch_free(&s->scratch);
    if (s->have_band)
        fdj_enc_band_free(&s->band);
    free(s->ring_mem);
    s->ring_mem = NULL;
    s->have_scratch = s->have_band = 0;
}

static int state_open(purify_state *s, const fdj_purifier *pf, int width, int height,
                      ptrdiff_t col_stride, ptrdiff_t chan_stride, char *msg)
{
    fdj_encode_params p = pf->p;
    int st, c, h[FDJ_MAX_COMPONENTS], v[FDJ_MAX_COMPONENTS];
    memset(s, 0, sizeof *s);
    s->pf = pf;
    p.width = width;
    p.height = height;
    st = fdj_enc_setup_frame(&p, &s->f, msg);
    if (st != FDJ_OK)
        return st;
    /* 4:4:4 YCbCr from packed RGB with every table within the fused kernel's:
     * 16x8 tiles from the input straight to the output */
    s->tile = pf->k.purify_tile && pf->k.purify2 && pf->k.rgb_ycc_row && pf->k.ycc_rgb_row &&
              s->f.ncomp == 3 && s->f.jpeg_color == FDJ_CS_YCBCR &&
              s->f.max_h == 1 && s->f.max_v == 1 && col_stride == 3 && chan_stride == 1;
    for (c = 0; s->tile && c < 3; c++) {
        s->tile = pf->fuse[s->f.comp[c].tq];
        s->tile_pc[c] = &pf->pc[s->f.comp[c].tq];
    }
    if (s->tile)
        return FDJ_OK;
    for (c = 0; c < s->f.ncomp; c++) {
        h[c] = s->f.comp[c].h;
        v[c] = s->f.comp[c].v;
    }
    st = fdj_render_spec_init_level(&s->spec, s->f.width, s->f.height, s->f.ncomp, h, v,
                                    s->f.jpeg_color, FDJ_OUT_NATIVE, s->f.simd);
    if (st != FDJ_OK)
        return fdj_fail(msg, st, "unsupported sampling for purify");
    s->spec.invert_cmyk = s->f.cmyk_invert;
    /* 4:4:4 needs no context rows (no fancy upsampling): a strip's output rows are
     * its component rows through the YCbCr -> RGB row kernel, exactly what
     * fdj_render_rows does for h1v1 (upsample_row returns the ring row itself) */
    s->strip = s->f.ncomp == 3 && s->f.jpeg_color == FDJ_CS_YCBCR && s->f.max_h == 1 &&
               s->f.max_v == 1 && fdj_render_channels(&s->spec) == 3 &&
               s->spec.kern.ycc_rgb_row != NULL;
    st = setup_rings(s, msg);
    if (st == FDJ_OK) {
        st = fdj_enc_band_init(&s->band, &s->f, msg);
        s->have_band = st == FDJ_OK;
    }
    if (st == FDJ_OK) {
        if (fdj_render_scratch_init(&s->scratch, &s->spec) != FDJ_OK)
            st = fdj_fail(msg, FDJ_ERR_NOMEM, "out of memory for purify buffers");
        else
            s->have_scratch = 1;
    }
    if (st != FDJ_OK)
        state_close(s);
    return st;
}

/* A 16x8 RGB tile (rows `stride` apart) the tile kernel refused (a block
 * outside its exactness bound): the strip path's kernels on the tile -- the
 * RGB -> YCbCr row kernel, the two-block kernel with the separate kernels for
 * the blocks it refuses, the YCbCr -> RGB row kernel (state_open makes sure
 * the level has them). */
static void tile_fallback(const purify_state *s, const uint8_t *rgb, ptrdiff_t stride,
                          uint8_t *out, ptrdiff_t out_stride)
{
    const fdj_purifier *pf = s->pf;
    uint8_t pl[3][8 * 16], res[3][8 * 16];
    int32_t ws[64], dq[64];
    int x, y, c, j;
    for (y = 0; y < 8; y++) {
        const uint8_t *p = rgb + y * stride;
        uint8_t *py = pl[0] + 16 * y, *pb = pl[1] + 16 * y, *pr = pl[2] + 16 * y;
        for (x = pf->k.rgb_ycc_row(p, 16, py, pb, pr); x < 16; x++) {
            int32_t r = p[3 * x], g = p[3 * x + 1], b = p[3 * x + 2];
            py[x] = (uint8_t)((19595 * r + 38470 * g + 7471 * b + 32768) >> 16);
            pb[x] = (uint8_t)((-11059 * r - 21709 * g + 32768 * b + (128 << 16) + 32767) >> 16);
            pr[x] = (uint8_t)((32768 * r - 27439 * g - 5329 * b + (128 << 16) + 32767) >> 16);
        }
    }
    for (c = 0; c < 3; c++) {
        const int tq = s->f.comp[c].tq;
        int done = pf->k.purify2(pl[c], pl[c] + 8, 16, &pf->pc[tq], res[c], 16);
        for (j = 0; j < 2; j++) {
            if (done & (1 << j))
                continue;
            pf->k.fdct_islow(pl[c] + 8 * j, 16, ws);
            fdj_quantize_dequantize(ws, &pf->div[tq], dq);
            pf->k.idct_islow(dq, res[c] + 8 * j, 16);
        }
    }
    for (y = 0; y < 8; y++)
        pf->k.ycc_rgb_row(res[0] + 16 * y, res[1] + 16 * y, res[2] + 16 * y, 16, out + y * out_stride);
}

/* One image by 16x8 tiles.  Tiles over the right or bottom edge are first
 * padded as the encoder pads the image (last column, then last row repeated;
 * the colour transform is per pixel, so padding RGB pads YCbCr the same),
 * and only their real pixels are written. */
static void tile_image(const purify_state *s, const uint8_t *pixels, ptrdiff_t row_stride,
                       uint8_t *out, ptrdiff_t out_row_stride)
{
    const fdj_purify_tile_fn tile = s->pf->k.purify_tile;
    const int W = s->f.width, H = s->f.height, padded = s->f.comp[0].width_in_blocks * 8;
    int x0, y0, r, x;
    for (y0 = 0; y0 < H; y0 += 8) {
        const uint8_t *src = pixels + (ptrdiff_t)y0 * row_stride;
        uint8_t *dst = out + (ptrdiff_t)y0 * out_row_stride;
        int h = H - y0 < 8 ? H - y0 : 8;
        for (x0 = 0; x0 < padded; x0 += 16) {
            int w = W - x0 < 16 ? W - x0 : 16;
            if (h == 8 && w == 16) {
#if defined(__GNUC__) || defined(__clang__)
                if (y0 + 16 <= H) {
                    /* the tile below, for the next strip: the input is usually cold */
                    const uint8_t *nx = src + 8 * row_stride + 3 * x0;
                    for (r = 0; r < 8; r++) {
                        __builtin_prefetch(nx + r * row_stride);
                        __builtin_prefetch(nx + r * row_stride + 47);
                    }
                }
#endif
                if (!tile(src + 3 * x0, row_stride, s->tile_pc, dst + 3 * x0, out_row_stride))
                    tile_fallback(s, src + 3 * x0, row_stride, dst + 3 * x0, out_row_stride);
            } else {
                uint8_t in[8 * 48], res[8 * 48];
                for (r = 0; r < 8; r++) {
                    const uint8_t *p = src + (ptrdiff_t)(r < h ? r : h - 1) * row_stride + 3 * x0;
                    uint8_t *q = in + 48 * r;
                    memcpy(q, p, (size_t)(3 * w));
                    for (x = w; x < 16; x++)
                        memcpy(q + 3 * x, p + 3 * (w - 1), 3);
                }
                if (!tile(in, 48, s->tile_pc, res, 48))
                    tile_fallback(s, in, 48, res, 48);
                for (r = 0; r < h; r++)
                    memcpy(dst + (ptrdiff_t)r * out_row_stride + 3 * x0, res + 48 * r, (size_t)(3 * w));
            }
        }
    }
}

/* One image of the state's shape. */
static void state_run(purify_state *s, const uint8_t *pixels, ptrdiff_t row_stride,
                      ptrdiff_t col_stride, ptrdiff_t chan_stride, uint8_t *out,
                      ptrdiff_t out_row_stride)
{
    fdj_comp_rows comp[FDJ_MAX_COMPONENTS];
    int c, my, done_rows = 0;
    if (s->tile) {
        tile_image(s, pixels, row_stride, out, out_row_stride);
        return;
    }
    for (c = 0; c < s->f.ncomp; c++) {
        comp[c].rows = s->rows[c];
        comp[c].ring = s->ring[c];
    }
    for (my = 0; my < s->f.mcus_y; my++) {
        int ready;
        fdj_enc_band_convert(&s->band, &s->f, my, pixels, row_stride, col_stride, chan_stride);
        band_roundtrip(s, my);
        if (s->strip) {
            int y = my * 8, y1 = y + 8 > s->f.height ? s->f.height : y + 8;
            for (; y < y1; y++)
                s->spec.kern.ycc_rgb_row(s->rows[0][y & 7], s->rows[1][y & 7], s->rows[2][y & 7],
                                         s->f.width, out + (ptrdiff_t)y * out_row_stride);
            continue;
        }
        /* Output rows whose component rows (plus one row of context below)
         * now exist; everything at the last band. */
        ready = s->f.height;
        if (my != s->f.mcus_y - 1) {
            for (c = 0; c < s->f.ncomp; c++) {
                int have = (my + 1) * s->f.comp[c].v * 8;      /* component rows produced */
                int vx = s->f.max_v / s->f.comp[c].v;
                int out_rows = (have - 1) * vx;                 /* keep one row of context */
                if (out_rows < ready)
                    ready = out_rows;
            }
        }
        if (ready > done_rows) {
            fdj_render_rows(&s->spec, comp, &s->scratch, done_rows, ready,
                            out + (ptrdiff_t)done_rows * out_row_stride, out_row_stride);
            done_rows = ready;
        }
    }
}

/* ---- runs: N images of one shape split over threads --------------------- */
/* Images are handed out one at a time from a shared counter (an atomic
 * increment), so a thread that gets less CPU (a busy machine) does fewer of
 * them; without atomics, contiguous shares.  Each image is independent, so
 * the result is the same either way. */
#if defined(__GNUC__) || defined(__clang__)
#define FDJ_PURIFY_SHARED_COUNTER 1
#endif

typedef struct purify_job {
    const fdj_purifier *pf;
    int width, height;
    const uint8_t *pixels;
    uint8_t *out;
    ptrdiff_t image_stride, row_stride, col_stride, chan_stride, out_image_stride, out_row_stride;
    size_t *next;               /* the shared counter, or NULL: images first..end-1 */
    size_t count;
    size_t first, end;
    size_t failed;              /* the image that failed (count if none) */
    int status;
    char msg[FDJ_MSG_SIZE];
} purify_job;

/* The job's next image in *i; 0 when there is none left. */
static int next_image(purify_job *j, size_t *i)
{
#ifdef FDJ_PURIFY_SHARED_COUNTER
    if (j->next) {
        *i = __atomic_fetch_add(j->next, (size_t)1, __ATOMIC_RELAXED);
        return *i < j->count;
    }
#endif
    if (j->first >= j->end)
        return 0;
    *i = j->first++;
    return 1;
}

/* Images until none are left or one fails (the counter hands them out in
 * order, so the smallest failed index over all jobs is the first image in
 * batch order that fails). */
static void run_job(purify_job *j)
{
    purify_state *s = NULL;
    size_t i;
    j->status = FDJ_OK;
    j->failed = j->count;
    j->msg[0] = 0;
    while (next_image(j, &i)) {
        const uint8_t *px = j->pixels + (ptrdiff_t)i * j->image_stride;
        uint8_t *o = j->out + (ptrdiff_t)i * j->out_image_stride;
        if (j->pf->p.precision == 12) {
            fdj_encode_params p = j->pf->p;
            p.width = j->width;
            p.height = j->height;
            j->status = fdj_purify12(&p, px, j->row_stride, j->col_stride, j->chan_stride, o,
                                     j->out_row_stride, j->msg);
        } else {
            if (!s) {
                /* set up once for all of this job's images (one shape) */
                s = (purify_state *)malloc(sizeof *s);
                if (!s)
                    j->status = fdj_fail(j->msg, FDJ_ERR_NOMEM, "out of memory");
                else if ((j->status = state_open(s, j->pf, j->width, j->height, j->col_stride,
                                                 j->chan_stride, j->msg)) != FDJ_OK) {
                    free(s);
                    s = NULL;
                }
            }
            if (s)
                state_run(s, px, j->row_stride, j->col_stride, j->chan_stride, o, j->out_row_stride);
        }
        if (j->status != FDJ_OK) {
            j->failed = i;
            break;
        }
    }
    if (s) {
        state_close(s);
        free(s);
    }
}

#define FDJ_PURIFY_MAX_THREADS 256

#if defined(_WIN32)
#include <windows.h>
static DWORD WINAPI job_main(LPVOID arg)
{
    run_job((purify_job *)arg);
    return 0;
}
typedef HANDLE job_thread;
static int job_start(job_thread *t, purify_job *j)
{
    *t = CreateThread(NULL, 0, job_main, j, 0, NULL);
    return *t != NULL;
}
static void job_join(job_thread t)
{
    WaitForSingleObject(t, INFINITE);
    CloseHandle(t);
}
#else
#include <pthread.h>
static void *job_main(void *arg)
{
    run_job((purify_job *)arg);
    return NULL;
}
typedef pthread_t job_thread;
static int job_start(job_thread *t, purify_job *j) { return pthread_create(t, NULL, job_main, j) == 0; }
static void job_join(job_thread t) { pthread_join(t, NULL); }
#endif

int fdj_purifier_run(const fdj_purifier *pf, int width, int height, size_t count,
                     const uint8_t *pixels, ptrdiff_t image_stride, ptrdiff_t row_stride,
                     ptrdiff_t col_stride, ptrdiff_t chan_stride, uint8_t *out,
                     ptrdiff_t out_image_stride, ptrdiff_t out_row_stride, int threads,
                     char msg[FDJ_MSG_SIZE])
{
    purify_job one, *jobs;
    job_thread *tids;
    unsigned char *started;
    size_t t, nt, i, first_failed = count, next = 0;
    int st = FDJ_OK;
    if (msg)
        msg[0] = 0;
    if (!pf)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "no purifier");
    if (threads < 1)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "threads must be at least 1, got %d", threads);
    if (count == 0)
        return FDJ_OK;
    if (!pixels || !out)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "no pixels or no output");
    nt = (size_t)threads;
    if (nt > FDJ_PURIFY_MAX_THREADS)
        nt = FDJ_PURIFY_MAX_THREADS;
    if (nt > count)
        nt = count;
    if (nt == 1) {
        /* one thread: no allocation for the job table */
        jobs = &one;
        tids = NULL;
        started = NULL;
        memset(&one, 0, sizeof one);
    } else {
        jobs = (purify_job *)calloc(nt, sizeof *jobs);
        tids = (job_thread *)calloc(nt, sizeof *tids);
        started = (unsigned char *)calloc(nt, 1);
        if (!jobs || !tids || !started) {
            free(jobs);
            free(tids);
            free(started);
            return fdj_fail(msg, FDJ_ERR_NOMEM, "out of memory");
        }
    }
    /* the shared counter; without atomics contiguous shares, the first count % nt one
     * image larger */
    for (t = 0, i = 0; t < nt; t++) {
        purify_job *j = &jobs[t];
#ifdef FDJ_PURIFY_SHARED_COUNTER
        j->next = nt > 1 ? &next : NULL;
#else
        j->next = NULL;
#endif
        j->count = count;
        j->pf = pf;
        j->width = width;
        j->height = height;
        j->pixels = pixels;
        j->out = out;
        j->image_stride = image_stride;
        j->row_stride = row_stride;
        j->col_stride = col_stride;
        j->chan_stride = chan_stride;
        j->out_image_stride = out_image_stride;
        j->out_row_stride = out_row_stride;
        j->first = i;
        i += count / nt + (t < count % nt);
        j->end = i;
    }
    /* job 0 runs here; a thread that cannot start runs here too, afterwards */
    for (t = 1; t < nt; t++)
        started[t] = (unsigned char)job_start(&tids[t], &jobs[t]);
    run_job(&jobs[0]);
    for (t = 1; t < nt; t++) {
        if (started[t])
            job_join(tids[t]);
        else
            run_job(&jobs[t]);
    }
    /* report the first image (in batch order) that failed */
    for (t = 0; t < nt; t++) {
        if (jobs[t].status != FDJ_OK && jobs[t].failed < first_failed) {
            first_failed = jobs[t].failed;
            st = fdj_fail(msg, jobs[t].status, "%s", jobs[t].msg);
        }
    }
    if (jobs != &one) {
        free(jobs);
        free(tids);
        free(started);
    }
    return st;
}

/* ---- one-shot entry points: a purifier for the call ----------------------- */

int fdj_purify_batch(const fdj_encode_params *p, size_t count, const uint8_t *pixels,
                     ptrdiff_t image_stride, ptrdiff_t row_stride, ptrdiff_t col_stride,
                     ptrdiff_t chan_stride, uint8_t *out, ptrdiff_t out_image_stride,
                     ptrdiff_t out_row_stride, int threads, char msg[FDJ_MSG_SIZE])
{
    fdj_purifier *pf;
    int st;
    if (msg)
        msg[0] = 0;
    if (threads < 1)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "threads must be at least 1, got %d", threads);
    if (count == 0)
        return FDJ_OK;
    if (!p)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "no parameters");
    st = fdj_purifier_new(p, &pf, msg);
    if (st != FDJ_OK)
        return st;
    st = fdj_purifier_run(pf, p->width, p->height, count, pixels, image_stride, row_stride,
                          col_stride, chan_stride, out, out_image_stride, out_row_stride, threads,
                          msg);
    fdj_purifier_free(pf);
    return st;
}

int fdj_purify(const fdj_encode_params *p, const uint8_t *pixels, ptrdiff_t row_stride,
               ptrdiff_t col_stride, ptrdiff_t chan_stride, uint8_t *out,
               ptrdiff_t out_row_stride, char msg[FDJ_MSG_SIZE])
{
    if (msg)
        msg[0] = 0;
    if (p && p->precision == 12)
        return fdj_purify12(p, pixels, row_stride, col_stride, chan_stride, out, out_row_stride, msg);
    if (!pixels || !out)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "no pixels or no output");
    return fdj_purify_batch(p, 1, pixels, 0, row_stride, col_stride, chan_stride, out, 0,
                            out_row_stride, 1, msg);
}
