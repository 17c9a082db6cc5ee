/*
 * enc_huff_block.h -- the sequential Huffman block coder's bit writer in
 * registers (spill64, ENC_PUT) and the scalar reference block coder (T.81
 * F.1.2.1-2), fdj_huff_block_seq_scalar, compiled in enc_huff.c.  The AVX2 +
 * BMI2 sibling (enc_huff_simd.c) shares the bit writer.  To compile the coder
 * the includer defines
 *   ENC_HUFF_BLOCK_NAME   the function's name
 *   ENC_HUFF_BLOCK_ATTR   its attributes (target) or nothing
 *   ENC_HUFF_NONZERO_AC   the expression giving the block's nonzero-AC mask
 * and without ENC_HUFF_BLOCK_NAME only the bit writer is defined.  Include
 * once per translation unit, after enc_entropy.h.
 */
#ifndef FDJ_ENC_HUFF_BLOCK_H
#define FDJ_ENC_HUFF_BLOCK_H

/* ---- the sequential block coder's bit writer ----------------------------
 * One block is coded with the writer's state in registers: acc holds
 * 64 - room pending bits in its low end (bits above them are garbage that
 * the next shifts push out).  When a code does not fit, acc is topped up to
 * exactly 64 bits and goes out as 8 bytes at once -- byte by byte with 0xFF
 * stuffing (F.1.2.3) only when one of them is 0xFF.  Pending bits always
 * start on a byte boundary of the stream, so 64 bits are 8 whole bytes. */

/* nonzero when some byte of x is 0xFF (the zero-byte test on ~x) */
#define HAS_FF(x) ((~(x) - 0x0101010101010101ULL) & (x) & 0x8080808080808080ULL)

static uint8_t *spill_stuffed(uint8_t *p, uint64_t acc)
{
    int i;
    for (i = 56; i >= 0; i -= 8) {
        uint8_t b = (uint8_t)(acc >> i);
        *p++ = b;
        if (b == 0xFF)
            *p++ = 0;
    }
    return p;
}

FDJ_INLINE uint8_t *spill64(uint8_t *p, uint64_t acc)
{
    if (FDJ_UNLIKELY(HAS_FF(acc)))
        return spill_stuffed(p, acc);
#if (defined(__GNUC__) || defined(__clang__)) && defined(__BYTE_ORDER__) &&                      \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    acc = __builtin_bswap64(acc);
    memcpy(p, &acc, 8);
#else
    {
        int i;
        for (i = 0; i < 8; i++)
            p[i] = (uint8_t)(acc >> (56 - 8 * i));
    }
#endif
    return p + 8;
}

/* put the low `size` (1..32) bits of code; code has no bits above them
 * (uses and updates the locals p, acc, room) */
#define ENC_PUT(code, size)                                                                      \
    do {                                                                                         \
        uint64_t c_ = (code);                                                                    \
        int s_ = (size);                                                                         \
        room -= s_;                                                                              \
        if (FDJ_UNLIKELY(room < 0)) {                                                            \
            p = spill64(p, (acc << (s_ + room)) | (c_ >> -room));                                \
            room += 64;                                                                          \
            acc = c_;                                                                            \
        } else {                                                                                 \
            acc = (acc << s_) | c_;                                                              \
        }                                                                                        \
    } while (0)

#ifdef ENC_HUFF_BLOCK_NAME
#define PUT ENC_PUT
/* Sequential block (F.1.2.1-2): DC difference, then run/size coded AC; each
 * Huffman code goes out together with its extra bits.  The nonzero AC
 * coefficients come from a bit mask (fdj_nonzero_ac_*), so zero runs cost
 * nothing but a count-trailing-zeros. */
ENC_HUFF_BLOCK_ATTR void ENC_HUFF_BLOCK_NAME(coder *cd, const int16_t *zz, int ci)
{
    const fdj_enc_comp *cp = &cd->f->comp[ci];
    const fdj_huff_code *dc = &cd->dc_code[cp->dc_tbl], *ac = &cd->ac_code[cp->ac_tbl];
    bitwriter *w = &cd->w;
    uint8_t *p = w->out->data + w->out->size;
    uint64_t acc = w->acc;
    int room = 64 - w->nbits;
    int32_t diff = zz[0] - cd->last_dc[ci], s = diff >> 31;
    uint32_t a = (uint32_t)((diff ^ s) - s);
    int n = nbits_of(a), prev = 1;
    uint64_t nz = ENC_HUFF_NONZERO_AC(zz);
    cd->last_dc[ci] = zz[0];
    if (FDJ_UNLIKELY(n > FDJ_ENC_DC_MAX(cd->f) || dc->size[n] == 0)) {
        range_error(cd, ci);
        return;
    }
    PUT(((uint32_t)dc->code[n] << n) | ((uint32_t)(diff + s) & (((uint32_t)1 << n) - 1)),
        dc->size[n] + n);
    while (nz) {
        int k = lowest_bit(nz), r = k - prev, sym, size;
        int32_t v = zz[k];
        nz &= nz - 1;
        prev = k + 1;
        s = v >> 31;
        a = (uint32_t)((v ^ s) - s);
        n = nbits_nonzero(a);
        if (FDJ_UNLIKELY(r > 15)) {
            do {
                PUT(ac->code[0xF0], ac->size[0xF0]);
                r -= 16;
            } while (r > 15);
        }
        sym = (r << 4) + n;
        size = ac->size[sym & 0xFF];
        if (FDJ_UNLIKELY(n > FDJ_ENC_AC_MAX(cd->f) || size == 0)) {
            w->out->size = (size_t)(p - w->out->data);
            range_error(cd, ci);
            return;
        }
        PUT(((uint32_t)ac->code[sym] << n) | ((uint32_t)(v + s) & (((uint32_t)1 << n) - 1)),
            size + n);
    }
    if (prev != 64)
        PUT(ac->code[0], ac->size[0]);
    w->out->size = (size_t)(p - w->out->data);
    w->acc = acc;
    w->nbits = 64 - room;
}

#undef PUT
#endif /* ENC_HUFF_BLOCK_NAME */

#endif /* FDJ_ENC_HUFF_BLOCK_H */
