/*
 * fdj_islow.h -- the fixed-point constants of libjpeg's "ISLOW" DCTs
 * (jfdctint.c, jidctint.c, jidctred.c; T.81 A.3.3): FIX(x) = round(x * 2^13),
 * 13-bit constants, 2 extra bits between the passes.  Shared by the forward
 * (enc_fdct*.c) and inverse (dec_idct.c) transforms.
 */
#ifndef FDJ_ISLOW_H
#define FDJ_ISLOW_H

#define CONST_BITS 13
#define PASS1_BITS 2

#define FIX_0_211164243 1730
#define FIX_0_298631336 2446
#define FIX_0_390180644 3196
#define FIX_0_509795579 4176
#define FIX_0_541196100 4433
#define FIX_0_601344887 4926
#define FIX_0_720959822 5906
#define FIX_0_765366865 6270
#define FIX_0_850430095 6967
#define FIX_0_899976223 7373
#define FIX_1_061594337 8697
#define FIX_1_175875602 9633
#define FIX_1_272758580 10426
#define FIX_1_451774981 11893
#define FIX_1_501321110 12299
#define FIX_1_847759065 15137
#define FIX_1_961570560 16069
#define FIX_2_053119869 16819
#define FIX_2_172734803 17799
#define FIX_2_562915447 20995
#define FIX_3_072711026 25172
#define FIX_3_624509785 29692

#endif /* FDJ_ISLOW_H */
