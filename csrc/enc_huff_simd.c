/*
 * enc_huff_simd.c -- SSE2 siblings of the entropy coders' block masks
 * (enc_huff.c fdj_nonzero_ac_scalar / fdj_abs_above_scalar): which
 * coefficients of a zigzag block are nonzero (T.81 F.1.2.2 run lengths) or
 * exceed a point-transform threshold (G.1.2.2-3), sixteen at a time; and the
 * AVX2 + BMI2 sibling of the sequential block coder (enc_huff_block.h).
 */
#include "enc_entropy.h"
#include "enc_huff_block.h" /* the bit writer (spill64, ENC_PUT) */

#ifdef FDJ_X86_SIMD
#include "fdj_simd_x86.h"

#define FDJ_BMI2 __attribute__((target("avx2,bmi,bmi2,lzcnt")))

FDJ_SSE2 static inline uint64_t nonzero_ac(const int16_t *zz)
{
    const __m128i zero = _mm_setzero_si128();
    uint64_t m = 0;
    int k;
    for (k = 0; k < 64; k += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(zz + k));
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(zz + k + 8));
        __m128i z = _mm_packs_epi16(_mm_cmpeq_epi16(a, zero), _mm_cmpeq_epi16(b, zero));
        m |= (uint64_t)(uint16_t)~_mm_movemask_epi8(z) << k;
    }
    return m & ~(uint64_t)1;
}

FDJ_SSE2 uint64_t fdj_nonzero_ac_sse2(const int16_t *zz)
{
    return nonzero_ac(zz);
}

FDJ_SSE2 uint64_t fdj_abs_above_sse2(const int16_t *zz, int thr)
{
    const __m128i zero = _mm_setzero_si128(), t = _mm_set1_epi16((short)thr);
    uint64_t m = 0;
    int k;
    for (k = 0; k < 64; k += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(zz + k));
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(zz + k + 8));
        a = _mm_max_epi16(a, _mm_subs_epi16(zero, a));
        b = _mm_max_epi16(b, _mm_subs_epi16(zero, b));
        m |= (uint64_t)(uint16_t)_mm_movemask_epi8(
                 _mm_packs_epi16(_mm_cmpgt_epi16(a, t), _mm_cmpgt_epi16(b, t)))
             << k;
    }
    return m;
}

/* ---- the sequential block coder for CPUs with AVX2, BMI1/2 and LZCNT ----
 * The same bytes as the scalar reference fdj_huff_block_seq_scalar
 * (enc_huff_block.h), the way libjpeg-turbo's SIMD Huffman encoder works:
 * the block's magnitudes, extra bits and nonzero mask are computed for all 64
 * coefficients at once, then a scalar walk over the set bits of the mask
 * (tzcnt) emits each code with its extra bits from one table word
 * (fdj_huff_code.ent: code << size category | total length << 32).
 *
 * For every coefficient v, a = |v| and m = 2^n - 1 with n = its magnitude
 * category (a smeared right); the extra bits are v for v > 0 and v - 1 masked
 * to n bits = m - a = a ^ m for v < 0 (T.81 F.1.2.1), i.e. a ^ (m & sign).  a
 * and the extra bits travel as one 32-bit word a << 16 | extra, whose leading
 * zero count is 16 - n.
 *
 * Anything unusual -- a DC difference or AC value out of range for the
 * precision, a symbol the table has no code for -- hands the whole block to
 * the scalar reference before any state changes, so errors (and their
 * messages) are the reference's own. */

FDJ_BMI2 static inline __m256i smear16(__m256i a)
{
    a = _mm256_or_si256(a, _mm256_srli_epi16(a, 1));
    a = _mm256_or_si256(a, _mm256_srli_epi16(a, 2));
    a = _mm256_or_si256(a, _mm256_srli_epi16(a, 4));
    return _mm256_or_si256(a, _mm256_srli_epi16(a, 8));
}

/* 16 coefficients (natural order of the zigzag block) -> 16 words a << 16 | extra, in order */
FDJ_BMI2 static inline void pack16(__m256i v, __m256i a, uint32_t *out)
{
    __m256i e = _mm256_xor_si256(a, _mm256_and_si256(smear16(a), _mm256_srai_epi16(v, 15)));
    e = _mm256_permute4x64_epi64(e, 0xD8);  /* 0-3 8-11 | 4-7 12-15 */
    a = _mm256_permute4x64_epi64(a, 0xD8);
    _mm256_storeu_si256((__m256i *)(void *)out, _mm256_unpacklo_epi16(e, a));
    _mm256_storeu_si256((__m256i *)(void *)(out + 8), _mm256_unpackhi_epi16(e, a));
}

/* The block's entropy data; returns 0, committing nothing, when the block
 * needs the scalar reference.  `checked`: the AC table may lack codes (an
 * optimal table), so every AC symbol's word is tested for 0; without it the
 * table has a code for every symbol an in-range 8-bit block can need
 * (fdj_huff_code.full8, e.g. Annex K's). */
FDJ_BMI2 static inline __attribute__((always_inline)) int
block_avx2(coder *cd, const int16_t *zz, int ci, const uint64_t *dct, const uint64_t *act,
           int ac_max, int dc_max, const int checked)
{
    uint32_t pk[64];
    bitwriter *w = &cd->w;
    uint8_t *p;
    uint64_t acc, nz, ent;
    /* 16 * (zigzag position after the last coded one); the table index of an AC
     * value at k with magnitude category n is 16 (k - prev) + n = 16 k - base + n */
    ptrdiff_t base = 16;
    int room, n;
    int32_t diff, s;
    uint32_t a;
    const uint64_t *act16 = act + 16;
    {
        const __m256i v0 = _mm256_loadu_si256((const __m256i *)(const void *)zz);
        const __m256i v1 = _mm256_loadu_si256((const __m256i *)(const void *)(zz + 16));
        const __m256i v2 = _mm256_loadu_si256((const __m256i *)(const void *)(zz + 32));
        const __m256i v3 = _mm256_loadu_si256((const __m256i *)(const void *)(zz + 48));
        /* |v|, with the DC's lane cleared: the AC range check and mask skip it */
        const __m256i a0 = _mm256_and_si256(_mm256_abs_epi16(v0),
                                            _mm256_setr_epi16(0, -1, -1, -1, -1, -1, -1, -1, -1,
                                                              -1, -1, -1, -1, -1, -1, -1));
        const __m256i a1 = _mm256_abs_epi16(v1), a2 = _mm256_abs_epi16(v2),
                      a3 = _mm256_abs_epi16(v3);
        const __m256i zero = _mm256_setzero_si256();
        __m256i mx = _mm256_max_epu16(_mm256_max_epu16(a0, a1), _mm256_max_epu16(a2, a3));
        __m256i z01, z23;
        /* |v| <= 2^ac_max - 1 for every AC value (-32768 gives 32768 unsigned: out) */
        if (FDJ_UNLIKELY(!_mm256_testz_si256(mx, _mm256_set1_epi16((short)(0xFFFF << ac_max)))))
            return 0;
        z01 = _mm256_permute4x64_epi64(
            _mm256_packs_epi16(_mm256_cmpeq_epi16(a0, zero), _mm256_cmpeq_epi16(a1, zero)), 0xD8);
        z23 = _mm256_permute4x64_epi64(
            _mm256_packs_epi16(_mm256_cmpeq_epi16(a2, zero), _mm256_cmpeq_epi16(a3, zero)), 0xD8);
        nz = ~((uint64_t)(uint32_t)_mm256_movemask_epi8(z01) |
               (uint64_t)(uint32_t)_mm256_movemask_epi8(z23) << 32) & ~(uint64_t)1;
        /* the walk reads pk only where nz has bits: skip the all-zero tail */
        pack16(v0, a0, pk);
        if (nz >> 16) {
            pack16(v1, a1, pk + 16);
            if (nz >> 32) {
                pack16(v2, a2, pk + 32);
                if (nz >> 48)
                    pack16(v3, a3, pk + 48);
            }
        }
    }
    diff = zz[0] - cd->last_dc[ci];
    s = diff >> 31;
    a = (uint32_t)((diff ^ s) - s);
    n = 32 - (int)_lzcnt_u32(a);
    if (FDJ_UNLIKELY(n > dc_max))
        return 0;
    ent = dct[n];
    if (FDJ_UNLIKELY(ent == 0))
        return 0;
    p = w->out->data + w->out->size;
    acc = w->acc;
    room = 64 - w->nbits;
    ENC_PUT((uint32_t)ent | _bzhi_u32((uint32_t)(diff + s), (unsigned)n), (int)(ent >> 32));
    while (nz) {
        ptrdiff_t k = (ptrdiff_t)_tzcnt_u64(nz);
        ptrdiff_t u = (k << 4) - base; /* 16 r */
        uint32_t x;
        nz = _blsr_u64(nz);
        base = (k << 4) + 16;
        if (FDJ_UNLIKELY(u > 255)) { /* runs of 16 zeros: ZRL */
            ent = act[0xF0];
            if (checked && FDJ_UNLIKELY(ent == 0))
                return 0;
            do {
                ENC_PUT((uint32_t)ent, (int)(ent >> 32));
                u -= 256;
            } while (u > 255);
        }
        x = pk[k];
        /* symbol 16 r + n, n = 16 - lzcnt(x) */
        ent = act16[u - (ptrdiff_t)_lzcnt_u32(x)];
        if (checked && FDJ_UNLIKELY(ent == 0))
            return 0;
        ENC_PUT((uint32_t)ent | (x & 0xFFFF), (int)(ent >> 32));
    }
    if (base != 64 * 16) {
        ent = act[0];
        if (checked && FDJ_UNLIKELY(ent == 0))
            return 0;
        ENC_PUT((uint32_t)ent, (int)(ent >> 32));
    }
    cd->last_dc[ci] = zz[0];
    w->out->size = (size_t)(p - w->out->data);
    w->acc = acc;
    w->nbits = 64 - room;
    return 1;
}

FDJ_BMI2 void fdj_huff_block_seq_bmi2(coder *cd, const int16_t *zz, int ci)
{
    const fdj_enc_frame *f = cd->f;
    const fdj_enc_comp *cp = &f->comp[ci];
    const fdj_huff_code *ac = &cd->ac_code[cp->ac_tbl];
    const uint64_t *dct = cd->dc_code[cp->dc_tbl].ent;
    int ok;
    if (f->precision != 12 && ac->full8)
        ok = block_avx2(cd, zz, ci, dct, ac->ent, 10, 11, 0);
    else
        ok = block_avx2(cd, zz, ci, dct, ac->ent, FDJ_ENC_AC_MAX(f), FDJ_ENC_DC_MAX(f), 1);
    /* nothing is committed yet (bytes past out->size are scratch) */
    if (FDJ_UNLIKELY(!ok))
        fdj_huff_block_seq_scalar(cd, zz, ci);
}

#endif /* FDJ_X86_SIMD */
