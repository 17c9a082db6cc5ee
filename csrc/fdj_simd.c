/*
 * fdj_simd.c -- the one place where kernels are chosen: the CPU's SIMD level
 * (lowered by FDJPEG_SIMD) and, per level, the table of kernels every stage
 * takes its kernels from (fdj_simd.h).
 */
#include "enc_entropy.h"
#include "fdj_internal.h"
#include "fdjpeg.h"

#ifdef FDJ_X86_SIMD
#include <cpuid.h>

/* LZCNT (CPUID 0x80000001 ECX bit 5; clang's __builtin_cpu_supports has no name for it) */
static int has_lzcnt(void)
{
    unsigned a, b, c, d;
    return __get_cpuid(0x80000001, &a, &b, &c, &d) && ((c >> 5) & 1);
}
#endif

static int simd_forced_off(void)
{
    const char *env = getenv("FDJPEG_SIMD");
    return env && (strcmp(env, "0") == 0 || strcmp(env, "scalar") == 0 || strcmp(env, "off") == 0);
}

int fdj_simd_level(void)
{
    if (simd_forced_off())
        return FDJ_SIMD_SCALAR;
#ifdef FDJ_X86_SIMD
    if (__builtin_cpu_supports("avx2"))
        return FDJ_SIMD_AVX2;
#endif
    return FDJ_SIMD_SCALAR;
}

unsigned fdj_cpu_detect(void)
{
    unsigned f = FDJ_CPU_DETECTED;
#ifdef FDJ_X86_SIMD
    if (__builtin_cpu_supports("avx2"))
        f |= FDJ_CPU_AVX2;
    if (__builtin_cpu_supports("bmi2") && __builtin_cpu_supports("bmi") && has_lzcnt())
        f |= FDJ_CPU_BMI;
#endif
    return f;
}

int fdj_simd_level_cpu(unsigned cpu)
{
    if (!(cpu & FDJ_CPU_DETECTED))
        return fdj_simd_level();
    if (simd_forced_off() || !(cpu & FDJ_CPU_AVX2))
        return FDJ_SIMD_SCALAR;
    return FDJ_SIMD_AVX2 | FDJ_SIMD_KNOWN | ((cpu & FDJ_CPU_BMI) ? FDJ_SIMD_BMI : 0);
}

/* The kernels of a level, filled in the caller's struct (with -fPIC a static
 * table of function pointers would be writable relocated data). NULL: no
 * sibling, the caller owns the scalar reference (fused IDCTs: dec_dequant.c;
 * row kernels: dec_render.c, enc_color.c). */
void fdj_kernels_init(fdj_kernels *k, int level)
{
    memset(k, 0, sizeof *k);
    k->level = FDJ_SIMD_SCALAR;
    k->name = "scalar";
    k->idct_islow = fdj_idct_islow;
    k->fdct_islow = fdj_fdct_islow;
    k->quantize = fdj_quantize_scalar;
    k->quantize_dequantize = fdj_quantize_dequantize_scalar;
    k->nonzero_ac = fdj_nonzero_ac_scalar;
    k->abs_above = fdj_abs_above_scalar;
    k->huff_block_seq = fdj_huff_block_seq_scalar;
    k->huff_mcu_seq = fdj_decode_mcu_sequential_scalar;
    k->huff_mcu_seq_rq = fdj_decode_mcu_sequential_rq_scalar;
    k->huff_mcu_seq_dc = fdj_decode_mcu_sequential_dc_scalar;
#ifdef FDJ_X86_SIMD
    if (level >= FDJ_SIMD_AVX2) {
        k->level = FDJ_SIMD_AVX2;
        k->name = "avx2";
        k->idct_islow = fdj_idct_islow_avx2;
        k->idct_islow_q = fdj_idct_islow_q_avx2;
        k->idct_islow_rq = fdj_idct_islow_rq_avx2;
        k->idct_turbo_row = fdj_idct_islow_turbo_row_avx2;
        k->idct_islow2 = fdj_idct_islow2_avx2;
        k->idct_islow_rq_row = fdj_idct_islow_rq_row_avx2;
        k->fdct_islow = fdj_fdct_islow_avx2;
        k->fdct_islow2 = fdj_fdct_islow2_avx2;
        k->purify2 = fdj_purify2_avx2;
        k->purify_tile = fdj_purify_tile_avx2; /* purify_simd.c */
        k->quantize = fdj_quantize_avx2;
        k->quantize_dequantize = fdj_quantize_dequantize_avx2;
        k->rgb_ycc_row = fdj_rgb_ycc_row_avx2;
        k->h2v1_down_row = fdj_h2v1_down_row_avx2;
        k->h2v2_down_row = fdj_h2v2_down_row_avx2;
        k->ycc_rgb_row = fdj_ycc_rgb_row_avx2;
        k->h2v2_fancy_row = fdj_h2v2_fancy_row_avx2;
        k->nonzero_ac = fdj_nonzero_ac_sse2; /* SSE2 is part of every AVX2 CPU */
        k->abs_above = fdj_abs_above_sse2;
        k->idct_4x4_q = fdj_idct_4x4_q_avx2; /* scaled decode */
        k->idct_2x2_q = fdj_idct_2x2_q_avx2;
        k->idct_pre_row = fdj_idct_islow_pre_row_avx2; /* one-pass FD rows */
        if ((level & FDJ_SIMD_KNOWN) ? (level & FDJ_SIMD_BMI) != 0
                                     : __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("bmi") &&
                                           has_lzcnt()) {
            k->huff_block_seq = fdj_huff_block_seq_bmi2;
            k->huff_mcu_seq = fdj_decode_mcu_sequential_bmi2;
            k->huff_mcu_seq_rq = fdj_decode_mcu_sequential_rq_bmi2;
            k->huff_mcu_seq_dc = fdj_decode_mcu_sequential_dc_bmi2;
        }
    }
#endif
    (void)level;
}

const char *fdj_kernel_name(void)
{
    fdj_kernels k;
    fdj_kernels_init(&k, fdj_simd_level());
    return k.name;
}

#define FDJ_KERNEL_OF(type, fn, field)                                                           \
    type fn(int level)                                                                           \
    {                                                                                            \
        fdj_kernels k;                                                                           \
        fdj_kernels_init(&k, level);                                                             \
        return k.field;                                                                          \
    }
FDJ_KERNEL_OF(fdj_idct_fn, fdj_idct_islow_for, idct_islow)
FDJ_KERNEL_OF(fdj_fdct_fn, fdj_fdct_islow_for, fdct_islow)
FDJ_KERNEL_OF(fdj_idct_q_fn, fdj_idct_islow_q_for, idct_islow_q)
FDJ_KERNEL_OF(fdj_idct_rq_fn, fdj_idct_islow_rq_for, idct_islow_rq)
