/*
 * fdj_islow12.h -- libjpeg's "ISLOW" DCT constants as its 12-bit build uses
 * them (jfdctint.c / jidctint.c with BITS_IN_JSAMPLE 12: PASS1_BITS 1, 64-bit
 * intermediates; T.81 A.3.3).  Shared by the 12-bit forward (enc12.c) and
 * inverse (dec_idct12.c) transforms; the 8-bit ones are in fdj_islow.h.
 */
#ifndef FDJ_ISLOW12_H
#define FDJ_ISLOW12_H

#include <stdint.h>

#define CONST_BITS 13
#define PASS1_BITS 1
#define FIX_0_298631336 ((int64_t)2446)
#define FIX_0_390180644 ((int64_t)3196)
#define FIX_0_541196100 ((int64_t)4433)
#define FIX_0_765366865 ((int64_t)6270)
#define FIX_0_899976223 ((int64_t)7373)
#define FIX_1_175875602 ((int64_t)9633)
#define FIX_1_501321110 ((int64_t)12299)
#define FIX_1_847759065 ((int64_t)15137)
#define FIX_1_961570560 ((int64_t)16069)
#define FIX_2_053119869 ((int64_t)16819)
#define FIX_2_562915447 ((int64_t)20995)
#define FIX_3_072711026 ((int64_t)25172)

#define DESCALE(x, n) (((x) + ((int64_t)1 << ((n) - 1))) >> (n))

#endif /* FDJ_ISLOW12_H */
