/* Unpacking of the K-quant sub-block scales (ISA independent, shared by the x86 K-quant kernels).
 * ref: GGUF spec / ggml-common.h block_q4_K, block_q5_K: 8 six-bit scales and 8 six-bit mins
 * packed into 12 bytes. */
#ifndef EDGEAI_X86_KQUANT_SCALES_H
#define EDGEAI_X86_KQUANT_SCALES_H

#include <stdint.h>
#include <string.h>

/* The 8 scales and 8 mins as two 64-bit words, byte j = scale / min j (little-endian x86), in
 * general registers: 12 bytes s -> words u0 = s[0..3], u1 = s[4..7], u2 = s[8..11];
 *   scales 0-3 = s[j] & 63, mins 0-3 = s[j + 4] & 63,
 *   scales 4-7 = (s[j + 8] & 15) | (s[j] >> 6) << 4, mins 4-7 = (s[j + 8] >> 4) | (s[j + 4] >> 6) << 4,
 * four bytes at a time. (Bytes stored one by one into an array and read back as one 64-bit word
 * wait for the stores: no store forwarding from several small stores to one wider load.) */
static inline void ea_k4_scales64(const uint8_t *s, uint64_t *sc, uint64_t *mn) {
    uint32_t u0, u1, u2;
    memcpy(&u0, s, 4);
    memcpy(&u1, s + 4, 4);
    memcpy(&u2, s + 8, 4);
    const uint32_t sc_lo = u0 & 0x3f3f3f3fu, mn_lo = u1 & 0x3f3f3f3fu;
    const uint32_t sc_hi = (u2 & 0x0f0f0f0fu) | ((u0 >> 2) & 0x30303030u);
    const uint32_t mn_hi = ((u2 >> 4) & 0x0f0f0f0fu) | ((u1 >> 2) & 0x30303030u);
    *sc = sc_lo | (uint64_t)sc_hi << 32;
    *mn = mn_lo | (uint64_t)mn_hi << 32;
}

/* the same as byte arrays (the sse4 kernels index them per sub-block) */
static inline void ea_k4_scales(const uint8_t *s, uint8_t sc[8], uint8_t mn[8]) {
    uint64_t a, b;
    ea_k4_scales64(s, &a, &b);
    memcpy(sc, &a, 8);
    memcpy(mn, &b, 8);
}

#endif
