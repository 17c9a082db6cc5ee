/*
 * dec_marker.c -- marker segment parsing (T.81 B.1-B.2, Annex K for JFIF/Adobe),
 * one function per marker, all reads bounded by the segment and the input.
 * Where libjpeg is more tolerant than the letter of T.81 (short DQT tables,
 * missing DHT, garbage between markers) we follow libjpeg, since files that
 * libjpeg-turbo (and so Pillow) reads must read here too.
 */
#include "dec_internal.h"

/* A segment longer than the data: libjpeg reads such a segment byte by byte and
 * runs out of data (suspends) only if what is there is valid so far; the errors it
 * would raise first are reproduced here, since they decide whether a file whose last
 * scan is complete still decodes (a suspension after the last row is harmless). */
static int partial_segment_error(fdj_decoder *d, int marker, const uint8_t *p, size_t avail,
                                 size_t seglen, size_t off)
{
    size_t i;
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC &&
        d->have_sof)
        return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "duplicate SOF marker at offset %zu", off);
    switch (marker) {
    case 0xDD:
        return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "bad DRI length %zu at offset %zu", seglen, off);
    case 0xDA:
        if (avail >= 1 && (seglen != 2 * (size_t)p[0] + 6 || p[0] < 1 || p[0] > 4))
            return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "bad SOS length %zu at offset %zu", seglen, off);
        break;
    case 0xDB:
        for (i = 0; i < avail;) {
            if ((p[i] & 15) >= 4 || (p[i] >> 4) > 1)
                return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "bad DQT table at offset %zu", off);
            i += 1 + (size_t)64 * ((p[i] >> 4) + 1);
        }
        break;
    case 0xC4:
        for (i = 0; i + 17 <= avail;) {
            size_t k, count = 0;
            for (k = 1; k <= 16; k++)
                count += p[i + k];
            if (count > 256 || count > seglen - 2 - i - 17)
                return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "bad Huffman table (%zu codes) at offset %zu",
                                    count, off);
            if (i + 17 + count > avail)
                break;
            if ((p[i] & ~0x10) >= 4)
                return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "bad DHT table index %d at offset %zu",
                                    p[i] & ~0x10, off);
            i += 17 + count;
        }
        break;
    case 0xCC:
        for (i = 0; i + 2 <= avail; i += 2) {
            if (p[i] >= 32 || (p[i] < 16 && (p[i + 1] & 15) > (p[i + 1] >> 4)))
                return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "bad DAC entry at offset %zu", off);
        }
        break;
    default:
        break; /* APPn, COM, DNL: skipped, so running out of data is only a suspension */
    }
    return FDJ_OK;
}

/* Read a segment's length and bound it by the data; returns pointer to payload. */
static int segment(fdj_decoder *d, int marker, const uint8_t **payload, size_t *len)
{
    size_t at = d->pos, l;
    if (at + 2 > d->size) {
        if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 &&
            marker != 0xCC && d->have_sof)
            return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "duplicate SOF marker at offset %zu", at - 2);
        d->truncated = 1;
        return fdj_fail_dec(d, FDJ_ERR_TRUNCATED, "JPEG data ends inside the 0x%02X marker at offset %zu",
                            marker, at - 2);
    }
    l = ((size_t)d->data[at] << 8) | d->data[at + 1];
    if (l < 2 && ((marker >= 0xE0 && marker <= 0xEF) || marker == 0xFE)) {
        /* libjpeg skips length - 2 < 0 bytes, i.e. none, and so does Pillow */
        *payload = d->data + at + 2;
        *len = 0;
        d->pos = at + 2;
        return FDJ_OK;
    }
    if (at + l > d->real_size)
        d->truncated = 1; /* the segment runs into (or past) the EOI appended for allow_truncated */
    if (l < 2)
        return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "bad marker 0x%02X length %zu at offset %zu", marker,
                            l, at - 2);
    if (at + l > d->size) {
        int st = partial_segment_error(d, marker, d->data + at + 2, d->size - at - 2, l, at - 2);
        if (st != FDJ_OK)
            return st;
        d->truncated = 1;
        return fdj_fail_dec(d, FDJ_ERR_TRUNCATED,
                            "marker 0x%02X at offset %zu has length %zu past the end of data",
                            marker, at - 2, l);
    }
    d->segment_bytes += l;
    if (d->segment_bytes > d->opt.max_segment_bytes)
        return fdj_fail_dec(d, FDJ_ERR_TOO_LARGE, "marker segments exceed the limit of %llu bytes",
                            (unsigned long long)d->opt.max_segment_bytes);
    /* the marker list describes the caller's bytes only: a segment that runs into the
     * EOI appended for allow_truncated is listed with the length actually present */
    if (d->nmarkers)
        d->markers[d->nmarkers - 1].length =
            (uint32_t)(at + l <= d->real_size ? l : d->real_size - at);
    *payload = d->data + at + 2;
    *len = l - 2;
    d->pos = at + l;
    return FDJ_OK;
}

static int get_dqt(fdj_decoder *d, const uint8_t *p, size_t len, size_t off)
{
    while (len > 0) {
        int n = p[0], prec = n >> 4, t = n & 15, i, count;
        p++;
        len--;
        if (t >= 4)
            return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "bad DQT table index %d at offset %zu", t, off);
        if (prec > 1)
            return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "bad DQT precision %d at offset %zu", prec, off);
        count = 64;
        if (len < (size_t)64 * (prec + 1) && !d->have_sos)
            /* libjpeg reads a short table (the rest 1), but Pillow's header parse refuses
             * it ("bad quantization table marker"); after the first scan only libjpeg sees it */
            return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "bad DQT length at offset %zu (a short table)", off);
        if (len < (size_t)64 * (prec + 1)) {
            /* libjpeg: a short table is read as far as it goes, the rest is 1 */
            for (i = 0; i < 64; i++)
                d->qt[t][i] = 1;
            count = (int)(len / (size_t)(prec + 1));
        }
        for (i = 0; i < count; i++) {
            unsigned v = prec ? ((unsigned)p[2 * i] << 8) | p[2 * i + 1] : p[i];
            d->qt[t][fdj_zigzag_to_natural[i]] = (uint16_t)v;
        }
        p += (size_t)count * (prec + 1);
        len -= (size_t)count * (prec + 1);
        d->qt_defined[t] = prec ? 16 : 8;
        if (count < 64 && len != 0)
            break;
    }
    if (len != 0)
        return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "bad DQT length at offset %zu", off);
    return FDJ_OK;
}

static int get_dht(fdj_decoder *d, const uint8_t *p, size_t len, size_t off)
{
    while (len > 16) {
        int index = p[0], i, count = 0, is_ac;
        fdj_huff *t;
        uint8_t bits[17];
        bits[0] = 0;
        for (i = 1; i <= 16; i++) {
            bits[i] = p[i];
            count += p[i];
        }
        p += 17;
        len -= 17;
        if (count > 256 || (size_t)count > len)
            return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "bad Huffman table (%d codes) at offset %zu", count,
                                off);
        is_ac = index & 0x10;
        index &= ~0x10;
        if (index < 0 || index >= 4)
            return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "bad DHT table index %d at offset %zu", index, off);
        t = is_ac ? &d->ac[index] : &d->dc[index];
        memcpy(t->bits, bits, 17);
        memset(t->vals, 0, sizeof t->vals);
        memcpy(t->vals, p, (size_t)count);
        t->defined = 1;
        /* DHT only stores the table: libjpeg derives (and checks) a table when a scan
         * uses it, not at DHT; the entropy decoder does so (fdj_prepare_scan_tables) */
        t->built = 0;
        p += count;
        len -= (size_t)count;
    }
    if (len != 0)
        return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "bad DHT length at offset %zu", off);
    return FDJ_OK;
}

static int get_sof(fdj_decoder *d, int marker, const uint8_t *p, size_t len, size_t off)
{
    int nf, c, w, h;
    uint64_t pixels;
    fdj_info *inf = &d->info;
    if (d->have_sof)
        return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "duplicate SOF marker at offset %zu", off);
    if (len < 6)
        return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "bad SOF length %zu at offset %zu", len + 2, off);
    nf = p[5];
    if (len != 6 + 3 * (size_t)nf)
        return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "bad SOF length %zu for %d components at offset %zu",
                            len + 2, nf, off);
    inf->sof = marker - 0xC0;
    inf->precision = p[0];
    h = (p[1] << 8) | p[2];
    w = (p[3] << 8) | p[4];
    inf->progressive = marker == 0xC2 || marker == 0xCA;
    inf->arithmetic = marker >= 0xC9;
    inf->lossless = marker == 0xC3;
    switch (marker) {
    case 0xC0: case 0xC1: case 0xC2: case 0xC3: case 0xC9: case 0xCA:
        break;
    case 0xCB:
        return fdj_fail_dec(d, FDJ_ERR_UNSUPPORTED, "arithmetic-coded lossless JPEG (SOF11) is not supported");
    default:
        return fdj_fail_dec(d, FDJ_ERR_UNSUPPORTED,
                            "hierarchical JPEG (SOF%d) is not supported", marker - 0xC0);
    }
    /* as libjpeg-turbo 3: lossless 2..16 bits, lossy 8 or 12 bits */
    if (inf->lossless) {
        if (inf->precision < 2 || inf->precision > 16)
            return fdj_fail_dec(d, FDJ_ERR_UNSUPPORTED,
                                "%d-bit lossless JPEG is not supported (2 to 16 bits, as libjpeg-turbo)",
                                inf->precision);
    } else if (inf->precision != 8 && inf->precision != 12) {
        return fdj_fail_dec(d, FDJ_ERR_UNSUPPORTED,
                            "%d-bit sample precision is not supported (8 or 12 bits, as libjpeg-turbo)",
                            inf->precision);
    }
    if (w == 0 || nf == 0)
        return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "empty image (%d x %d, %d components) in SOF at offset %zu",
                            w, h, nf, off);
    if (h == 0)
        return fdj_fail_dec(d, FDJ_ERR_UNSUPPORTED, "image height 0 in SOF (height in DNL) is not supported");
    if (nf > FDJ_MAX_COMPONENTS || nf == 2)
        return fdj_fail_dec(d, FDJ_ERR_UNSUPPORTED, "%d-component images are not supported", nf);
    pixels = (uint64_t)w * (uint64_t)h;
    if (pixels > d->opt.max_pixels)
        return fdj_fail_dec(d, FDJ_ERR_TOO_LARGE,
                            "image of %d x %d = %llu pixels exceeds the limit of %llu pixels", w, h,
                            (unsigned long long)pixels, (unsigned long long)d->opt.max_pixels);
    inf->width = w;
    inf->height = h;
    inf->num_components = d->ncomp = nf;
    d->max_h = d->max_v = 1;
    for (c = 0; c < nf; c++) {
        fdj_dcomp *k = &d->comp[c];
        const uint8_t *q = p + 6 + 3 * c;
        k->id = q[0];
        k->h = q[1] >> 4;
        k->v = q[1] & 15;
        k->tq = q[2];
        if (k->h < 1 || k->h > 4 || k->v < 1 || k->v > 4)
            return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "bad sampling factors %dx%d for component %d", k->h,
                                k->v, c);
        /* Tq is checked when a scan latches the table (libjpeg's latch_quant_tables);
         * lossless frames never use it */
        if (k->h > d->max_h)
            d->max_h = k->h;
        if (k->v > d->max_v)
            d->max_v = k->v;
    }
    d->mcus_x = (int)(((int64_t)w + 8 * d->max_h - 1) / (8 * d->max_h));
    d->mcus_y = (int)(((int64_t)h + 8 * d->max_v - 1) / (8 * d->max_v));
    for (c = 0; c < nf; c++) {
        fdj_dcomp *k = &d->comp[c];
        k->dw = (int)(((int64_t)w * k->h + d->max_h - 1) / d->max_h);
        k->dh = (int)(((int64_t)h * k->v + d->max_v - 1) / d->max_v);
        k->width_in_blocks = (k->dw + 7) / 8;
        k->height_in_blocks = (k->dh + 7) / 8;
        if (nf == 1) {
            k->bw = k->width_in_blocks;
            k->bh = k->height_in_blocks;
        } else {
            k->bw = d->mcus_x * k->h;
            k->bh = d->mcus_y * k->v;
        }
        for (int i = 0; i < 64; i++)
            k->coef_bits[i] = -1;
        for (int i = 0; i < 10; i++)
            k->prev_coef_bits[i] = -1;
    }
    inf->max_h = d->max_h;
    inf->max_v = d->max_v;
    inf->mcus_x = d->mcus_x;
    inf->mcus_y = d->mcus_y;
    d->have_sof = 1;
    return FDJ_OK;
}

static int get_sos(fdj_decoder *d, const uint8_t *p, size_t len, size_t off)
{
    int ns, i, j;
    if (!d->have_sof)
        return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "SOS before SOF at offset %zu", off);
    if (len < 1)
        return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "bad SOS length at offset %zu", off);
    ns = p[0];
    if (len != 4 + 2 * (size_t)ns || ns < 1 || ns > FDJ_MAX_COMPONENTS)
        return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "bad SOS length %zu for %d components at offset %zu",
                            len + 2, ns, off);
    {
        /* libjpeg-turbo's duplicate check tests the slot of the *frame* index of a
         * candidate against the scan list being filled (cur_comp_info[ci]), so a scan
         * listing components out of frame order can be refused; we reproduce that
         * check exactly, since it decides which files libjpeg (and Pillow) reject. */
        int filled[FDJ_MAX_COMPONENTS] = {0, 0, 0, 0};
        for (i = 0; i < ns; i++) {
            int cs = p[1 + 2 * i], t = p[2 + 2 * i], found = -1;
            for (j = 0; j < d->ncomp; j++) {
                if (d->comp[j].id == cs && !filled[j]) {
                    found = j;
                    break;
                }
            }
            if (found < 0)
                return fdj_fail_dec(d, FDJ_ERR_CORRUPT,
                                    "SOS names unknown or repeated component id %d at offset %zu", cs,
                                    off);
            filled[i] = 1;
            d->scan_comp[i] = found;
            /* table selectors are checked when a table is needed (fdj_prepare_scan_tables) */
            d->scan_td[i] = t >> 4;
            d->scan_ta[i] = t & 15;
        }
    }
    d->scan_ncomp = ns;
    d->Ss = p[1 + 2 * ns];
    d->Se = p[2 + 2 * ns];
    d->Ah = p[3 + 2 * ns] >> 4;
    d->Al = p[3 + 2 * ns] & 15;
    if (d->info.progressive) {
        int bad = 0;
        if (d->Ss == 0) {
            if (d->Se != 0)
                bad = 1;
        } else {
            if (d->Ss > d->Se || d->Se > 63)
                bad = 1;
            if (ns != 1)
                bad = 1;
        }
        if (d->Ah != 0 && d->Al != d->Ah - 1)
            bad = 1;
        if (d->Al > 13)
            bad = 1;
        if (bad)
            return fdj_fail_dec(d, FDJ_ERR_CORRUPT,
                                "invalid progressive parameters Ss=%d Se=%d Ah=%d Al=%d at offset %zu",
                                d->Ss, d->Se, d->Ah, d->Al, off);
    } else if (d->info.lossless) {
        /* Ss = predictor, Al = point transform; checked by the lossless decoder */
    }
    /* latch quantization tables for components in their first scan (jdinput.c) */
    for (i = 0; i < ns; i++) {
        fdj_dcomp *k = &d->comp[d->scan_comp[i]];
        if (k->qlatched || d->info.lossless)
            continue;
        if (k->tq > 3 || !d->qt_defined[k->tq])
            return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "quantization table %d is not defined", k->tq);
        memcpy(k->q, d->qt[k->tq], sizeof k->q);
        k->qlatched = 1;
    }
    d->info.num_scans++;
    if (d->info.num_scans > d->opt.max_scans)
        return fdj_fail_dec(d, FDJ_ERR_TOO_LARGE, "more than %d scans (the scan limit)", d->opt.max_scans);
    return FDJ_OK;
}

/* DAC (T.81 B.2.4.3): arithmetic conditioning; libjpeg reads it for any frame type. */
static int get_dac(fdj_decoder *d, const uint8_t *p, size_t len, size_t off)
{
    while (len > 0) {
        int index, val;
        if (len < 2)
            return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "bad DAC length at offset %zu", off);
        index = p[0];
        val = p[1];
        p += 2;
        len -= 2;
        if (index < 0 || index >= 32)
            return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "bad DAC table index %d at offset %zu", index, off);
        if (index >= 16) {
            d->arith_ac_K[index - 16] = (uint8_t)val;
        } else {
            d->arith_dc_L[index] = (uint8_t)(val & 0x0F);
            d->arith_dc_U[index] = (uint8_t)(val >> 4);
            if (d->arith_dc_L[index] > d->arith_dc_U[index])
                return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "bad DAC value 0x%02X at offset %zu", val, off);
        }
    }
    return FDJ_OK;
}

static void get_app(fdj_decoder *d, int marker, const uint8_t *p, size_t len)
{
    fdj_info *inf = &d->info;
    if (marker == 0xE0 && len >= 14 && memcmp(p, "JFIF\0", 5) == 0) {
        inf->has_jfif = 1;
        inf->jfif_major = p[5];
        inf->jfif_minor = p[6];
        inf->density_unit = p[7];
        inf->x_density = (p[8] << 8) | p[9];
        inf->y_density = (p[10] << 8) | p[11];
    } else if (marker == 0xEE && len >= 12 && memcmp(p, "Adobe", 5) == 0) {
        inf->has_adobe = 1;
        inf->adobe_transform = p[11];
    }
}

/* Read markers until an SOS (returns 1) or EOI (returns 0); negative on error. */
int fdj_read_headers(fdj_decoder *d)
{
    for (;;) {
        int marker, st;
        size_t off;
        const uint8_t *p = NULL;
        size_t len = 0;
        st = fdj_next_marker(d, &marker);
        if (st != FDJ_OK)
            return st;
        off = d->pos - 2;
        switch (marker) {
        case 0xD8:
            return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "unexpected SOI marker at offset %zu", off);
        case 0xD9:
            d->saw_eoi = 1;
            if (d->pos > d->real_size)
                d->truncated = 1; /* the EOI appended for allow_truncated */
            return 0;
        case 0x01:
            /* TEM: libjpeg ignores it, but Pillow's own header scan refuses any code
             * below 0xC0 before the first scan; we side with Pillow there */
            if (!d->have_sos)
                return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "TEM marker before the first scan at offset %zu",
                                    off);
            continue;
        case 0xD0: case 0xD1: case 0xD2: case 0xD3:
        case 0xD4: case 0xD5: case 0xD6: case 0xD7:
            continue; /* stray RSTn outside a scan: libjpeg ignores them */
        case 0xC8:
            return fdj_fail_dec(d, FDJ_ERR_UNSUPPORTED, "JPEG extension frame (JPG marker) at offset %zu is not supported", off);
        default:
            break;
        }
        /* libjpeg's read_markers refuses codes it has no case for: reserved 0x02..0xBF,
         * DHP, EXP and JPG0..JPG13 (jdmarker.c JERR_UNKNOWN_MARKER) */
        if (marker < 0xC0 || marker == 0xDE || marker == 0xDF || (marker >= 0xF0 && marker <= 0xFD))
            return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "unsupported marker type 0x%02X at offset %zu", marker,
                                off);
        st = segment(d, marker, &p, &len);
        if (st != FDJ_OK)
            return st;
        if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
            st = get_sof(d, marker, p, len, off);
        } else if (marker == 0xC4) {
            st = get_dht(d, p, len, off);
        } else if (marker == 0xCC) {
            st = get_dac(d, p, len, off);
        } else if (marker == 0xDB) {
            st = get_dqt(d, p, len, off);
        } else if (marker == 0xDD) {
            if (len != 2)
                return fdj_fail_dec(d, FDJ_ERR_CORRUPT, "bad DRI length %zu at offset %zu", len + 2, off);
            d->restart_interval = (p[0] << 8) | p[1];
            if (!d->have_sos)
                d->info.restart_interval = d->restart_interval;
        } else if (marker == 0xDA) {
            st = get_sos(d, p, len, off);
            if (st != FDJ_OK)
                return st;
            d->have_sos = 1;
            return 1;
        } else if (marker >= 0xE0 && marker <= 0xEF) {
            get_app(d, marker, p, len);
        }
        /* COM and DNL: skipped (unknown codes were refused above) */
        if (st != FDJ_OK)
            return st;
    }
}
