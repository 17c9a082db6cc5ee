/*
 * enc_huff_table.c -- the encoder's Huffman tables: the Annex K.3 standard
 * tables, canonical code assignment (T.81 C.2) and optimal tables built as
 * libjpeg's jpeg_gen_optimal_table does (K.2 with the same tie breaking, so
 * optimized files equal libjpeg's byte for byte).
 */
#include "enc_internal.h"

void fdj_huff_std_spec(int ac, int chroma, fdj_huff_spec *out)
{
    const uint8_t *bits, *vals;
    int k, n = 0;
    fdj_std_huff_table(ac, chroma, &bits, &vals);
    memset(out, 0, sizeof *out);
    for (k = 1; k <= 16; k++) {
        out->bits[k] = bits[k];
        n += bits[k];
    }
    memcpy(out->vals, vals, (size_t)n);
    out->nvals = n;
}

/* Canonical codes (T.81 C.2): lengths in order, codes counting up. */
int fdj_huff_derive(const fdj_huff_spec *s, fdj_huff_code *c, char *msg)
{
    int k, i, p = 0, n8 = 0;
    uint32_t code = 0;
    memset(c, 0, sizeof *c);
    for (k = 1; k <= 16; k++) {
        for (i = 0; i < s->bits[k]; i++, p++) {
            int sym;
            if (p >= s->nvals)
                return fdj_fail(msg, FDJ_ERR_ARGUMENT, "Huffman table lists too few symbols");
            sym = s->vals[p];
            if (c->size[sym])
                return fdj_fail(msg, FDJ_ERR_ARGUMENT, "Huffman table repeats symbol %d", sym);
            c->code[sym] = (uint16_t)code;
            c->size[sym] = (uint8_t)k;
            c->ent[sym] = (uint64_t)(k + (sym & 15)) << 32 | (uint64_t)code << (sym & 15);
            /* the 162 symbols of 8-bit AC coding (symbols are distinct) */
            n8 += ((sym & 15) >= 1 && (sym & 15) <= 10) || sym == 0x00 || sym == 0xF0;
            code++;
        }
        /* all-ones codes are reserved: the next length must start below 2^k */
        if (code >= ((uint32_t)1 << k))
            return fdj_fail(msg, FDJ_ERR_ARGUMENT, "bad Huffman table (code space overflow)");
        code <<= 1;
    }
    c->full8 = n8 == 162;
    return FDJ_OK;
}

/* K.2 with libjpeg's details: symbol 256 reserves the all-ones code; among
 * equal frequencies the larger symbol value is merged first; lengths above 16
 * are folded down as in Figure K.3. */
int fdj_huff_optimal(const uint32_t freq_in[257], fdj_huff_spec *out, char *msg)
{
    uint32_t freq[257];
    int codesize[257], others[257], bits[33];
    int i, j, k, c1, c2, p;
    uint32_t v;
    memcpy(freq, freq_in, sizeof freq);
    freq[256] = 1;
    for (i = 0; i < 257; i++) {
        codesize[i] = 0;
        others[i] = -1;
    }
    memset(bits, 0, sizeof bits);
    for (;;) {
        c1 = -1;
        v = UINT32_MAX;
        for (i = 0; i <= 256; i++)
            if (freq[i] && freq[i] <= v) {
                v = freq[i];
                c1 = i;
            }
        c2 = -1;
        v = UINT32_MAX;
        for (i = 0; i <= 256; i++)
            if (freq[i] && freq[i] <= v && i != c1) {
                v = freq[i];
                c2 = i;
            }
        if (c2 < 0)
            break;
        freq[c1] += freq[c2];
        freq[c2] = 0;
        codesize[c1]++;
        while (others[c1] >= 0) {
            c1 = others[c1];
            codesize[c1]++;
        }
        others[c1] = c2;
        codesize[c2]++;
        while (others[c2] >= 0) {
            c2 = others[c2];
            codesize[c2]++;
        }
    }
    for (i = 0; i <= 256; i++) {
        if (codesize[i]) {
            if (codesize[i] > 32)
                return fdj_fail(msg, FDJ_ERR_ARGUMENT, "Huffman code length overflow");
            bits[codesize[i]]++;
        }
    }
    for (i = 32; i > 16; i--) {
        while (bits[i] > 0) {
            j = i - 2;
            while (bits[j] == 0)
                j--;
            bits[i] -= 2;
            bits[i - 1]++;
            bits[j + 1] += 2;
            bits[j]--;
        }
    }
    while (bits[i] == 0)
        i--;
    bits[i]--; /* remove the reserved code */
    memset(out, 0, sizeof *out);
    for (k = 1; k <= 16; k++)
        out->bits[k] = (uint8_t)bits[k];
    p = 0;
    for (k = 1; k <= 32; k++)
        for (j = 0; j <= 255; j++)
            if (codesize[j] == k)
                out->vals[p++] = (uint8_t)j;
    out->nvals = p;
    return FDJ_OK;
}
