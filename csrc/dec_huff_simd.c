/*
 * dec_huff_simd.c -- the sequential Huffman MCU decoder (dec_huff_mcu.h; T.81
 * F.2.2) compiled for CPUs with AVX2 + BMI1/BMI2/LZCNT: the same C as the
 * scalar reference in dec_huff.c, chosen in fdj_kernels_init.
 */
#include "dec_huff_mcu.h"

#ifdef FDJ_X86_SIMD
#define DEC_HUFF_MCU_NAME fdj_decode_mcu_sequential_bmi2
#define DEC_HUFF_MCU_ATTR __attribute__((target("avx2,bmi,bmi2,lzcnt")))
#include "dec_huff_mcu.h"
/* the skip variant (dec_huff.c fdj_skip_mcu_sequential) */
#define DEC_HUFF_MCU_NAME fdj_skip_mcu_sequential_bmi2
#define DEC_HUFF_MCU_ATTR __attribute__((target("avx2,bmi,bmi2,lzcnt")))
#define DEC_HUFF_MCU_SKIP
#include "dec_huff_mcu.h"
/* the DC-only variant (scale=8) */
#define DEC_HUFF_MCU_NAME fdj_decode_mcu_sequential_dc_bmi2
#define DEC_HUFF_MCU_ATTR __attribute__((target("avx2,bmi,bmi2,lzcnt")))
#define DEC_HUFF_MCU_DCONLY
#include "dec_huff_mcu.h"
/* the one-pass FD variant (d->rq_lut: requantized values stored) */
#define DEC_HUFF_MCU_NAME fdj_decode_mcu_sequential_rq_bmi2
#define DEC_HUFF_MCU_ATTR __attribute__((target("avx2,bmi,bmi2,lzcnt")))
#define DEC_HUFF_MCU_RQ
#define DEC_HUFF_MCU_RAW fdj_decode_mcu_sequential_bmi2
#define DEC_HUFF_MCU_RAW_SKIP fdj_skip_mcu_sequential_bmi2
#include "dec_huff_mcu.h"
#endif
