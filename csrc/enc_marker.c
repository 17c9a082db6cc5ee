/*
 * enc_marker.c -- marker segments of the files fdjpeg writes (T.81 B.2, JFIF
 * 1.02 APP0, Adobe APP14), in the order and form libjpeg-turbo writes them:
 * SOI, APP0 or APP14, caller's segments, DQT per table, SOF, then per scan
 * DHT (DC then AC per component), DRI when it changes, SOS.
 */
#include "enc_internal.h"

void fdj_mark_soi(fdj_buf *b)
{
    fdj_buf_byte(b, 0xFF);
    fdj_buf_byte(b, 0xD8);
}

void fdj_mark_eoi(fdj_buf *b)
{
    fdj_buf_byte(b, 0xFF);
    fdj_buf_byte(b, 0xD9);
}

void fdj_mark_jfif(fdj_buf *b, int unit, int xd, int yd)
{
    static const uint8_t id[5] = {'J', 'F', 'I', 'F', 0};
    fdj_buf_byte(b, 0xFF);
    fdj_buf_byte(b, 0xE0);
    fdj_buf_u16be(b, 16);
    fdj_buf_put(b, id, 5);
    fdj_buf_byte(b, 1); /* version 1.01, as libjpeg writes */
    fdj_buf_byte(b, 1);
    fdj_buf_byte(b, (uint8_t)unit);
    fdj_buf_u16be(b, (unsigned)xd);
    fdj_buf_u16be(b, (unsigned)yd);
    fdj_buf_byte(b, 0); /* no thumbnail */
    fdj_buf_byte(b, 0);
}

void fdj_mark_adobe(fdj_buf *b, int transform)
{
    static const uint8_t id[5] = {'A', 'd', 'o', 'b', 'e'};
    fdj_buf_byte(b, 0xFF);
    fdj_buf_byte(b, 0xEE);
    fdj_buf_u16be(b, 14);
    fdj_buf_put(b, id, 5);
    fdj_buf_u16be(b, 100); /* version */
    fdj_buf_u16be(b, 0);   /* flags0 */
    fdj_buf_u16be(b, 0);   /* flags1 */
    fdj_buf_byte(b, (uint8_t)transform);
}

static int table_is_16bit(const uint16_t *t)
{
    int i;
    for (i = 0; i < 64; i++)
        if (t[i] > 255)
            return 1;
    return 0;
}

int fdj_mark_dqts(fdj_buf *b, const fdj_enc_frame *f)
{
    int sent[4] = {0, 0, 0, 0};
    int any16 = 0, c, i;
    for (c = 0; c < f->ncomp; c++) {
        int slot = f->comp[c].tq;
        const uint16_t *t = f->qtable[slot];
        int prec = table_is_16bit(t);
        any16 |= prec;
        if (sent[slot])
            continue;
        sent[slot] = 1;
        fdj_buf_byte(b, 0xFF);
        fdj_buf_byte(b, 0xDB);
        fdj_buf_u16be(b, prec ? 64 * 2 + 3 : 64 + 3);
        fdj_buf_byte(b, (uint8_t)(slot | (prec << 4)));
        for (i = 0; i < 64; i++) {
            unsigned v = t[fdj_zigzag_to_natural[i]];
            if (prec)
                fdj_buf_byte(b, (uint8_t)(v >> 8));
            fdj_buf_byte(b, (uint8_t)(v & 0xFF));
        }
    }
    return any16;
}

void fdj_mark_sof(fdj_buf *b, const fdj_enc_frame *f, int sof_type)
{
    int c;
    fdj_buf_byte(b, 0xFF);
    fdj_buf_byte(b, (uint8_t)(0xC0 + sof_type));
    fdj_buf_u16be(b, (unsigned)(8 + 3 * f->ncomp));
    fdj_buf_byte(b, (uint8_t)(f->precision == 12 ? 12 : 8));
    fdj_buf_u16be(b, (unsigned)f->height);
    fdj_buf_u16be(b, (unsigned)f->width);
    fdj_buf_byte(b, (uint8_t)f->ncomp);
    for (c = 0; c < f->ncomp; c++) {
        fdj_buf_byte(b, (uint8_t)f->comp[c].id);
        fdj_buf_byte(b, (uint8_t)((f->comp[c].h << 4) | f->comp[c].v));
        fdj_buf_byte(b, (uint8_t)f->comp[c].tq);
    }
}

void fdj_mark_dht(fdj_buf *b, int ac, int slot, const fdj_huff_spec *s)
{
    int k;
    fdj_buf_byte(b, 0xFF);
    fdj_buf_byte(b, 0xC4);
    fdj_buf_u16be(b, (unsigned)(2 + 1 + 16 + s->nvals));
    fdj_buf_byte(b, (uint8_t)(slot | (ac ? 0x10 : 0)));
    for (k = 1; k <= 16; k++)
        fdj_buf_byte(b, s->bits[k]);
    fdj_buf_put(b, s->vals, (size_t)s->nvals);
}

void fdj_mark_dri(fdj_buf *b, int interval)
{
    fdj_buf_byte(b, 0xFF);
    fdj_buf_byte(b, 0xDD);
    fdj_buf_u16be(b, 4);
    fdj_buf_u16be(b, (unsigned)interval);
}

void fdj_mark_sos(fdj_buf *b, const fdj_enc_frame *f, const int *comps, int ncomps, int ss,
                  int se, int ah, int al, int progressive)
{
    int i;
    fdj_buf_byte(b, 0xFF);
    fdj_buf_byte(b, 0xDA);
    fdj_buf_u16be(b, (unsigned)(6 + 2 * ncomps));
    fdj_buf_byte(b, (uint8_t)ncomps);
    for (i = 0; i < ncomps; i++) {
        const fdj_enc_comp *cp = &f->comp[comps[i]];
        int td = cp->dc_tbl, ta = cp->ac_tbl;
        if (progressive) {
            /* only the table the scan uses is named; 0 for the other (libjpeg) */
            if (ss == 0) {
                ta = 0;
                if (ah)
                    td = 0;
            } else {
                td = 0;
            }
        }
        fdj_buf_byte(b, (uint8_t)cp->id);
        fdj_buf_byte(b, (uint8_t)((td << 4) | ta));
    }
    fdj_buf_byte(b, (uint8_t)ss);
    fdj_buf_byte(b, (uint8_t)se);
    fdj_buf_byte(b, (uint8_t)((ah << 4) | al));
}

int fdj_mark_check_segments(const uint8_t *data, size_t size, char *msg)
{
    size_t pos = 0;
    while (pos < size) {
        unsigned m, len;
        if (size - pos < 4)
            return fdj_fail(msg, FDJ_ERR_ARGUMENT,
                            "extra_segments: incomplete segment at offset %zu", pos);
        m = data[pos + 1];
        if (data[pos] != 0xFF || !((m >= 0xE0 && m <= 0xEF) || m == 0xFE))
            return fdj_fail(msg, FDJ_ERR_ARGUMENT,
                            "extra_segments: expected an APPn or COM marker at offset %zu", pos);
        len = ((unsigned)data[pos + 2] << 8) | data[pos + 3];
        if (len < 2 || (size_t)len + 2 > size - pos)
            return fdj_fail(msg, FDJ_ERR_ARGUMENT,
                            "extra_segments: bad segment length %u at offset %zu", len, pos);
        pos += (size_t)len + 2;
    }
    return FDJ_OK;
}
