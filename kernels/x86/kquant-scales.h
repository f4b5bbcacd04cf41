/* Unpacking of the K-quant sub-block scales (ISA independent, shared by the x86 K-quant kernels).
 * ref: GGUF spec / ggml-common.h block_q4_K, block_q5_K: 8 six-bit scales and 8 six-bit mins
 * packed into 12 bytes. */
#ifndef EDGEAI_X86_KQUANT_SCALES_H
#define EDGEAI_X86_KQUANT_SCALES_H

#include <stdint.h>

static inline void ea_k4_scales(const uint8_t *s, uint8_t sc[8], uint8_t mn[8]) {
    for (int j = 0; j < 4; j++) {
        sc[j] = s[j] & 63;
        mn[j] = s[j + 4] & 63;
        sc[j + 4] = (uint8_t)((s[j + 8] & 0x0f) | ((s[j] >> 6) << 4));
        mn[j + 4] = (uint8_t)((s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4));
    }
}

#endif
