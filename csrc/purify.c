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

typedef struct purify_state {
    fdj_enc_frame f;
    fdj_enc_band band;
    fdj_divisors div[4];
    fdj_kernels k;              /* the level's kernels (fdj_simd.h) */
    int fuse[4];                /* table t fits the fused two-block kernel (k.purify2) */
    fdj_purify_consts pc[4];    /* its constants */
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
    int c, by, bx;
    int32_t ws[64], dq[64];
    for (c = 0; c < s->f.ncomp; c++) {
        const fdj_enc_comp *cp = &s->f.comp[c];
        const fdj_divisors *dv = &s->div[cp->tq];
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
            if (s->fuse[cp->tq]) {
                /* FDCT -> quantize/dequantize -> IDCT in registers, two blocks at a
                 * time; the separate kernels for a block it refuses */
                for (; bx + 2 <= cp->width_in_blocks; bx += 2) {
                    int done = s->k.purify2(src + bx * 8, src + bx * 8 + 8, s->band.plane_stride[c],
                                            &s->pc[cp->tq], dst + bx * 8, s->ring_stride[c]);
                    int j;
                    for (j = 0; j < 2 && done != 3; j++) {
                        if (done & (1 << j))
                            continue;
                        s->k.fdct_islow(src + (bx + j) * 8, s->band.plane_stride[c], ws);
                        fdj_quantize_dequantize(ws, dv, dq);
                        s->k.idct_islow(dq, dst + (bx + j) * 8, s->ring_stride[c]);
                    }
                }
            }
            if (s->k.fdct_islow2) {
                int32_t ws2[64];
                int32_t dq2[64];
                for (; bx + 2 <= cp->width_in_blocks; bx += 2) {
                    s->k.fdct_islow2(src + bx * 8, src + bx * 8 + 8, s->band.plane_stride[c], ws, ws2);
                    fdj_quantize_dequantize(ws, dv, dq);
                    fdj_quantize_dequantize(ws2, dv, dq2);
                    if (s->k.idct_islow2) {
                        /* 16-bit lanes, two blocks; the scalar-range kernel for any it refuses */
                        int done = s->k.idct_islow2(dq, dq2, dst + bx * 8, s->ring_stride[c]);
                        if (!(done & 1))
                            s->k.idct_islow(dq, dst + bx * 8, s->ring_stride[c]);
                        if (!(done & 2))
                            s->k.idct_islow(dq2, dst + bx * 8 + 8, s->ring_stride[c]);
                    } else {
                        s->k.idct_islow(dq, dst + bx * 8, s->ring_stride[c]);
                        s->k.idct_islow(dq2, dst + bx * 8 + 8, s->ring_stride[c]);
                    }
                }
            }
            for (; bx < cp->width_in_blocks; bx++) {
                s->k.fdct_islow(src + bx * 8, s->band.plane_stride[c], ws);
                fdj_quantize_dequantize(ws, dv, dq);
                s->k.idct_islow(dq, dst + bx * 8, s->ring_stride[c]);
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

int fdj_purify(const fdj_encode_params *p, const uint8_t *pixels, ptrdiff_t row_stride,
               ptrdiff_t col_stride, ptrdiff_t chan_stride, uint8_t *out,
               ptrdiff_t out_row_stride, char msg[FDJ_MSG_SIZE])
{
    purify_state *s;
    fdj_render_spec spec;
    fdj_render_scratch scratch;
    fdj_comp_rows comp[FDJ_MAX_COMPONENTS];
    int st, c, t, my, h[FDJ_MAX_COMPONENTS], v[FDJ_MAX_COMPONENTS];
    int done_rows = 0;
    if (msg)
        msg[0] = 0;
    if (p && p->precision == 12)
        return fdj_purify12(p, pixels, row_stride, col_stride, chan_stride, out, out_row_stride, msg);
    if (!pixels || !out)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "no pixels or no output");
    s = (purify_state *)calloc(1, sizeof *s);
    if (!s)
        return fdj_fail(msg, FDJ_ERR_NOMEM, "out of memory");
    st = fdj_enc_setup_frame(p, &s->f, msg);
    if (st != FDJ_OK)
        goto done_state;
    fdj_kernels_init(&s->k, s->f.simd);
    for (t = 0; t < p->num_qtables; t++) {
        fdj_enc_divisors_init(&s->div[t], p->qtable[t], &s->k);
        s->fuse[t] = s->k.purify2 && fdj_purify_consts_init(&s->pc[t], s->div[t].q);
    }
    for (c = 0; c < s->f.ncomp; c++) {
        h[c] = s->f.comp[c].h;
        v[c] = s->f.comp[c].v;
    }
    st = fdj_render_spec_init_level(&spec, s->f.width, s->f.height, s->f.ncomp, h, v,
                                    s->f.jpeg_color, FDJ_OUT_NATIVE, s->f.simd);
    if (st != FDJ_OK) {
        st = fdj_fail(msg, st, "unsupported sampling for purify");
        goto done_state;
    }
    spec.invert_cmyk = s->f.cmyk_invert;
    /* 4:4:4 needs no context rows (no fancy upsampling): a strip's output rows are
     * its component rows through the YCbCr -> RGB row kernel, exactly what
     * fdj_render_rows does for h1v1 (upsample_row returns the ring row itself) */
    s->strip = s->f.ncomp == 3 && s->f.jpeg_color == FDJ_CS_YCBCR && s->f.max_h == 1 &&
               s->f.max_v == 1 && fdj_render_channels(&spec) == 3 && spec.kern.ycc_rgb_row != NULL;
    st = setup_rings(s, msg);
    if (st != FDJ_OK)
        goto done_state;
    st = fdj_enc_band_init(&s->band, &s->f, msg);
    if (st != FDJ_OK)
        goto done_rings;
    if (fdj_render_scratch_init(&scratch, &spec) != FDJ_OK) {
        st = fdj_fail(msg, FDJ_ERR_NOMEM, "out of memory for purify buffers");
        goto done_band;
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
                spec.kern.ycc_rgb_row(s->rows[0][y & 7], s->rows[1][y & 7], s->rows[2][y & 7],
                                      s->f.width, out + (ptrdiff_t)y * out_row_stride);
            continue;
        }
        /* Output rows whose component rows (plus one row of context below)
         * now exist; everything at the last band. */
        if (my == s->f.mcus_y - 1) {
            ready = s->f.height;
        } else {
            ready = s->f.height;
            for (c = 0; c < s->f.ncomp; c++) {
                int have = (my + 1) * s->f.comp[c].v * 8;      /* component rows produced */
                int vx = s->f.max_v / s->f.comp[c].v;
                int out_rows = (have - 1) * vx;                 /* keep one row of context */
                if (out_rows < ready)
                    ready = out_rows;
            }
        }
        if (ready > done_rows) {
            fdj_render_rows(&spec, comp, &scratch, done_rows, ready,
                            out + (ptrdiff_t)done_rows * out_row_stride, out_row_stride);
            done_rows = ready;
        }
    }
    fdj_render_scratch_free(&scratch);
done_band:
    fdj_enc_band_free(&s->band);
done_rings:
    free(s->ring_mem);
done_state:
    free(s);
    return st;
}

/* ---- batches: N images of one shape split over threads ----------------- */
typedef struct purify_job {
    const fdj_encode_params *p;
    const uint8_t *pixels;
    uint8_t *out;
    ptrdiff_t image_stride, row_stride, col_stride, chan_stride, out_image_stride, out_row_stride;
    size_t first, end;          /* images first..end-1 */
    size_t failed;              /* index of the image that failed (end if none) */
    int status;
    char msg[FDJ_MSG_SIZE];
} purify_job;

static void run_job(purify_job *j)
{
    size_t i;
    j->status = FDJ_OK;
    j->failed = j->end;
    j->msg[0] = 0;
    for (i = j->first; i < j->end; i++) {
        j->status = fdj_purify(j->p, j->pixels + (ptrdiff_t)i * j->image_stride, j->row_stride,
                               j->col_stride, j->chan_stride,
                               j->out + (ptrdiff_t)i * j->out_image_stride, j->out_row_stride,
                               j->msg);
        if (j->status != FDJ_OK) {
            j->failed = i;
            return;
        }
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

int fdj_purify_batch(const fdj_encode_params *p, size_t count, const uint8_t *pixels,
                     ptrdiff_t image_stride, ptrdiff_t row_stride, ptrdiff_t col_stride,
                     ptrdiff_t chan_stride, uint8_t *out, ptrdiff_t out_image_stride,
                     ptrdiff_t out_row_stride, int threads, char msg[FDJ_MSG_SIZE])
{
    purify_job *jobs;
    job_thread *tids;
    unsigned char *started;
    size_t t, nt, i, first_failed = count;
    int st = FDJ_OK;
    if (msg)
        msg[0] = 0;
    if (threads < 1)
        return fdj_fail(msg, FDJ_ERR_ARGUMENT, "threads must be at least 1, got %d", threads);
    if (count == 0)
        return FDJ_OK;
    nt = (size_t)threads;
    if (nt > FDJ_PURIFY_MAX_THREADS)
        nt = FDJ_PURIFY_MAX_THREADS;
    if (nt > count)
        nt = count;
    jobs = (purify_job *)calloc(nt, sizeof *jobs);
    tids = (job_thread *)calloc(nt, sizeof *tids);
    started = (unsigned char *)calloc(nt, 1);
    if (!jobs || !tids || !started) {
        free(jobs);
        free(tids);
        free(started);
        return fdj_fail(msg, FDJ_ERR_NOMEM, "out of memory");
    }
    /* contiguous shares, the first count % nt one image larger */
    for (t = 0, i = 0; t < nt; t++) {
        purify_job *j = &jobs[t];
        j->p = p;
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
    free(jobs);
    free(tids);
    free(started);
    return st;
}
