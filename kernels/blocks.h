/* ggml / GGUF block layouts, byte for byte.
 * ref: GGUF spec and ggml-common.h (block_q4_0 ... block_q8_K). Internal to kernels/. */
#ifndef EDGEAI_BLOCKS_H
#define EDGEAI_BLOCKS_H

#include <stdint.h>
#include <string.h>
#include "edgeai_kernels.h"

typedef uint16_t ea_fp16;   /* IEEE binary16 bits */
typedef uint16_t ea_bf16;   /* bfloat16 bits */

#define QK4_0 32
#define QK4_1 32
#define QK5_0 32
#define QK5_1 32
#define QK8_0 32
#define QK8_1 32
#define QK_K 256
#define K_SCALE_SIZE 12

/* value = (q - 8) * d; element j in low nibble of qs[j], element j+16 in the high nibble */
typedef struct { ea_fp16 d; uint8_t qs[QK4_0 / 2]; } block_q4_0;
/* value = q * d + m */
typedef struct { ea_fp16 d; ea_fp16 m; uint8_t qs[QK4_1 / 2]; } block_q4_1;
/* value = (q - 16) * d; bit 4 of element j is bit j of qh (little-endian uint32) */
typedef struct { ea_fp16 d; uint8_t qh[4]; uint8_t qs[QK5_0 / 2]; } block_q5_0;
typedef struct { ea_fp16 d; ea_fp16 m; uint8_t qh[4]; uint8_t qs[QK5_1 / 2]; } block_q5_1;
typedef struct { ea_fp16 d; int8_t qs[QK8_0]; } block_q8_0;
/* activation block for q4_1/q5_1: s = d * sum(qs) */
typedef struct { ea_fp16 d; ea_fp16 s; int8_t qs[QK8_1]; } block_q8_1;

typedef struct { uint8_t scales[QK_K / 16]; uint8_t qs[QK_K / 4]; ea_fp16 d; ea_fp16 dmin; } block_q2_K;
typedef struct { uint8_t hmask[QK_K / 8]; uint8_t qs[QK_K / 4]; uint8_t scales[12]; ea_fp16 d; } block_q3_K;
typedef struct { ea_fp16 d; ea_fp16 dmin; uint8_t scales[K_SCALE_SIZE]; uint8_t qs[QK_K / 2]; } block_q4_K;
typedef struct { ea_fp16 d; ea_fp16 dmin; uint8_t scales[K_SCALE_SIZE]; uint8_t qh[QK_K / 8]; uint8_t qs[QK_K / 2]; } block_q5_K;
typedef struct { uint8_t ql[QK_K / 2]; uint8_t qh[QK_K / 4]; int8_t scales[QK_K / 16]; ea_fp16 d; } block_q6_K;
/* activation block for the K-quants: bsums[i] = sum of qs[16i .. 16i+15] */
typedef struct { float d; int8_t qs[QK_K]; int16_t bsums[QK_K / 16]; } block_q8_K;

_Static_assert(sizeof(block_q4_0) == 18, "block_q4_0 size");
_Static_assert(sizeof(block_q4_1) == 20, "block_q4_1 size");
_Static_assert(sizeof(block_q5_0) == 22, "block_q5_0 size");
_Static_assert(sizeof(block_q5_1) == 24, "block_q5_1 size");
_Static_assert(sizeof(block_q8_0) == 34, "block_q8_0 size");
_Static_assert(sizeof(block_q8_1) == 36, "block_q8_1 size");
_Static_assert(sizeof(block_q2_K) == 84, "block_q2_K size");
_Static_assert(sizeof(block_q3_K) == 110, "block_q3_K size");
_Static_assert(sizeof(block_q4_K) == 144, "block_q4_K size");
_Static_assert(sizeof(block_q5_K) == 176, "block_q5_K size");
_Static_assert(sizeof(block_q6_K) == 210, "block_q6_K size");
_Static_assert(sizeof(block_q8_K) == 292, "block_q8_K size");

/* ---- scalar half / bfloat16 conversions (portable, bit exact) -------------- */

static inline uint32_t ea_f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float ea_bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* binary16 -> binary32, exact for every input (subnormals, inf, nan). */
static inline float ea_fp16_to_f32(ea_fp16 h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    if (exp == 0x1f) return ea_bits_f32(sign | 0x7f800000u | (man << 13));
    if (exp == 0) {
        /* subnormal: man * 2^-24, exact in float */
        float v = (float)man * 5.9604644775390625e-08f;
        return sign ? -v : v;
    }
    return ea_bits_f32(sign | ((exp + 112u) << 23) | (man << 13));
}

/* binary32 -> binary16, round to nearest even (numpy's astype(float16)). */
static inline ea_fp16 ea_f32_to_fp16(float f) {
    uint32_t x = ea_f32_bits(f);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) /* inf or nan (keep nan quiet) */
        return (ea_fp16)(sign | 0x7c00u | (ax > 0x7f800000u ? (0x200u | ((ax >> 13) & 0x3ffu)) : 0));
    if (ax >= 0x477ff000u) return (ea_fp16)(sign | 0x7c00u); /* rounds to >= 65520: inf */
    if (ax < 0x38800000u) {
        /* result is subnormal or zero: value / 2^-24, rounded to nearest even */
        if (ax < 0x33000000u) return (ea_fp16)sign; /* < 2^-25: rounds to 0 */
        uint32_t e = ax >> 23;
        uint32_t m = (ax & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126u - e;            /* 14 .. 24 */
        uint32_t r = m >> shift;
        uint32_t rem = m & ((1u << shift) - 1u);
        uint32_t half = 1u << (shift - 1u);
        if (rem > half || (rem == half && (r & 1u))) r++;
        return (ea_fp16)(sign | r);
    }
    uint32_t r = ((ax >> 13) - (112u << 10));
    uint32_t rem = ax & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) r++;
    return (ea_fp16)(sign | r);
}

static inline float ea_bf16_to_f32(ea_bf16 h) { return ea_bits_f32((uint32_t)h << 16); }

/* round to nearest even; nan stays nan (ggml's / numpy-free gguf convention) */
static inline ea_bf16 ea_f32_to_bf16(float f) {
    uint32_t x = ea_f32_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (ea_bf16)((x >> 16) | 64u);
    return (ea_bf16)((x + (0x7fffu + ((x >> 16) & 1u))) >> 16);
}

#define EA_FP16_TO_FP32(h) ea_fp16_to_f32(h)
#define EA_FP32_TO_FP16(f) ea_f32_to_fp16(f)

#endif /* EDGEAI_BLOCKS_H */
