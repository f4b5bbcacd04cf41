/* Scale unpacking shared by the K-quant bodies of kernels/arm. ref: GGUF spec, block_q4_K /
 * block_q5_K (6-bit scales and mins packed in 12 bytes), block_q3_K (6-bit signed scales). */
#ifndef EDGEAI_ARM_KQUANT_UTIL_H
#define EDGEAI_ARM_KQUANT_UTIL_H

#include "../blocks.h"

/* q4_K / q5_K: 8 scales and 8 mins of 6 bits. Sub-block j < 4: low 6 bits of bytes j and j + 4;
 * j >= 4: a nibble of byte j + 4 plus the top 2 bits of bytes j - 4 (scale) and j (min). */
static inline void ea_unpack_scales_k4(const uint8_t *q, uint8_t sc[8], uint8_t mn[8]) {
    for (int j = 0; j < 4; j++) {
        sc[j] = q[j] & 63;
        mn[j] = q[j + 4] & 63;
    }
    for (int j = 4; j < 8; j++) {
        sc[j] = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        mn[j] = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

/* q3_K: 16 scales of 6 bits, stored minus 32. Low nibble: byte i (i < 8) or the high nibble of
 * byte i - 8; top 2 bits: bits 2*(i/4) of byte 8 + i%4. */
static inline void ea_unpack_scales_q3(const uint8_t *q, int8_t sc[16]) {
    for (int i = 0; i < 16; i++) {
        int lo = i < 8 ? (q[i] & 0xF) : (q[i - 8] >> 4);
        int hi = (q[8 + (i & 3)] >> (2 * (i >> 2))) & 3;
        sc[i] = (int8_t)((lo | (hi << 4)) - 32);
    }
}

#endif
