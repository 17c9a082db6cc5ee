/*
 * enc_file.c -- the file writer (libjpeg's jcmaster.c pass control): the markers
 * in B.2 order (SOI, APPn, DQT, SOF, then per scan DHT/DRI/SOS and entropy data,
 * EOI) around the scan coders of enc_huff.c / enc_phuff.c, for a frame whose
 * coefficient arrays are filled: whole (every scan, optimal tables, progressive)
 * or a sequential file streamed by MCU rows (standard tables).
 */
#include "enc_entropy.h"

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

    cd = (coder *)malloc(sizeof *cd);
    if (!cd)
        return fdj_fail(msg, FDJ_ERR_NOMEM, "out of memory");
    memset(cd, 0, CODER_HEAD);
    cd->f = f;
    cd->msg = msg;
    fdj_enc_coder_kernels(cd, f->simd);
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
    scan_desc scan;
    fdj_buf *out;
    coder cd; /* last: only its head needs clearing (CODER_HEAD) */
};

int fdj_enc_stream_begin(fdj_enc_stream **sp, const fdj_enc_frame *f, const fdj_encode_params *p,
                         const fdj_kernels *k, fdj_buf *out, char *msg)
{
    fdj_enc_stream *s;
    int st, ri, last_restart = 0;
    *sp = NULL;
    s = (fdj_enc_stream *)malloc(sizeof *s);
    if (!s)
        return fdj_fail(msg, FDJ_ERR_NOMEM, "out of memory");
    memset(s, 0, offsetof(fdj_enc_stream, cd) + CODER_HEAD);
    s->cd.f = f;
    s->cd.msg = msg;
    fdj_enc_coder_kernels_of(&s->cd, k);
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
