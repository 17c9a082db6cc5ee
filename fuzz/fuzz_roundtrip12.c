/*
 * fuzz_roundtrip12.c -- fuzz_roundtrip.c with every input in 12-bit mode (issue 17):
 * 12-bit encode, fused 12-bit purification (purify12.c) against the decode of the file,
 * and a 12-bit region decode against the full decode cropped; images up to 32 px.
 */
#define FUZZ_FORCE_12BIT 1
#include "fuzz_roundtrip.c"
