/* Unpacking of the K-quant super-blocks (256 elements) shared by the reference kernels:
 * each decodes one block into plain integer quants and sub-block scales, so dequantize and dot
 * read as the format's definition. ref: GGUF spec / ggml-common.h block_q2_K .. block_q6_K */
#ifndef EDGEAI_REF_KQUANTS_H
#define EDGEAI_REF_KQUANTS_H
#include "../blocks.h"

/* ggml's nearest_int: round half to even through the float mantissa, |v| < 2^22 */
static inline int ea_nearest_int(float v) {
    float f = v + 12582912.0f;
    int32_t i;
    memcpy(&i, &f, 4);
    return (i & 0x007fffff) - 0x00400000;
}

/* Q2_K: 16 sub-blocks of 16; scales[i] low nibble = scale, high nibble = min; q in 0..3.
 * element e: byte qs[32*(e/128) + e%32], bits 2*((e/32)%4). */
static inline void ea_unpack_q2_K(const block_q2_K *b, int8_t q[QK_K], uint8_t sc[16], uint8_t mn[16]) {
    for (int e = 0; e < QK_K; e++) q[e] = (int8_t)((b->qs[32 * (e / 128) + e % 32] >> (2 * ((e / 32) % 4))) & 3);
    for (int i = 0; i < 16; i++) {
        sc[i] = b->scales[i] & 0x0f;
        mn[i] = b->scales[i] >> 4;
    }
}

/* Q3_K: 16 sub-blocks of 16, 6-bit scales (minus 32) packed in 12 bytes; q = 2 low bits from qs,
 * minus 4 unless the element's hmask bit is set: q in -4..3. */
static inline void ea_unpack_q3_K(const block_q3_K *b, int8_t q[QK_K], int8_t sc[16]) {
    for (int i = 0; i < 16; i++) {
        const int lo = i < 8 ? (b->scales[i] & 0x0f) : (b->scales[i - 8] >> 4);
        const int hi = (b->scales[8 + i % 4] >> (2 * (i / 4))) & 3;
        sc[i] = (int8_t)((lo | (hi << 4)) - 32);
    }
    for (int e = 0; e < QK_K; e++) {
        const int low = (b->qs[32 * (e / 128) + e % 32] >> (2 * ((e / 32) % 4))) & 3;
        const int high = (b->hmask[e % 32] >> (e / 32)) & 1;
        q[e] = (int8_t)(low - (high ? 0 : 4));
    }
}

/* Q4_K / Q5_K: 8 sub-blocks of 32 with 6-bit scales and mins packed in 12 bytes. */
static inline void ea_unpack_scale_min_k4(const uint8_t s[K_SCALE_SIZE], uint8_t sc[8], uint8_t mn[8]) {
    for (int j = 0; j < 8; j++) {
        if (j < 4) {
            sc[j] = s[j] & 63;
            mn[j] = s[j + 4] & 63;
        } else {
            sc[j] = (uint8_t)((s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4));
            mn[j] = (uint8_t)((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
        }
    }
}

/* Q4_K: element e = 64*g + 32*h + j is nibble h of qs[32*g + j]; q in 0..15. */
static inline void ea_unpack_q4_K(const block_q4_K *b, int8_t q[QK_K], uint8_t sc[8], uint8_t mn[8]) {
    for (int e = 0; e < QK_K; e++) q[e] = (int8_t)((b->qs[32 * (e / 64) + e % 32] >> (4 * ((e / 32) % 2))) & 0x0f);
    ea_unpack_scale_min_k4(b->scales, sc, mn);
}

/* Q5_K: Q4_K's nibbles plus bit 4 from qh[e % 32] bit (e / 32); q in 0..31. */
static inline void ea_unpack_q5_K(const block_q5_K *b, int8_t q[QK_K], uint8_t sc[8], uint8_t mn[8]) {
    for (int e = 0; e < QK_K; e++) {
        const int low = (b->qs[32 * (e / 64) + e % 32] >> (4 * ((e / 32) % 2))) & 0x0f;
        const int high = (b->qh[e % 32] >> (e / 32)) & 1;
        q[e] = (int8_t)(low | (high << 4));
    }
    ea_unpack_scale_min_k4(b->scales, sc, mn);
}

/* Q6_K: 16 sub-blocks of 16 with int8 scales; element e = 128*g + r (r < 128): low 4 bits are
 * nibble (r/64) of ql[64*g + r%64], high 2 bits are bits 2*(r/32) of qh[32*g + r%32]; q in -32..31. */
static inline void ea_unpack_q6_K(const block_q6_K *b, int8_t q[QK_K]) {
    for (int e = 0; e < QK_K; e++) {
        const int g = e / 128, r = e % 128;
        const int low = (b->ql[64 * g + r % 64] >> (4 * (r / 64))) & 0x0f;
        const int high = (b->qh[32 * g + r % 32] >> (2 * (r / 32))) & 3;
        q[e] = (int8_t)((low | (high << 4)) - 32);
    }
}

#endif
